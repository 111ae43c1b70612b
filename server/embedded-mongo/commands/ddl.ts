/**
 * Collections and indexes: `create`, `drop`, `dropDatabase`,
 * `listCollections`, `createIndexes`, `listIndexes`, `dropIndexes`.
 */
import type { Document } from '../bson-values.js';
import { isPlainObject } from '../bson-values.js';
import { ErrorCodes, MongoError, notSupported } from '../errors.js';
import type { IndexSpec } from '../engine/index-store.js';
import { canonicalKey } from '../query/compare.js';
import { compileFilter } from '../query/matcher.js';
import { collectionName, optionalDocument, validateDbName, type CommandEnv } from './context.js';

const UNSUPPORTED_CREATE = ['capped', 'timeseries', 'viewOn', 'clusteredIndex', 'changeStreamPreAndPostImages', 'encryptedFields'];

export function create(env: CommandEnv): Document {
  const name = collectionName(env);
  validateDbName(env.db);
  for (const opt of UNSUPPORTED_CREATE) if (env.cmd[opt] !== undefined && env.cmd[opt] !== false) throw notSupported(`create option '${opt}'`);
  if (env.cmd.validator !== undefined && Object.keys(env.cmd.validator as Document).length) throw notSupported('collection validators');
  if (env.engine.store.collection(env.db, name)) {
    throw new MongoError(ErrorCodes.NamespaceExists, `Collection ${env.db}.${name} already exists.`);
  }
  env.engine.store.ensureCollection(env.db, name, env.access.ops);
  return { ok: 1 };
}

export function drop(env: CommandEnv): Document {
  const name = collectionName(env);
  const coll = env.engine.store.dropCollection(env.db, name, env.access.ops);
  // MongoDB 7 answers a drop of a missing collection with ok, as the driver expects.
  if (!coll) return { ok: 1 };
  return { nIndexesWas: coll.indexes.size, ns: coll.ns, ok: 1 };
}

export function dropDatabase(env: CommandEnv): Document {
  env.engine.store.dropDatabase(env.db, env.access.ops);
  return { dropped: env.db, ok: 1 };
}

export function listCollections(env: CommandEnv): Document {
  const filter = optionalDocument(env.cmd, 'filter') ?? {};
  const matcher = compileFilter(filter);
  const nameOnly = env.cmd.nameOnly === true;
  const out: Document[] = [];
  for (const coll of env.engine.store.dbs.get(env.db)?.values() ?? []) {
    const full: Document = {
      name: coll.name, type: 'collection', options: coll.options,
      info: { readOnly: false, uuid: coll.uuid }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    };
    if (!matcher.matches(full)) continue;
    out.push(nameOnly ? { name: coll.name, type: 'collection' } : full);
  }
  const cursor = optionalDocument(env.cmd, 'cursor') ?? {};
  return env.engine.cursors.open(`${env.db}.$cmd.listCollections`, out, { batchSize: cursor.batchSize as number | undefined });
}

/** Default index name: `field_dir` joined with underscores, as MongoDB names them. */
function defaultName(key: Document): string {
  return Object.entries(key).map(([f, d]) => `${f}_${String(d)}`).join('_');
}

function normaliseSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw) || !isPlainObject(raw.key) || Object.keys(raw.key).length === 0) {
    throw new MongoError(ErrorCodes.CannotCreateIndex, "Error in specification: the 'key' field must be a non-empty object");
  }
  for (const [field, dir] of Object.entries(raw.key)) {
    if (typeof dir === 'string') throw notSupported(`'${dir}' indexes (field '${field}')`);
    const n = Number(typeof dir === 'object' ? String(dir) : dir);
    if (!Number.isFinite(n) || n === 0) throw new MongoError(ErrorCodes.CannotCreateIndex, `Values in the index key pattern can't be 0 or non-numbers: ${field}`);
  }
  for (const opt of ['weights', 'default_language', '2dsphereIndexVersion', 'bits', 'min', 'max', 'wildcardProjection']) {
    if (raw[opt] !== undefined) throw notSupported(`index option '${opt}'`);
  }
  if (raw.collation !== undefined && (raw.collation as Document).locale !== 'simple') throw notSupported('index collation');
  if (raw.partialFilterExpression !== undefined && !isPlainObject(raw.partialFilterExpression)) {
    throw new MongoError(ErrorCodes.CannotCreateIndex, 'partialFilterExpression must be an object');
  }
  if (raw.partialFilterExpression) compileFilter(raw.partialFilterExpression as Document);
  const spec: IndexSpec = { v: 2, key: raw.key, name: typeof raw.name === 'string' ? raw.name : defaultName(raw.key) };
  if (raw.unique === true) spec.unique = true;
  if (raw.sparse === true) spec.sparse = true;
  if (raw.partialFilterExpression) spec.partialFilterExpression = raw.partialFilterExpression as Document;
  if (raw.expireAfterSeconds !== undefined) {
    const s = Number(raw.expireAfterSeconds);
    if (!Number.isInteger(s) || s < 0) throw new MongoError(ErrorCodes.CannotCreateIndex, 'TTL index expireAfterSeconds must be a non-negative integer');
    spec.expireAfterSeconds = s;
  }
  if (raw.hidden === true) spec.hidden = true;
  return spec;
}

