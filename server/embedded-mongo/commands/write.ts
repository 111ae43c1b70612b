/**
 * `insert`, `update` and `delete`: each statement is its own write (as in
 * MongoDB, a batch is not atomic), failures become `writeErrors` entries, and
 * `ordered: true` stops at the first failure.
 */
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { idKeyOf } from '../engine/collection-store.js';
import { compileFilter } from '../query/matcher.js';
import { collectionForWrite, collectionName, optionalDocument, prepareForInsert, withLockRetry, type CommandEnv } from './context.js';
import { parseStatement, planUpdate } from './update-plan.js';

const MAX_WRITE_BATCH = 100_000;

function statements(env: CommandEnv, field: string): unknown[] {
  const list = env.cmd[field];
  if (!Array.isArray(list)) throw new MongoError(ErrorCodes.FailedToParse, `BSON field '${env.name}.${field}' is missing but a required field`);
  if (list.length > MAX_WRITE_BATCH) throw new MongoError(ErrorCodes.InvalidLength, `Write batch sizes must be between 1 and ${MAX_WRITE_BATCH}. Got ${list.length} operations.`);
  return list;
}

/** Runs statements in order, collecting write errors; errors inside a transaction abort the command. */
async function runBatch(env: CommandEnv, items: unknown[], run: (item: unknown, index: number) => Promise<void>): Promise<Document[]> {
  const ordered = env.cmd.ordered !== false;
  const errors: Document[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      await run(items[i], i);
    } catch (err) {
      if (!(err instanceof MongoError) || env.txn) throw err;
      errors.push(err.toWriteError(i));
      if (ordered) break;
    }
  }
  return errors;
}

function reply(body: Document, errors: Document[]): Document {
  if (errors.length) body.writeErrors = errors;
  body.ok = 1;
  return body;
}

export async function insert(env: CommandEnv): Promise<Document> {
  const name = collectionName(env);
  const docs = statements(env, 'documents');
  const coll = collectionForWrite(env, name);
  let n = 0;
  const errors = await runBatch(env, docs, async (raw) => {
    const doc = prepareForInsert(raw);
    await withLockRetry(() => env.access.insert(coll, doc));
    n++;
  });
  return reply({ n }, errors);
}

export async function update(env: CommandEnv): Promise<Document> {
  const name = collectionName(env);
  const items = statements(env, 'updates');
  const variables = optionalDocument(env.cmd, 'let');
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const errors = await runBatch(env, items, async (raw, index) => {
    const stmt = parseStatement(raw, variables);
    await withLockRetry(() => {
      const existing = env.engine.store.collection(env.db, name);
      const coll = existing ?? (stmt.upsert ? collectionForWrite(env, name) : undefined);
      const plan = planUpdate(env.access, coll, stmt);
      if (!coll || plan.writes.length === 0) {
        n += plan.matched;
        return;
      }
      env.access.checkWrites(coll, plan.writes);
      for (const w of plan.writes) env.access.apply(coll, w);
      if (plan.upserted) {
        n += 1;
        upserted.push({ index, _id: plan.upserted._id });
      } else {
        n += plan.matched;
        nModified += plan.writes.length;
      }
    });
  });
  const body: Document = { n, nModified };
  if (upserted.length) body.upserted = upserted;
  return reply(body, errors);
}

export async function remove(env: CommandEnv): Promise<Document> {
  const name = collectionName(env);
  const items = statements(env, 'deletes');
  let n = 0;
  const errors = await runBatch(env, items, async (raw) => {
    const stmt = raw as Document;
    const q = stmt?.q;
    if (q === undefined || q === null || typeof q !== 'object' || Array.isArray(q)) {
      throw new MongoError(ErrorCodes.FailedToParse, "BSON field 'delete.deletes.q' is missing but a required field");
    }
    const limit = Number(stmt.limit ?? 0);
    if (limit !== 0 && limit !== 1) throw new MongoError(ErrorCodes.FailedToParse, 'The limit field in delete objects must be 0 or 1. Got ' + limit);
    const matcher = compileFilter(q as Document, { variables: optionalDocument(env.cmd, 'let') });
    await withLockRetry(() => {
      const coll = env.engine.store.collection(env.db, name);
      if (!coll) return;
      const docs = env.access.find(coll, q as Document, matcher, limit);
      const writes = docs.map((before) => ({ idKey: idKeyOf(before._id), before, after: null }));
      env.access.checkWrites(coll, writes);
      for (const w of writes) env.access.apply(coll, w);
      n += writes.length;
    });
  });
  return reply({ n }, errors);
}
