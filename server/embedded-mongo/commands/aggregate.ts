/**
 * `aggregate`: top-level `$match`/`$sort` stages run on the store's own
 * matcher and comparator (BSON-exact; the leading `$match` uses indexes);
 * the stages between them run on mingo, with `$lookup`/`$unionWith`/`$graphLookup` reading other
 * collections through the same (transaction-aware) view; `$out` and `$merge`
 * are performed here, since mingo only computes.
 */
import { Long } from 'bson';
import { Aggregator } from 'mingo';
import type { Document } from '../bson-values.js';
import { isPlainObject } from '../bson-values.js';
import { ErrorCodes, MongoError, notSupported } from '../errors.js';
import { compileFilter } from '../query/matcher.js';
import { exactDouble } from '../query/numeric.js';
import { compileSort } from '../query/sort.js';
import { optionalCount, optionalDocument, validateCollectionName, type CommandEnv } from './context.js';
import { writeMerge, writeOut } from './aggregate-output.js';
import { checkCollation } from './read.js';

const UNSUPPORTED_STAGES = new Set([
  '$changeStream', '$geoNear', '$search', '$searchMeta', '$vectorSearch', '$collStats', '$indexStats',
  '$currentOp', '$listSessions', '$listLocalSessions', '$planCacheStats', '$listSearchIndexes', '$changeStreamSplitLargeEvent',
]);

/** MongoDB 7.0's stage names: any other name is rejected when the pipeline is parsed, as mongod does. */
const KNOWN_STAGES = new Set([
  '$addFields', '$bucket', '$bucketAuto', '$count', '$densify', '$documents', '$facet', '$fill', '$graphLookup', '$group',
  '$limit', '$lookup', '$match', '$merge', '$out', '$project', '$redact', '$replaceRoot', '$replaceWith', '$sample',
  '$set', '$setWindowFields', '$skip', '$sort', '$sortByCount', '$unionWith', '$unset', '$unwind', '$listSampledQueries',
  '$shardedDataDistribution', ...UNSUPPORTED_STAGES,
]);

export function parsePipeline(raw: unknown): Document[] {
  if (!Array.isArray(raw)) throw new MongoError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  raw.forEach((stage, i) => {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new MongoError(40323, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0];
    if (!KNOWN_STAGES.has(name)) throw new MongoError(40324, `Unrecognized pipeline stage name: '${name}'`);
    if (UNSUPPORTED_STAGES.has(name)) throw notSupported(`aggregation stage ${name}`);
    if ((name === '$out' || name === '$merge') && i !== raw.length - 1) {
      throw new MongoError(40601, `${name} can only be the final stage in the pipeline`);
    }
  });
  return raw as Document[];
}

/** Runs the pipeline and returns the documents it produces (before any $out/$merge). */
export function runPipeline(env: CommandEnv, collName: string | null, pipeline: Document[], variables?: Document): Document[] {
  const store = env.engine.store;
  const coll = collName ? store.collection(env.db, collName) : undefined;
  let i = 0;
  let docs: Document[];
  const first = pipeline[0];
  if (first && '$match' in first && isPlainObject(first.$match)) {
    docs = env.access.find(coll, first.$match, compileFilter(first.$match, { variables }));
    i = 1;
  } else if (first && '$documents' in first) {
    docs = [];
  } else {
    docs = env.access.find(coll, {});
  }
  if (pipeline[i] && '$sort' in pipeline[i] && isPlainObject(pipeline[i].$sort)) {
    docs = [...docs].sort(compileSort(pipeline[i].$sort));
    i++;
  }
  const rest = pipeline.slice(i).filter((s) => !('$out' in s) && !('$merge' in s));
  if (rest.length === 0) return docs;
  // mingo sees Double/Int64 wrappers as opaque objects ($sum skips them, $match misses them): show it numbers,
  // and give documents it passes through untouched ($skip, $limit...) their exact original image back.
  const originals = new WeakMap<Document, Document>();
  const show = (doc: Document): Document => {
    const copy = plainNumbers(doc) as Document;
    originals.set(copy, doc);
    return copy;
  };
  const resolver = (name: string) => env.access.find(store.collection(env.db, name), {}).map(show);
  let current = docs;
  let pending: Document[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const used = fieldsComputedOn(pending);
    if (used.size && current.some((d) => hasInexactNumbers(used.has('$ROOT') ? d : [...used].map((f) => d[f])))) {
      throw notSupported('aggregation stages that compute over Decimal128 values or Int64 values beyond ±2^53 (only $match, $sort, $skip, $limit, $unwind, $lookup, $unionWith, $count and $sample handle them exactly)');
    }
    const agg = new Aggregator(expandCount(pending), { collectionResolver: resolver, variables, scriptEnabled: false });
    current = (agg.run(current.map(show)) as Document[]).map((d) => originals.get(d) ?? d);
    pending = [];
  };
  try {
    // Top-level $match and $sort stages anywhere run on the store's BSON-exact matcher and comparator
    // (mingo's order and numeric comparisons are JavaScript's); the stages between them run on mingo.
    for (const stage of rest) {
      if ('$match' in stage && isPlainObject(stage.$match)) {
        flush();
        const matcher = compileFilter(stage.$match, { variables });
        current = current.filter((d) => matcher.matches(d));
      } else if ('$sort' in stage && isPlainObject(stage.$sort)) {
        flush();
        current = [...current].sort(compileSort(stage.$sort));
      } else {
        pending.push(stage);
      }
    }
    flush();
    return current;
  } catch (err) {
    if (err instanceof MongoError) throw err;
    throw mingoError(err as Error);
  }
}

