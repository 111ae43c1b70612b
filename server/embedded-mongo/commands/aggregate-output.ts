/**
 * The writing stages of an aggregation. `$out` replaces the target
 * collection's documents atomically (checked against its unique indexes
 * first, applied in one step and one journal record); `$merge` merges
 * document by document, as MongoDB does.
 */
import { ObjectId } from 'bson';
import { isPlainObject, type Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { CollectionStore, idKeyOf } from '../engine/collection-store.js';
import { compileFilter } from '../query/matcher.js';
import { applyUpdate } from '../query/update.js';
import { collectionForWrite, prepareForInsert, validateCollectionName, validateDbName, withLockRetry, type CommandEnv } from './context.js';

function target(env: CommandEnv, spec: unknown, stage: string): { db: string; coll: string } {
  if (typeof spec === 'string') return { db: env.db, coll: spec };
  if (isPlainObject(spec) && typeof spec.coll === 'string') return { db: typeof spec.db === 'string' ? spec.db : env.db, coll: spec.coll };
  throw new MongoError(ErrorCodes.FailedToParse, `${stage} requires a collection name or {db, coll}`);
}

function withId(doc: Document): Document {
  return doc._id === undefined ? { _id: new ObjectId(), ...doc } : prepareForInsert(doc);
}

export function writeOut(env: CommandEnv, spec: unknown, docs: Document[]): void {
  const { db, coll: name } = target(env, spec, '$out');
  validateDbName(db);
  validateCollectionName(name);
  const store = env.engine.store;
  const existing = store.collection(db, name);
  // Dry run into a scratch collection with the same indexes, so a duplicate leaves the target untouched.
  const scratch = new CollectionStore(db, name);
  for (const spec of existing?.indexSpecs() ?? []) if (spec.name !== '_id_') scratch.addIndex(scratch.buildIndex(spec));
  const prepared = docs.map(withId);
  for (const doc of prepared) {
    const idKey = idKeyOf(doc._id);
    scratch.checkUnique(idKey, doc);
    scratch.write(idKey, doc, 0);
  }
  const coll = existing ?? store.ensureCollection(db, name, env.access.ops);
  const writes = [
    ...[...coll.docs].map(([idKey, before]) => ({ idKey, before, after: null })),
    ...prepared.map((doc) => ({ idKey: idKeyOf(doc._id), before: null, after: doc })),
  ];
  env.access.checkWrites(coll, writes);
  for (const w of writes) if (!w.after) env.access.apply(coll, w);
  for (const w of writes) if (w.after) env.access.apply(coll, w);
}

export async function writeMerge(env: CommandEnv, spec: unknown, docs: Document[]): Promise<void> {
  const opts: Document = typeof spec === 'string' ? { into: spec } : isPlainObject(spec) ? spec : {};
  const { db, coll: name } = target(env, opts.into, '$merge');
  validateDbName(db);
  validateCollectionName(name);
  const on = opts.on === undefined ? ['_id'] : Array.isArray(opts.on) ? (opts.on as string[]) : [opts.on as string];
  const whenMatched = opts.whenMatched ?? 'merge';
  const whenNotMatched = opts.whenNotMatched ?? 'insert';
  const existing = env.engine.store.collection(db, name);
  // MongoDB only merges on fields a unique (non-partial) index covers exactly: that is what makes a match unique.
  const covered = (on.length === 1 && on[0] === '_id') || [...(existing?.indexes.values() ?? [])].some((i) =>
    i.unique && !i.spec.partialFilterExpression && i.fields.length === on.length && on.every((f) => i.fields.includes(f)));
  if (!covered) throw new MongoError(51183, `Cannot find index to verify that join fields will be unique: ${on.join(', ')}`);
  const coll = existing ?? collectionForWrite({ ...env, db }, name);
  for (const raw of docs) {
    const doc = withId(raw);
    const filter: Document = {};
    for (const f of on) {
      if (doc[f] === undefined || doc[f] === null || Array.isArray(doc[f])) throw new MongoError(51132, `$merge write error: 'on' field '${f}' cannot be missing, null, undefined or an array`);
      filter[f] = { $eq: doc[f] };
    }
    await withLockRetry(() => {
      const found = env.access.find(coll, filter, compileFilter(filter), 1)[0];
      if (!found) {
        if (whenNotMatched === 'discard') return;
        if (whenNotMatched === 'fail') throw new MongoError(13113, '$merge could not find a matching document in the target collection for at least one document in the source collection');
        env.access.insert(coll, doc);
        return;
      }
      let after: Document;
      if (whenMatched === 'keepExisting') return;
      if (whenMatched === 'fail') throw new MongoError(ErrorCodes.DuplicateKey, `$merge with whenMatched: fail found an existing document with the same values for the 'on' fields`);
      if (whenMatched === 'replace') after = { ...doc, _id: found._id };
      else if (whenMatched === 'merge') after = { ...found, ...doc, _id: found._id };
      else if (Array.isArray(whenMatched)) after = applyUpdate(found, whenMatched as Document[], { variables: { ...(opts.let as Document | undefined), new: doc } }).doc;
      else throw new MongoError(ErrorCodes.BadValue, `unknown whenMatched mode: ${String(whenMatched)}`);
      const w = { idKey: idKeyOf(found._id), before: found, after };
      env.access.checkWrites(coll, [w]);
      env.access.apply(coll, w);
    });
  }
}
