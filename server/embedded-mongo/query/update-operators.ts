/**
 * Parsing of the field-level update operators (everything but the array
 * operators, which live in update-array-ops.ts). Each operator is validated
 * when the update is parsed, like MongoDB's UpdateLeafNode::init, so a bad
 * argument fails the whole statement before any document is touched.
 */
import { Timestamp } from 'bson';
import { ErrorCodes } from '../errors.js';
import { isPlainObject } from '../bson-values.js';
import { compareValues } from './compare.js';
import { KEEP, type LeafEnv, type LeafOp } from './update-leaf.js';
import {
  applyArithmetic, applyBitwise, isIntegral, numericDebugString, numericKind, type BitwiseOp,
} from './update-arithmetic.js';
import { formatElement, formatValue, idElement, typeNameOf, updateError } from './update-messages.js';
import { cloneValue } from './update-values.js';
import { makeAddToSet, makePop, makePull, makePullAll, makePush } from './update-array-ops.js';

type LeafFactory = (field: string, value: unknown) => LeafOp;

function makeSet(operator: string, insertOnly: boolean): LeafFactory {
  return (_field, value) => ({
    operator,
    insertOnly,
    onMissing: 'create',
    create: () => cloneValue(value),
    update: () => ({ kind: 'set', value: cloneValue(value) }),
  });
}

const makeUnset: LeafFactory = () => ({
  operator: '$unset',
  onMissing: 'ignore',
  update: () => ({ kind: 'unset' }),
});

function makeArithmetic(operator: '$inc' | '$mul'): LeafFactory {
  const op = operator === '$inc' ? 'add' : 'multiply';
  return (field, value) => {
    if (numericKind(value) === undefined) {
      const verb = operator === '$inc' ? 'increment' : 'multiply';
      throw updateError(ErrorCodes.TypeMismatch, `Cannot ${verb} with non-numeric argument: {${formatElement(field, value)}}`);
    }
    return {
      operator,
      onMissing: 'create',
      // $mul on a missing field creates a zero of the operand's type (MongoDB multiplies by int 0).
      create: () => (op === 'add' ? value : applyArithmetic('multiply', value, 0)),
      update(current: unknown, env: LeafEnv) {
        if (numericKind(current) === undefined) {
          throw updateError(ErrorCodes.TypeMismatch, `Cannot apply ${operator} to a value of non-numeric type. `
            + `{${idElement(env.doc)}} has the field '${env.fieldName}' of non-numeric type ${typeNameOf(current)}`);
        }
        const result = applyArithmetic(op, value, current);
        if (result === undefined) {
          throw updateError(ErrorCodes.BadValue, `Failed to apply ${operator} operations to current value `
            + `(${numericDebugString(current)}) for document {${idElement(env.doc)}}`);
        }
        return { kind: 'set', value: result };
      },
    };
  };
}

function makeCompare(operator: '$min' | '$max'): LeafFactory {
  return (_field, value) => ({
    operator,
    onMissing: 'create',
    create: () => cloneValue(value),
    update(current: unknown) {
      const order = compareValues(current, value);
      const keep = order === 0 || (operator === '$max' ? order > 0 : order < 0);
      return keep ? KEEP : { kind: 'set', value: cloneValue(value) };
    },
  });
}

// Timestamps MongoDB generates come from its logical clock and are unique:
// seconds from the clock, and an increment counting within that second.
let lastSecond = 0;
let increment = 0;

/** A new Timestamp for `now`, distinct from the others generated in the same second. */
export function nextTimestamp(now: Date): Timestamp {
  const second = Math.floor(now.getTime() / 1000);
  increment = second === lastSecond ? increment + 1 : 1;
  lastSecond = second;
  return new Timestamp({ t: second, i: increment });
}

