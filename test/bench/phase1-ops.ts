/**
 * The phase 1 workloads: what one worker loop does per operation. Shared by
 * the benchmark process and by client processes (client-procs.ts), which
 * build the same list over their own connections.
 */
import type { Types } from 'mongoose';
import { createWithIndexes, makeItem, type Client } from './workloads.js';

export type OpUnit = 'ops/s' | 'txn/s' | 'docs/s';

export interface Workload {
  name: string;
  unit: OpUnit;
  /** Runs before every measured run (e.g. an empty target collection); only in the coordinating process. */
  prepare?: () => Promise<void>;
  op: (c: Client) => Promise<number>;
}

/**
 * `setup` prepares collections; `ids[k]` is the `_id` of document k; inserted
 * documents continue the k sequence from `firstK` (each client process gets
 * its own range, so k stays unique across processes).
 */
export function phase1Workloads(setup: Client, ids: Types.ObjectId[], firstK: number): Workload[] {
  const rand = () => Math.floor(Math.random() * ids.length);
  let nextK = firstK;
  // Insert workloads write to their own collection, emptied before each run, so
  // `items` keeps exactly `docs` documents and every read run sees the same data.
  const freshInsertCollection = async () => {
    await setup.Insert.collection.drop().catch(() => undefined);
    await createWithIndexes(setup.Insert);
  };
  const must = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`${what}: not found`);
    return value;
  };
  return [
    { name: 'insertOne', unit: 'ops/s', prepare: freshInsertCollection, op: async (c) => {
      await c.Insert.insertOne(makeItem(nextK++));
      return 1;
    } },
    { name: 'insertMany (1,000/batch)', unit: 'docs/s', prepare: freshInsertCollection, op: async (c) => {
      const docs = Array.from({ length: 1000 }, () => makeItem(nextK++));
      // lean: like the loaders, skip building 1,000 Mongoose documents per call.
      await c.Insert.insertMany(docs, { lean: true });
      return docs.length;
    } },
    // Reads use lean(): hydrating Mongoose documents is client CPU, not store work,
    // and the client shares the machine with the store.
    { name: 'findById', unit: 'ops/s', op: async (c) => {
      must(await c.Item.findById(ids[rand()]).lean(), 'findById');
      return 1;
    } },
    { name: 'findOne({k}) indexed', unit: 'ops/s', op: async (c) => {
      must(await c.Item.findOne({ k: rand() }).lean(), 'findOne({k})');
      return 1;
    } },
    { name: 'updateOne $inc by _id', unit: 'ops/s', op: async (c) => {
      const res = await c.Item.updateOne({ _id: ids[rand()] }, { $inc: { amount: 1 } });
      if (res.matchedCount !== 1) throw new Error('updateOne matched nothing');
      return 1;
    } },
    // A transfer: two updates in `items`, one ledger insert, committed together.
    // connection.transaction() retries on TransientTransactionError (write conflicts).
    { name: 'transaction (3 writes, 2 colls)', unit: 'txn/s', op: async (c) => {
      const from = ids[rand()];
      const to = ids[rand()];
      await c.conn.transaction(async (session) => {
        await c.Item.updateOne({ _id: from }, { $inc: { amount: -1 } }, { session });
        await c.Ledger.create([{ from, to, amount: 1, at: new Date() }], { session });
        await c.Item.updateOne({ _id: to }, { $inc: { amount: 1 } }, { session });
      });
      return 1;
    } },
  ];
}
