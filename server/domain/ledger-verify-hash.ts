/**
 * The per-record half of the verifier, kept lean for a million records:
 * the canonical text (byte for byte ledger-record.ts's canonical(), built
 * with fewer calls), a record's chain hash and Merkle leaf recomputed in one
 * reused buffer with one-shot digests (no Hash object per digest), and the
 * RFC 6962 tree over the leaves.
 */
import { hash } from 'node:crypto';
import { REF_KEYS, type JournalRecord } from './ledger-record.js';
import { EMPTY_ROOT } from './merkle.js';

/**
 * RFC 6962 tree over leaf hashes, as merkle.ts builds it, but with digests
 * as 32-character latin1 strings (one byte per character) and one scratch
 * buffer for interior nodes: no Hash object or Buffer per node.
 */
export class LeanMerkle {
  private readonly hashes: string[] = [];
  private readonly sizes: number[] = [];
  private readonly node = Buffer.alloc(65, 1);
  /** Leaves added. */
  size = 0;

  private join(left: string, right: string): string {
    this.node.write(left, 1, 'latin1');
    this.node.write(right, 33, 'latin1');
    return hash('sha256', this.node, 'binary');
  }

  addLeafHash(leaf: string): void {
    let h = leaf;
    let size = 1;
    while (this.sizes.length && this.sizes[this.sizes.length - 1] === size) {
      this.sizes.pop();
      h = this.join(this.hashes.pop()!, h);
      size *= 2;
    }
    this.hashes.push(h);
    this.sizes.push(size);
    this.size++;
  }

  /** The root as hex. */
  root(): string {
    if (!this.hashes.length) return EMPTY_ROOT.toString('hex');
    let acc = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) acc = this.join(this.hashes[i]!, acc);
    return Buffer.from(acc, 'latin1').toString('hex');
  }
}

// What JSON.stringify escapes: quote, backslash, control characters, and (well-formed JSON) lone surrogates.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const quote = (s: string) => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/**
 * canonical() of ledger-record.ts, byte for byte (a property test holds the
 * two together), built with fewer calls: JSON.stringify only for the rare
 * string that needs escaping. `plain`: the record was parsed from JSON text
 * with no backslash and no lone surrogate (plainJsonLine), so no string in
 * it needs escaping and none is even tested — a quarter of the cost.
 */
export function fastCanonical(r: JournalRecord, plain = false): string {
  const q = plain ? verbatim : quote;
  let s = `[${r.seq},${q(r.key)},"${r.code}","${r.phase}",[`;
  const entries = r.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    s += `${i ? ',' : ''}[${q(e.account)},"${e.side}",${e.amountFen}]`;
  }
  s += `],${r.pendingSeq ?? 'null'},${r.reverses ?? 'null'},[`;
  const refs = r.refs;
  for (let i = 0; i < REF_KEYS.length; i++) {
    const v = refs[REF_KEYS[i]!] ?? null;
    s += `${i ? ',' : ''}${v === null ? 'null' : q(v)}`;
  }
  return `${s}],${q(r.memo)},${r.maker === null ? 'null' : q(r.maker)},${r.checker === null ? 'null' : q(r.checker)},"${r.effectiveAt}","${r.recordedAt}"]`;
}

const verbatim = (s: string) => `"${s}"`;
/** Any surrogate, paired ones too: those are rare in a ledger, and the slow path is exact for them. */
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Whether every string parsed from this JSON line is written back by
 * JSON.stringify as it stands between its quotes. In JSON text a quote,
 * backslash or control character inside a string can only be written
 * escaped, so a line without a backslash has none of them; what remains is
 * a lone surrogate, which JSON.stringify escapes. (The test for one costs
 * nothing on the usual all-ASCII line: V8 knows such a string has none.)
 */
export function plainJsonLine(line: string): boolean {
  return line.indexOf('\\') === -1 && !SURROGATE.test(line);
}

/** Null when `r` has the shape of a JournalRecord (what canonical() needs); else the first thing wrong. */
export function shapeProblem(r: JournalRecord): string | null {
  if (typeof r.key !== 'string' || typeof r.code !== 'string' || typeof r.phase !== 'string' || typeof r.memo !== 'string') return 'key, code, phase and memo must be strings';
  if (!Array.isArray(r.entries)) return 'entries must be a list';
  for (const e of r.entries) {
    if (!e || typeof e.account !== 'string' || typeof e.side !== 'string' || typeof e.amountFen !== 'number') return 'each entry needs account, side and amountFen';
  }
  for (const n of [r.pendingSeq, r.reverses]) if (n !== null && typeof n !== 'number') return 'pendingSeq and reverses must be numbers or null';
  if (!r.refs || typeof r.refs !== 'object') return 'refs must be an object';
  for (const k of REF_KEYS) if (r.refs[k] != null && typeof r.refs[k] !== 'string') return `refs.${k} must be a string or null`;
  for (const u of [r.maker, r.checker]) if (u !== null && typeof u !== 'string') return 'maker and checker must be strings or null';
  if (typeof r.effectiveAt !== 'string' || typeof r.recordedAt !== 'string') return 'effectiveAt and recordedAt must be strings';
  // Length only: a non-hex hash can never equal a recomputed one, and is reported as such.
  if (typeof r.prevHash !== 'string' || r.prevHash.length !== 64 || typeof r.hash !== 'string' || r.hash.length !== 64) return 'prevHash and hash must be 64 hex digits';
  return null;
}

/** The leaf taken by a record too malformed to hash (any value would do: its checkpoint fails anyway). */
export const EMPTY_LEAF = EMPTY_ROOT.toString('latin1');

/**
 * A record's chain hash and Merkle leaf, recomputed: canonical text written
 * once into a reused buffer, prevHash bytes in front of it, two one-shot
 * digests. `own` (hex) and `leaf` (latin1) hold the last results.
 */
export class RecordHasher {
  private buf = Buffer.allocUnsafe(1 << 16);
  own = '';
  leaf = '';

  /** `r` must have passed shapeProblem(); `plain`: as fastCanonical's. */
  hash(r: JournalRecord, plain = false): void {
    // [1..33) prevHash bytes, [33..) canonical UTF-8: the chain hash reads 1.., the leaf 32.. with byte 32 set to 0x00.
    const text = fastCanonical(r, plain);
    if (this.buf.length < 33 + text.length * 3) this.buf = Buffer.allocUnsafe(2 * (33 + text.length * 3));
    const end = 33 + this.buf.write(text, 33, 'utf8');
    this.buf.write(r.prevHash, 1, 'hex');
    this.own = hash('sha256', this.buf.subarray(1, end), 'hex');
    this.buf[32] = 0;
    this.leaf = hash('sha256', this.buf.subarray(32, end), 'binary');
  }
}
