/**
 * Multi-document transactions through the mongodb driver: snapshot isolation,
 * own writes, conflicts and their labels, commit/abort protocol errors,
 * unique keys, commands refused inside a transaction, and the lifetime limit.
 */
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { MongoClient, type ClientSession, type Collection, type Db, type MongoServerError } from 'mongodb';
import type { Txn } from '../../server/embedded-mongo/engine/txn.js';
import { startTestStore, type TestStore } from '../helpers/embedded.js';

let t: TestStore;
let db: Db;
let dbSeq = 0;

async function rejection(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    return err as MongoServerError;
  }
  throw new Error('expected the operation to fail');
}

/** Runs `fn` with a fresh session, always ending it. */
async function withSession<T>(fn: (s: ClientSession) => Promise<T>): Promise<T> {
  const s = t.client.startSession();
  try {
    return await fn(s);
  } finally {
    await s.endSession();
  }
}

/** Resolves `p` and reports whether it settled within `ms`. */
function tracked<T>(p: Promise<T>): { p: Promise<T>; settled: () => boolean } {
  let done = false;
  const wrapped = p.finally(() => { done = true; });
  wrapped.catch(() => {});
  return { p: wrapped, settled: () => done };
}

describe('embedded store: transactions (driver)', function () {
  this.timeout(10000);
  let c: Collection;
  before(async () => { t = await startTestStore(); });
  after(async () => { await t?.stop(); });
  beforeEach(async () => {
    db = t.client.db(`tx${++dbSeq}`);
    c = await db.createCollection('c');
    await c.insertMany([{ _id: 1 as any, v: 1, cat: 'a' }, { _id: 2 as any, v: 2, cat: 'b' }]);
  });
  afterEach(() => {
    expect(t.store.engine.store.activeTxns.size, 'transactions left open').to.equal(0);
  });

  it('withTransaction commits atomically and returns the callback value', async () => {
    const r = await withSession((s) => s.withTransaction(async () => {
      await c.insertOne({ _id: 3 as any, v: 3 }, { session: s });
      await c.updateOne({ _id: 1 as any }, { $inc: { v: 10 } }, { session: s });
      await c.deleteOne({ _id: 2 as any }, { session: s });
      return 'done';
    }));
    expect(r).to.equal('done');
    expect(await c.find().sort({ _id: 1 }).project({ v: 1 }).toArray()).to.deep.equal([{ _id: 1, v: 11 }, { _id: 3, v: 3 }]);
  });

  it('snapshot isolation: a commit made after the first read is not seen', async () => {
    await withSession(async (s) => {
      s.startTransaction();
      expect((await c.findOne({ _id: 1 as any }, { session: s }))!.v).to.equal(1);
      await c.updateOne({ _id: 1 as any }, { $set: { v: 100 } });
      await c.insertOne({ _id: 9 as any, v: 9, cat: 'a' });
      await c.deleteOne({ _id: 2 as any });
      expect((await c.findOne({ _id: 1 as any }, { session: s }))!.v).to.equal(1);
      expect(await c.find({}, { session: s }).sort({ _id: 1 }).toArray()).to.deep.equal([
        { _id: 1, v: 1, cat: 'a' }, { _id: 2, v: 2, cat: 'b' },
      ]);
      expect(await c.countDocuments({ cat: 'a' }, { session: s })).to.equal(1);
      await s.commitTransaction();
    });
    expect(await c.find().sort({ _id: 1 }).toArray()).to.deep.equal([{ _id: 1, v: 100, cat: 'a' }, { _id: 9, v: 9, cat: 'a' }]);
  });

  it('reads inside see own writes, via find filters and aggregate; outside sees nothing until commit', async () => {
    await withSession(async (s) => {
      s.startTransaction();
      await c.insertMany([{ _id: 3 as any, v: 30, cat: 'a' }, { _id: 4 as any, v: 40, cat: 'b' }], { session: s });
      await c.updateOne({ _id: 1 as any }, { $set: { cat: 'b' } }, { session: s });
      await c.deleteOne({ _id: 2 as any }, { session: s });
      const inB = await c.find({ cat: 'b', v: { $gte: 1 } }, { session: s }).sort({ v: 1 }).toArray();
      expect(inB.map((d) => d._id)).to.deep.equal([1, 4]);
      const agg = await c.aggregate([{ $match: { v: { $gt: 0 } } }, { $group: { _id: '$cat', sum: { $sum: '$v' } } }, { $sort: { _id: 1 } }], { session: s }).toArray();
      expect(agg).to.deep.equal([{ _id: 'a', sum: 30 }, { _id: 'b', sum: 41 }]);
      expect(await c.find().sort({ _id: 1 }).toArray()).to.deep.equal([{ _id: 1, v: 1, cat: 'a' }, { _id: 2, v: 2, cat: 'b' }]);
      await s.commitTransaction();
    });
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => [d._id, d.cat])).to.deep.equal([[1, 'b'], [3, 'a'], [4, 'b']]);
  });

  it('write-write conflict: 112 WriteConflict labelled TransientTransactionError; the first writer wins', async () => {
    const s1 = t.client.startSession();
    const s2 = t.client.startSession();
    try {
      s1.startTransaction();
      s2.startTransaction();
      await c.updateOne({ _id: 1 as any }, { $set: { v: 'one' } }, { session: s1 });
      const err = await rejection(c.updateOne({ _id: 1 as any }, { $set: { v: 'two' } }, { session: s2 }));
      expect(err.code).to.equal(112);
      expect(err.codeName).to.equal('WriteConflict');
      expect(err.hasErrorLabel('TransientTransactionError')).to.equal(true);
      await s1.commitTransaction();
      // the conflicting statement aborted s2's transaction on the server
      const commit2 = await rejection(s2.commitTransaction());
      expect(commit2.code).to.equal(251);
      expect((await c.findOne({ _id: 1 as any }))!.v).to.equal('one');
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
  });

  it('a write to a document committed by others after the snapshot began conflicts', async () => {
    await withSession(async (s) => {
      s.startTransaction();
      await c.findOne({ _id: 2 as any }, { session: s });
      await c.updateOne({ _id: 1 as any }, { $set: { v: 'outside' } });
      const err = await rejection(c.updateOne({ _id: 1 as any }, { $set: { v: 'inside' } }, { session: s }));
      expect(err.code).to.equal(112);
      expect(err.hasErrorLabel('TransientTransactionError')).to.equal(true);
      await s.abortTransaction();
    });
    expect((await c.findOne({ _id: 1 as any }))!.v).to.equal('outside');
  });

  it('a retried commitTransaction after success is acknowledged again', async () => {
    const client = await MongoClient.connect(t.store.uri, { monitorCommands: true });
    const commits: number[] = [];
    client.on('commandSucceeded', (e) => { if (e.commandName === 'commitTransaction') commits.push(e.requestId); });
    const cc = client.db(db.databaseName).collection('c');
    const s = client.startSession();
    try {
      s.startTransaction();
      await cc.insertOne({ _id: 5 as any, v: 5 }, { session: s });
      await s.commitTransaction();
      await s.commitTransaction();
      expect(commits, 'both commits reached the server and succeeded').to.have.length(2);
    } finally {
      await s.endSession();
      await client.close();
    }
    expect(await c.countDocuments({ _id: 5 as any })).to.equal(1);
  });

  it('commit after abort: 251 NoSuchTransaction labelled TransientTransactionError', async () => {
    await withSession(async (s) => {
      s.startTransaction();
      await c.insertOne({ _id: 6 as any, v: 6 }, { session: s });
      // abort on the server behind the driver's back, then commit as usual
      await t.client.db('admin').command({ abortTransaction: 1 }, { session: s });
      const err = await rejection(s.commitTransaction());
      expect(err.code).to.equal(251);
      expect(err.codeName).to.equal('NoSuchTransaction');
      expect(err.hasErrorLabel('TransientTransactionError')).to.equal(true);
    });
    expect(await c.countDocuments({ _id: 6 as any })).to.equal(0);
  });

  it('a unique index violation inside a transaction is 11000 and aborts it', async () => {
    const u = db.collection('u');
    await u.createIndex({ email: 1 }, { unique: true });
    await u.insertOne({ _id: 10 as any, email: 'x@y' });
    await withSession(async (s) => {
      s.startTransaction();
      await u.insertOne({ _id: 11 as any, email: 'new@y' }, { session: s });
      const err = await rejection(u.insertOne({ _id: 12 as any, email: 'x@y' }, { session: s }));
      expect(err.code).to.equal(11000);
      expect(err.keyValue).to.deep.equal({ email: 'x@y' });
      // the failed statement aborted the transaction
      expect((await rejection(u.insertOne({ _id: 13 as any, email: 'other@y' }, { session: s }))).code).to.equal(251);
      expect((await rejection(s.commitTransaction())).code).to.equal(251);
    });
    expect(await u.countDocuments({ _id: { $in: [11, 12, 13] } as any })).to.equal(0);
  });

  it('own duplicate inside a transaction is 11000', async () => {
    const u = db.collection('u');
    await u.createIndex({ email: 1 }, { unique: true });
    await withSession(async (s) => {
      s.startTransaction();
      await u.insertOne({ _id: 11 as any, email: 'dup@y' }, { session: s });
      expect((await rejection(u.insertOne({ _id: 12 as any, email: 'dup@y' }, { session: s }))).code).to.equal(11000);
      await s.abortTransaction().catch(() => {});
    });
    expect(await u.countDocuments({ email: 'dup@y' })).to.equal(0);
  });

  it('DuplicateKey between a transaction and a concurrent non-transactional insert', async () => {
    const u = db.collection('u');
    await u.createIndex({ email: 1 }, { unique: true });
    await withSession(async (s) => {
      s.startTransaction();
      await u.insertOne({ _id: 20 as any, email: 'k@y' }, { session: s });
      const outside = tracked(u.insertOne({ _id: 21 as any, email: 'k@y' }));
      await delay(200);
      expect(outside.settled(), 'outside insert should wait for the transaction').to.equal(false);
      await s.commitTransaction();
      const err = await rejection(outside.p);
      expect(err.code).to.equal(11000);
    });
    expect((await u.find({ email: 'k@y' }).toArray()).map((d) => d._id)).to.deep.equal([20]);
    // when the transaction aborts instead, the waiting insert goes through
    await withSession(async (s) => {
      s.startTransaction();
      await u.insertOne({ _id: 22 as any, email: 'm@y' }, { session: s });
      const outside = tracked(u.insertOne({ _id: 23 as any, email: 'm@y' }));
      await delay(100);
      expect(outside.settled()).to.equal(false);
      await s.abortTransaction();
      await outside.p;
    });
    expect((await u.find({ email: 'm@y' }).toArray()).map((d) => d._id)).to.deep.equal([23]);
  });

  it('a key committed outside after the snapshot began is a WriteConflict for the transaction', async () => {
    const u = db.collection('u');
    await u.createIndex({ email: 1 }, { unique: true });
    await withSession(async (s) => {
      s.startTransaction();
      await u.findOne({}, { session: s });
      await u.insertOne({ _id: 1 as any, email: 'late@y' });
      const err = await rejection(u.insertOne({ _id: 2 as any, email: 'late@y' }, { session: s }));
      expect(err.code).to.equal(112);
      expect(err.hasErrorLabel('TransientTransactionError')).to.equal(true);
    });
    expect((await u.find().toArray()).map((d) => d._id)).to.deep.equal([1]);
  });

  it('duplicate _id: inside a transaction 11000; a waiting outside insert gets 11000 after commit', async () => {
    await withSession(async (s) => {
      s.startTransaction();
      expect((await rejection(c.insertOne({ _id: 1 as any, v: 'dup' }, { session: s }))).code).to.equal(11000);
    });
    await withSession(async (s) => {
      s.startTransaction();
      await c.deleteOne({ _id: 2 as any }, { session: s });
      await c.insertOne({ _id: 2 as any, v: 'reinserted' }, { session: s });
      await c.insertOne({ _id: 40 as any, v: 'txn' }, { session: s });
      const outside = tracked(c.insertOne({ _id: 40 as any, v: 'outside' }));
      await delay(100);
      expect(outside.settled()).to.equal(false);
      await s.commitTransaction();
      expect((await rejection(outside.p)).code).to.equal(11000);
    });
    expect(await c.find().sort({ _id: 1 }).project({ v: 1 }).toArray()).to.deep.equal([
      { _id: 1, v: 1 }, { _id: 2, v: 'reinserted' }, { _id: 40, v: 'txn' },
    ]);
  });

  it('commands not allowed in a transaction fail with 263', async () => {
    await withSession(async (s) => {
      s.startTransaction();
      await c.insertOne({ _id: 30 as any }, { session: s });
      for (const cmd of [{ count: 'c' }, { listCollections: 1 }, { drop: 'c' }]) {
        const err = await rejection(db.command(cmd, { session: s }));
        expect(err.code, JSON.stringify(cmd)).to.equal(263);
        expect(err.codeName).to.equal('OperationNotSupportedInTransaction');
      }
      await s.abortTransaction().catch(() => {});
    });
    expect(await c.countDocuments()).to.equal(2);
  });

  it('a transaction past its lifetime is aborted: next command gets 251 and its locks are released', async () => {
    await withSession(async (s) => {
      s.startTransaction();
      await c.updateOne({ _id: 1 as any }, { $set: { v: 'txn' } }, { session: s });
      const active = [...t.store.engine.store.activeTxns] as Txn[];
      expect(active).to.have.length(1);
      (active[0] as any).startedAt = Date.now() - 61_000;
      const err = await rejection(c.findOne({ _id: 1 as any }, { session: s }));
      expect(err.code).to.equal(251);
      expect(err.hasErrorLabel('TransientTransactionError')).to.equal(true);
      expect(t.store.engine.store.activeTxns.size).to.equal(0);
      const started = Date.now();
      await c.updateOne({ _id: 1 as any }, { $set: { v: 'outside' } });
      expect(Date.now() - started).to.be.below(500);
      expect((await rejection(s.commitTransaction())).code).to.equal(251);
    });
    expect((await c.findOne({ _id: 1 as any }))!.v).to.equal('outside');
  });
});
