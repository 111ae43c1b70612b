/**
 * The wire format between the verifier's worker threads and its main thread
 * (ledger-verify-parallel.ts). A worker turns a block of whole JSONL lines
 * into one compact result per line, so the main thread never parses JSON or
 * hashes for an ordinary transfer: only what the sequential checks need
 * (seq, code, phase, legs, links, the two stated hashes) plus the worker's
 * verdict on the record's own hash and its Merkle leaf.
 *
 * Why binary: structured-cloning a parsed record costs about as much as
 * parsing it again. Numbers go in a Float64Array, the three digests in a
 * byte array, both transferred (not copied). Strings that repeat — account
 * keys, codes, phases, sides — are sent once per worker and referred to by
 * index, which also hands the main thread the same string object every time
 * (its hash is computed once, so the replay's Map lookups stay cheap).
 *
 * Anything that is not a well-shaped transfer — the header, checkpoints,
 * account lines, bad JSON, a malformed record — goes back as its raw line,
 * and the main thread reads it exactly as the single-thread path does.
 */
import { isAscii } from 'node:buffer';
import type { JournalEntry, JournalRecord, TransferPhase } from './ledger-record.js';
import type { TransferCode } from './ledger-chart.js';
import { RecordHasher, shapeProblem } from './ledger-verify-hash.js';

/** One item per line of the block, in order. */
export const BLANK = 0;
export const RAW = 1;
export const FAST = 2;
/** Bytes per FAST record in `bytes`: leaf digest, prevHash text, hash text. */
const DIGEST_BYTES = 32 + 64 + 64;

/** What a worker sends back for one block. */
export interface BlockResult {
  id: number;
  nums: Float64Array;
  bytes: Uint8Array;
  /** The lines sent back whole (RAW items), in order. */
  raws: string[];
  /** Strings first used in this block: they take the next indexes of the worker's table. */
  strings: string[];
}

/** The fields of a record the sequential checks need (a JournalRecord without refs, memo, times, people). */
export type SequentialRecord = Pick<JournalRecord, 'seq' | 'code' | 'phase' | 'entries' | 'pendingSeq' | 'reverses' | 'prevHash' | 'hash'>;

/** 64 characters, each one byte in latin1 (so the text survives the byte array). */
const ascii64 = (s: string) => s.length === 64 && !/[^\x20-\x7e]/.test(s);

/** Encodes blocks on the worker side; keeps its string table across blocks. */
export class BlockEncoder {
  private readonly table = new Map<string, number>();
  private readonly hasher = new RecordHasher();
  private nums = new Float64Array(1 << 14);
  private n = 0;
  private bytes = Buffer.allocUnsafe(1 << 20);
  private b = 0;
  private raws: string[] = [];
  private strings: string[] = [];

  private num(x: number): void {
    if (this.n === this.nums.length) {
      const grown = new Float64Array(this.nums.length * 2);
      grown.set(this.nums);
      this.nums = grown;
    }
    this.nums[this.n++] = x;
  }

  private str(s: string): number {
    let i = this.table.get(s);
    if (i === undefined) {
      i = this.table.size;
      this.table.set(s, i);
      this.strings.push(s);
    }
    return i;
  }

  /** A block of whole lines (the last may lack its "\n") into a result; the block's bytes are not kept. */
  encode(id: number, block: Buffer): BlockResult {
    // Same decoding as the single-thread reader: latin1 when all ASCII, else UTF-8.
    const text = isAscii(block) ? block.toString('latin1') : block.toString('utf8');
    this.nums = new Float64Array(Math.max(1 << 10, (text.length >> 6) | 0));
    this.n = 0;
    this.bytes = Buffer.allocUnsafeSlow(Math.max(1 << 12, text.length >> 2));
    this.b = 0;
    this.raws = [];
    this.strings = [];
    let start = 0;
    while (start < text.length) {
      let nl = text.indexOf('\n', start);
      let line: string;
      if (nl === -1) {
        line = text.slice(start);
        nl = text.length;
      } else line = text.slice(start, text.charCodeAt(nl - 1) === 13 && nl > start ? nl - 1 : nl);
      this.line(line);
      start = nl + 1;
    }
    return { id, nums: this.nums.subarray(0, this.n), bytes: new Uint8Array(this.bytes.buffer, 0, this.b), raws: this.raws, strings: this.strings };
  }

  private line(line: string): void {
    if (!line.trim()) return this.num(BLANK);
    let r: { type?: unknown } & JournalRecord;
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      r = null as never;
    }
    if (!r || typeof r !== 'object' || r.type !== 'transfer' || typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1
      || shapeProblem(r) !== null || !ascii64(r.prevHash) || !ascii64(r.hash)) {
      this.raws.push(line);
      return this.num(RAW);
    }
    this.hasher.hash(r);
    this.num(FAST);
    this.num(r.seq);
    this.num(this.str(r.code));
    this.num(this.str(r.phase));
    // JSON has no NaN: it stands for null.
    this.num(r.pendingSeq ?? NaN);
    this.num(r.reverses ?? NaN);
    this.num(this.hasher.own === r.hash ? 1 : 0);
    this.num(r.entries.length);
    for (const e of r.entries) {
      this.num(this.str(e.account));
      this.num(this.str(e.side));
      this.num(e.amountFen);
    }
    if (this.b + DIGEST_BYTES > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(this.bytes.length * 2);
      this.bytes.copy(grown, 0, 0, this.b);
      this.bytes = grown;
    }
    this.bytes.write(this.hasher.leaf, this.b, 'latin1');
    this.bytes.write(r.prevHash, this.b + 32, 'latin1');
    this.bytes.write(r.hash, this.b + 96, 'latin1');
    this.b += DIGEST_BYTES;
  }
}

/** What the main thread does with each decoded item. */
export interface BlockSink {
  blank(): void;
  raw(line: string): void;
  hashed(r: SequentialRecord, ownOk: boolean, leaf: string): void;
}

/** Decodes a worker's result in line order; `table` is that worker's string table (grown here). */
export function decodeBlock(res: BlockResult, table: string[], sink: BlockSink): void {
  for (const s of res.strings) table.push(s);
  const nums = res.nums;
  const bytes = Buffer.from(res.bytes.buffer, res.bytes.byteOffset, res.bytes.byteLength);
  let p = 0;
  let b = 0;
  let raw = 0;
  while (p < nums.length) {
    const kind = nums[p++];
    if (kind === BLANK) sink.blank();
    else if (kind === RAW) sink.raw(res.raws[raw++]!);
    else {
      const seq = nums[p]!;
      const code = table[nums[p + 1]!] as TransferCode;
      const phase = table[nums[p + 2]!] as TransferPhase;
      const ps = nums[p + 3]!;
      const rv = nums[p + 4]!;
      const ownOk = nums[p + 5] === 1;
      const count = nums[p + 6]!;
      p += 7;
      const entries: JournalEntry[] = new Array(count);
      for (let i = 0; i < count; i++, p += 3) entries[i] = { account: table[nums[p]!]!, side: table[nums[p + 1]!] as JournalEntry['side'], amountFen: nums[p + 2]! };
      const leaf = bytes.toString('latin1', b, b + 32);
      const r = { seq, code, phase, entries, pendingSeq: Number.isNaN(ps) ? null : ps, reverses: Number.isNaN(rv) ? null : rv, prevHash: bytes.toString('latin1', b + 32, b + 96), hash: bytes.toString('latin1', b + 96, b + 160) };
      b += DIGEST_BYTES;
      sink.hashed(r, ownOk, leaf);
    }
  }
}
