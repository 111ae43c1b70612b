/**
 * The array update operators: $push (with $each/$slice/$sort/$position),
 * $addToSet, $pull, $pullAll and $pop, following MongoDB's PushNode,
 * AddToSetNode, PullNode, PullAllNode and PopNode.
 */
import { ErrorCodes } from '../errors.js';
import { isPlainObject, type Document } from '../bson-values.js';
import { compareValues, valuesEqual } from './compare.js';
import { compileFilter } from './matcher.js';
import { KEEP, parseIntegerArgument, type LeafEnv, type LeafOp } from './update-leaf.js';
import { formatValue, idElement, typeNameOf, updateError } from './update-messages.js';
import { arrayIndexOf, cloneValue } from './update-values.js';
import { numericKind } from './update-arithmetic.js';

type SortSpec = { whole: 1 | -1 } | { fields: [string[], 1 | -1][] };

function sortDirection(value: unknown): number {
  if (numericKind(value) === undefined) return 0;
  return typeof value === 'number' ? value : Number((value as { toString(): string }).toString());
}

function parseSort(value: unknown): SortSpec {
  const mustBeUnit = () => updateError(ErrorCodes.BadValue, 'The $sort element value must be either 1 or -1');
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) throw updateError(ErrorCodes.BadValue, 'The $sort pattern is empty when it should be a set of fields.');
    const fields: [string[], 1 | -1][] = [];
    for (const [path, order] of entries) {
      const direction = sortDirection(order);
      if (direction !== 1 && direction !== -1) throw mustBeUnit();
      if (path === '') throw updateError(ErrorCodes.BadValue, 'The $sort field cannot be empty');
      if (path.split('.').includes('')) {
        throw updateError(ErrorCodes.BadValue, `The $sort field is a dotted field but has an empty part: ${path}`);
      }
      fields.push([path.split('.'), direction]);
    }
    return { fields };
  }
  if (numericKind(value) === undefined) {
    throw updateError(ErrorCodes.BadValue,
      'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
  }
  const direction = sortDirection(value);
  if (direction !== 1 && direction !== -1) throw mustBeUnit();
  return { whole: direction };
}

/** A sort key part: dotted lookup through objects and numeric array indexes, missing as null. */
function sortKey(element: unknown, path: string[]): unknown {
  let current: unknown = isPlainObject(element) ? element : { '': element };
  for (const part of path) {
    const index = arrayIndexOf(part);
    if (isPlainObject(current) && Object.hasOwn(current, part)) current = current[part];
    else if (Array.isArray(current) && index !== undefined && index < current.length) current = current[index];
    else return null;
  }
  return current;
}

function sortElements(values: unknown[], sort: SortSpec): void {
  if ('whole' in sort) {
    values.sort((a, b) => sort.whole * compareValues(a, b));
    return;
  }
  values.sort((a, b) => {
    for (const [path, direction] of sort.fields) {
      const order = compareValues(sortKey(a, path), sortKey(b, path));
      if (order !== 0) return direction * order;
    }
    return 0;
  });
}

/** Inserts at `position` as PushNode::insertElementsWithPosition does (negative counts from the end). */
function insertAt(array: unknown[], position: number, values: unknown[]): void {
  const size = array.length;
  let index: number;
  if (position > size) index = size;
  else if (position >= 0) index = position;
  else index = -position < size ? size + position : 0;
  array.splice(index, 0, ...values);
}

export function makePush(field: string, value: unknown): LeafOp {
  let values: unknown[] = [value];
  let slice: number | undefined;
  let sort: SortSpec | undefined;
  let position = Number.MAX_SAFE_INTEGER;
  // MongoDB treats the argument as modifiers whenever it is a document with an $each field anywhere in it.
  if (isPlainObject(value) && Object.hasOwn(value, '$each')) {
    for (const [clause, argument] of Object.entries(value)) {
      if (clause === '$each') {
        if (!Array.isArray(argument)) {
          throw updateError(ErrorCodes.BadValue, `The argument to $each in $push must be an array but it was of type: ${typeNameOf(argument)}`);
        }
        values = argument;
      } else if (clause === '$slice') {
        slice = integerClause(clause, argument, `The value for $slice must be an integer value but was given type: ${typeNameOf(argument)}`);
      } else if (clause === '$sort') {
        sort = parseSort(argument);
      } else if (clause === '$position') {
        position = integerClause(clause, argument, `The value for $position must be an integer value, not of type: ${typeNameOf(argument)}`);
      } else {
        throw updateError(ErrorCodes.BadValue, `Unrecognized clause in $push: ${clause}`);
      }
    }
  }
  const push = (array: unknown[]) => {
    if (values.length > 0) insertAt(array, position, values.map(cloneValue));
    if (sort) sortElements(array, sort);
    if (slice !== undefined && array.length > Math.abs(slice)) {
      if (slice >= 0) array.length = slice;
      else array.splice(0, array.length + slice);
    }
    return array;
  };
  return {
    operator: '$push',
    onMissing: 'create',
    create: () => push([]),
    update(current: unknown, env: LeafEnv) {
      if (!Array.isArray(current)) {
        throw updateError(ErrorCodes.BadValue, `The field '${env.path}' must be an array but is of type `
          + `${typeNameOf(current)} in document {${idElement(env.doc)}}`);
      }
      return { kind: 'set', value: push([...current]) };
    },
  };
}

