/**
 * Pipeline-style updates (`u` is an array of aggregation stages), evaluated
 * with mingo.
 *
 * mingo computes on plain JS values and does not know `bson`'s classes: it
 * compares a `Double` wrapper or a `Decimal128` as an opaque object, so
 * `{$gt: ['$price', 10]}` would silently be false. So the document is handed
 * over with Double/Int32 wrappers and exactly-representable Int64 values as
 * plain numbers, values that pass through unchanged get their original BSON
 * type back afterwards, and expressions that would compute with a Decimal128
 * or a larger Int64 are refused rather than answered wrongly.
 */
import { Aggregator } from 'mingo';
import { Long } from 'bson';
import { ErrorCodes, MongoError, notSupported } from '../errors.js';
import { cloneDocument, isPlainObject, type Document } from '../bson-values.js';
import { typeNameOf, updateError, UpdateCodes } from './update-messages.js';

const ALLOWED = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);
const KNOWN = new Set([...ALLOWED,
  '$bucket', '$bucketAuto', '$changeStream', '$changeStreamSplitLargeEvent', '$collStats', '$count', '$currentOp',
  '$densify', '$documents', '$facet', '$fill', '$geoNear', '$graphLookup', '$group', '$indexStats', '$limit',
  '$listLocalSessions', '$listSampledQueries', '$listSearchIndexes', '$listSessions', '$lookup', '$match', '$merge',
  '$out', '$planCacheStats', '$redact', '$sample', '$search', '$searchMeta', '$setWindowFields', '$skip', '$sort',
  '$sortByCount', '$unionWith', '$unwind', '$vectorSearch']);

