/**
 * `find`, `getMore`, `killCursors`, `count` and `distinct`.
 */
import { Long } from 'bson';
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError, notSupported } from '../errors.js';
import type { CollectionStore } from '../engine/collection-store.js';
import { canonicalKey } from '../query/compare.js';
import { compileFilter } from '../query/matcher.js';
import { compileProjection } from '../query/projection.js';
import { compileSort } from '../query/sort.js';
import { collectionName, optionalCount, optionalDocument, type CommandEnv } from './context.js';

/** Only the simple (binary) collation is implemented; anything else would sort and match differently. */
export function checkCollation(cmd: Document): void {
  const c = optionalDocument(cmd, 'collation');
  if (c && c.locale !== 'simple') notSupportedCollation(String(c.locale));
}

function notSupportedCollation(locale: string): never {
  throw notSupported(`collation with locale '${locale}'`);
}

/** `hint` must name an existing index, as in MongoDB; the planner then chooses freely. */
export function checkHint(coll: CollectionStore | undefined, hint: unknown): void {
  if (hint === undefined || hint === null || !coll) return;
  const exists = typeof hint === 'string'
    ? coll.indexes.has(hint)
    : [...coll.indexes.values()].some((i) => canonicalKey(i.spec.key) === canonicalKey(hint));
  if (!exists && !(typeof hint === 'object' && '$natural' in (hint as Document))) {
    throw new MongoError(ErrorCodes.BadValue, 'hint provided does not correspond to an existing index');
  }
}

/** mongod's IDL range check: code 51024 (Location51024), with its wording. */
function checkNonNegative(field: string, n: number): void {
  if (n < 0) throw new MongoError(51024, `BSON field '${field}' value must be >= 0, actual value '${n}'`);
}

export interface FindResult {
  docs: Document[];
  coll: CollectionStore | undefined;
}

/** Runs a find's filter, sort, skip, limit and projection. */
export function runFind(env: CommandEnv, name: string): FindResult {
  const cmd = env.cmd;
  for (const unsupported of ['tailable', 'awaitData', 'min', 'max', 'returnKey', 'showRecordId']) {
    if (cmd[unsupported] !== undefined && cmd[unsupported] !== false) throw notSupported(`find option '${unsupported}'`);
  }
  checkCollation(cmd);
  const filter = optionalDocument(cmd, 'filter') ?? {};
  const sort = optionalDocument(cmd, 'sort');
  const projection = optionalDocument(cmd, 'projection');
  const skip = optionalCount(cmd, 'skip') ?? 0;
  const limitRaw = optionalCount(cmd, 'limit') ?? 0;
  checkNonNegative('skip', skip);
  checkNonNegative('limit', limitRaw);
  const variables = optionalDocument(cmd, 'let');
  const coll = env.engine.store.collection(env.db, name);
  checkHint(coll, cmd.hint);
  const matcher = compileFilter(filter, { variables });
  const sorter = sort && Object.keys(sort).length ? compileSort(sort) : null;
  const project = projection && Object.keys(projection).length ? compileProjection(projection) : null;
  // Without a sort, the scan can stop as soon as skip + limit documents matched.
  const stopAfter = !sorter && limitRaw > 0 ? skip + limitRaw : 0;
  let docs = env.access.find(coll, filter, matcher, stopAfter);
  if (sorter) docs = [...docs].sort(sorter);
  if (skip || limitRaw) docs = docs.slice(skip, limitRaw ? skip + limitRaw : undefined);
  if (project) {
    docs = docs.map((d) => {
      const details: { arrayIndex?: number } = {};
      matcher.matches(d, details);
      return project(d, details);
    });
  }
  return { docs, coll };
}

export function find(env: CommandEnv): Document {
  const name = collectionName(env);
  const { docs } = runFind(env, name);
  const batchSize = optionalCount(env.cmd, 'batchSize');
  if (batchSize !== undefined) checkNonNegative('batchSize', batchSize);
  return env.engine.cursors.open(`${env.db}.${name}`, docs, {
    batchSize,
    singleBatch: env.cmd.singleBatch === true,
    noTimeout: env.cmd.noCursorTimeout === true,
    sessionKey: env.sessionKey,
  });
}

export function getMore(env: CommandEnv): Document {
  const id = env.cmd.getMore;
  if (!(id instanceof Long) && typeof id !== 'number' && typeof id !== 'bigint') {
    throw new MongoError(ErrorCodes.TypeMismatch, "Field 'getMore' must be of type long");
  }
  const collection = env.cmd.collection;
  if (typeof collection !== 'string') throw new MongoError(ErrorCodes.FailedToParse, "BSON field 'getMore.collection' is missing but a required field");
  const batchSize = optionalCount(env.cmd, 'batchSize');
  if (batchSize !== undefined) checkNonNegative('batchSize', batchSize);
  return env.engine.cursors.getMore(Long.fromValue(id as Long), collection, env.db, batchSize || undefined, env.sessionKey);
}

export function killCursors(env: CommandEnv): Document {
  collectionName(env);
  const ids = env.cmd.cursors;
  if (!Array.isArray(ids)) throw new MongoError(ErrorCodes.FailedToParse, "BSON field 'killCursors.cursors' is missing but a required field");
  return env.engine.cursors.kill(ids.map((id) => Long.fromValue(id as Long)));
}

export function count(env: CommandEnv): Document {
  const name = collectionName(env);
  checkCollation(env.cmd);
  const query = optionalDocument(env.cmd, 'query') ?? {};
  const skip = optionalCount(env.cmd, 'skip') ?? 0;
  const limit = Math.abs(optionalCount(env.cmd, 'limit') ?? 0);
  const coll = env.engine.store.collection(env.db, name);
  checkHint(coll, env.cmd.hint);
  let n: number;
  if (Object.keys(query).length === 0 && !env.txn) n = coll?.count ?? 0;
  else n = env.access.find(coll, query).length;
  n = Math.max(0, n - skip);
  if (limit) n = Math.min(n, limit);
  return { n, ok: 1 };
}

export function distinct(env: CommandEnv): Document {
  const name = collectionName(env);
  checkCollation(env.cmd);
  const key = env.cmd.key;
  if (key === undefined || key === null) throw new MongoError(ErrorCodes.FailedToParse, "BSON field 'distinct.key' is missing but a required field");
  if (typeof key !== 'string') throw new MongoError(ErrorCodes.TypeMismatch, `BSON field 'distinct.key' is the wrong type '${typeof key}', expected type 'string'`);
  if (key.length === 0) throw new MongoError(ErrorCodes.BadValue, 'distinct key must not be empty');
  const query = optionalDocument(env.cmd, 'query') ?? {};
  const docs = env.access.find(env.engine.store.collection(env.db, name), query);
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    for (const v of valuesForDistinct(doc, key.split('.'))) {
      const k = canonicalKey(v);
      if (!seen.has(k)) seen.set(k, v);
    }
  }
  return { values: [...seen.values()], ok: 1 };
}

/** Values at a path, unwinding arrays one level as `distinct` does; missing fields contribute nothing. */
function valuesForDistinct(value: unknown, parts: string[]): unknown[] {
  if (parts.length === 0) return Array.isArray(value) ? value : [value];
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) {
    const [head] = parts;
    if (/^\d+$/.test(head) && Number(head) < value.length) return valuesForDistinct(value[Number(head)], parts.slice(1));
    return value.flatMap((el) => valuesForDistinct(el, parts));
  }
  const next = (value as Document)[parts[0]];
  return next === undefined ? [] : valuesForDistinct(next, parts.slice(1));
}
