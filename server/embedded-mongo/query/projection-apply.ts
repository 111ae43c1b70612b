/**
 * Executes a parsed find projection (see projection.ts), following the
 * server's projection executor: find-only operators ($slice, $elemMatch,
 * positional `$`) first rewrite the document, then an inclusion or
 * exclusion pass walks it in document order, then computed fields are
 * written in specification order (replacing a field in place, or appended).
 * Arrays along a projected path are projected element-wise, nested arrays
 * included, as find() does.
 */
import { isPlainObject, type Document } from '../bson-values.js';
import { badValue, MongoError } from '../errors.js';
import { asDocument } from './compare.js';
import type { CompiledExpression } from './expression.js';
import type { CompiledFilter, MatchDetails } from './matcher.js';

export type ProjectionNode =
  | { readonly kind: 'include' | 'exclude' | 'slice' | 'elemMatch' | 'positional' }
  | { readonly kind: 'expression'; readonly expression: CompiledExpression }
  | ProjectionTree;

export interface ProjectionTree {
  readonly kind: 'tree';
  readonly children: Map<string, ProjectionNode>;
  /** Whether an expression node lies below, so the computed-field pass must visit it. */
  hasExpressions: boolean;
}

export type FindOperator =
  | { readonly kind: 'slice'; readonly parts: readonly string[]; readonly skip?: number; readonly limit: number }
  | { readonly kind: 'elemMatch'; readonly field: string; readonly filter: CompiledFilter }
  | { readonly kind: 'positional'; readonly parts: readonly string[] };

/** Deep copy of the containers; BSON value objects are immutable and shared, Dates are copied. */
export function copyValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyValue);
  if (v instanceof Date) return new Date(v.getTime());
  if (isPlainObject(v)) {
    const out: Document = {};
    for (const k of Object.keys(v)) if (v[k] !== undefined) out[k] = copyValue(v[k]);
    return out;
  }
  return v;
}

function sliceArray(arr: unknown[], skip: number | undefined, limit: number): unknown[] {
  if (skip === undefined) return limit >= 0 ? arr.slice(0, limit) : arr.slice(Math.max(0, arr.length + limit));
  const start = skip < 0 ? Math.max(0, arr.length + skip) : Math.min(skip, arr.length);
  return arr.slice(start, start + limit);
}

/** Applies a find $slice at a path, descending through documents and arrays of them. */
function sliceAt(value: unknown, parts: readonly string[], i: number, op: { skip?: number; limit: number }): unknown {
  if (i === parts.length) return Array.isArray(value) ? sliceArray(value, op.skip, op.limit) : value;
  if (Array.isArray(value)) return value.map((e) => (isPlainObject(e) || Array.isArray(e) ? sliceAt(e, parts, i, op) : e));
  if (!isPlainObject(value) || !Object.hasOwn(value, parts[i])) return value;
  return { ...value, [parts[i]]: sliceAt(value[parts[i]], parts, i + 1, op) };
}

/** Replaces the first array on the path by the one element the query matched. */
function positionalAt(doc: Document, parts: readonly string[], i: number, index: number): Document {
  if (!Object.hasOwn(doc, parts[i])) return doc;
  const v = doc[parts[i]];
  if (Array.isArray(v)) {
    if (index >= v.length) throw new MongoError(51247, "positional operator '.$' element mismatch");
    return { ...doc, [parts[i]]: [v[index]] };
  }
  if (i + 1 < parts.length && isPlainObject(v)) return { ...doc, [parts[i]]: positionalAt(v, parts, i + 1, index) };
  return doc;
}

function elemMatchAt(doc: Document, field: string, filter: CompiledFilter): Document {
  const v = doc[field];
  if (Array.isArray(v)) {
    const hit = v.find((e) => filter.matches({ [field]: [e] }));
    if (hit !== undefined) return { ...doc, [field]: [hit] };
  }
  if (!Object.hasOwn(doc, field)) return doc;
  const { [field]: _omitted, ...rest } = doc;
  return rest;
}

/** Rewrites the document with the find-only operators, sharing untouched parts. */
export function applyFindOperators(doc: Document, ops: readonly FindOperator[], details?: MatchDetails): Document {
  let out = doc;
  for (const op of ops) {
    if (op.kind === 'slice') out = sliceAt(out, op.parts, 0, op) as Document;
    else if (op.kind === 'elemMatch') out = elemMatchAt(out, op.field, op.filter);
    else {
      const index = details?.arrayIndex;
      if (index === undefined) throw badValue("positional operator '.$' couldn't find a matching element in the array");
      out = positionalAt(out, op.parts, 0, index);
    }
  }
  return out;
}

function includeValue(v: unknown, tree: ProjectionTree, root: Document): unknown {
  const doc = asDocument(v);
  if (doc !== undefined) return include(doc, tree, root);
  if (!Array.isArray(v)) return undefined;
  const out: unknown[] = [];
  for (const e of v) {
    const r = Array.isArray(e) || asDocument(e) !== undefined ? includeValue(e, tree, root) : undefined;
    if (r !== undefined) out.push(r);
  }
  return out;
}

/** Inclusion pass: only projected fields, in document order, then computed fields. */
export function include(doc: Document, tree: ProjectionTree, root: Document): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const node = tree.children.get(key);
    const v = doc[key];
    if (node === undefined || v === undefined || node.kind === 'expression' || node.kind === 'exclude') continue;
    if (node.kind === 'tree') {
      const r = includeValue(v, node, root);
      if (r !== undefined) out[key] = r;
    } else {
      out[key] = copyValue(v);
    }
  }
  if (tree.hasExpressions) applyExpressions(out, tree, root);
  return out;
}

function expressionsValue(v: unknown, tree: ProjectionTree, root: Document): unknown {
  if (Array.isArray(v)) return v.map((e) => expressionsValue(e, tree, root));
  const out = isPlainObject(v) ? { ...v } : {};
  applyExpressions(out, tree, root);
  return out;
}

function applyExpressions(out: Document, tree: ProjectionTree, root: Document): void {
  for (const [key, node] of tree.children) {
    if (node.kind === 'expression') {
      const v = node.expression.evaluate(root);
      if (v === undefined) delete out[key];
      else out[key] = copyValue(v);
    } else if (node.kind === 'tree' && node.hasExpressions) {
      out[key] = expressionsValue(out[key], node, root);
    }
  }
}

function excludeValue(v: unknown, tree: ProjectionTree): unknown {
  const doc = asDocument(v);
  if (doc !== undefined) return exclude(doc, tree);
  if (Array.isArray(v)) return v.map((e) => excludeValue(e, tree));
  return copyValue(v);
}

/** Exclusion pass: every field but the excluded ones, in document order. */
export function exclude(doc: Document, tree: ProjectionTree): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const v = doc[key];
    if (v === undefined) continue;
    const node = tree.children.get(key);
    if (node === undefined) out[key] = copyValue(v);
    else if (node.kind === 'tree') out[key] = excludeValue(v, node);
    else if (node.kind !== 'exclude') out[key] = copyValue(v);
  }
  return out;
}
