/**
 * Parses an operator-style update into MongoDB's update tree: one node per
 * path component, object nodes for field names (plus one slot for the
 * positional `$`), array nodes for `$[]` / `$[<id>]`, operators at the
 * leaves. Building the tree is what detects conflicting paths ("a" and
 * "a.b" in one update) exactly where MongoDB does, with its messages.
 */
import { ErrorCodes } from '../errors.js';
import { isPlainObject, type Document } from '../bson-values.js';
import { compileFilter } from './matcher.js';
import type { LeafOp } from './update-leaf.js';
import { formatValue, typeNameOf, updateError, UpdateCodes } from './update-messages.js';
import { isUpdateOperator, makeLeaf, makeRename, notAFieldDocument, RENAME_SOURCE } from './update-operators.js';

export interface ObjectNode { readonly kind: 'object'; readonly children: Map<string, UpdateNode>; positional?: UpdateNode }
/** Children keyed by array filter identifier; '' is `$[]` (every element). */
export interface ArrayNode { readonly kind: 'array'; readonly children: Map<string, UpdateNode> }
export interface LeafNode { readonly kind: 'leaf'; readonly op: LeafOp }
export type UpdateNode = ObjectNode | ArrayNode | LeafNode;

/** Array filter predicates by identifier, applied to one array element. */
export type ArrayFilters = ReadonlyMap<string, (element: unknown) => boolean>;

export interface OperatorTree {
  readonly root: ObjectNode;
  /** True when some path uses the positional `$`, so the query's match position is needed. */
  readonly positional: boolean;
  readonly arrayFilters: ArrayFilters;
}

export function unknownModifier(name: string): Error {
  return updateError(ErrorCodes.FailedToParse,
    `Unknown modifier: ${name}. Expected a valid update modifier or pipeline-style update specified as an array`);
}

const IDENTIFIER = /^[a-z][a-zA-Z0-9]*$/;

/** The identifiers a filter's top-level paths start with (through $and/$or/$nor). */
function placeholders(filter: Document, found: Set<string>): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (Array.isArray(value)) for (const clause of value) if (isPlainObject(clause)) placeholders(clause, found);
    } else if (!key.startsWith('$')) {
      found.add(key.split('.')[0]);
    }
  }
}

/** Validates `arrayFilters` as ParsedUpdate::parseArrayFilters does and compiles each. */
export function parseArrayFilters(filters: unknown, variables?: Document): ArrayFilters {
  const parsed = new Map<string, (element: unknown) => boolean>();
  if (filters === undefined) return parsed;
  if (!Array.isArray(filters)) {
    throw updateError(ErrorCodes.TypeMismatch, `arrayFilters must be an array, not ${typeNameOf(filters)}`);
  }
  for (const filter of filters) {
    if (!isPlainObject(filter)) {
      throw updateError(ErrorCodes.TypeMismatch, `Each array filter must be an object, not ${typeNameOf(filter)}`);
    }
    const ids = new Set<string>();
    placeholders(filter, ids);
    const [id, other] = [...ids];
    if (other !== undefined) {
      throw updateError(ErrorCodes.FailedToParse,
        `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${id}' and '${other}'`);
    }
    if (id === undefined) {
      throw updateError(ErrorCodes.FailedToParse, 'Cannot use an expression without a top-level field name in arrayFilters');
    }
    if (!IDENTIFIER.test(id)) {
      throw updateError(ErrorCodes.BadValue, 'Error parsing array filter :: caused by :: The top-level field name must be '
        + `an alphanumeric string beginning with a lowercase letter, found '${id}'`);
    }
    if (parsed.has(id)) {
      throw updateError(ErrorCodes.FailedToParse, `Found multiple array filters with the same top-level field name ${id}`);
    }
    const compiled = compileFilter(filter, { variables });
    // An element matches when the filter matches it under the identifier's name, as MongoDB's placeholder does.
    parsed.set(id, (element) => compiled.matches({ [id]: element }));
  }
  return parsed;
}

export function isArrayFilterPart(part: string): boolean {
  return part.length >= 3 && part.startsWith('$[') && part.endsWith(']');
}

class TreeBuilder {
  readonly root: ObjectNode = { kind: 'object', children: new Map() };
  positional = false;
  readonly usedIdentifiers = new Set<string>();

  constructor(private readonly arrayFilters: ArrayFilters) {}

