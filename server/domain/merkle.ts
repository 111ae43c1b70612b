/**
 * Merkle tree hashing as in RFC 6962 §2.1 (Certificate Transparency): leaf
 * hash SHA-256(0x00 ‖ d), interior node SHA-256(0x01 ‖ left ‖ right), the
 * tree split at the largest power of two below its size, the empty tree
 * SHA-256(""). Built incrementally: a stack of perfect subtree roots (at most
 * log2 n of them), so a million leaves need no more memory than a few dozen
 * hashes, and the root of every prefix is available as the leaves stream by.
 */
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(data: string | Buffer): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

export const EMPTY_ROOT = createHash('sha256').digest();

export class MerkleBuilder {
  /** Perfect subtrees, largest (leftmost) first: sizes are distinct powers of two, decreasing. */
  private readonly stack: { hash: Buffer; size: number }[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(data: string | Buffer): void {
    this.addLeafHash(leafHash(data));
  }

  addLeafHash(hash: Buffer): void {
    let node = { hash, size: 1 };
    while (this.stack.length && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { hash: nodeHash(left.hash, node.hash), size: left.size * 2 };
    }
    this.stack.push(node);
    this.count++;
  }

  /** MTH of the leaves so far: the subtrees folded right to left, which is exactly RFC 6962's split at the largest power of two. */
  root(): Buffer {
    if (!this.stack.length) return EMPTY_ROOT;
    let acc = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) acc = nodeHash(this.stack[i]!.hash, acc);
    return acc;
  }
}

/** MTH over all of `leaves` (data, not hashes). */
export function merkleRoot(leaves: Iterable<string | Buffer>): Buffer {
  const b = new MerkleBuilder();
  for (const d of leaves) b.add(d);
  return b.root();
}