function optionsKey(spec: IndexSpec): string {
  const { v: _v, name: _n, key: _k, ...options } = spec;
  return canonicalKey(options);
}

export function createIndexes(env: CommandEnv): Document {
  const name = collectionName(env);
  validateDbName(env.db);
  const raw = env.cmd.indexes;
  if (!Array.isArray(raw) || raw.length === 0) throw new MongoError(ErrorCodes.BadValue, 'Must specify at least one index to create');
  const specs = raw.map(normaliseSpec);
  const store = env.engine.store;
  const created = !store.collection(env.db, name);
  const coll = store.ensureCollection(env.db, name, env.access.ops);
  const before = coll.indexes.size;
  for (const spec of specs) {
    const sameName = coll.indexes.get(spec.name);
    const sameKey = [...coll.indexes.values()].find((i) => canonicalKey(i.spec.key) === canonicalKey(spec.key) && optionsKey(i.spec) === optionsKey(spec));
    if (sameName) {
      if (canonicalKey(sameName.spec.key) !== canonicalKey(spec.key)) {
        throw new MongoError(ErrorCodes.IndexKeySpecsConflict, `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`);
      }
      if (optionsKey(sameName.spec) !== optionsKey(spec)) {
        throw new MongoError(ErrorCodes.IndexOptionsConflict, `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`);
      }
      continue;
    }
    if (sameKey) throw new MongoError(ErrorCodes.IndexOptionsConflict, `Index already exists with a different name: ${sameKey.name}`);
    store.createIndex(coll, spec, env.access.ops);
  }
  const reply: Document = { numIndexesBefore: before, numIndexesAfter: coll.indexes.size, createdCollectionAutomatically: created, ok: 1 };
  if (before === coll.indexes.size) reply.note = 'all indexes already exist';
  return reply;
}

export function listIndexes(env: CommandEnv): Document {
  const name = collectionName(env);
  const coll = env.engine.store.collection(env.db, name);
  if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${env.db}.${name}`);
  const cursor = optionalDocument(env.cmd, 'cursor') ?? {};
  return env.engine.cursors.open(`${env.db}.$cmd.listIndexes.${name}`, coll.indexSpecs(), { batchSize: cursor.batchSize as number | undefined });
}

export function dropIndexes(env: CommandEnv): Document {
  const name = collectionName(env);
  const store = env.engine.store;
  const coll = store.collection(env.db, name);
  if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `ns not found ${env.db}.${name}`);
  const nIndexesWas = coll.indexes.size;
  const which = env.cmd.index;
  let names: string[];
  if (which === '*') names = [...coll.indexes.keys()].filter((n) => n !== '_id_');
  else if (typeof which === 'string') names = [which];
  else if (Array.isArray(which)) names = which.map(String);
  else if (isPlainObject(which)) {
    const found = [...coll.indexes.values()].find((i) => canonicalKey(i.spec.key) === canonicalKey(which));
    if (!found) throw new MongoError(ErrorCodes.IndexNotFound, `can't find index with key: ${JSON.stringify(which)}`);
    names = [found.name];
  } else throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'dropIndexes.index' must be a string, an array or an object");
  for (const n of names) if (!coll.indexes.has(n)) throw new MongoError(ErrorCodes.IndexNotFound, `index not found with name [${n}]`);
  for (const n of names) store.dropIndex(coll, n, env.access.ops);
  return { nIndexesWas, ok: 1 };
}