/** Stages whose expressions or accumulators mingo evaluates with JavaScript numbers. */
const COMPUTING_STAGES = new Set([
  '$group', '$project', '$addFields', '$set', '$replaceRoot', '$replaceWith', '$bucket', '$bucketAuto',
  '$sortByCount', '$setWindowFields', '$redact', '$facet', '$densify', '$fill',
]);

/**
 * Top-level fields that computing stages read through `$field` paths (or
 * `$ROOT` when they read whole documents). Fields only carried along, such
 * as `{$project: {amount: 1}}`, keep their exact values and are not listed.
 */
function fieldsComputedOn(stages: Document[]): Set<string> {
  const used = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.startsWith('$$ROOT') || v.startsWith('$$CURRENT')) used.add('$ROOT');
      else if (v.startsWith('$') && !v.startsWith('$$')) used.add(v.slice(1).split('.')[0]);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (isPlainObject(v)) Object.values(v).forEach(visit);
  };
  for (const stage of stages) if (COMPUTING_STAGES.has(Object.keys(stage)[0])) visit(Object.values(stage)[0]);
  return used;
}

/** True when a document holds a number mingo cannot represent exactly (it would compute a wrong answer). */
function hasInexactNumbers(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasInexactNumbers);
  if (isPlainObject(value)) return Object.values(value).some(hasInexactNumbers);
  const type = (value as { _bsontype?: string } | null)?._bsontype;
  return type === 'Decimal128' || (type === 'Long' && exactDouble(value) === undefined);
}

/**
 * A copy with Double wrappers and Int64 values within ±2^53 as plain numbers. Decimal128 and larger Int64
 * stay wrapped (mingo cannot compute with them exactly): a known deviation in non-leading stages.
 */
function plainNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainNumbers);
  if (isPlainObject(value)) {
    const out: Document = {};
    for (const key of Object.keys(value)) out[key] = plainNumbers(value[key]);
    return out;
  }
  const exact = value !== null && typeof value === 'object' && (value as { _bsontype?: string })._bsontype !== 'Decimal128'
    ? exactDouble(value) : undefined;
  return exact ?? value;
}

/**
 * mingo's `$count` emits `{n: 0}` for empty input; MongoDB's is `$group` + `$project` and emits nothing.
 * Sub-pipelines ($facet, $lookup, $unionWith) get the same rewrite.
 */
function expandCount(pipeline: Document[]): Document[] {
  return pipeline.flatMap((stage) => {
    const [name] = Object.keys(stage);
    const spec = stage[name];
    if (name === '$count' && typeof spec === 'string') return [{ $group: { _id: null, [spec]: { $sum: 1 } } }, { $project: { _id: 0 } }];
    return [withSubPipelines(name, spec, stage)];
  });
}

function withSubPipelines(name: string, spec: unknown, stage: Document): Document {
  if (name === '$facet' && isPlainObject(spec)) {
    const out: Document = {};
    for (const [k, p] of Object.entries(spec)) out[k] = Array.isArray(p) ? expandCount(p) : p;
    return { $facet: out };
  }
  if ((name === '$lookup' || name === '$unionWith') && isPlainObject(spec) && Array.isArray(spec.pipeline)) {
    return { [name]: { ...spec, pipeline: expandCount(spec.pipeline) } };
  }
  return stage;
}

/** mingo reports problems as plain errors; unknown operators become MongoDB's codes. */
function mingoError(err: Error): MongoError {
  const msg = err.message;
  if (/\$group specification must include an '_id'/.test(msg)) return new MongoError(15955, "a group specification must specify an _id");
  if (/unknown|unregistered|not (found|supported|registered)|invalid operator/i.test(msg)) {
    return new MongoError(ErrorCodes.InvalidPipelineOperator, `${msg} (the embedded store's aggregation engine does not implement this operator)`);
  }
  return new MongoError(ErrorCodes.BadValue, msg);
}

export async function aggregate(env: CommandEnv): Promise<Document> {
  const target = env.cmd.aggregate;
  let collName: string | null = null;
  if (typeof target === 'string') {
    validateCollectionName(target);
    collName = target;
  } else if (!(target === 1 || (typeof target === 'object' && Number(target) === 1))) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid aggregate namespace: ${String(target)}`);
  }
  checkCollation(env.cmd);
  const pipeline = parsePipeline(env.cmd.pipeline);
  if (env.cmd.explain === true) throw new MongoError(ErrorCodes.InvalidOptions, 'use the explain command to explain an aggregation');
  const cursorOpt = optionalDocument(env.cmd, 'cursor');
  if (!cursorOpt) throw new MongoError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  const variables = optionalDocument(env.cmd, 'let');
  const last = pipeline[pipeline.length - 1];
  const writes = last && ('$out' in last || '$merge' in last);
  if (writes && env.txn) throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, `${Object.keys(last)[0]} cannot be used in a transaction`);
  const docs = runPipeline(env, collName, pipeline, variables);
  const ns = `${env.db}.${collName ?? '$cmd.aggregate'}`;
  if (writes) {
    if ('$out' in last) writeOut(env, last.$out, docs);
    else await writeMerge(env, last.$merge, docs);
    return { cursor: { firstBatch: [], id: Long.ZERO, ns }, ok: 1 };
  }
  return env.engine.cursors.open(ns, docs, { batchSize: optionalCount(cursorOpt, 'batchSize'), sessionKey: env.sessionKey });
}
