/**
 * What a ledger checkpoint signs, and how anyone checks it. The signed text
 * is a few fixed lines in a fixed order (format, ledger, tree size, Merkle
 * root, head hash, time) — like a Certificate Transparency signed tree head —
 * so the server, the offline verifier and a regulator's own tools cannot
 * disagree about the bytes under the signature. Ed25519 via node:crypto;
 * a key is named by the first 16 hex digits of SHA-256 of its SPKI DER.
 *
 * Pure: no database, no files. Used by the checkpoint service, the verifier
 * and the CLI.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';

export const CHECKPOINT_FORMAT = 'yrd-fund-ledger-checkpoint/1';

/** The signed fields of a checkpoint. `time` is an ISO 8601 UTC string (Date#toISOString). */
export interface CheckpointBody {
  ledger: string;
  seq: number;
  root: string;
  headHash: string;
  time: string;
}

/** A checkpoint as exported, downloaded and uploaded. */
export interface CheckpointClaim extends CheckpointBody {
  /** base64 Ed25519 signature over checkpointText(). */
  signature: string;
  keyId: string;
  /** The signer's public key (SPKI PEM), carried along for convenience; trust comes from elsewhere. */
  publicKey?: string | null;
  issuedBy?: string | null;
}

const HEX64 = /^[0-9a-f]{64}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Null when the body can be signed; otherwise what is wrong with it (a field that could smuggle a line break, say). */
export function checkpointBodyProblem(b: Partial<CheckpointBody>): string | null {
  if (typeof b.ledger !== 'string' || !/^[A-Z]{3}$/.test(b.ledger)) return 'ledger must be a currency code such as CNY';
  if (typeof b.seq !== 'number' || !Number.isSafeInteger(b.seq) || b.seq < 0) return 'seq must be a whole number ≥ 0';
  if (typeof b.root !== 'string' || !HEX64.test(b.root)) return 'root must be 64 lower-case hex digits';
  if (typeof b.headHash !== 'string' || !HEX64.test(b.headHash)) return 'headHash must be 64 lower-case hex digits';
  if (typeof b.time !== 'string' || !ISO.test(b.time) || Number.isNaN(Date.parse(b.time))) return 'time must be an ISO 8601 UTC time such as 2026-03-01T02:00:00.000Z';
  return null;
}

/** The exact text that is signed. Throws on a body that checkpointBodyProblem() rejects. */
export function checkpointText(b: CheckpointBody): string {
  const problem = checkpointBodyProblem(b);
  if (problem) throw new TypeError(`checkpoint: ${problem}`);
  return `${CHECKPOINT_FORMAT}\n${b.ledger}\n${b.seq}\n${b.root}\n${b.headHash}\n${b.time}\n`;
}

/** keyId of a public key (KeyObject or SPKI PEM). */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** An Ed25519 public key from PEM, or null when the text is not one. */
/** The PEM blocks in `text` (a key file may hold several: the current key and retired ones); text without one is returned whole, to be refused as a key. */
export function pemBlocks(text: string): string[] {
  const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g);
  return blocks ? blocks.map((b) => `${b}\n`) : [text];
}

export function parseEd25519PublicKey(pem: string): KeyObject | null {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? key : null;
  } catch {
    return null;
  }
}

/** True when `signature` (base64) is `key`'s signature over the checkpoint's text. */
export function signatureValid(c: CheckpointClaim, key: KeyObject): boolean {
  if (typeof c.signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(c.signature)) return false;
  try {
    return verifySignature(null, Buffer.from(checkpointText(c), 'utf8'), key, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}