  /** UpdateObjectNode::parseAndMerge for one `{path: argument}` entry of an operator. */
  add(operator: string, field: string, argument: unknown): void {
    let path = field;
    let leafFor: () => LeafOp = () => makeLeaf(operator, field, argument);
    if (operator === '$rename') {
      // The source gets a placeholder node so any other update of it (or of a prefix) conflicts.
      this.add('$renameSource', field, argument);
      if (typeof argument !== 'string') {
        throw updateError(ErrorCodes.BadValue, `The 'to' field for $rename must be a string: ${field}: ${formatValue(argument)}`);
      }
      path = argument;
      leafFor = () => makeRename(field, argument);
    } else if (operator === '$renameSource') {
      leafFor = () => RENAME_SOURCE;
    }

    const parts = this.checkPath(path);
    const leaf: LeafNode = { kind: 'leaf', op: leafFor() };
    let current: ObjectNode | ArrayNode = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = this.childName(parts, i, path);
      const shouldBeArray = isArrayFilterPart(parts[i + 1]);
      let child = getChild(current, name);
      if (child === undefined) {
        child = shouldBeArray ? { kind: 'array', children: new Map() } : { kind: 'object', children: new Map() };
        setChild(current, name, child);
      } else if (child.kind !== (shouldBeArray ? 'array' : 'object')) {
        throw conflict(path, parts.slice(0, i + 1).join('.'));
      }
      current = child as ObjectNode | ArrayNode;
    }
    const name = this.childName(parts, parts.length - 1, path);
    if (getChild(current, name) !== undefined) throw conflict(path, path);
    setChild(current, name, leaf);
  }

  private checkPath(path: string): string[] {
    if (path === '') throw updateError(UpdateCodes.EmptyFieldName, 'An empty update path is not valid.');
    const parts = path.split('.');
    if (parts.includes('')) {
      throw updateError(UpdateCodes.EmptyFieldName, `The update path '${path}' contains an empty field name, which is not allowed.`);
    }
    const positions = parts.flatMap((p, i) => (p === '$' ? [i] : []));
    if (positions.length > 1) {
      throw updateError(ErrorCodes.BadValue, `Too many positional (i.e. '$') elements found in path '${path}'`);
    }
    if (positions[0] === 0) {
      throw updateError(ErrorCodes.BadValue, `Cannot have positional (i.e. '$') element in the first position in path '${path}'`);
    }
    if (positions.length === 1) this.positional = true;
    return parts;
  }

  private childName(parts: string[], i: number, path: string): string {
    const part = parts[i];
    if (!isArrayFilterPart(part)) return part;
    if (i === 0) {
      throw updateError(ErrorCodes.BadValue,
        `Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '${path}'`);
    }
    const id = part.slice(2, -1);
    if (id !== '') {
      if (!this.arrayFilters.has(id)) {
        throw updateError(ErrorCodes.BadValue, `No array filter found for identifier '${id}' in path '${path}'`);
      }
      this.usedIdentifiers.add(id);
    }
    return id;
  }
}

function conflict(path: string, at: string): Error {
  return updateError(ErrorCodes.ConflictingUpdateOperators, `Updating the path '${path}' would create a conflict at '${at}'`);
}

function getChild(node: ObjectNode | ArrayNode, name: string): UpdateNode | undefined {
  if (node.kind === 'object' && name === '$') return node.positional;
  return node.children.get(name);
}

function setChild(node: ObjectNode | ArrayNode, name: string, child: UpdateNode): void {
  if (node.kind === 'object' && name === '$') node.positional = child;
  else node.children.set(name, child);
}

/** Parses `{$op: {path: arg, ...}, ...}` (the caller has checked the first key is an operator). */
export function parseOperatorUpdate(update: Document, arrayFilters: ArrayFilters): OperatorTree {
  const builder = new TreeBuilder(arrayFilters);
  for (const [operator, fields] of Object.entries(update)) {
    if (!isUpdateOperator(operator)) throw unknownModifier(operator);
    if (!isPlainObject(fields)) throw notAFieldDocument(operator, fields);
    for (const [field, argument] of Object.entries(fields)) builder.add(operator, field, argument);
  }
  for (const id of arrayFilters.keys()) {
    if (!builder.usedIdentifiers.has(id)) {
      throw updateError(ErrorCodes.FailedToParse,
        `The array filter for identifier '${id}' was not used in the update ${formatValue(update)}`);
    }
  }
  return { root: builder.root, positional: builder.positional, arrayFilters };
}