const makeCurrentDate: LeafFactory = (_field, value) => {
  let asDate = true;
  if (isPlainObject(value)) {
    let found = false;
    for (const [key, type] of Object.entries(value)) {
      if (key !== '$type') throw updateError(ErrorCodes.BadValue, `Unrecognized $currentDate option: ${key}`);
      if (type === 'date' || type === 'timestamp') {
        asDate = type === 'date';
        found = true;
      }
    }
    if (!found) {
      throw updateError(ErrorCodes.BadValue,
        "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
    }
  } else if (typeof value !== 'boolean') {
    throw updateError(ErrorCodes.BadValue, `${typeNameOf(value)} is not valid type for $currentDate. `
      + "Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).");
  }
  const current = (env: LeafEnv) => (asDate ? new Date(env.now.getTime()) : nextTimestamp(env.now));
  return { operator: '$currentDate', onMissing: 'create', create: current, update: (_c, env) => ({ kind: 'set', value: current(env) }) };
};

const makeBit: LeafFactory = (_field, value) => {
  if (!isPlainObject(value)) {
    throw updateError(ErrorCodes.BadValue, `The $bit modifier is not compatible with a ${typeNameOf(value)}. `
      + 'You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}');
  }
  const ops: [BitwiseOp, unknown][] = [];
  for (const [name, operand] of Object.entries(value)) {
    if (name !== 'and' && name !== 'or' && name !== 'xor') {
      throw updateError(ErrorCodes.BadValue, "The $bit modifier only supports 'and', 'or', and 'xor', "
        + `not '${name}' which is an unknown operator: {${formatElement(name, operand)}}`);
    }
    if (!isIntegral(operand)) {
      throw updateError(ErrorCodes.BadValue, 'The $bit modifier field must be an Integer(32/64 bit); '
        + `a '${typeNameOf(operand)}' is not supported here: {${formatElement(name, operand)}}`);
    }
    ops.push([name, operand]);
  }
  if (ops.length === 0) {
    throw updateError(ErrorCodes.BadValue,
      'You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}');
  }
  const run = (start: unknown) => ops.reduce((acc, [op, operand]) => applyBitwise(op, acc, operand), start);
  return {
    operator: '$bit',
    onMissing: 'create',
    create: () => run(0),
    update(current: unknown, env: LeafEnv) {
      if (!isIntegral(current)) {
        throw updateError(ErrorCodes.BadValue, `Cannot apply $bit to a value of non-integral type.${idElement(env.doc)} `
          + `has the field ${env.fieldName} of non-integer type ${typeNameOf(current)}`);
      }
      return { kind: 'set', value: run(current) };
    },
  };
};

const FACTORIES: Record<string, LeafFactory> = {
  $set: makeSet('$set', false),
  $setOnInsert: makeSet('$setOnInsert', true),
  $unset: makeUnset,
  $inc: makeArithmetic('$inc'),
  $mul: makeArithmetic('$mul'),
  $min: makeCompare('$min'),
  $max: makeCompare('$max'),
  $currentDate: makeCurrentDate,
  $bit: makeBit,
  $push: makePush,
  $addToSet: makeAddToSet,
  $pull: makePull,
  $pullAll: makePullAll,
  $pop: makePop,
};

/** True for the modifiers MongoDB knows (`$rename` is parsed by the tree builder). */
export function isUpdateOperator(name: string): boolean {
  return name === '$rename' || Object.hasOwn(FACTORIES, name);
}

/** Parses one `{<field>: <argument>}` entry of an operator. */
export function makeLeaf(operator: string, field: string, value: unknown): LeafOp {
  return FACTORIES[operator](field, value);
}

function isDynamic(parts: string[]): boolean {
  return parts.some((p) => p === '$' || (p.length >= 3 && p.startsWith('$[') && p.endsWith(']')));
}

/** The node at a `$rename` source: it only reserves the path, so nothing else may touch it. */
export const RENAME_SOURCE: LeafOp = { operator: '$rename', onMissing: 'ignore', update: () => KEEP };

/** The node at a `$rename` destination, validated as RenameNode::init does. */
export function makeRename(from: string, to: string): LeafOp {
  const element = formatElement(from, to);
  if (to.includes('\0')) throw updateError(ErrorCodes.BadValue, "The 'to' field for $rename cannot contain an embedded null byte");
  const fromParts = from.split('.');
  const toParts = to.split('.');
  if (from === to) throw updateError(ErrorCodes.BadValue, `The source and target field for $rename must differ: ${element}`);
  const isPrefix = (a: string[], b: string[]) => a.length < b.length && a.every((p, i) => p === b[i]);
  if (isPrefix(fromParts, toParts) || isPrefix(toParts, fromParts)) {
    throw updateError(ErrorCodes.BadValue, `The source and target field for $rename must not be on the same path: ${element}`);
  }
  if (isDynamic(fromParts)) throw updateError(ErrorCodes.BadValue, `The source field for $rename may not be dynamic: ${from}`);
  if (isDynamic(toParts)) throw updateError(ErrorCodes.BadValue, `The destination field for $rename may not be dynamic: ${to}`);
  return { operator: '$rename', onMissing: 'create', renameFrom: from, update: () => KEEP };
}

/** The `{$set: 5}` shape error MongoDB gives when an operator's argument is not a document. */
export function notAFieldDocument(operator: string, value: unknown): Error {
  return updateError(ErrorCodes.FailedToParse, `Modifiers operate on fields but we found type ${typeNameOf(value)} instead. `
    + `For example: {$mod: {<field>: ...}} not {${operator}: ${formatValue(value)}}`);
}