function integerClause(clause: string, argument: unknown, message: string): number {
  try {
    return parseIntegerArgument(clause, argument);
  } catch {
    throw updateError(ErrorCodes.BadValue, message);
  }
}

export function makeAddToSet(_field: string, value: unknown): LeafOp {
  let candidates: unknown[] = [value];
  if (isPlainObject(value) && Object.keys(value)[0] === '$each') {
    const each = value.$each;
    if (!Array.isArray(each)) {
      throw updateError(ErrorCodes.TypeMismatch, `The argument to $each in $addToSet must be an array but it was of type ${typeNameOf(each)}`);
    }
    if (Object.keys(value).length > 1) {
      throw updateError(ErrorCodes.BadValue, `Found unexpected fields after $each in $addToSet: ${formatValue(value)}`);
    }
    candidates = [];
    for (const item of each) if (!candidates.some((c) => valuesEqual(c, item))) candidates.push(item);
  }
  return {
    operator: '$addToSet',
    onMissing: 'create',
    create: () => candidates.map(cloneValue),
    update(current: unknown, env: LeafEnv) {
      if (!Array.isArray(current)) {
        throw updateError(ErrorCodes.BadValue, `Cannot apply $addToSet to non-array field. Field named '${env.fieldName}' `
          + `has non-array type ${typeNameOf(current)}`);
      }
      const added = candidates.filter((c) => !current.some((existing) => valuesEqual(existing, c)));
      return added.length === 0 ? KEEP : { kind: 'set', value: [...current, ...added.map(cloneValue)] };
    },
  };
}

/** $pull and $pullAll: remove the elements a predicate selects. */
function culling(operator: string, matches: (element: unknown) => boolean): LeafOp {
  return {
    operator,
    onMissing: 'ignore-if-viable',
    update(current: unknown) {
      if (!Array.isArray(current)) throw updateError(ErrorCodes.BadValue, 'Cannot apply $pull to a non-array value');
      const kept = current.filter((element) => !matches(element));
      return kept.length === current.length ? KEEP : { kind: 'set', value: kept };
    },
  };
}

// Operators that may start a field's condition ({$gte: 6}); any other first key
// makes the $pull condition a query on document elements ({score: 8}).
const FIELD_OPERATORS = new Set([
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$type', '$mod', '$regex', '$options',
  '$size', '$all', '$elemMatch', '$not', '$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear',
  '$geoWithin', '$geoIntersects', '$near', '$nearSphere', '$within', '$maxDistance', '$minDistance',
]);

function isRegex(value: unknown): boolean {
  return value instanceof RegExp || (typeof value === 'object' && value !== null
    && (value as { _bsontype?: string })._bsontype === 'BSONRegExp');
}

export function makePull(_field: string, value: unknown): LeafOp {
  if (isPlainObject(value) && !FIELD_OPERATORS.has(Object.keys(value)[0])) {
    const filter = compileFilter(value as Document);
    return culling('$pull', (element) => isPlainObject(element) && filter.matches(element));
  }
  if (isPlainObject(value) || isRegex(value)) {
    // A condition on the element itself: wrap both sides one level down so the matcher can apply it.
    const filter = compileFilter({ v: value });
    return culling('$pull', (element) => filter.matches({ v: element }));
  }
  return culling('$pull', (element) => valuesEqual(element, value));
}

export function makePullAll(_field: string, value: unknown): LeafOp {
  if (!Array.isArray(value)) {
    throw updateError(ErrorCodes.BadValue, `$pullAll requires an array argument but was given a ${typeNameOf(value)}`);
  }
  return culling('$pullAll', (element) => value.some((v) => valuesEqual(element, v)));
}

export function makePop(field: string, value: unknown): LeafOp {
  const n = parseIntegerArgument(field, value);
  if (n !== 1 && n !== -1) throw updateError(ErrorCodes.FailedToParse, `$pop expects 1 or -1, found: ${n}`);
  return {
    operator: '$pop',
    onMissing: 'ignore-if-viable',
    update(current: unknown, env: LeafEnv) {
      if (!Array.isArray(current)) {
        throw updateError(ErrorCodes.TypeMismatch, `Path '${env.path}' contains an element of non-array type '${typeNameOf(current)}'`);
      }
      if (current.length === 0) return KEEP;
      return { kind: 'set', value: n === 1 ? current.slice(0, -1) : current.slice(1) };
    },
  };
}
