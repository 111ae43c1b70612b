/**
 * One secondary (or `_id`) index: the key extraction rules MongoDB applies
 * (compound, multikey, sparse, partial) and an ordered B+ tree of
 * `[...keyValues, idKey]` entries (index-keys.ts) so the planner can serve equality, `$in` and range
 * predicates without scanning the collection.
 */
import btree from 'sorted-btree';
import { bulkLoad } from 'sorted-btree/extended/bulkLoad.js';
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { compareValues } from '../query/compare.js';
import { compileFilter, type CompiledFilter } from '../query/matcher.js';
import { compareTreeKeys, extractKeys, simpleKeyValue, type TreeKey } from './index-keys.js';

export { sameKeys } from './index-keys.js';

/**
 * sorted-btree is CommonJS: under Node's ESM loader its class is the `default`
 * property, but when this file is itself compiled to CommonJS (mocha loading
 * tests through tsx's require hook) the default import already is the class.
 */
const BTree: typeof btree.default = (btree as unknown as { default?: typeof btree.default }).default
  ?? (btree as unknown as typeof btree.default);

/** sorted-btree's default branching factor, passed explicitly so bulk-built and incrementally built trees agree. */
const NODE_SIZE = 32;

/** An index as `listIndexes` reports it (plus whatever options were given). */
export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
}

export class IndexStore {
  readonly spec: IndexSpec;
  readonly fields: string[];
  private readonly paths: string[][];
  private readonly partial: CompiledFilter | null;
  /** Set when every document's key can be read straight off one top-level field (see simpleKeyValue). */
  private readonly simpleField: string | null;
  private tree = new BTree<TreeKey, true>(undefined, compareTreeKeys, NODE_SIZE);
  /** True once any document produced several keys (reported by explain). */
  multikey = false;
  /** Whether the planner may use the index for range scans (it keeps keys in order). */
  readonly ordered: boolean = true;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.paths = this.fields.map((f) => f.split('.'));
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : null;
    this.simpleField = this.paths.length === 1 && this.paths[0].length === 1 && !this.partial ? this.fields[0] : null;
  }

  get name(): string {
    return this.spec.name;
  }

  get unique(): boolean {
    return this.spec.unique === true || this.name === '_id_';
  }

  get size(): number {
    return this.tree.size;
  }

  /** The key tuples a document contributes, or none when sparse/partial rules exclude it. */
  keysFor(doc: Document): unknown[][] {
    if (this.simpleField !== null) {
      const v = simpleKeyValue(doc, this.simpleField);
      if (v !== undefined) return [[v]];
    }
    if (this.partial && !this.partial.matches(doc)) return [];
    return extractKeys(doc, this.paths, this.fields, this.spec.sparse === true);
  }

  add(idKey: string, keys: unknown[][]): void {
    if (keys.length > 1) this.multikey = true;
    for (const k of keys) this.tree.set([...k, idKey], true);
  }

  /**
   * Rebuilds the tree from every document at once (start-up): the entries
   * are sorted and the tree is built bottom-up from them, leaf by leaf, which
   * costs one pass instead of a descent and node splits per key.
   */
  rebuild(docs: ReadonlyMap<string, Document>): void {
    const entries: TreeKey[] = [];
    const field = this.simpleField;
    // forEach rather than for-of: no [idKey, doc] pair is allocated per document.
    docs.forEach((doc, idKey) => {
      const v = field === null ? undefined : simpleKeyValue(doc, field);
      if (v !== undefined) {
        entries.push([v, idKey]);
        return;
      }
      const keys = this.keysFor(doc);
      if (keys.length > 1) this.multikey = true;
      for (const k of keys) {
        k.push(idKey);
        entries.push(k);
      }
    });
    entries.sort(compareTreeKeys);
    this.tree = bulkLoad(entries, entries.map((): true => true), NODE_SIZE, compareTreeKeys);
  }

  remove(idKey: string, keys: unknown[][]): void {
    for (const k of keys) this.tree.delete([...k, idKey]);
  }

  /** Id keys of documents whose key equals `values` exactly (all fields). */
  *lookup(values: unknown[]): Generator<string> {
    const n = values.length;
    for (const [key] of this.tree.entries([...values, ''])) {
      for (let i = 0; i < n; i++) if (compareValues(key[i], values[i]) !== 0) return;
      yield key[key.length - 1] as string;
    }
  }

  /** First id key, other than `exceptId`, holding the same key: a unique-index violation. */
  findConflict(keys: unknown[][], exceptId: string): { idKey: string; values: unknown[] } | null {
    for (const values of keys) {
      for (const idKey of this.lookup(values)) {
        if (idKey !== exceptId) return { idKey, values };
      }
    }
    return null;
  }

  /**
   * Id keys whose first `prefix.length` values equal `prefix`, and whose next
   * value (if `range` is given) lies within it. Candidates only: the caller
   * re-applies the full filter.
   */
  *scan(prefix: unknown[], range?: { low: unknown; inRange: (v: unknown) => boolean; pastEnd: (v: unknown) => boolean }): Generator<string> {
    const start: unknown[] = [...prefix];
    if (range) start.push(range.low);
    start.push('');
    for (const [key] of this.tree.entries(start)) {
      for (let i = 0; i < prefix.length; i++) {
        if (compareValues(key[i], prefix[i]) !== 0) return;
      }
      if (range) {
        const v = key[prefix.length];
        if (range.pastEnd(v)) return;
        if (!range.inRange(v)) continue;
      }
      yield key[key.length - 1] as string;
    }
  }

  /** All id keys in index order (used by explain and by full index scans). */
  *all(): Generator<string> {
    for (const [key] of this.tree.entries()) yield key[key.length - 1] as string;
  }

  clear(): void {
    this.tree.clear();
  }
}

/** Builds the 11000 error exactly as MongoDB words it. */
export function duplicateKeyError(ns: string, index: IndexStore, values: unknown[]): MongoError {
  const keyPattern: Document = {};
  const keyValue: Document = {};
  index.fields.forEach((f, i) => {
    keyPattern[f] = index.spec.key[f];
    keyValue[f] = values[i];
  });
  const shown = index.fields.map((f, i) => `${f}: ${describeValue(values[i])}`).join(', ');
  return new MongoError(
    ErrorCodes.DuplicateKey,
    `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: { ${shown} }`,
    { keyPattern, keyValue },
  );
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return `ObjectId('${String(v)}')`;
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}
