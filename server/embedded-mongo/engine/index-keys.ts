/**
 * Index keys: which key tuples MongoDB's rules (compound, multikey, sparse)
 * give a document, and the order of the B+ tree entries built from them.
 *
 * A tree entry is one flat array `[v1, ..., vn, idKey]`: the indexed values
 * in key order, then the document's id key. One array per entry rather than
 * `[[values], idKey]` halves the objects a million-document index holds,
 * which is most of what start-up allocates and the collector then traces.
 */
import type { Document } from '../bson-values.js';
import { MongoError } from '../errors.js';
import { bsonTypeName, canonicalKey, compareStrings, compareValues } from '../query/compare.js';

/** `[...values, idKey]`; a search probe may hold fewer values, and '' as its id. */
export type TreeKey = unknown[];

/**
 * Index keys are compared millions of times while loading; plain numbers and
 * strings (the common keys) take a fast path that agrees with compareValues.
 */
export function compareKeyValue(x: unknown, y: unknown): number {
  if (typeof x === 'number' && typeof y === 'number' && x === x && y === y) return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'string' && typeof y === 'string') return compareStrings(x, y);
  return compareValues(x, y);
}

/**
 * Orders entries by values, then id key. A probe with fewer values (a prefix
 * scan) sorts before every entry it is a prefix of, as does a probe with
 * the empty id '', so `entries(probe)` starts at the first match.
 */
export function compareTreeKeys(a: TreeKey, b: TreeKey): number {
  const na = a.length - 1;
  const nb = b.length - 1;
  const n = na < nb ? na : nb;
  for (let i = 0; i < n; i++) {
    const c = compareKeyValue(a[i], b[i]);
    if (c !== 0) return c;
  }
  if (na !== nb) return na < nb ? -1 : 1;
  const ia = a[na] as string;
  const ib = b[nb] as string;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
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

/** Sparse indexes skip documents where every indexed field is missing, but keep explicit nulls. */
function fieldPresent(doc: Document, parts: string[]): boolean {
  let cur: unknown = doc;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return false;
    if (!(p in (cur as Document))) return false;
    cur = (cur as Document)[p];
  }
  return true;
}

/**
 * The key tuples of `doc` for an index on `paths` (split field names), before
 * any partial filter: none when a sparse index skips it, several when one
 * field holds an array. Throws 171 for parallel arrays.
 */
export function extractKeys(doc: Document, paths: string[][], fields: string[], sparse: boolean): unknown[][] {
  const perField: unknown[][] = [];
  let anyArray = 0;
  let allMissing = true;
  for (const parts of paths) {
    const out: unknown[] = [];
    const arrays = { seen: false };
    valuesAtPath(doc, parts, 0, out, arrays);
    if (arrays.seen) anyArray++;
    const values = distinct(out);
    if (values.some((v) => v !== null)) allMissing = false;
    else if (fieldPresent(doc, parts)) allMissing = false;
    perField.push(values);
  }
  if (sparse && allMissing) return [];
  if (anyArray > 1 && perField.filter((v) => v.length > 1).length > 1) {
    throw new MongoError(171, `cannot index parallel arrays [${fields.join('] [')}]`);
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

/**
 * The single value of a one-field, top-level, non-array key, or undefined
 * when the general rules are needed (array, missing field). Start-up reads
 * a million of these, and this path allocates nothing.
 */
export function simpleKeyValue(doc: Document, field: string): unknown {
  const v = doc[field];
  return v === undefined || Array.isArray(v) ? undefined : v;
}
