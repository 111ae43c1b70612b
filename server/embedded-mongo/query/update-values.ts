/**
 * Small value helpers shared by the update modules.
 */
import { isPlainObject, encodeDocument, type Document } from '../bson-values.js';

/**
 * Copies the containers (plain objects and arrays) of a value and shares the
 * leaves. BSON value objects are immutable by convention, so sharing them is
 * safe; containers are what an update mutates in its working copy, and what
 * must never end up aliased between a stored document and a caller's object.
 */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (isPlainObject(value)) {
    const copy: Document = {};
    for (const key of Object.keys(value)) {
      if (value[key] !== undefined) copy[key] = cloneValue(value[key]);
    }
    return copy as T;
  }
  return value;
}

/** True when two values serialise to identical BSON (same types, same order, same bytes). */
export function sameBson(a: unknown, b: unknown): boolean {
  return Buffer.compare(encodeDocument({ v: a }), encodeDocument({ v: b })) === 0;
}

/** True when two documents serialise to identical BSON. */
export function sameDocument(a: Document, b: Document): boolean {
  return Buffer.compare(encodeDocument(a), encodeDocument(b)) === 0;
}

/** An array index as MongoDB reads one from a path component: decimal digits only. */
export function arrayIndexOf(part: string): number | undefined {
  if (!/^\d+$/.test(part)) return undefined;
  const n = Number(part);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Byte order of the strings' UTF-8 encodings, as MongoDB compares field names. */
export function compareUtf8(a: string, b: string): number {
  // JS compares UTF-16 code units; MongoDB compares UTF-8 bytes. They agree except
  // around surrogate pairs, so only fall back to bytes for non-ASCII names.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The order in which MongoDB 5+ applies sibling update paths (and so the order
 * new fields are appended): byte order, except that two canonical numbers
 * compare numerically so "10" comes after "9" (pathsupport::cmpPathsAndArrayIndexes).
 */
export function compareFieldNames(a: string, b: string): number {
  const numeric = (s: string) => s.length > 0 && s[0] >= '0' && s[0] <= '9' && !(s[0] === '0' && s.length > 1);
  if (numeric(a) && numeric(b)) {
    if (a.length !== b.length) return a.length - b.length;
    let i = 0;
    while (i < a.length && a[i] >= '0' && a[i] <= '9' && b[i] >= '0' && b[i] <= '9') {
      if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      i++;
    }
  }
  return compareUtf8(a, b);
}

/** A copy of `doc` with `_id` (if present) moved to the front, as MongoDB stores it. */
export function withIdFirst(doc: Document): Document {
  if (!Object.hasOwn(doc, '_id') || Object.keys(doc)[0] === '_id') return doc;
  const out: Document = { _id: doc._id };
  for (const key of Object.keys(doc)) if (key !== '_id') out[key] = doc[key];
  return out;
}
