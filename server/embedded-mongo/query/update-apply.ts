/**
 * Applies a parsed update tree to a working copy of a document, walking the
 * document alongside the tree as MongoDB's UpdateObjectNode / UpdateArrayNode
 * do: "pathTaken" is the part of a path that exists, "pathToCreate" the part a
 * modifier may have to create. The working copy's containers are private to
 * this update (see cloneValue), so it is mutated in place.
 */
import { ErrorCodes } from '../errors.js';
import { isPlainObject, type Document } from '../bson-values.js';
import { compareValues } from './compare.js';
import type { LeafEnv, LeafOp } from './update-leaf.js';
import { formatElement, idElement, updateError, UpdateCodes } from './update-messages.js';
import type { ArrayFilters, ArrayNode, LeafNode, ObjectNode, UpdateNode } from './update-tree.js';
import { arrayIndexOf, compareFieldNames, sameBson } from './update-values.js';

export interface ApplyContext {
  /** The working document. */
  readonly doc: Document;
  /** The array index the query matched, for the positional `$`. */
  readonly matchedField?: string;
  readonly isInsert: boolean;
  readonly now: Date;
  /** True when the document had an `_id` before the update; it may then not change. */
  readonly idLocked: boolean;
  readonly arrayFilters: ArrayFilters;
}

type Container = Document | unknown[];
/** An element of the working document, addressed through its parent so it can be replaced. */
interface Slot { readonly holder: Container; readonly key: string | number }

const MAX_PADDING = 1500000;

function valueAt(slot: Slot): unknown {
  return (slot.holder as Record<string | number, unknown>)[slot.key];
}

/** The existing child of an element named by a path component, if any. */
function childSlot(element: unknown, part: string): Slot | undefined {
  if (isPlainObject(element)) return Object.hasOwn(element, part) ? { holder: element, key: part } : undefined;
  if (Array.isArray(element)) {
    const index = arrayIndexOf(part);
    return index !== undefined && index < element.length ? { holder: element, key: index } : undefined;
  }
  return undefined;
}

export function applyTree(root: ObjectNode, ctx: ApplyContext): void {
  applyObject(root, { holder: { '': ctx.doc }, key: '' }, [], [], ctx);
}

function applyNode(node: UpdateNode, slot: Slot, taken: string[], toCreate: string[], ctx: ApplyContext): void {
  if (node.kind === 'object') applyObject(node, slot, taken, toCreate, ctx);
  else if (node.kind === 'array') applyArray(node, slot, taken, toCreate, ctx);
  else applyLeaf(node, slot, taken, toCreate, ctx);
}

const orderCache = new WeakMap<Map<string, UpdateNode>, [string, UpdateNode][]>();

/** Children in the order MongoDB applies them (and so appends new fields). */
function ordered(children: Map<string, UpdateNode>): [string, UpdateNode][] {
  let entries = orderCache.get(children);
  if (!entries) {
    entries = [...children].sort((a, b) => compareFieldNames(a[0], b[0]));
    orderCache.set(children, entries);
  }
  return entries;
}

function applyObject(node: ObjectNode, slot: Slot, taken: string[], toCreate: string[], ctx: ApplyContext): void {
  const matched = ctx.matchedField;
  if (node.positional && matched === undefined) {
    throw updateError(ErrorCodes.BadValue, 'The positional operator did not find the match needed from the query.');
  }
  let positional = node.positional;
  const applyChild = (child: UpdateNode, field: string) => {
    // Re-resolve each time: an earlier sibling may have created part of 'toCreate'.
    let s = slot;
    let t = taken;
    let c = toCreate;
    while (c.length > 0) {
      const next = childSlot(valueAt(s), c[0]);
      if (!next) break;
      s = next;
      t = [...t, c[0]];
      c = c.slice(1);
    }
    const existing = c.length === 0 ? childSlot(valueAt(s), field) : undefined;
    if (existing) applyNode(child, existing, [...t, field], [], ctx);
    else applyNode(child, s, t, [...c, field], ctx);
  };
  for (const [name, child] of ordered(node.children)) {
    if (positional && name === matched) {
      applyChild(merge(positional, child, [...taken, ...toCreate, matched]), name);
      positional = undefined;
      continue;
    }
    if (positional && compareFieldNames(matched!, name) < 0) {
      applyChild(positional, matched!);
      positional = undefined;
    }
    applyChild(child, name);
  }
  if (positional) applyChild(positional, matched!);
}

