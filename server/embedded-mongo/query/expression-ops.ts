/**
 * Aggregation-expression operators that replace mingo's own when it
 * evaluates `$expr` and computed projections.
 *
 * mingo compares with a JavaScript-flavoured order (no exact numerics, no
 * Decimal128/Long, its own type ranks) and decides truthiness the JS way.
 * These versions use compareValues and MongoDB's coerceToBool, so every
 * comparison, condition and type test inside an expression follows BSON
 * semantics. Everything else (arithmetic, strings, dates...) stays mingo's.
 */
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import { ErrorCodes, MongoError } from '../errors.js';
import { bsonTypeName, canonicalType, CanonicalType, compareValues, isNumeric } from './compare.js';
import { isNumericZero } from './numeric.js';
import { evaluateFieldPath } from './path.js';

type Operator = (obj: unknown, expr: unknown, options: Options) => unknown;

/** The document being evaluated, unconverted, for operators that need exact types. */
let currentOriginalRoot: unknown;

/** Runs fn with `root` visible to the $type override (evaluation is synchronous). */
export function withOriginalRoot<T>(root: unknown, fn: () => T): T {
  const saved = currentOriginalRoot;
  currentOriginalRoot = root;
  try {
    return fn();
  } finally {
    currentOriginalRoot = saved;
  }
}

/** MongoDB's coerceToBool: false, null, missing and numeric zero are false. */
export function isTruthy(v: unknown): boolean {
  if (v === false || v === null || v === undefined) return false;
  return isNumeric(v) ? !isNumericZero(v) : true;
}

/**
 * Value comparison inside expressions, where (unlike sort) missing is its
 * own type below null: `{$eq: ['$absent', null]}` is false in MongoDB.
 */
export function compareExpressionValues(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    const other = a === undefined ? b : a;
    const missingFirst = canonicalType(other) === CanonicalType.MinKey ? 1 : -1;
    return a === undefined ? missingFirst : -missingFirst;
  }
  return compareValues(a, b);
}

function args(obj: unknown, expr: unknown, options: Options, name: string, count: number): unknown[] {
  const values = evalExpr(obj, expr, options);
  if (!Array.isArray(values) || values.length !== count) {
    const n = Array.isArray(values) ? values.length : 1;
    throw new MongoError(16020, `Expression ${name} takes exactly ${count} arguments. ${n} were passed in.`);
  }
  return values;
}

function comparison(name: string, test: (c: number) => boolean): Operator {
  return (obj, expr, options) => {
    const [a, b] = args(obj, expr, options, name, 2);
    return test(compareExpressionValues(a, b));
  };
}

function extreme(sign: 1 | -1): Operator {
  return (obj, expr, options) => {
    const operands = Array.isArray(expr) ? expr : [expr];
    let values: unknown[];
    if (operands.length === 1) {
      // A single operand that resolves to an array is traversed, as $max/$min do.
      const v = evalExpr(obj, operands[0], options);
      values = Array.isArray(v) ? v : [v];
    } else {
      values = operands.map((e) => evalExpr(obj, e, options));
    }
    let best: unknown = null;
    for (const v of values) {
      if (v === null || v === undefined) continue;
      if (best === null || sign * compareValues(v, best) > 0) best = v;
    }
    return best;
  };
}

function typeOperator(obj: unknown, expr: unknown, options: Options): unknown {
  const operand = Array.isArray(expr) && expr.length === 1 ? expr[0] : expr;
  // A plain field path is read from the unconverted document so that an
  // integral Double still reports 'double' and an Int64 'long'.
  if (typeof operand === 'string' && operand.startsWith('$') && !operand.startsWith('$$')) {
    return bsonTypeName(evaluateFieldPath(currentOriginalRoot, operand.slice(1).split('.')));
  }
  return bsonTypeName(evalExpr(obj, operand, options));
}

function condition(obj: unknown, expr: unknown, options: Options): unknown {
  let branches: { if?: unknown; then?: unknown; else?: unknown };
  if (Array.isArray(expr)) {
    if (expr.length !== 3) throw new MongoError(16020, `Expression $cond takes exactly 3 arguments. ${expr.length} were passed in.`);
    branches = { if: expr[0], then: expr[1], else: expr[2] };
  } else {
    branches = expr as typeof branches;
    for (const key of ['if', 'then', 'else'] as const) {
      if (!(key in branches)) throw new MongoError(17080, `Missing '${key}' parameter to $cond`);
    }
  }
  return evalExpr(obj, isTruthy(evalExpr(obj, branches.if, options)) ? branches.then : branches.else, options);
}

function switchOperator(obj: unknown, expr: unknown, options: Options): unknown {
  const spec = expr as { branches?: Array<{ case: unknown; then: unknown }>; default?: unknown };
  if (!Array.isArray(spec?.branches)) throw new MongoError(40061, '$switch requires at least one branch.');
  for (const branch of spec.branches) {
    if (isTruthy(evalExpr(obj, branch.case, options))) return evalExpr(obj, branch.then, options);
  }
  if (!('default' in spec)) {
    throw new MongoError(40066, '$switch could not find a matching branch for an input, and no default was specified.');
  }
  return evalExpr(obj, spec.default, options);
}

function logical(kind: 'and' | 'or'): Operator {
  return (obj, expr, options) => {
    for (const e of Array.isArray(expr) ? expr : [expr]) {
      const truthy = isTruthy(evalExpr(obj, e, options));
      if (kind === 'and' && !truthy) return false;
      if (kind === 'or' && truthy) return true;
    }
    return kind === 'and';
  };
}

function inOperator(obj: unknown, expr: unknown, options: Options): unknown {
  const [value, list] = args(obj, expr, options, '$in', 2);
  if (!Array.isArray(list)) {
    throw new MongoError(40081, `$in requires an array as a second argument, found: ${bsonTypeName(list)}`);
  }
  return list.some((e) => compareExpressionValues(value, e) === 0);
}

/** The overriding operators, keyed by name. */
export const EXPRESSION_OVERRIDES: Record<string, Operator> = {
  $eq: comparison('$eq', (c) => c === 0),
  $ne: comparison('$ne', (c) => c !== 0),
  $gt: comparison('$gt', (c) => c > 0),
  $gte: comparison('$gte', (c) => c >= 0),
  $lt: comparison('$lt', (c) => c < 0),
  $lte: comparison('$lte', (c) => c <= 0),
  $cmp: (obj, expr, options) => {
    const [a, b] = args(obj, expr, options, '$cmp', 2);
    return compareExpressionValues(a, b);
  },
  $in: inOperator,
  $max: extreme(1),
  $min: extreme(-1),
  $type: typeOperator,
  $isNumber: (obj, expr, options) => isNumeric(evalExpr(obj, Array.isArray(expr) ? expr[0] : expr, options)),
  $and: logical('and'),
  $or: logical('or'),
  $not: (obj, expr, options) => !isTruthy(evalExpr(obj, Array.isArray(expr) ? expr[0] : expr, options)),
  $cond: condition,
  $switch: switchOperator,
};

/** Validation error for a non-operator where an operator was expected. */
export function unrecognizedExpression(name: string): MongoError {
  return new MongoError(ErrorCodes.InvalidPipelineOperator, `Unrecognized expression '${name}'`);
}
