/**
 * Hostile command arguments (raw wire abuse is covered by the wire tests):
 * operator documents where values belong, wrong types for filter, sort,
 * limit and friends, unknown query/update/pipeline operators. Each must fail
 * with MongoDB's code, and afterwards the store must still serve requests
 * with the data exactly as it was.
 */
import { expect } from 'chai';
import { Long, type Db, type Document } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/embedded.js';
import { all, expectCode, type Loose } from './conformance-helpers.js';

describe('conformance: hostile command arguments', () => {
  let t: TestStore;
  let db: Db;
  let snapshot: Document[];

  /** Runs a raw command, turning a first write error into a thrown error as the driver's helpers do. */
  async function run(cmd: Document): Promise<Document> {
    const reply = await db.command(cmd);
    const we = reply.writeErrors?.[0];
    if (we) throw Object.assign(new Error(we.errmsg), { code: we.code, codeName: we.codeName });
    return reply;
  }

  before(async () => {
    t = await startTestStore();
    db = t.client.db('hostile');
    await db.collection<Loose>('data').insertMany([
      { _id: 1, a: 1, s: 'x', arr: [1, 2], sub: { k: 1 } },
      { _id: 2, a: 2, s: 'y', arr: [], sub: { k: 2 } },
      { _id: 3, a: 'str', s: 'z' },
    ]);
    await db.collection<Loose>('data').createIndex({ s: 1 }, { unique: true });
    snapshot = await all(db, 'data');
  });
  after(() => t.stop());

  /** After every case: the store answers, the data and indexes are as they were. */
  afterEach(async () => {
    expect(await db.command({ ping: 1 })).to.deep.equal({ ok: 1 });
    expect(await all(db, 'data')).to.deep.equal(snapshot);
    expect((await db.collection<Loose>('data').listIndexes().toArray()).map((i) => i.name)).to.deep.equal(['_id_', 's_1']);
    expect(await db.collection<Loose>('data').countDocuments({ s: 'y' })).to.equal(1);
  });

  const cases: [string, Document, number | number[]][] = [
    // Operators where values are expected.
    ['a query operator as the whole filter', { find: 'data', filter: { $gt: '' } }, 2],
    ['an operator document as limit', { find: 'data', limit: { $gt: '' } }, 14],
    ['an operator document as skip', { find: 'data', skip: { $gt: '' } }, 14],
    ['an operator document as a sort direction', { find: 'data', sort: { a: { $gt: '' } } }, [2, 15974, 17312]],
    ['an operator document as a collection name', { find: { $gt: '' } }, [2, 73]],
    ['an operator document as a getMore id', { getMore: { $gt: '' }, collection: 'data' }, 14],
    ['an operator document as the distinct key', { distinct: 'data', key: { $gt: '' } }, 14],
    ['an operator document as the aggregate pipeline', { aggregate: 'data', pipeline: { $gt: '' }, cursor: {} }, 14],
    // Wrong types.
    ['a string filter', { find: 'data', filter: 'a == 1' }, 14],
    ['an array filter', { find: 'data', filter: [{ a: 1 }] }, 14],
    ['a numeric sort', { find: 'data', sort: 1 }, 14],
    ['a string sort direction', { find: 'data', sort: { a: 'up' } }, [2, 15974, 15975]],
    ['a string limit', { find: 'data', limit: 'ten' }, 14],
    ['a negative limit', { find: 'data', limit: -1 }, 51024],
    ['a negative skip', { find: 'data', skip: -1 }, 51024],
    ['a negative batchSize', { find: 'data', batchSize: -1 }, 51024],
    ['a negative getMore batchSize', { getMore: Long.fromNumber(12345), collection: 'data', batchSize: -1 }, 51024],
    ['a string projection', { find: 'data', projection: 'a' }, 14],
    ['mixed inclusion and exclusion', { find: 'data', projection: { a: 1, s: 0 } }, 31254],
    ['a string count query', { count: 'data', query: 'a' }, 14],
    // Unknown or malformed query operators.
    ['an unknown field operator', { find: 'data', filter: { a: { $foo: 1 } } }, 2],
    ['an unknown top-level operator', { find: 'data', filter: { $foo: [{ a: 1 }] } }, 2],
    ['$in with a non-array', { find: 'data', filter: { a: { $in: 5 } } }, 2],
    ['$nin with a non-array', { find: 'data', filter: { a: { $nin: { $gt: '' } } } }, 2],
    ['$and with a non-array', { find: 'data', filter: { $and: { a: 1 } } }, 2],
    ['$or with an empty array', { find: 'data', filter: { $or: [] } }, 2],
    ['$all with a non-array', { find: 'data', filter: { arr: { $all: 1 } } }, 2],
    ['$size with an operator document', { find: 'data', filter: { arr: { $size: { $gt: '' } } } }, 2],
    ['an operator document inside $in', { find: 'data', filter: { s: { $in: [{ $gt: '' }] } } }, 2],
    ['$size with a negative number', { find: 'data', filter: { arr: { $size: -1 } } }, 2],
    ['$type with an unknown alias', { find: 'data', filter: { a: { $type: 'integer-ish' } } }, 2],
    ['$elemMatch with a scalar', { find: 'data', filter: { arr: { $elemMatch: 5 } } }, 2],
    ['$mod by zero', { find: 'data', filter: { a: { $mod: [0, 1] } } }, 2],
    ['$mod with one argument', { find: 'data', filter: { a: { $mod: [2] } } }, 2],
    ['$not with a scalar', { find: 'data', filter: { a: { $not: 5 } } }, 2],
    ['an invalid $regex', { find: 'data', filter: { s: { $regex: '(' } } }, 51091],
    ['an unknown $expr operator', { find: 'data', filter: { $expr: { $frobnicate: ['$a', 1] } } }, 168],
    ['an unknown operator in count', { count: 'data', query: { a: { $foo: 1 } } }, 2],
    ['an unknown operator in distinct', { distinct: 'data', key: 'a', query: { a: { $foo: 1 } } }, 2],
    // Unknown or malformed update operators.
    ['an unknown update operator', { update: 'data', updates: [{ q: { _id: 1 }, u: { $foo: { a: 5 } } }] }, 9],
    ['an unknown update operator with upsert', { update: 'data', updates: [{ q: { _id: 99 }, u: { $foo: { a: 5 } }, upsert: true }] }, 9],
    ['an operator document with a non-object argument', { update: 'data', updates: [{ q: { _id: 1 }, u: { $set: 5 } }] }, 9],
    ['$inc with a string', { update: 'data', updates: [{ q: { _id: 1 }, u: { $inc: { a: 'one' } } }] }, 14],
    ['$inc on a string field', { update: 'data', updates: [{ q: { _id: 3 }, u: { $inc: { a: 1 } } }] }, 14],
    ['$push to a non-array', { update: 'data', updates: [{ q: { _id: 1 }, u: { $push: { s: 1 } } }] }, 2],
    ['conflicting update paths', { update: 'data', updates: [{ q: { _id: 1 }, u: { $set: { a: 1 }, $inc: { a: 1 } } }] }, 40],
    ['an unknown query operator in an update filter', { update: 'data', updates: [{ q: { a: { $foo: 1 } }, u: { $set: { z: 1 } }, multi: true }] }, 2],
    ['a string as the update', { update: 'data', updates: [{ q: { _id: 1 }, u: 'set a' }] }, [9, 14]],
    ['a unique-index duplicate by update', { update: 'data', updates: [{ q: { _id: 1 }, u: { $set: { s: 'y' } } }] }, 11000],
    ['findAndModify with an unknown operator', { findAndModify: 'data', query: { _id: 1 }, update: { $foo: { a: 1 } } }, 9],
    ['findAndModify with a bad sort', { findAndModify: 'data', query: {}, sort: 'a', update: { $set: { z: 1 } } }, 14],
    // Deletes and inserts.
    ['a delete limit other than 0 or 1', { delete: 'data', deletes: [{ q: {}, limit: 5 }] }, 9],
    ['a delete with an unknown operator', { delete: 'data', deletes: [{ q: { a: { $foo: 1 } }, limit: 0 }] }, 2],
    ['a delete without q', { delete: 'data', deletes: [{ limit: 0 }] }, [9, 40414]],
    ['an insert of a non-document', { insert: 'data', documents: [5] }, [9, 14]],
    ['an insert with an operator document as _id', { insert: 'data', documents: [{ _id: { $gt: '' } }] }, 52],
    ['an insert of a duplicate _id', { insert: 'data', documents: [{ _id: 1 }] }, 11000],
    // Aggregation.
    ['an unknown stage', { aggregate: 'data', pipeline: [{ $frobnicate: {} }], cursor: {} }, 40324],
    ['a stage with two fields', { aggregate: 'data', pipeline: [{ $match: {}, $sort: { a: 1 } }], cursor: {} }, 40323],
    ['an unknown operator in $match', { aggregate: 'data', pipeline: [{ $match: { a: { $foo: 1 } } }], cursor: {} }, 2],
    ['$group without _id', { aggregate: 'data', pipeline: [{ $group: { n: { $sum: 1 } } }], cursor: {} }, 15955],
    ['an unknown expression operator', { aggregate: 'data', pipeline: [{ $project: { x: { $frobnicate: 1 } } }], cursor: {} }, 168],
    ['aggregate without a cursor', { aggregate: 'data', pipeline: [] }, 9],
  ];

  for (const [what, cmd, code] of cases) {
    it(`${what} → ${String(code)}`, async () => {
      await expectCode(run(cmd), code);
    });
  }

  it('a statement error in an ordered batch stops only the later statements', async () => {
    await expectCode(run({ update: 'data', updates: [{ q: { _id: 1 }, u: { $foo: 1 } }, { q: { _id: 2 }, u: { $set: { a: 'changed' } } }] }), 9);
  });

  it('a hostile query that is valid is answered correctly (strings compare with strings only)', async () => {
    const docs = await db.collection<Loose>('data').find({ a: { $gt: '' } }).toArray();
    expect(docs.map((d) => d._id)).to.deep.equal([3]);
    expect(await db.collection<Loose>('data').countDocuments({ a: { $eq: { $gt: '' } } })).to.equal(0);
  });
});
