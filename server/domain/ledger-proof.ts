/**
 * A transfer's inclusion proof: the transfer as exported, its place in the
 * tree a signed checkpoint covers, and the audit path from its leaf to that
 * checkpoint's root (merkle-proof.ts). With the ledger's public key, anyone
 * holding the file can check that this one transfer, exactly as written, is
 * in the journal the checkpoint signed — a university its royalty, an SME
 * its payment — without the rest of the journal.
 */
import { checkpointBodyProblem, keyIdOf, parseEd25519PublicKey, signatureValid, type CheckpointClaim } from './ledger-checkpoint-text.js';
import { canonical, chainHash, type JournalRecord } from './ledger-record.js';
import { shapeProblem } from './ledger-verify-hash.js';
import { leafHash } from './merkle.js';
import { rootFromPath } from './merkle-proof.js';

export const PROOF_FORMAT = 'yrd-fund-ledger-proof/1';

export interface InclusionProof {
  format: string;
  transfer: JournalRecord;
  /** The transfer's leaf: seq − 1. */
  leafIndex: number;
  /** The leaves under the checkpoint's root: its seq. */
  treeSize: number;
  /** Sibling subtree hashes (hex), nearest the leaf first. */
  auditPath: string[];
  checkpoint: CheckpointClaim;
}

export interface ProofVerdict {
  ok: boolean;
  /** What is wrong, in English, most basic first (the CLI prints these). */
  problems: string[];
  keySource: 'trusted' | 'embedded';
}

const HEX32 = /^[0-9a-f]{64}$/;

/**
 * Checks a proof file: its shape, the transfer's own hash, the checkpoint's
 * signature (against `trustedKeys` when given, else the key it carries), and
 * that the path takes the transfer's leaf to the signed root.
 */
export function checkInclusionProof(input: unknown, trustedKeys?: string[]): ProofVerdict {
  const keySource = trustedKeys ? 'trusted' : 'embedded';
  const fail = (...problems: string[]): ProofVerdict => ({ ok: false, problems, keySource });
  if (!input || typeof input !== 'object') return fail('The file is not a proof (not a JSON object).');
  const p = input as Partial<InclusionProof>;
  if (p.format !== PROOF_FORMAT) return fail(`The file is not a ${PROOF_FORMAT} proof (format ${JSON.stringify(p.format ?? null)}).`);
  const r = p.transfer;
  const shape = r && typeof r === 'object' ? shapeProblem(r) : 'missing';
  if (shape || typeof r!.seq !== 'number') return fail(`The transfer in the proof is malformed: ${shape ?? 'seq must be a number'}.`);
  const c = p.checkpoint;
  const cpProblem = c && typeof c === 'object' ? checkpointBodyProblem(c) : 'missing';
  if (cpProblem) return fail(`The checkpoint in the proof is malformed: ${cpProblem}.`);
  if (!Array.isArray(p.auditPath) || !p.auditPath.every((h) => typeof h === 'string' && HEX32.test(h))) return fail('The audit path must be a list of 64-digit hex hashes.');
  const transfer = r!;
  const checkpoint = c!;
  const problems: string[] = [];
  if (p.leafIndex !== transfer.seq - 1) problems.push(`The proof places transfer ${transfer.seq} at leaf ${String(p.leafIndex)}; it belongs at leaf ${transfer.seq - 1}.`);
  if (p.treeSize !== checkpoint.seq) problems.push(`The proof is for a tree of ${String(p.treeSize)} transfers, but the checkpoint signs ${checkpoint.seq}.`);
  if (transfer.seq > checkpoint.seq) problems.push(`Transfer ${transfer.seq} comes after the checkpoint (seq ${checkpoint.seq}), which cannot cover it.`);
  if (chainHash(transfer.prevHash, canonical(transfer)) !== transfer.hash) problems.push(`Transfer ${transfer.seq} was altered: its hash does not match its contents.`);
  const pem = trustedKeys
    ? trustedKeys.find((k) => { const key = parseEd25519PublicKey(k); return key && keyIdOf(key) === checkpoint.keyId; })
    : (checkpoint.publicKey ?? undefined);
  const key = pem ? parseEd25519PublicKey(pem) : null;
  if (!key || keyIdOf(key) !== checkpoint.keyId) problems.push(trustedKeys ? `The checkpoint is signed with key ${checkpoint.keyId}, which is not among the keys you gave.` : `The checkpoint carries no usable key for its key id ${checkpoint.keyId}.`);
  else if (!signatureValid(checkpoint, key)) problems.push(`The checkpoint's signature is not valid for key ${checkpoint.keyId}.`);
  if (!problems.length) {
    const root = rootFromPath(leafHash(canonical(transfer)), transfer.seq - 1, checkpoint.seq, p.auditPath.map((h) => Buffer.from(h, 'hex')));
    if (!root || root.toString('hex') !== checkpoint.root) problems.push(`The audit path does not lead from transfer ${transfer.seq} to the checkpoint's root: the transfer is not the one the checkpoint signed, or the path was altered.`);
  }
  return { ok: problems.length === 0, problems, keySource };
}
