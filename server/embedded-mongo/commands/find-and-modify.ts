/**
 * `findAndModify`: update, replace or remove the first document matching
 * `query` in `sort` order and return it (before or after the change).
 */
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { idKeyOf } from '../engine/collection-store.js';
import { compileFilter } from '../query/matcher.js';
import { compileProjection } from '../query/projection.js';
import { compileSort } from '../query/sort.js';
import { collectionForWrite, collectionName, optionalDocument, withLockRetry, type CommandEnv } from './context.js';
import { checkCollation, checkHint } from './read.js';
import { planUpdate } from './update-plan.js';

export async function findAndModify(env: CommandEnv): Promise<Document> {
  const name = collectionName(env);
  const cmd = env.cmd;
  checkCollation(cmd);
  const query = optionalDocument(cmd, 'query') ?? {};
  const sort = optionalDocument(cmd, 'sort');
  const fields = optionalDocument(cmd, 'fields');
  const variables = optionalDocument(cmd, 'let');
  const remove = cmd.remove === true;
  const upsert = cmd.upsert === true;
  const returnNew = cmd.new === true;
  if (remove && cmd.update !== undefined) throw new MongoError(ErrorCodes.FailedToParse, 'Cannot specify both an update and remove=true');
  if (!remove && cmd.update === undefined) throw new MongoError(ErrorCodes.FailedToParse, 'Either an update or remove=true must be specified');
  if (remove && (upsert || returnNew)) throw new MongoError(ErrorCodes.FailedToParse, 'Cannot specify both upsert=true and remove=true, or new=true and remove=true');
  const project = fields && Object.keys(fields).length ? compileProjection(fields) : null;
  const show = (doc: Document | null) => (doc && project ? project(doc) : doc);
  checkHint(env.engine.store.collection(env.db, name), cmd.hint);

  return withLockRetry(() => {
    if (remove) {
      const coll = env.engine.store.collection(env.db, name);
      const matcher = compileFilter(query, { variables });
      let docs = env.access.find(coll, query, matcher, sort ? 0 : 1);
      if (sort && Object.keys(sort).length) docs = [...docs].sort(compileSort(sort));
      const target = docs[0];
      if (!coll || !target) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      const w = { idKey: idKeyOf(target._id), before: target, after: null };
      env.access.checkWrites(coll, [w]);
      env.access.apply(coll, w);
      return { lastErrorObject: { n: 1 }, value: show(target), ok: 1 };
    }
    const existing = env.engine.store.collection(env.db, name);
    const coll = existing ?? (upsert ? collectionForWrite(env, name) : undefined);
    const plan = planUpdate(env.access, coll, {
      q: query, u: cmd.update as Document, upsert, sort, variables,
      arrayFilters: cmd.arrayFilters as Document[] | undefined,
    });
    if (coll && plan.writes.length) {
      env.access.checkWrites(coll, plan.writes);
      for (const w of plan.writes) env.access.apply(coll, w);
    }
    if (plan.upserted) {
      return {
        lastErrorObject: { n: 1, updatedExisting: false, upserted: plan.upserted._id },
        value: returnNew ? show(plan.upserted) : null,
        ok: 1,
      };
    }
    if (plan.matched === 0) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    // With no change the "after" image is the document as it stands.
    const write = plan.writes[0];
    const original = write?.before ?? plan.first;
    const after = write?.after ?? original;
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: show(returnNew ? after : original), ok: 1 };
  });
}
