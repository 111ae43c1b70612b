/**
 * One secondary (or `_id`) index: the key extraction rules MongoDB applies
 * (compound, multikey, sparse, partial) and an ordered B+ tree of
 * `[keyValues, idKey]` so the planner can serve equality, `$in` and range
 * predicates without scanning the collection.
 */
import btree from 'sorted-btree';
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { bsonTypeName, canonicalKey, compareStrings, compareValues } from '../query/compare.js';
import { compileFilter, type CompiledFilter } from '../query/matcher.js';

/**
 * sorted-btree is CommonJS: under Node's ESM loader its class is the `default`
 * property, but when this file is itself compiled to CommonJS (mocha loading
 * tests through tsx's require hook) the default import already is the class.
 */
const BTree: typeof btree.default = (btree as unknown as { default?: typeof btree.default }).default
  ?? (btree as unknown as typeof btree.default);

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

/** A tree key: the indexed values in key order, then the document's id key. */
type TreeKey = [unknown[], string];

/**
 * Index keys are compared millions of times while loading; plain numbers and
 * strings (the common keys) take a fast path that agrees with compareValues.
 */
function compareKeyValue(x: unknown, y: unknown): number {
  if (typeof x === 'number' && typeof y === 'number' && x === x && y === y) return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'string' && typeof y === 'string') return compareStrings(x, y);
  return compareValues(x, y);
}

function compareTreeKeys(a: TreeKey, b: TreeKey): number {
  const va = a[0];
  const vb = b[0];
  for (let i = 0; i < va.length; i++) {
    const c = compareKeyValue(va[i], vb[i]);
    if (c !== 0) return c;
  }
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** True when two key lists are the same, so a write need not touch the tree. */
export function sameKeys(a: unknown[][], b: unknown[][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    for (let j = 0; j < x.length; j++) {
      if (compareKeyValue(x[j], y[j]) !== 0 || bsonTypeName(x[j]) !== bsonTypeName(y[j])) return false;
    }
  }
  return true;
}

/** Values found at a dotted path, with MongoDB's array expansion for index keys. */
function valuesAtPath(doc: unknown, parts: string[], i: number, out: unknown[], arrays: { seen: boolean }): void {
  if (i === parts.length) {
    if (Array.isArray(doc)) {
      arrays.seen = true;
      // An empty array is indexed as `undefined`, sorting with null/missing.
      if (doc.length === 0) out.push(undefined);
      for (const el of doc) out.push(el);
    } else {
      out.push(doc);
    }
    return;
  }
  if (doc === null || typeof doc !== 'object') {
    out.push(null);
    return;
  }
  if (Array.isArray(doc)) {
    arrays.seen = true;
    const part = parts[i];
    if (/^\d+$/.test(part) && Number(part) < doc.length) {
      valuesAtPath(doc[Number(part)], parts, i + 1, out, arrays);
      return;
    }
    if (doc.length === 0) out.push(null);
    for (const el of doc) valuesAtPath(el, parts, i, out, arrays);
    return;
  }
  const next = (doc as Document)[parts[i]];
  if (next === undefined) {
    out.push(null);
    return;
  }
  valuesAtPath(next, parts, i + 1, out, arrays);
}

/** Keeps only distinct values so a multikey entry is stored once per document. */
function distinct(values: unknown[]): unknown[] {
  if (values.length < 2) return values;
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = canonicalKey(v ?? null);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export class IndexStore {
  readonly spec: IndexSpec;
  readonly fields: string[];
  private readonly paths: string[][];
  private readonly partial: CompiledFilter | null;
  private readonly tree = new BTree<TreeKey, true>(undefined, compareTreeKeys);
  /** True once any document produced several keys (reported by explain). */
  multikey = false;
  /** Whether the planner may use the index for range scans (it keeps keys in order). */
  readonly ordered: boolean = true;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.paths = this.fields.map((f) => f.split('.'));
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : null;
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
    if (this.partial && !this.partial.matches(doc)) return [];
    const perField: unknown[][] = [];
    let anyArray = 0;
    let allMissing = true;
    for (const parts of this.paths) {
      const out: unknown[] = [];
      const arrays = { seen: false };
      valuesAtPath(doc, parts, 0, out, arrays);
      if (arrays.seen) anyArray++;
      const values = distinct(out);
      if (values.some((v) => v !== null)) allMissing = false;
      else if (this.fieldPresent(doc, parts)) allMissing = false;
      perField.push(values);
    }
    if (this.spec.sparse && allMissing) return [];
    if (anyArray > 1 && perField.filter((v) => v.length > 1).length > 1) {
      throw new MongoError(171, `cannot index parallel arrays [${this.fields.join('] [')}]`);
    }
    // Cartesian product; at most one field has several values (checked above).
    let tuples: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const t of tuples) for (const v of values) next.push([...t, v === undefined ? null : v]);
      tuples = next;
    }
    return tuples;
  }

  /** Sparse indexes skip documents where every indexed field is missing, but keep explicit nulls. */
  private fieldPresent(doc: Document, parts: string[]): boolean {
    let cur: unknown = doc;
    for (const p of parts) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return false;
      if (!(p in (cur as Document))) return false;
      cur = (cur as Document)[p];
    }
    return true;
  }

  add(idKey: string, keys: unknown[][]): void {
    if (keys.length > 1) this.multikey = true;
    for (const k of keys) this.tree.set([k, idKey], true);
  }

  /**
   * Rebuilds the tree from every document at once (start-up). Inserting keys
   * in sorted order is about twice as fast as in document order, because
   * each insert lands next to the previous one.
   */
  rebuild(docs: Iterable<[string, Document]>): void {
    this.tree.clear();
    const entries: TreeKey[] = [];
    for (const [idKey, doc] of docs) {
      const keys = this.keysFor(doc);
      if (keys.length > 1) this.multikey = true;
      for (const k of keys) entries.push([k, idKey]);
    }
    entries.sort(compareTreeKeys);
    for (const e of entries) this.tree.set(e, true);
  }

  remove(idKey: string, keys: unknown[][]): void {
    for (const k of keys) this.tree.delete([k, idKey]);
  }

  /** Id keys of documents whose key equals `values` exactly (all fields). */
  *lookup(values: unknown[]): Generator<string> {
    for (const [key] of this.tree.entries([values, ''])) {
      if (!this.equalValues(key[0], values)) return;
      yield key[1];
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
    for (const [key] of this.tree.entries([start, ''])) {
      const vals = key[0];
      for (let i = 0; i < prefix.length; i++) {
        if (compareValues(vals[i], prefix[i]) !== 0) return;
      }
      if (range) {
        const v = vals[prefix.length];
        if (range.pastEnd(v)) return;
        if (!range.inRange(v)) continue;
      }
      yield key[1];
    }
  }

  /** All id keys in index order (used by explain and by full index scans). */
  *all(): Generator<string> {
    for (const [key] of this.tree.entries()) yield key[1];
  }

  clear(): void {
    this.tree.clear();
  }

  private equalValues(a: unknown[], b: unknown[]): boolean {
    for (let i = 0; i < b.length; i++) if (compareValues(a[i], b[i]) !== 0) return false;
    return true;
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
