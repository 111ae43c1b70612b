/**
 * The regulator's own check of a fund-ledger export, needing nothing from
 * the server but the file (and, better, the ledger's public key obtained
 * some other way):
 *
 *   npm run verify-ledger -- export.jsonl [--public-key key.pem] [--checkpoint checkpoint.json] [--one-thread]
 *
 *   npm run verify-ledger -- --proof proof.json [--public-key key.pem]
 *
 * The second form checks one transfer's inclusion proof (downloaded from the
 * transfer's page) against the signed checkpoint it carries.
 *
 * A --public-key file may hold several keys (the console's key file lists
 * the current key, then any retired by a rotation); each one is trusted.
 *
 * Exit status: 0 the export verifies; 1 it does not (the first bad seq is
 * named); 2 the input cannot be read as an export (the line is named) or
 * the command line is wrong. Runs server/domain/ledger-verify.ts, the same
 * code as the console's check, so the two cannot disagree.
 */
import fs from 'node:fs';
import { checkpointBodyProblem, pemBlocks, type CheckpointClaim } from './domain/ledger-checkpoint-text.js';
import { checkInclusionProof, type InclusionProof } from './domain/ledger-proof.js';
import { UnreadableExportError } from './domain/ledger-verify-read.js';
import { verifyFile } from './ledger-verify-file.js';
import type { VerifyOptions, VerifyResult } from './domain/ledger-verify.js';

const USAGE = 'usage: npm run verify-ledger -- <export.jsonl> [--public-key key.pem]… [--checkpoint checkpoint.json]… [--one-thread]\n'
  + '       npm run verify-ledger -- --proof proof.json [--public-key key.pem]…';

class UsageError extends Error {}

function parseArgs(argv: string[]): { file: string; keys: string[]; checkpoints: CheckpointClaim[]; threads: 1 | 2; proof: boolean } {
  let file: string | null = null;
  let proof = false;
  let threads: 1 | 2 = 2;
  const keys: string[] = [];
  const checkpoints: CheckpointClaim[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--public-key' || a === '--checkpoint') {
      const path = argv[++i];
      if (!path) throw new UsageError(`${a} needs a file`);
      const text = readText(path);
      if (a === '--public-key') keys.push(...pemBlocks(text));
      else checkpoints.push(readCheckpoint(path, text));
    } else if (a === '--one-thread') threads = 1;
    else if (a === '--proof') {
      if (proof || file) throw new UsageError('give one export file, or --proof and one proof file');
      file = argv[++i] ?? null;
      if (!file) throw new UsageError('--proof needs a file');
      proof = true;
    }
    else if (a === '-h' || a === '--help') throw new UsageError('');
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (file) throw new UsageError('give one export file');
    else file = a;
  }
  if (!file) throw new UsageError('no export file given');
  if (!fs.existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
  return { file, keys, checkpoints, threads, proof };
}

function readText(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

function readCheckpoint(path: string, text: string): CheckpointClaim {
  let c: CheckpointClaim;
  try {
    c = JSON.parse(text) as CheckpointClaim;
  } catch {
    throw new UsageError(`${path} is not a checkpoint file (not JSON)`);
  }
  const bad = c && typeof c === 'object' ? checkpointBodyProblem(c) : 'not an object';
  if (bad) throw new UsageError(`${path} is not a checkpoint file: ${bad}`);
  return c;
}

function report(r: VerifyResult, file: string, trusted: boolean): void {
  const n = (x: number) => x.toLocaleString('en');
  console.log(`Export: ${file}`);
  console.log(`Transfers: ${n(r.transfers)} (through seq ${n(r.lastSeq)}); head hash ${r.headHash}`);
  console.log(`Merkle root of the whole journal: ${r.root}`);
  console.log(`Checkpoints checked: ${n(r.checkpoints)}, signatures against ${trusted ? 'the public key(s) you gave' : 'the keys carried in the export itself (pass --public-key with a key obtained independently to trust them)'}`);
  if (r.accountsCompared) console.log(`Account totals compared with the journal: ${n(r.accountsCompared)}`);
  if (r.ok) {
    console.log(`VERDICT: OK — the chain, the balances${r.checkpoints ? ' and every checkpoint' : ''} verify.`);
    if (!r.checkpoints) console.log('Note: the export holds no checkpoint, so nothing proves the journal is the one that was signed.');
    return;
  }
  console.log(`VERDICT: FAILED — ${r.firstBadSeq !== null ? `first bad seq ${r.firstBadSeq}` : 'see below'}; ${n(r.problemCount)} problem(s):`);
  for (const p of r.problems) console.log(`  ${p.seq === null ? '(export)' : `seq ${p.seq}`}: ${p.message}`);
  if (r.problemCount > r.problems.length) console.log(`  … and ${n(r.problemCount - r.problems.length)} more`);
}

/** --proof: one transfer's inclusion proof (GET /fund/ledger/:seq/proof.json) against its signed checkpoint. */
function checkProof(file: string, keys: string[]): number {
  let proof: unknown;
  try {
    proof = JSON.parse(readText(file));
  } catch (err) {
    console.error(`UNREADABLE: ${file}: not JSON (${(err as Error).message})`);
    return 2;
  }
  const v = checkInclusionProof(proof, keys.length ? keys : undefined);
  const p = proof as Partial<InclusionProof>;
  console.log(`Proof: ${file}`);
  if (typeof p.transfer?.seq === 'number' && typeof p.checkpoint?.seq === 'number') console.log(`Transfer ${p.transfer.seq} in the journal signed by the checkpoint at seq ${p.checkpoint.seq} (${String(p.checkpoint.time)}), key ${String(p.checkpoint.keyId)}`);
  console.log(`Signature checked against ${v.keySource === 'trusted' ? 'the public key(s) you gave' : 'the key carried in the proof itself (pass --public-key with a key obtained independently to trust it)'}`);
  if (v.ok) {
    console.log('VERDICT: OK — the transfer, exactly as written, is in the journal the checkpoint signed.');
    return 0;
  }
  console.log('VERDICT: FAILED');
  for (const problem of v.problems) console.log(`  ${problem}`);
  return 1;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) console.error(err.message);
    console.error(USAGE);
    return 2;
  }
  if (args.proof) return checkProof(args.file, args.keys);
  const started = Date.now();
  try {
    const opts: VerifyOptions = { trustedKeys: args.keys.length ? args.keys : undefined, checkpoints: args.checkpoints, maxProblems: 20 };
    // The chain half on this thread, the balances half on a worker (ledger-verify-file.ts); --one-thread: both here.
    const result = await verifyFile(args.file, opts, args.threads);
    report(result, args.file, args.keys.length > 0);
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof UnreadableExportError) {
      console.error(`UNREADABLE: ${args.file} line ${err.line}: ${err.reason}`);
      return 2;
    }
    throw err;
  }
}

main().then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  console.error(`verify-ledger failed: ${(err as Error).message}`);
  process.exitCode = 2;
});
