/**
 * Inclusion proofs for the RFC 6962 tree of merkle.ts (the audit path of
 * RFC 9162 §2.1.3): the sibling subtree hashes that take one leaf's hash to
 * the root of a tree of a given size, so a signed checkpoint proves a single
 * transfer is in the journal it signed without the rest of the journal.
 *
 * The path is computed in one pass over the leaves, holding only the
 * subtree being hashed: the ranges of the siblings follow from the leaf's
 * index and the tree's size alone.
 */
import { MerkleBuilder, nodeHash } from './merkle.js';

/** The largest power of two below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The leaf ranges [from, to) whose subtree hashes make up leaf m's audit path in a tree of n leaves, nearest the leaf first. */
export function auditRanges(m: number, n: number): [from: number, to: number][] {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m >= n) throw new RangeError(`leaf ${m} is not in a tree of ${n}`);
  const out: [number, number][] = [];
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (m - lo < k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
    }
  }
  return out.reverse();
}

/** Leaf m's audit path, built as the tree's n leaf hashes stream by in order. */
export class AuditPathBuilder {
  private readonly ranges: [number, number][];
  /** The ranges by where they start: they are disjoint, so at most one is being hashed at a time. */
  private readonly byStart: [number, number][];
  private readonly hashes = new Map<number, Buffer>();
  private next = 0;
  private builder: MerkleBuilder | null = null;
  private count = 0;

  constructor(readonly m: number, readonly n: number) {
    this.ranges = auditRanges(m, n);
    this.byStart = [...this.ranges].sort((a, b) => a[0] - b[0]);
  }

  add(leaf: Buffer): void {
    const i = this.count++;
    const range = this.byStart[this.next];
    if (!range || i < range[0]) return;
    this.builder ??= new MerkleBuilder();
    this.builder.addLeafHash(leaf);
    if (i === range[1] - 1) {
      this.hashes.set(range[0], this.builder.root());
      this.builder = null;
      this.next++;
    }
  }

  /** The path, nearest the leaf first. */
  path(): Buffer[] {
    if (this.count !== this.n) throw new RangeError(`expected ${this.n} leaves, got ${this.count}`);
    return this.ranges.map(([from]) => this.hashes.get(from)!);
  }
}

/** Leaf m's audit path in the tree of the leaf hashes given (in order, exactly n of them). */
export function auditPath(m: number, n: number, leafHashes: Iterable<Buffer>): Buffer[] {
  const b = new AuditPathBuilder(m, n);
  for (const leaf of leafHashes) b.add(leaf);
  return b.path();
}

/** The root that `path` leads to from leaf m's hash in a tree of n leaves (RFC 9162 §2.1.3.2), or null if the path cannot be one. */
export function rootFromPath(leaf: Buffer, m: number, n: number, path: Buffer[]): Buffer | null {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m >= n) return null;
  let fn = m;
  let sn = n - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}
