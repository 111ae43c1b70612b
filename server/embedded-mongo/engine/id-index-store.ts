/**
 * The `_id_` index, served by the collection's own document map (keyed by
 * the canonical `_id`) instead of a second tree: `_id` equality and
 * uniqueness are map look-ups, and no tree has to be built at start-up or
 * kept up to date on every insert and delete. It has no order, so the
 * planner does not use it for `_id` ranges (those scan the collection).
 */
import type { Document } from '../bson-values.js';
import { canonicalKey, compareValues } from '../query/compare.js';
import { IndexStore } from './index-store.js';

export class IdIndexStore extends IndexStore {
  override readonly ordered = false;

  constructor(private readonly docs: Map<string, Document>) {
    super({ v: 2, key: { _id: 1 }, name: '_id_' });
  }

  override keysFor(doc: Document): unknown[][] {
    return [[doc._id]];
  }

  // The document map is the index: nothing to add, remove or clear.
  override add(): void {}
  override remove(): void {}
  override clear(): void {}
  override rebuild(): void {}

  override get size(): number {
    return this.docs.size;
  }

  override *lookup(values: unknown[]): Generator<string> {
    const key = canonicalKey(values[0]);
    if (this.docs.has(key)) yield key;
  }

  override findConflict(keys: unknown[][], exceptId: string): { idKey: string; values: unknown[] } | null {
    for (const values of keys) {
      const key = canonicalKey(values[0]);
      if (key !== exceptId && this.docs.has(key)) return { idKey: key, values };
    }
    return null;
  }

  /** Unordered: every document is checked against the prefix and range. */
  override *scan(prefix: unknown[], range?: { low: unknown; inRange: (v: unknown) => boolean; pastEnd: (v: unknown) => boolean }): Generator<string> {
    for (const [idKey, doc] of this.docs) {
      if (prefix.length && compareValues(doc._id, prefix[0]) !== 0) continue;
      if (range && (!range.inRange(doc._id) || range.pastEnd(doc._id))) continue;
      yield idKey;
    }
  }

  override *all(): Generator<string> {
    yield* this.docs.keys();
  }
}
