/**
 * Dotted-path traversal with MongoDB's query semantics.
 *
 * walkPath is a port of the server's BSONElementIterator (matcher/path.cpp):
 * a path descends through embedded documents, fans out over arrays (each
 * element is tried), and a numeric component addresses an array position as
 * well as a field named by digits. Where a path ends on an array, the
 * elements are produced first and then the array itself, so `{a: [1, 2]}`
 * matches both `{a: 1}` and `{a: [1, 2]}`. Each produced value carries the
 * index in the outermost array it came through: MongoDB's "elemMatchKey",
 * which drives the positional `$` operator.
 */
import { MongoError } from '../errors.js';
import { asDocument } from './compare.js';

/** How a path ending on an array is expanded (ElementPath::LeafArrayBehavior). */
export type LeafMode = 'traverse' | 'noTraversal' | 'omitArray';

/** A parsed dotted path; `indexes[i]` is the array position part i names, or -1. */
export interface CompiledPath {
  readonly path: string;
  readonly parts: readonly string[];
  readonly indexes: readonly number[];
}

/** Receives each value (undefined = missing) and its outer array index; true stops the walk. */
export type PathVisitor = (value: unknown, arrayIndex: number | undefined) => boolean;

const INDEX_RE = /^(?:0|[1-9]\d*)$/;

/** Throws MongoDB's FieldPath errors for a name sort or projection cannot use. */
export function validateFieldPath(path: string): void {
  if (path.length === 0) throw new MongoError(40352, 'FieldPath cannot be constructed with empty string');
  for (const part of path.split('.')) {
    if (part.length === 0) throw new MongoError(15998, 'FieldPath field names may not be empty strings.');
    if (part.startsWith('$')) throw new MongoError(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
  }
}

export function compilePath(path: string): CompiledPath {
  const parts = path.split('.');
  // Only canonical decimal strings name an array position: "01" matches no element.
  const indexes = parts.map((p) => (INDEX_RE.test(p) && p.length < 16 ? Number(p) : -1));
  return { path, parts, indexes };
}

/** The field of a document, or the element of an array named by a canonical index. */
export function getField(container: unknown, name: string, index: number): unknown {
  if (Array.isArray(container)) return index >= 0 ? container[index] : undefined;
  const doc = container as Record<string, unknown>;
  const v = doc[name];
  // Guard against inherited properties such as "constructor" or "__proto__".
  return v !== undefined && Object.hasOwn(doc, name) ? v : undefined;
}

/**
 * Visits every value `path` (from part `start`) produces in `root`, a
 * document or array. Returns true as soon as the visitor does.
 */
export function walkPath(root: unknown, path: CompiledPath, start: number, mode: LeafMode, visit: PathVisitor): boolean {
  const { parts, indexes } = path;
  const last = parts.length - 1;
  let container = root;
  for (let i = start; ; i++) {
    const v = getField(container, parts[i], indexes[i]);
    if (v === undefined) return visit(undefined, undefined);
    if (Array.isArray(v)) return walkFoundArray(v, path, i + 1, mode, visit);
    if (i === last) return visit(v, undefined);
    const doc = asDocument(v);
    // A scalar with path left over: the path does not exist in this document.
    if (doc === undefined) return visit(undefined, undefined);
    container = doc;
  }
}

function walkFoundArray(arr: unknown[], path: CompiledPath, rest: number, mode: LeafMode, visit: PathVisitor): boolean {
  if (rest === path.parts.length) {
    if (mode === 'noTraversal') return visit(arr, undefined);
    for (let k = 0; k < arr.length; k++) if (visit(arr[k], k)) return true;
    return mode === 'omitArray' ? false : visit(arr, undefined);
  }
  return walkArrayElements(arr, path, rest, mode, visit);
}

/** The server's IN_ARRAY state: path components remain after this array. */
function walkArrayElements(arr: unknown[], path: CompiledPath, rest: number, mode: LeafMode, visit: PathVisitor): boolean {
  const position = path.indexes[rest];
  const positionIsLast = rest === path.parts.length - 1;
  for (let k = 0; k < arr.length; k++) {
    const e = arr[k];
    const doc = asDocument(e);
    if (doc !== undefined) {
      // Implicit traversal: values found inside report this element's index.
      if (walkPath(doc, path, rest, mode, (value) => visit(value, k))) return true;
      if (position !== k) continue;
      // Explicit position: not an implicit traversal, so inner indexes are kept.
      if (positionIsLast ? visit(e, undefined) : walkPath(doc, path, rest + 1, mode, visit)) return true;
    } else if (position === k) {
      if (positionIsLast) {
        if (visit(e, undefined)) return true;
      } else if (Array.isArray(e) && walkArrayElements(e, path, rest + 1, mode, visit)) {
        return true;
      }
    }
  }
  return false;
}

/**
 * The values a query predicate on `path` would see in `doc` (missing values
 * omitted). With `includeArrays: false` an array at the end of the path
 * contributes only its elements, as for `distinct`.
 */
export function getValuesAtPath(doc: unknown, path: string, options: { includeArrays?: boolean } = {}): unknown[] {
  const out: unknown[] = [];
  const mode: LeafMode = options.includeArrays === false ? 'omitArray' : 'traverse';
  walkPath(doc, compilePath(path), 0, mode, (v) => {
    if (v !== undefined) out.push(v);
    return false;
  });
  return out;
}

/**
 * An aggregation field path (`$a.b`) as the expression engine resolves it
 * (ExpressionFieldPath::evaluatePath): through documents, and over arrays by
 * collecting each element document's value; numeric parts are field names
 * here, never positions. Undefined means missing.
 */
export function evaluateFieldPath(root: unknown, parts: readonly string[], start = 0): unknown {
  let current = root;
  for (let i = start; i < parts.length; i++) {
    const doc = asDocument(current);
    if (doc !== undefined) {
      current = getField(doc, parts[i], -1);
      if (current === undefined) return undefined;
      continue;
    }
    if (!Array.isArray(current)) return undefined;
    const out: unknown[] = [];
    for (const e of current) {
      if (asDocument(e) === undefined) continue;
      const v = evaluateFieldPath(e, parts, i);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  return current;
}
