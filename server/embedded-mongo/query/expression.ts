/**
 * Aggregation expressions (`$expr`, computed projection fields) evaluated
 * with mingo's expression engine.
 *
 * Field paths, `$literal`, variables and array/object literals are
 * evaluated here directly, so they return values with their exact BSON
 * types. Operator expressions go to mingo, which only understands plain JS
 * numbers: the document is shown to it with Int32/Double/Int64 (within
 * ±2^53) as numbers. Comparisons, `$in`, `$max`/`$min`, `$type`, `$isNumber`
 * and the logical/conditional operators are replaced by BSON-exact versions
 * (expression-ops.ts). Decimal128 and larger Int64 values cannot be shown
 * to mingo's arithmetic without losing precision, so an expression that
 * uses any other operator refuses (notSupported) to run on a document whose
 * referenced fields hold such values.
 *
 * Known deviation: numbers computed by mingo come back as JS numbers, so a
 * computed result follows the in-memory rule (integral in int32 range is an
 * Int32) rather than MongoDB's type promotion (e.g. a Double sum of 1.5 and
 * 1.5 is returned as Int32 3).
 */
import { Context, evalExpr } from 'mingo/core';
import * as mingoAccumulators from 'mingo/operators/accumulator';
import * as mingoExpressions from 'mingo/operators/expression';
import type { Options } from 'mingo/types';
import { isPlainObject, type Document } from '../bson-values.js';
import { ErrorCodes, MongoError, notSupported } from '../errors.js';
import { exactDouble } from './numeric.js';
import { EXPRESSION_OVERRIDES, unrecognizedExpression, withOriginalRoot } from './expression-ops.js';
import { evaluateFieldPath } from './path.js';

export { isTruthy } from './expression-ops.js';

export interface CompiledExpression {
  /** Evaluates against a document; undefined means missing. Results may share structure with the input. */
  evaluate(doc: Document): unknown;
}

function operatorsOf(module: Record<string, unknown>): Record<string, never> {
  return Object.fromEntries(Object.entries(module).filter(([name]) => name.startsWith('$'))) as Record<string, never>;
}

const CONTEXT = Context.init({
  expression: { ...operatorsOf(mingoExpressions), ...(EXPRESSION_OVERRIDES as Record<string, never>) },
  accumulator: operatorsOf(mingoAccumulators),
});

const KNOWN = new Set([
  ...Object.keys(operatorsOf(mingoExpressions)),
  ...Object.keys(operatorsOf(mingoAccumulators)),
  ...Object.keys(EXPRESSION_OVERRIDES),
]);

/** MongoDB operators that mingo lacks or would answer with the wrong BSON type. */
const UNSUPPORTED = new Set([
  '$function', '$accumulator', '$where', '$meta', '$toLong', '$toDecimal', '$toObjectId', '$toUUID',
  '$binarySize', '$bsonSize', '$tsIncrement', '$tsSecond', '$createObjectId',
]);

/** Operators whose mingo (or overriding) implementation is exact for any BSON value. */
const EXACT_OPERATORS = new Set([
  ...Object.keys(EXPRESSION_OVERRIDES), '$literal', '$ifNull', '$arrayElemAt', '$first', '$last', '$size',
  '$isArray', '$concatArrays', '$reverseArray', '$getField', '$mergeObjects', '$objectToArray',
  '$arrayToObject', '$let',
]);

/** True when `name` is an expression operator this store can evaluate. */
export function isKnownExpressionOperator(name: string): boolean {
  return KNOWN.has(name) || UNSUPPORTED.has(name);
}

interface Analysis {
  paths: string[][];
  usesRoot: boolean;
  usesVariables: boolean;
  exact: boolean;
}

/** Validates operator names and records what an expression reads. */
function analyse(expr: unknown, info: Analysis): void {
  if (typeof expr === 'string') {
    if (!expr.startsWith('$')) return;
    if (!expr.startsWith('$$')) info.paths.push(expr.slice(1).split('.'));
    else if (/^\$\$(ROOT|CURRENT)(\.|$)/.test(expr)) info.usesRoot = true;
    else info.usesVariables = true;
    return;
  }
  if (Array.isArray(expr)) {
    for (const e of expr) analyse(e, info);
    return;
  }
  if (!isPlainObject(expr)) return;
  const keys = Object.keys(expr);
  if (keys.length > 0 && keys[0].startsWith('$')) {
    const op = keys[0];
    if (keys.length > 1) {
      throw new MongoError(15983, `an expression specification must contain exactly one field, the name of the expression. Found ${keys.length} fields in ${JSON.stringify(expr)}`);
    }
    if (UNSUPPORTED.has(op)) throw notSupported(`the expression operator ${op}`);
    if (!KNOWN.has(op)) throw unrecognizedExpression(op);
    if (op === '$convert' && isPlainObject(expr.$convert) && [18, 19, 'long', 'decimal'].includes(expr.$convert.to as never)) {
      throw notSupported(`$convert to ${String(expr.$convert.to)}`);
    }
    if (op === '$literal') return;
    if (!EXACT_OPERATORS.has(op)) info.exact = false;
    analyse(expr[op], info);
    return;
  }
  for (const k of keys) analyse(expr[k], info);
}