/** Checks the stages as PipelineExecutor does: known stage names, and only those allowed in updates. */
export function validateUpdatePipeline(pipeline: unknown[]): void {
  for (const stage of pipeline) {
    if (!isPlainObject(stage)) {
      throw updateError(ErrorCodes.TypeMismatch, `Each element of the 'pipeline' array must be an object, not ${typeNameOf(stage)}`);
    }
    const names = Object.keys(stage);
    if (names.length !== 1) {
      throw updateError(UpdateCodes.StageNotSingleField, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = names[0];
    if (!KNOWN.has(name)) throw updateError(UpdateCodes.UnrecognizedStage, `Unrecognized pipeline stage name: '${name}'`);
    if (!ALLOWED.has(name)) throw updateError(ErrorCodes.InvalidOptions, `${name} is not allowed to be used within an update`);
  }
}

function bsonType(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? (value as { _bsontype?: string })._bsontype : undefined;
}

function isSafeLong(value: unknown): boolean {
  return bsonType(value) === 'Long' && Number.isSafeInteger(Number((value as Long).toBigInt()));
}

/** Values mingo cannot compute with correctly. */
function isOpaqueNumber(value: unknown): boolean {
  return bsonType(value) === 'Decimal128' || (bsonType(value) === 'Long' && !isSafeLong(value));
}

function containsOpaque(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsOpaque);
  if (isPlainObject(value)) return Object.values(value).some(containsOpaque);
  return isOpaqueNumber(value);
}

/** A copy with numeric wrappers that mingo can handle turned into plain numbers. */
function forMingo(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(forMingo);
  if (isPlainObject(value)) {
    const out: Document = {};
    for (const key of Object.keys(value)) out[key] = forMingo(value[key]);
    return out;
  }
  const type = bsonType(value);
  if (type === 'Double' || type === 'Int32') return (value as { value: number }).value;
  if (isSafeLong(value)) return Number((value as Long).toBigInt());
  return value;
}

/** Gives numbers that came through unchanged their original Double/Int64 type back. */
function restoreTypes(value: unknown, original: unknown): unknown {
  if (typeof value === 'number') {
    const type = bsonType(original);
    if (type === 'Double' && Object.is((original as { value: number }).value, value)) return original;
    if (isSafeLong(original) && Number((original as Long).toBigInt()) === value) return original;
    return value;
  }
  if (Array.isArray(value) && Array.isArray(original)) return value.map((v, i) => restoreTypes(v, original[i]));
  if (isPlainObject(value) && isPlainObject(original)) {
    for (const key of Object.keys(value)) value[key] = restoreTypes(value[key], original[key]);
  }
  return value;
}

type Copy = [target: string[], source: string[]];

/**
 * The plain field copies in the stages (`{$set: {b: '$a'}}`, `{$replaceWith: '$sub'}`):
 * a copied Double 5.0 comes back from mingo as the number 5, and must be a Double
 * again at its new path, as it would be in MongoDB.
 */
function collectCopies(name: string, spec: unknown, out: Copy[]): void {
  const visit = (expr: unknown, target: string[]) => {
    if (typeof expr === 'string' && expr.startsWith('$')) {
      const [head, ...rest] = expr.slice(expr.startsWith('$$') ? 2 : 1).split('.');
      if (!expr.startsWith('$$')) out.push([target, [head, ...rest]]);
      else if (head === 'ROOT' || head === 'CURRENT') out.push([target, rest]);
    } else if (Array.isArray(expr)) {
      expr.forEach((item, index) => visit(item, [...target, String(index)]));
    } else if (isPlainObject(expr) && !Object.keys(expr).some((k) => k.startsWith('$'))) {
      for (const [key, value] of Object.entries(expr)) visit(value, [...target, ...key.split('.')]);
    }
  };
  if (name === '$replaceWith') visit(spec, []);
  else if (name === '$replaceRoot' && isPlainObject(spec)) visit(spec.newRoot, []);
  else if (name !== '$unset' && isPlainObject(spec)) {
    for (const [field, expr] of Object.entries(spec)) visit(expr, field.split('.'));
  }
}

/** A value at a dotted path through embedded documents (and, if `indexes`, array positions). */
function objectPath(value: unknown, parts: string[], indexes = false): unknown {
  let current = value;
  for (const part of parts) {
    if (isPlainObject(current)) current = current[part];
    else if (indexes && Array.isArray(current)) current = current[Number(part)];
    else return undefined;
  }
  return current;
}

function restoreCopies(output: Document, original: Document, copies: Copy[]): Document {
  let result = output;
  for (const [target, source] of copies) {
    const from = objectPath(original, source);
    if (from === undefined) continue;
    if (target.length === 0) {
      if (isPlainObject(result)) result = restoreTypes(result, from) as Document;
      continue;
    }
    const parent = objectPath(result, target.slice(0, -1), true) as Record<string, unknown> | undefined;
    const key = target[target.length - 1];
    if ((isPlainObject(parent) || Array.isArray(parent)) && Object.hasOwn(parent, key)) parent[key] = restoreTypes(parent[key], from);
  }
  return result;
}

/** True when a field path reaches an opaque number (through arrays, as aggregation paths do). */
function reachesOpaque(value: unknown, parts: string[]): boolean {
  if (Array.isArray(value)) return value.some((v) => reachesOpaque(v, parts));
  if (parts.length === 0) return isOpaqueNumber(value);
  return isPlainObject(value) && reachesOpaque(value[parts[0]], parts.slice(1));
}

// Operators that hand (some of) their arguments on without inspecting them.
const PASSTHROUGH = new Set(['$ifNull', '$mergeObjects', '$concatArrays']);

class OpaqueGuard {
  constructor(private readonly doc: Document, private readonly variables: Document) {}

  private refuse(): never {
    throw notSupported('Pipeline-style update expressions that compute with Decimal128 or Int64 values beyond 2^53');
  }

  /** `computed`: the value feeds an operator that inspects it, rather than being copied. */
  check(expr: unknown, computed: boolean): void {
    if (typeof expr === 'string') {
      if (computed && expr.startsWith('$')) this.checkReference(expr);
    } else if (Array.isArray(expr)) {
      for (const item of expr) this.check(item, computed);
    } else if (isPlainObject(expr)) {
      const keys = Object.keys(expr);
      if (keys.length === 1 && keys[0].startsWith('$')) this.checkOperator(keys[0], expr[keys[0]], computed);
      else for (const key of keys) this.check(expr[key], computed);
    } else if (computed && isOpaqueNumber(expr)) {
      this.refuse();
    }
  }

  private checkOperator(op: string, arg: unknown, computed: boolean): void {
    if (op === '$literal') {
      if (computed && containsOpaque(arg)) this.refuse();
    } else if (PASSTHROUGH.has(op)) {
      this.check(arg, computed);
    } else if (op === '$cond') {
      const [test, then, otherwise] = Array.isArray(arg) ? arg : isPlainObject(arg) ? [arg.if, arg.then, arg.else] : [arg];
      this.check(test, true);
      this.check(then, computed);
      this.check(otherwise, computed);
    } else if (op === '$let' && isPlainObject(arg)) {
      this.check(arg.vars, true);
      this.check(arg.in, computed);
    } else {
      this.check(arg, true);
    }
  }

  private checkReference(ref: string): void {
    if (!ref.startsWith('$$')) {
      if (reachesOpaque(this.doc, ref.slice(1).split('.'))) this.refuse();
      return;
    }
    const [name, ...rest] = ref.slice(2).split('.');
    if (name === 'ROOT' || name === 'CURRENT') {
      if (rest.length > 0 && reachesOpaque(this.doc, rest)) this.refuse();
    } else if (Object.hasOwn(this.variables, name)) {
      if (reachesOpaque(this.variables[name], rest)) this.refuse();
    } else if (name !== 'NOW' && name !== 'REMOVE' && containsOpaque(this.doc)) {
      // $$this, $$value and other bound variables: their values cannot be resolved statically.
      this.refuse();
    }
  }

  checkStage(name: string, spec: unknown): void {
    if (name === '$unset') return;
    if (name === '$project' && isPlainObject(spec)) {
      for (const value of Object.values(spec)) if (typeof value !== 'number' && typeof value !== 'boolean') this.check(value, false);
      return;
    }
    this.check(name === '$replaceRoot' && isPlainObject(spec) ? spec.newRoot : spec, false);
  }
}

/** Replaces `$$NOW` by the statement's clock reading (mingo reads the system clock). */
function pinNow(expr: unknown, now: Date): unknown {
  if (expr === '$$NOW') return { $literal: now };
  if (Array.isArray(expr)) return expr.map((e) => pinNow(e, now));
  if (isPlainObject(expr)) {
    const out: Document = {};
    for (const key of Object.keys(expr)) out[key] = pinNow(expr[key], now);
    return out;
  }
  return expr;
}

/** Runs a validated update pipeline over one document and returns the new document. */
export function runUpdatePipeline(doc: Document, pipeline: Document[], variables: Document, now: Date): Document {
  const guard = new OpaqueGuard(doc, variables);
  const copies: Copy[] = [];
  for (const stage of pipeline) {
    const [name] = Object.keys(stage);
    guard.checkStage(name, stage[name]);
    collectCopies(name, stage[name], copies);
  }
  const stages = pinNow(pipeline, now) as Document[];
  let output: unknown;
  try {
    const aggregator = new Aggregator(stages, { variables: forMingo(variables) as Document });
    [output] = aggregator.run([forMingo(doc) as Document]);
  } catch (error) {
    if (error instanceof MongoError) throw error;
    throw updateError(ErrorCodes.BadValue, `Failed to apply the update pipeline: ${(error as Error).message}`);
  }
  if (!isPlainObject(output)) throw updateError(ErrorCodes.BadValue, 'The update pipeline did not produce a document');
  // The BSON round trip drops fields mingo left `undefined` (missing, in MongoDB's terms)
  // and brings any other JS value into the store's representation.
  return cloneDocument(restoreCopies(restoreTypes(output, doc) as Document, doc, copies));
}
