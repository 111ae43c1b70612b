/**
 * find() projections, parsed with the rules of MongoDB 4.4+
 * (query/projection_parser.cpp): inclusion and exclusion cannot be mixed
 * except for `_id`; non-boolean, non-numeric values are expressions
 * (`{x: '$a.b'}`, `{y: {$add: [...]}}`, `{z: 'literal'}`) and make the
 * projection an inclusion; `$slice`, `$elemMatch` and positional `a.$` are
 * find-only operators that do not decide the projection type on their own.
 * Execution lives in projection-apply.ts.
 */
import { isPlainObject, type Document } from '../bson-values.js';
import { MongoError, notSupported } from '../errors.js';
import { bsonTypeName, isNumeric } from './compare.js';
import { compileExpression, isKnownExpressionOperator } from './expression.js';
import { compileFilter, type MatchDetails } from './matcher.js';
import { isNumericZero, toJsNumber } from './numeric.js';
import { validateFieldPath } from './path.js';
import {
  applyFindOperators, exclude, include, type FindOperator, type ProjectionNode, type ProjectionTree,
} from './projection-apply.js';

export type Projector = (doc: Document, details?: MatchDetails) => Document;

interface ParseState {
  type?: 'inclusion' | 'exclusion';
  idSpecified: boolean;
  idIncluded: boolean;
  idExcluded: boolean;
  hasSlice: boolean;
  hasElemMatch: boolean;
  hasPositional: boolean;
  readonly ops: FindOperator[];
}

function newTree(): ProjectionTree {
  return { kind: 'tree', children: new Map(), hasExpressions: false };
}

function addNode(parent: ProjectionTree, name: string, node: ProjectionNode): void {
  const parts = name.split('.');
  let tree = parent;
  for (let i = 0; i < parts.length - 1; i++) {
    const child = tree.children.get(parts[i]);
    if (child === undefined) {
      const created = newTree();
      tree.children.set(parts[i], created);
      tree = created;
    } else if (child.kind === 'tree') {
      tree = child;
    } else {
      throw new MongoError(31249, `Path collision at ${name} remaining portion ${parts.slice(1).join('.')}`);
    }
  }
  const last = parts[parts.length - 1];
  const existing = tree.children.get(last);
  // A sub-object projection may extend a tree that dotted paths already created.
  if (existing?.kind === 'tree' && node.kind === 'tree') return;
  if (existing !== undefined) throw new MongoError(31250, `Path collision at ${name}`);
  tree.children.set(last, node);
}

/** [begin, end) of the first positional `$` component in a projected name. */
function findPositional(name: string): [number, number] | undefined {
  const mid = name.indexOf('.$.');
  if (mid >= 0) return [mid, mid + 3];
  if (name.endsWith('.$')) return [name.length - 2, name.length];
  return name === '$' ? [0, 1] : undefined;
}

function isInclusionOrExclusion(v: unknown): boolean {
  return typeof v === 'boolean' || isNumeric(v);
}

function truthy(v: unknown): boolean {
  return typeof v === 'boolean' ? v : !isNumericZero(v);
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function toInt32(v: unknown): number {
  const n = Math.trunc(toJsNumber(v));
  return Number.isNaN(n) ? 0 : Math.max(-2147483648, Math.min(2147483647, n));
}

/** The find-style $slice argument, or undefined when it must be the aggregation $slice. */
function parseFindSlice(arg: unknown): { skip?: number; limit: number } | undefined {
  if (isNumeric(arg)) return { limit: toInt32(arg) };
  if (!Array.isArray(arg)) throw new MongoError(31273, '$slice only supports numbers and [skip, limit] arrays');
  if (arg.length !== 2 || !isNumeric(arg[0]) || !isNumeric(arg[1]) || toInt32(arg[1]) <= 0) return undefined;
  return { skip: toInt32(arg[0]), limit: toInt32(arg[1]) };
}

function setInclusion(state: ParseState, name: string): void {
  if (state.type === 'exclusion') throw new MongoError(31253, `Cannot do inclusion on field ${name} in exclusion projection`);
  state.type = 'inclusion';
}

function addExpression(state: ParseState, parent: ProjectionTree, name: string, expr: unknown): void {
  addNode(parent, name, { kind: 'expression', expression: compileExpression(expr) });
  state.type = 'inclusion';
}

function parseSubObject(state: ParseState, name: string, obj: Document, parent: ProjectionTree, parentPath: string[]): void {
  const keys = Object.keys(obj);
  const fullPath = [...parentPath, ...name.split('.')];
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const op = keys[0];
    const arg = obj[op];
    validateFieldPath(name);
    if (op === '$slice') {
      const slice = parseFindSlice(arg);
      if (slice !== undefined) {
        addNode(parent, name, { kind: 'slice' });
        state.ops.push({ kind: 'slice', parts: fullPath, ...slice });
        state.hasSlice = true;
        return;
      }
    } else if (op === '$elemMatch') {
      if (!isPlainObject(arg)) throw new MongoError(31274, `elemMatch: Invalid argument, object required, but got ${bsonTypeName(arg)}`);
      if (state.hasPositional) throw new MongoError(31255, 'Cannot specify positional operator and $elemMatch.');
      if (fullPath.length !== 1) throw new MongoError(31275, 'Cannot use $elemMatch projection on a nested field.');
      addNode(parent, name, { kind: 'elemMatch' });
      state.ops.push({ kind: 'elemMatch', field: name, filter: compileFilter({ [name]: { $elemMatch: arg } }) });
      state.hasElemMatch = true;
      return;
    } else if (op === '$meta') {
      throw notSupported(`the {$meta: ${show(arg)}} projection`);
    } else if (!isKnownExpressionOperator(op)) {
      throw new MongoError(31325, `Unknown expression ${op}`);
    }
    if (state.type === 'exclusion') throw new MongoError(31252, 'Cannot use expression other than $meta in exclusion projection');
    addExpression(state, parent, name, obj);
    return;
  }
  validateFieldPath(name);
  if (keys.length === 0) throw new MongoError(51270, `An empty sub-projection is not a valid value. Found empty object at path ${fullPath.join('.')}`);
  addNode(parent, name, newTree());
  const target = findTree(parent, name);
  for (const key of keys) parseElement(state, key, obj[key], target, fullPath);
}