function applyArray(node: ArrayNode, slot: Slot, taken: string[], toCreate: string[], ctx: ApplyContext): void {
  if (toCreate.length > 0) {
    throw updateError(ErrorCodes.BadValue,
      `The path '${[...taken, ...toCreate].join('.')}' must exist in the document in order to apply array updates.`);
  }
  const array = valueAt(slot);
  if (!Array.isArray(array)) {
    throw updateError(ErrorCodes.BadValue, `Cannot apply array updates to non-array element ${formatElement(String(slot.key), array)}`);
  }
  // Decide which updates apply to which element before changing any of them.
  const children = ordered(node.children);
  const plan = array.map((element) => children
    .filter(([id]) => id === '' || ctx.arrayFilters.get(id)!(element))
    .map(([, child]) => child));
  plan.forEach((updates, index) => {
    if (updates.length === 0) return;
    const path = [...taken, String(index)];
    const merged = updates.reduce((left, right) => merge(left, right, path));
    applyNode(merged, { holder: array, key: index }, path, [], ctx);
  });
}

/**
 * Combines two updates that reach the same element (e.g. `a.$[]` and `a.$[i]`),
 * failing where both would change the same path (UpdateNode::createUpdateNodeByMerging).
 */
function merge(left: UpdateNode, right: UpdateNode, path: string[]): UpdateNode {
  if (left.kind === 'object' && right.kind === 'object') {
    const positional = left.positional && right.positional
      ? merge(left.positional, right.positional, [...path, '$'])
      : left.positional ?? right.positional;
    return { kind: 'object', children: mergeChildren(left.children, right.children, path, (k) => k), positional };
  }
  if (left.kind === 'array' && right.kind === 'array') {
    return { kind: 'array', children: mergeChildren(left.children, right.children, path, (k) => `$[${k}]`) };
  }
  throw updateError(ErrorCodes.ConflictingUpdateOperators, `Update created a conflict at '${path.join('.')}'`);
}

function mergeChildren(
  left: Map<string, UpdateNode>, right: Map<string, UpdateNode>, path: string[], label: (key: string) => string,
): Map<string, UpdateNode> {
  const out = new Map(left);
  for (const [key, node] of right) {
    const existing = out.get(key);
    out.set(key, existing ? merge(existing, node, [...path, label(key)]) : node);
  }
  return out;
}

function immutable(message: string): Error {
  return updateError(ErrorCodes.ImmutableField, message);
}

function checkTopLevelDollar(field: string): void {
  if (field.startsWith('$')) {
    throw updateError(ErrorCodes.DollarPrefixedFieldName, `The dollar ($) prefixed field '${field}' in '${field}' is not allowed `
      + "in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.");
  }
}

function applyLeaf(node: LeafNode, slot: Slot, taken: string[], toCreate: string[], ctx: ApplyContext): void {
  const op = node.op;
  if (op.insertOnly && !ctx.isInsert) return;
  if (op.renameFrom !== undefined) {
    applyRename(op, slot, taken, toCreate, ctx);
    return;
  }
  const fullPath = [...taken, ...toCreate];
  const env: LeafEnv = { fieldName: fullPath[fullPath.length - 1], path: fullPath.join('.'), doc: ctx.doc, now: ctx.now };
  if (toCreate.length === 0) {
    const current = valueAt(slot);
    const outcome = op.update(current, env);
    if (outcome.kind === 'keep') return;
    // Only these checks need to tell a real change from rewriting the same value; the
    // document-level comparison decides 'modified' for everything else.
    const guarded = (ctx.idLocked && taken[0] === '_id') || (taken.length === 1 && taken[0].startsWith('$'));
    if (guarded) {
      if (outcome.kind === 'set' && sameBson(current, outcome.value)) return;
      if (taken[0] === '_id') {
        throw immutable(`Performing an update on the path '${env.path}' would modify the immutable field '_id'`);
      }
      checkTopLevelDollar(taken[0]);
    }
    writeOutcome(slot, outcome.kind === 'set' ? outcome.value : undefined);
  } else if (op.onMissing === 'create') {
    createPath(slot, toCreate, op.create!(env), taken, ctx);
  } else if (op.onMissing === 'ignore-if-viable') {
    checkViability(slot, toCreate, taken);
  }
}

/** Sets the slot, or (for undefined) removes it; an array element is nulled, never removed. */
function writeOutcome(slot: Slot, value: unknown): void {
  if (value !== undefined) (slot.holder as Record<string | number, unknown>)[slot.key] = value;
  else if (Array.isArray(slot.holder)) slot.holder[slot.key as number] = null;
  else delete slot.holder[slot.key as string];
}

