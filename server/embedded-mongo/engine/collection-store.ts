/**
 * The committed state of one collection: documents by id key, their indexes,
 * and the commit version that last wrote each document (the transaction
 * layer uses it to detect write-write conflicts and to serve snapshots).
 */
import { ObjectId, UUID } from 'bson';
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { canonicalKey } from '../query/compare.js';
import { IdIndexStore } from './id-index-store.js';
import { duplicateKeyError, IndexStore, sameKeys, type IndexSpec } from './index-store.js';

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const objectIdKey = Buffer.alloc(25, 'o', 'latin1');

/** The key a document is stored under: its `_id` in canonical form. */
export function idKeyOf(id: unknown): string {
  // The common case, spelled out: canonicalKey's `o` + toHexString() builds the key from a dozen string pieces
  // that the document map must then flatten, and start-up computes a million of these keys.
  if (id instanceof ObjectId) {
    const bytes = id.id;
    for (let i = 0; i < 12; i++) {
      objectIdKey[1 + 2 * i] = HEX_DIGITS[bytes[i] >> 4];
      objectIdKey[2 + 2 * i] = HEX_DIGITS[bytes[i] & 15];
    }
    return objectIdKey.toString('latin1');
  }
  return canonicalKey(id);
}

export class CollectionStore {
  readonly db: string;
  readonly name: string;
  readonly options: Document;
  readonly uuid: UUID;
  readonly docs = new Map<string, Document>();
  readonly indexes = new Map<string, IndexStore>();
  /** Commit version of the last committed write to each id key. */
  readonly versions = new Map<string, number>();

  constructor(db: string, name: string, options: Document = {}, uuid?: UUID) {
    this.db = db;
    this.name = name;
    this.options = options;
    this.uuid = uuid ?? new UUID();
    this.indexes.set('_id_', new IdIndexStore(this.docs));
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Index specs in creation order, `_id_` first, as listIndexes returns them. */
  indexSpecs(): IndexSpec[] {
    return [...this.indexes.values()].map((i) => i.spec);
  }

  /**
   * Throws DuplicateKey if `doc` (stored or to be stored under `idKey`) would
   * collide on a unique index with another committed document, ignoring the
   * ids in `ignore` (documents the same operation is replacing or removing).
   */
  checkUnique(idKey: string, doc: Document, ignore?: (idKey: string) => boolean): void {
    for (const index of this.indexes.values()) {
      if (!index.unique) continue;
      const keys = index.keysFor(doc);
      for (const values of keys) {
        for (const other of index.lookup(values)) {
          if (other === idKey || ignore?.(other)) continue;
          throw duplicateKeyError(this.ns, index, values);
        }
      }
    }
  }

  /** Validates index keys (parallel arrays etc.) before anything is written. */
  checkIndexable(doc: Document): void {
    for (const index of this.indexes.values()) index.keysFor(doc);
  }

  /**
   * Replaces the committed version of one document (or removes it when
   * `next` is null) and keeps every index in step. Callers have already
   * checked uniqueness.
   */
  write(idKey: string, next: Document | null, version: number): Document | null {
    const prev = this.docs.get(idKey) ?? null;
    for (const index of this.indexes.values()) {
      const before = prev ? index.keysFor(prev) : [];
      const after = next ? index.keysFor(next) : [];
      // Most updates leave indexed fields alone; then the tree stays as it is.
      if (prev && next && sameKeys(before, after)) continue;
      if (prev) index.remove(idKey, before);
      if (next) index.add(idKey, after);
    }
    if (next) this.docs.set(idKey, next);
    else this.docs.delete(idKey);
    // Versions matter only to transactions open at the time (see Store.writeDocument).
    if (version > 0) this.versions.set(idKey, version);
    return prev;
  }

  /**
   * Replaces a document without touching indexes: only for replaying the
   * journal, after which rebuildIndexes() builds every index once.
   */
  replayWrite(idKey: string, next: Document | null): void {
    if (next) this.docs.set(idKey, next);
    else this.docs.delete(idKey);
  }

  /** Rebuilds every index from the documents (after a replay). */
  rebuildIndexes(): void {
    for (const index of this.indexes.values()) index.rebuild(this.docs);
  }

  /** Builds a new index over the existing documents, refusing on duplicates. */
  buildIndex(spec: IndexSpec): IndexStore {
    const index = new IndexStore(spec);
    for (const [idKey, doc] of this.docs) {
      const keys = index.keysFor(doc);
      if (index.unique) {
        const conflict = index.findConflict(keys, idKey);
        if (conflict) throw duplicateKeyError(this.ns, index, conflict.values);
      }
      index.add(idKey, keys);
    }
    return index;
  }

  addIndex(index: IndexStore): void {
    this.indexes.set(index.name, index);
  }

  dropIndex(name: string): void {
    if (name === '_id_') throw new MongoError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!this.indexes.delete(name)) {
      throw new MongoError(ErrorCodes.IndexNotFound, `index not found with name [${name}]`);
    }
  }

  /** Approximate data size for collStats/dbStats, without serialising everything. */
  get count(): number {
    return this.docs.size;
  }
}