/** The tree at a dotted name (the one just added, or one dotted paths created before). */
function findTree(parent: ProjectionTree, name: string): ProjectionTree {
  let node: ProjectionNode | undefined = parent;
  for (const part of name.split('.')) node = (node as ProjectionTree).children.get(part);
  return node as ProjectionTree;
}

function parseInclusion(state: ParseState, name: string, parent: ProjectionTree, parentPath: string[]): void {
  const isTopLevelId = name === '_id' && parentPath.length === 0;
  const positional = findPositional(name);
  if (positional === undefined) {
    validateFieldPath(name);
    addNode(parent, name, { kind: 'include' });
    if (isTopLevelId) state.idIncluded = true;
  } else {
    if (state.hasPositional) throw new MongoError(31276, 'Cannot specify more than one positional projection per query.');
    if (state.hasElemMatch) throw new MongoError(31256, 'Cannot specify positional operator and $elemMatch.');
    if (name.endsWith('.$.')) throw new MongoError(31270, "Path cannot end with '.$.'");
    const remaining = name.slice(positional[1]);
    if (findPositional(remaining) !== undefined || remaining === '$') {
      throw new MongoError(31287, `Cannot use positional operator twice: ${name}`);
    }
    const prefix = name.slice(0, positional[0]);
    validateFieldPath(prefix);
    addNode(parent, prefix, { kind: 'positional' });
    state.ops.push({ kind: 'positional', parts: [...parentPath, ...prefix.split('.')] });
    state.hasPositional = true;
  }
  if (!isTopLevelId) setInclusion(state, name);
}

function parseExclusion(state: ParseState, name: string, parent: ProjectionTree, parentPath: string[]): void {
  validateFieldPath(name);
  addNode(parent, name, { kind: 'exclude' });
  if (name === '_id' && parentPath.length === 0) {
    state.idExcluded = true;
    return;
  }
  if (state.type === 'inclusion') throw new MongoError(31254, `Cannot do exclusion on field ${name} in inclusion projection`);
  state.type = 'exclusion';
}

function parseElement(state: ParseState, name: string, raw: unknown, parent: ProjectionTree, parentPath: string[]): void {
  // The driver sends undefined as null, which projects a literal null.
  const value = raw === undefined ? null : raw;
  const positional = findPositional(name) !== undefined;
  if (isPlainObject(value)) {
    if (positional) throw new MongoError(31271, 'positional projection cannot be used with an expression or sub object');
    parseSubObject(state, name, value, parent, parentPath);
  } else if (isInclusionOrExclusion(value)) {
    if (truthy(value)) parseInclusion(state, name, parent, parentPath);
    else parseExclusion(state, name, parent, parentPath);
  } else {
    if (positional) throw new MongoError(31308, 'positional projection cannot be used with a literal');
    validateFieldPath(name);
    if (state.type === 'exclusion') throw new MongoError(31310, `Cannot use an expression ${name}: ${show(value)} in an exclusion projection`);
    addExpression(state, parent, name, value);
  }
}

function markExpressions(tree: ProjectionTree): boolean {
  for (const node of tree.children.values()) {
    if (node.kind === 'expression') tree.hasExpressions = true;
    else if (node.kind === 'tree' && markExpressions(node)) tree.hasExpressions = true;
  }
  return tree.hasExpressions;
}

/** The projection type when no field decided it (projection_parser.cpp computeProjectionType). */
function defaultType(state: ParseState): 'inclusion' | 'exclusion' {
  if (state.hasSlice) return state.idIncluded ? 'inclusion' : 'exclusion';
  if (state.hasElemMatch || state.idIncluded) return 'inclusion';
  return 'exclusion';
}

/** Compiles a find projection into a function from a document to its projection (a fresh copy). */
export function compileProjection(projection: Document): Projector {
  if (!isPlainObject(projection)) throw new MongoError(2, 'projection must be an object');
  const root = newTree();
  const state: ParseState = {
    idSpecified: false, idIncluded: false, idExcluded: false, hasSlice: false, hasElemMatch: false, hasPositional: false, ops: [],
  };
  for (const name of Object.keys(projection)) {
    state.idSpecified ||= name === '_id' || name.startsWith('_id.');
    parseElement(state, name, projection[name], root, []);
  }
  const type = state.type ?? defaultType(state);
  if (type === 'inclusion' && !state.idSpecified) root.children.set('_id', { kind: 'include' });
  if (type === 'exclusion' && state.idIncluded) root.children.delete('_id');
  markExpressions(root);
  const ops = state.ops;
  return (doc, details) => {
    const input = ops.length ? applyFindOperators(doc, ops, details) : doc;
    return type === 'inclusion' ? include(input, root, input) : exclude(input, root);
  };
}
