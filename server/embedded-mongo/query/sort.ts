/**
 * Sort specifications (`{a: 1, 'b.c': -1}`) with MongoDB's semantics.
 *
 * MongoDB derives a document's sort key the way it derives index keys: a
 * missing field is null, an empty array is `undefined` (below null), an
 * array contributes each element (arrays nested in it stay whole values), and
 * a document with several candidate keys sorts by the one that comes first
 * under the sort order, i.e. the smallest element ascending and the largest
 * descending. Fields whose paths cross the same array vary together (one
 * candidate per element), and two fields crossing different arrays are
 * "parallel arrays", which MongoDB refuses to sort.
 */
import { isPlainObject, type Document } from '../bson-values.js';
import { badValue, notSupported } from '../errors.js';
import { asDocument, canonicalType, CanonicalType, compareValues, isNumeric } from './compare.js';
import { compareNumbers } from './numeric.js';
import { compilePath, getField, validateFieldPath, type CompiledPath } from './path.js';

export type SortComparator = (a: Document, b: Document) => number;

/** The sort key of an empty array: BSON undefined, between MinKey and null. */
const EMPTY_ARRAY = Symbol('empty array');

const ORDER_ERROR = '$sort key ordering must be 1 (for ascending) or -1 (for descending)';

function parseDirection(field: string, value: unknown): 1 | -1 {
  if (isPlainObject(value) && Object.hasOwn(value, '$meta')) throw notSupported(`{$meta: ${JSON.stringify(value.$meta)}} sort on '${field}'`);
  if (isNumeric(value)) {
    if (compareNumbers(value, 1) === 0) return 1;
    if (compareNumbers(value, -1) === 0) return -1;
  }
  throw badValue(ORDER_ERROR);
}

function compareKeyValues(a: unknown, b: unknown): number {
  if (a === EMPTY_ARRAY || b === EMPTY_ARRAY) {
    if (a === b) return 0;
    const other = a === EMPTY_ARRAY ? b : a;
    const emptyFirst = canonicalType(other) === CanonicalType.MinKey ? 1 : -1;
    return a === EMPTY_ARRAY ? emptyFirst : -emptyFirst;
  }
  return compareValues(a, b);
}

interface SortField {
  readonly path: CompiledPath;
  readonly direction: 1 | -1;
}

/** Per-field walk state: a resolved key, or a container to continue from. */
interface KeyState {
  values: unknown[];
  containers: unknown[];
  positions: number[];
}

function compareTuples(a: readonly unknown[], b: readonly unknown[], fields: readonly SortField[]): number {
  for (let i = 0; i < fields.length; i++) {
    const c = compareKeyValues(a[i], b[i]);
    if (c !== 0) return c * fields[i].direction;
  }
  return 0;
}

/** Every candidate key tuple of a document (index-key generation). */
function candidateKeys(doc: Document, fields: readonly SortField[]): unknown[][] {
  const n = fields.length;
  const out: unknown[][] = [];
  const expand = (state: KeyState): void => {
    let array: unknown[] | undefined;
    const through: number[] = [];
    const rest: number[] = [];
    for (let f = 0; f < n; f++) {
      if (state.positions[f] < 0) continue;
      const { parts, indexes } = fields[f].path;
      let container = state.containers[f];
      let value: unknown;
      let i = state.positions[f];
      for (;;) {
        value = getField(container, parts[i], indexes[i]);
        // A numeric component after an array is a position, not a fan-out.
        while (Array.isArray(value) && i + 1 < parts.length && indexes[i + 1] >= 0) {
          i++;
          value = value[indexes[i]];
        }
        const doc = asDocument(value);
        if (value === undefined || Array.isArray(value) || i + 1 === parts.length || doc === undefined) break;
        container = doc;
        i++;
      }
      state.positions[f] = -1;
      if (Array.isArray(value)) {
        if (array !== undefined && array !== value) throw badValue('cannot sort with keys that are parallel arrays');
        array = value;
        through.push(f);
        rest.push(i + 1);
      } else {
        state.values[f] = value === undefined || i + 1 < parts.length ? null : value;
      }
    }
    if (array === undefined) {
      out.push(state.values.slice());
      return;
    }
    if (array.length === 0) {
      through.forEach((f, j) => { state.values[f] = rest[j] === fields[f].path.parts.length ? EMPTY_ARRAY : null; });
      out.push(state.values.slice());
      return;
    }
    for (const element of array) {
      const next: KeyState = { values: state.values.slice(), containers: state.containers.slice(), positions: state.positions.slice() };
      through.forEach((f, j) => {
        const doc = asDocument(element);
        if (rest[j] === fields[f].path.parts.length) next.values[f] = element;
        else if (doc !== undefined) {
          next.containers[f] = doc;
          next.positions[f] = rest[j];
        } else next.values[f] = null;
      });
      expand(next);
    }
  };
  expand({ values: Array.from({ length: n }, () => null), containers: Array.from({ length: n }, () => doc), positions: Array.from({ length: n }, () => 0) });
  return out;
}

/** The key a document sorts by: its first candidate under the sort order. */
function sortKey(doc: Document, fields: readonly SortField[]): unknown[] {
  const candidates = candidateKeys(doc, fields);
  let best = candidates[0];
  for (let i = 1; i < candidates.length; i++) if (compareTuples(candidates[i], best, fields) < 0) best = candidates[i];
  return best;
}

/** Returned by directKey when an array lies on the path and the full key generation is needed. */
const NEEDS_CANDIDATES = Symbol('needs candidates');

/** A field's key read straight from the document, when no array is involved. */
function directKey(doc: Document, path: CompiledPath): unknown {
  let v: unknown = doc;
  for (const part of path.parts) {
    if (Array.isArray(v)) return NEEDS_CANDIDATES;
    const container = asDocument(v);
    if (container === undefined) return null;
    v = getField(container, part, -1);
    if (v === undefined) return null;
  }
  return Array.isArray(v) ? NEEDS_CANDIDATES : v;
}

/** Parses a sort specification into a comparator usable with Array.prototype.sort. */
export function compileSort(spec: Document): SortComparator {
  if (!isPlainObject(spec)) throw badValue('sort specification must be an object');
  const fields: SortField[] = Object.keys(spec).map((field) => {
    validateFieldPath(field);
    return { path: compilePath(field), direction: parseDirection(field, spec[field]) };
  });
  if (fields.length === 0) return () => 0;
  // Documents with arrays on a sort path get their key computed once, not once per comparison.
  const keys = new WeakMap<Document, unknown[]>();
  const keyOf = (doc: Document): unknown[] => {
    let key = keys.get(doc);
    if (key === undefined) {
      key = sortKey(doc, fields);
      keys.set(doc, key);
    }
    return key;
  };
  return (a, b) => {
    for (const field of fields) {
      const x = directKey(a, field.path);
      const y = directKey(b, field.path);
      // Without arrays a field's key is its value, and earlier fields compared equal,
      // so comparing the full keys from here on gives the same answer.
      if (x === NEEDS_CANDIDATES || y === NEEDS_CANDIDATES) return compareTuples(keyOf(a), keyOf(b), fields);
      const c = compareKeyValues(x, y);
      if (c !== 0) return c * field.direction;
    }
    return 0;
  };
}
