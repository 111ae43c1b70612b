/**
 * The chain past a split (server/ledger-verify-file.ts). The worker that
 * replays the balances has parsed every record anyway, so it also checks
 * the hashes and links of the file's last part — the tail — and records, in
 * order, what the thread holding the Merkle tree needs to carry the tree and
 * the checkpoints on through it: each record's seq, leaf and resulting
 * head, and each checkpoint met with its place among the records.
 *
 * Kept as bytes, so the trip between threads moves the buffers rather than
 * copying them: a few hundred thousand small strings took a quarter of a
 * second to cross.
 */
import type { CheckpointClaim } from './ledger-checkpoint-text.js';

const LEAF = 32;
const HEAD = 32;

export interface ChainTail {
  /** The tail's records' seqs, in order: one per leaf and head. */
  seqs: Float64Array;
  /** The leaves, 32 bytes each. */
  leaves: Uint8Array;
  /** The heads as bytes, 32 each; a head that is not 64 hex digits (after a malformed record) is in `oddHeads`. */
  heads: Uint8Array;
  oddHeads: [index: number, head: string][];
  /** Checkpoints met in the tail, each after the first `at` of its records. */
  checkpoints: { at: number; claim: CheckpointClaim }[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The worker's side: records the tail as it is checked. */
export class TailRecorder {
  private count = 0;
  private seqs = new Float64Array(1 << 12);
  private leaves = Buffer.alloc(LEAF << 12);
  private heads = Buffer.alloc(HEAD << 12);
  private readonly oddHeads: [number, string][] = [];
  private readonly checkpoints: { at: number; claim: CheckpointClaim }[] = [];

  private grow(): void {
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
    // Buffer.alloc, never the shared pool: these buffers are handed to another thread.
    const leaves = Buffer.alloc(this.leaves.length * 2);
    this.leaves.copy(leaves);
    this.leaves = leaves;
    const heads = Buffer.alloc(this.heads.length * 2);
    this.heads.copy(heads);
    this.heads = heads;
  }

  /** `leaf`: 32 latin1 characters; `head`: the record's stored hash. */
  record(seq: number, leaf: string, head: string): void {
    const i = this.count++;
    if (i === this.seqs.length) this.grow();
    this.seqs[i] = seq;
    this.leaves.write(leaf, i * LEAF, 'latin1');
    // Lower-case hex round-trips through bytes exactly; anything else is kept as it was.
    if (head.length === 64 && HEX64.test(head)) this.heads.write(head, i * HEAD, 'hex');
    else this.oddHeads.push([i, head]);
  }

  checkpoint(claim: CheckpointClaim): void {
    this.checkpoints.push({ at: this.count, claim });
  }

  pack(): ChainTail {
    const n = this.count;
    return { seqs: this.seqs.subarray(0, n), leaves: this.leaves.subarray(0, n * LEAF), heads: this.heads.subarray(0, n * HEAD), oddHeads: this.oddHeads, checkpoints: this.checkpoints };
  }
}

/** The buffers a packed tail can hand over rather than copy (postMessage's transfer list). */
export function tailBuffers(t: ChainTail): ArrayBuffer[] {
  return [...new Set([t.seqs.buffer, t.leaves.buffer, t.heads.buffer])].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

/** What the main thread does with the tail, item by item in file order. */
export interface TailSink {
  record(seq: number, leaf: string, head: string): void;
  checkpoint(claim: CheckpointClaim): void;
}

/** Replays a packed tail into `sink` in the order it was recorded. */
export function replayTail(t: ChainTail, sink: TailSink): void {
  const odd = new Map(t.oddHeads);
  const leaves = Buffer.from(t.leaves.buffer, t.leaves.byteOffset, t.leaves.byteLength);
  const heads = Buffer.from(t.heads.buffer, t.heads.byteOffset, t.heads.byteLength);
  let c = 0;
  for (let i = 0; i < t.seqs.length; i++) {
    for (; c < t.checkpoints.length && t.checkpoints[c]!.at <= i; c++) sink.checkpoint(t.checkpoints[c]!.claim);
    sink.record(t.seqs[i]!, leaves.toString('latin1', i * LEAF, (i + 1) * LEAF), odd.get(i) ?? heads.toString('hex', i * HEAD, (i + 1) * HEAD));
  }
  for (; c < t.checkpoints.length; c++) sink.checkpoint(t.checkpoints[c]!.claim);
}