/** True when a value holds a number mingo would see inexactly (Decimal128, |Int64| > 2^53). */
function holdsInexactNumber(v: unknown): boolean {
  if (v === null || (typeof v !== 'object' && typeof v !== 'bigint')) return false;
  if (typeof v === 'bigint') return exactDouble(v) === undefined;
  if (Array.isArray(v)) return v.some(holdsInexactNumber);
  const bt = (v as { _bsontype?: string })._bsontype;
  if (bt === 'Decimal128') return true;
  if (bt === 'Long') return exactDouble(v) === undefined;
  return isPlainObject(v) && Object.values(v).some(holdsInexactNumber);
}

/** The document as mingo sees it; shares every subtree that needs no conversion. */
function toMingoValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') {
    if (typeof v !== 'bigint') return v;
    const d = exactDouble(v);
    return d === undefined ? v : d;
  }
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c = toMingoValue(v[i]);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  const bt = (v as { _bsontype?: string })._bsontype;
  if (bt === 'Double' || bt === 'Int32' || bt === 'Long') return exactDouble(v) ?? v;
  if (!isPlainObject(v)) return v;
  let out: Document | undefined;
  for (const k of Object.keys(v)) {
    const c = toMingoValue(v[k]);
    if (c !== v[k]) (out ??= { ...v })[k] = c;
  }
  return out ?? v;
}

function mingoEvaluator(expr: unknown, variables: Document | undefined): (doc: Document) => unknown {
  const info: Analysis = { paths: [], usesRoot: false, usesVariables: false, exact: true };
  analyse(expr, info);
  const options = { context: CONTEXT, scriptEnabled: false, variables: variables && (toMingoValue(variables) as Document) } as unknown as Options;
  const inexactVariables = variables !== undefined && info.usesVariables && holdsInexactNumber(variables);
  return (doc) => {
    if (!info.exact) {
      const inexact = inexactVariables || (info.usesRoot ? holdsInexactNumber(doc)
        : info.paths.some((p) => holdsInexactNumber(evaluateFieldPath(doc, p))));
      if (inexact) throw notSupported('arithmetic and string expressions over Decimal128 or Int64 values beyond ±2^53');
    }
    try {
      return withOriginalRoot(doc, () => evalExpr(toMingoValue(doc), expr, options));
    } catch (err) {
      if (err instanceof MongoError) throw err;
      throw new MongoError(ErrorCodes.BadValue, `Failed to evaluate expression: ${(err as Error).message}`);
    }
  };
}

function compileNode(expr: unknown, variables: Document | undefined, now: Date): (doc: Document) => unknown {
  if (typeof expr === 'string' && expr.startsWith('$')) {
    if (expr === '$') throw new MongoError(16872, "'$' by itself is not a valid FieldPath");
    if (!expr.startsWith('$$')) {
      const parts = expr.slice(1).split('.');
      return (doc) => evaluateFieldPath(doc, parts);
    }
    const [name, ...rest] = expr.slice(2).split('.');
    if (name === 'ROOT' || name === 'CURRENT') return (doc) => evaluateFieldPath(doc, rest);
    if (name === 'REMOVE') return () => undefined;
    if (name === 'NOW') return () => evaluateFieldPath(now, rest);
    if (variables !== undefined && Object.hasOwn(variables, name)) {
      const value = variables[name];
      return () => evaluateFieldPath(value, rest);
    }
    // User variables must start with a lowercase letter; the rest are system variables.
    if (/^[A-Z]/.test(name)) throw notSupported(`the system variable $$${name}`);
    throw new MongoError(17276, `Use of undefined variable: ${name}`);
  }
  if (Array.isArray(expr)) {
    const items = expr.map((e) => compileNode(e, variables, now));
    // Missing values inside an array literal become null, as in MongoDB.
    return (doc) => items.map((f) => f(doc) ?? null);
  }
  if (isPlainObject(expr)) {
    const keys = Object.keys(expr);
    if (keys.length > 0 && keys[0].startsWith('$')) {
      if (keys[0] === '$literal' && keys.length === 1) {
        const value = expr.$literal;
        return () => value;
      }
      return mingoEvaluator(expr, variables);
    }
    const fields = keys.map((k) => [k, compileNode(expr[k], variables, now)] as const);
    return (doc) => {
      const out: Document = {};
      for (const [k, f] of fields) {
        const v = f(doc);
        if (v !== undefined) out[k] = v;
      }
      return out;
    };
  }
  return () => expr;
}

/** Compiles an aggregation expression once for repeated evaluation. */
export function compileExpression(expr: unknown, options: { variables?: Document } = {}): CompiledExpression {
  const evaluate = compileNode(expr, options.variables, new Date());
  return { evaluate };
}