/** pathsupport::createPathAt: builds the missing components under the deepest existing element. */
function createPath(slot: Slot, toCreate: string[], value: unknown, taken: string[], ctx: ApplyContext): void {
  const element = valueAt(slot);
  const nest = (parts: string[]): unknown => (parts.length === 0 ? value : { [parts[0]]: nest(parts.slice(1)) });
  const notViable = () => updateError(ErrorCodes.PathNotViable,
    `Cannot create field '${toCreate[0]}' in element {${formatElement(String(slot.key), element)}}`);
  if (Array.isArray(element)) {
    const index = arrayIndexOf(toCreate[0]);
    if (index === undefined) throw notViable();
    if (index - element.length > MAX_PADDING) {
      throw updateError(UpdateCodes.CannotBackfillArray, `can't backfill more than ${MAX_PADDING} elements`);
    }
    while (element.length < index) element.push(null);
    element[index] = nest(toCreate.slice(1));
  } else if (isPlainObject(element)) {
    if (taken.length === 0) checkTopLevelDollar(toCreate[0]);
    element[toCreate[0]] = nest(toCreate.slice(1));
  } else {
    throw notViable();
  }
  // Adding a field inside an existing _id changes _id; creating _id where there was none does not.
  if (ctx.idLocked && taken[0] === '_id') {
    throw immutable(`Updating the path '${taken.join('.')}' to ${formatElement(String(slot.key), element)} `
      + "would modify the immutable field '_id'");
  }
}

/** UpdateLeafNode::checkViability: a missing path is fine only if it could have been created. */
function checkViability(slot: Slot, toCreate: string[], taken: string[]): void {
  const element = valueAt(slot);
  if (isPlainObject(element)) return;
  if (Array.isArray(element) && arrayIndexOf(toCreate[0]) !== undefined) return;
  throw updateError(ErrorCodes.PathNotViable, `Cannot use the part (${toCreate[0]}) of (${[...taken, ...toCreate].join('.')}) `
    + `to traverse the element ({${formatElement(String(slot.key), element)}})`);
}

/** RenameNode::apply: moves the source element to this leaf's path. */
function applyRename(op: LeafOp, slot: Slot, taken: string[], toCreate: string[], ctx: ApplyContext): void {
  const from = op.renameFrom!;
  const to = [...taken, ...toCreate].join('.');
  let source: Slot = { holder: { '': ctx.doc }, key: '' };
  const sourceArrays: string[] = [];
  for (const part of from.split('.')) {
    const element = valueAt(source);
    const next = childSlot(element, part);
    if (!next) {
      if (isPlainObject(element) || (Array.isArray(element) && arrayIndexOf(part) !== undefined)) return; // no source: no-op
      throw updateError(ErrorCodes.PathNotViable,
        `cannot use the part (${part} of ${from}) to traverse the element ({${formatElement(String(source.key), element)}})`);
    }
    if (Array.isArray(element)) sourceArrays.push(String(source.key));
    source = next;
  }
  if (sourceArrays.length > 0) {
    throw updateError(ErrorCodes.BadValue, `The source field cannot be an array element, '${from}' in doc with `
      + `${idElement(ctx.doc)} has an array field called '${sourceArrays[sourceArrays.length - 1]}'`);
  }
  // The destination may overwrite an array, but may not be inside one.
  let walk: unknown = ctx.doc;
  let destinationArray: string | undefined;
  const containers = toCreate.length === 0 ? taken.slice(0, -1) : taken;
  for (const part of containers) {
    walk = (walk as Record<string, unknown>)[part];
    if (Array.isArray(walk)) destinationArray = part;
  }
  if (destinationArray !== undefined) {
    throw updateError(ErrorCodes.BadValue, `The destination field cannot be an array element, '${to}' in doc with `
      + `${idElement(ctx.doc)} has an array field called '${destinationArray}'`);
  }
  const value = valueAt(source);
  if (toCreate.length > 0) {
    createPath(slot, toCreate, value, taken, ctx);
  } else if (compareValues(valueAt(slot), value) !== 0) {
    if (ctx.idLocked && taken[0] === '_id') {
      throw immutable(`Performing an update on the path '${to}' would modify the immutable field '_id'`);
    }
    writeOutcome(slot, value);
  }
  if (ctx.idLocked && from.split('.')[0] === '_id') {
    throw immutable(`Unsetting the path '${from}' using $rename would modify the immutable field '_id'`);
  }
  delete (source.holder as Document)[source.key as string];
}
