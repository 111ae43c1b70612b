/**
 * Conformance of `aggregate`: the common stages, `$lookup` across
 * collections, `$facet`, `$count`, and the writing stages `$out` (atomic
 * replacement that keeps the target's indexes) and `$merge` (each
 * whenMatched/whenNotMatched mode), checked by reading the targets back.
 */
import { expect } from 'chai';
import { Decimal128, Double, Long, type Db } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/embedded.js';
import { all, expectCode, expectFailure, type Loose } from './conformance-helpers.js';

describe('conformance: aggregate', () => {
  let t: TestStore;
  let db: Db;

  before(async () => {
    t = await startTestStore();
    db = t.client.db('agg');
    // The manual's $lookup example.
    await db.collection<Loose>('orders').insertMany([
      { _id: 1, item: 'almonds', price: 12, quantity: 2 },
      { _id: 2, item: 'pecans', price: 20, quantity: 1 },
      { _id: 3 },
    ]);
    await db.collection<Loose>('inventory').insertMany([
      { _id: 1, sku: 'almonds', description: 'product 1', instock: 120 },
      { _id: 2, sku: 'bread', description: 'product 2', instock: 80 },
      { _id: 3, sku: 'cashews', description: 'product 3', instock: 60 },
      { _id: 4, sku: 'pecans', description: 'product 4', instock: 70 },
      { _id: 5, sku: null, description: 'Incomplete' },
      { _id: 6 },
    ]);
    await db.collection<Loose>('sales').insertMany([
      { _id: 1, store: 'a', tags: ['x', 'y'], amount: 10 },
      { _id: 2, store: 'b', tags: ['y'], amount: 5 },
      { _id: 3, store: 'a', tags: [], amount: 7 },
      { _id: 4, store: 'c', tags: ['x'], amount: 1 },
    ]);
  });
  after(() => t.stop());

  it('$match, $group, $sort and $project', async () => {
    const out = await db.collection<Loose>('sales').aggregate([
      { $match: { amount: { $gte: 5 } } },
      { $group: { _id: '$store', total: { $sum: '$amount' }, n: { $sum: 1 } } },
      { $sort: { total: -1 } },
      { $project: { _id: 0, store: '$_id', total: 1, n: 1 } },
    ]).toArray();
    expect(out).to.deep.equal([{ total: 17, n: 2, store: 'a' }, { total: 5, n: 1, store: 'b' }]);
  });

  it('$unwind drops empty arrays and emits one document per element', async () => {
    const out = await db.collection<Loose>('sales').aggregate([{ $unwind: '$tags' }, { $project: { tags: 1 } }, { $sort: { _id: 1, tags: 1 } }]).toArray();
    expect(out).to.deep.equal([{ _id: 1, tags: 'x' }, { _id: 1, tags: 'y' }, { _id: 2, tags: 'y' }, { _id: 4, tags: 'x' }]);
  });

  it('$lookup joins another collection (manual example: null and missing join each other)', async () => {
    const out = await db.collection<Loose>('orders').aggregate([
      { $lookup: { from: 'inventory', localField: 'item', foreignField: 'sku', as: 'inventory_docs' } },
      { $sort: { _id: 1 } },
    ]).toArray();
    expect(out[0].inventory_docs.map((d: { _id: number }) => d._id)).to.deep.equal([1]);
    expect(out[1].inventory_docs.map((d: { _id: number }) => d._id)).to.deep.equal([4]);
    expect(out[2].inventory_docs.map((d: { _id: number }) => d._id).sort()).to.deep.equal([5, 6]);
  });

  it('$facet runs sub-pipelines over the same input; $count counts', async () => {
    const [out] = await db.collection<Loose>('sales').aggregate([
      { $facet: { big: [{ $match: { amount: { $gt: 6 } } }, { $count: 'n' }], stores: [{ $group: { _id: '$store' } }, { $sort: { _id: 1 } }] } },
    ]).toArray();
    expect(out).to.deep.equal({ big: [{ n: 2 }], stores: [{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }] });
    const counted = await db.collection<Loose>('sales').aggregate([{ $match: { store: 'a' } }, { $count: 'total' }]).toArray();
    expect(counted).to.deep.equal([{ total: 2 }]);
    const none = await db.collection<Loose>('sales').aggregate([{ $match: { store: 'zzz' } }, { $count: 'total' }]).toArray();
    expect(none).to.deep.equal([]);
  });

  it('returns a cursor with a first batch of 101 by default', async () => {
    await db.collection<Loose>('big').insertMany(Array.from({ length: 150 }, (_, i) => ({ _id: i })));
    const r = await db.command({ aggregate: 'big', pipeline: [{ $sort: { _id: 1 } }], cursor: {} });
    expect(r.cursor.firstBatch).to.have.length(101);
    expect(String(r.cursor.id)).to.not.equal('0');
    expect(await db.collection<Loose>('big').aggregate([{ $skip: 10 }]).toArray()).to.have.length(140);
  });

  describe('BSON numbers in every stage', () => {
    before(async () => {
      await db.collection<Loose>('typed').insertMany([
        { _id: 1, g: 'a', v: new Double(7) }, { _id: 2, g: 'a', v: Long.fromNumber(5) }, { _id: 3, g: 'a', v: 2.5 },
        { _id: 4, g: 'b', v: 3 }, { _id: 5, g: 'b', v: 'text' },
      ]);
    });

    it('$group accumulates Double and Int64 values; a later $match and $sort compare numerically', async () => {
      const out = await db.collection<Loose>('typed').aggregate([
        { $group: { _id: '$g', total: { $sum: '$v' }, top: { $max: '$v' } } },
        { $match: { total: { $gt: 10 } } },
      ]).toArray();
      expect(out).to.deep.equal([{ _id: 'a', total: 14.5, top: 7 }]);
      const sorted = await db.collection<Loose>('typed').aggregate([{ $addFields: { k: 1 } }, { $sort: { v: -1 } }, { $match: { v: { $lte: 7 } } }]).toArray();
      expect(sorted.map((d) => d._id)).to.deep.equal([1, 2, 4, 3]);
      const sevens = await db.collection<Loose>('typed').aggregate([{ $addFields: { k: 1 } }, { $match: { v: 7 } }]).toArray();
      expect(sevens.map((d) => d._id)).to.deep.equal([1]);
    });

    it('documents passed through later stages keep their exact types', async () => {
      const out = await db.collection<Loose>('typed').aggregate([{ $skip: 0 }, { $limit: 2 }], { promoteValues: false }).toArray();
      expect(out.map((d) => d.v._bsontype)).to.deep.equal(['Double', 'Long']);
    });

    // MongoDB returns Decimal128 1.3; mingo cannot compute it exactly, so the store refuses rather than answer wrongly.
    it('$sum over Decimal128 inputs is refused with an error naming Decimal128, not answered wrongly', async () => {
      await db.collection<Loose>('dec').insertMany([{ v: Decimal128.fromString('0.1') }, { v: Decimal128.fromString('0.2') }, { v: 1 }]);
      const err = await db.collection<Loose>('dec').aggregate([{ $group: { _id: null, s: { $sum: '$v' } } }]).toArray().catch((e) => e);
      expect(err).to.have.property('code', 238);
      expect(err.message).to.contain('Decimal128');
      const counted = await db.collection<Loose>('dec').aggregate([{ $match: { v: { $gt: 0.15 } } }, { $count: 'n' }]).toArray();
      expect(counted).to.deep.equal([{ n: 2 }]);
      const carried = await db.collection<Loose>('dec').aggregate([{ $project: { _id: 0, v: 1 } }, { $limit: 1 }], { promoteValues: false }).toArray();
      expect(carried[0].v._bsontype).to.equal('Decimal128');
      expect(carried[0].v.toString()).to.equal('0.1');
    });
  });

  describe('$out', () => {
    beforeEach(async () => {
      await db.collection<Loose>('report').drop();
      await db.collection<Loose>('report').insertMany([{ _id: 'old1', store: 'old' }, { _id: 'old2', store: 'older' }]);
      await db.collection<Loose>('report').createIndex({ store: 1 }, { unique: true, name: 'store_unique' });
    });

    it('replaces the target collection and keeps its indexes', async () => {
      const r = await db.collection<Loose>('sales').aggregate([{ $group: { _id: '$store', total: { $sum: '$amount' } } }, { $project: { store: '$_id', total: 1 } }, { $out: 'report' }]).toArray();
      expect(r).to.deep.equal([]);
      const docs = await all(db, 'report');
      expect(docs).to.deep.equal([{ _id: 'a', total: 17, store: 'a' }, { _id: 'b', total: 5, store: 'b' }, { _id: 'c', total: 1, store: 'c' }]);
      const names = (await db.collection<Loose>('report').listIndexes().toArray()).map((i) => i.name);
      expect(names).to.have.members(['_id_', 'store_unique']);
      // The kept unique index is live on the new contents.
      await expectCode(db.collection<Loose>('report').insertOne({ _id: 'z', store: 'a' }), 11000);
    });

    it('a duplicate against the target unique index fails and leaves the target untouched', async () => {
      // Every sale gets the same `store`, so the unique index rejects the second one.
      await expectCode(db.collection<Loose>('sales').aggregate([{ $project: { store: 'same' } }, { $out: 'report' }]).toArray(), 11000);
      expect(await all(db, 'report')).to.deep.equal([{ _id: 'old1', store: 'old' }, { _id: 'old2', store: 'older' }]);
      expect((await db.collection<Loose>('report').listIndexes().toArray()).map((i) => i.name)).to.have.members(['_id_', 'store_unique']);
    });

    it('creates the target when it does not exist', async () => {
      await db.collection<Loose>('sales').aggregate([{ $match: { store: 'b' } }, { $out: 'fresh_out' }]).toArray();
      expect(await all(db, 'fresh_out')).to.deep.equal([{ _id: 2, store: 'b', tags: ['y'], amount: 5 }]);
    });

    it('$out must be the last stage', async () => {
      await expectCode(db.collection<Loose>('sales').aggregate([{ $out: 'report' }, { $match: {} }]).toArray(), 40601);
    });
  });

  describe('$merge', () => {
    beforeEach(async () => {
      await db.collection<Loose>('target').deleteMany({});
      await db.collection<Loose>('target').insertMany([{ _id: 1, store: 'a', keep: true, amount: 0 }, { _id: 99, other: 'untouched' }]);
    });
    const source = () => db.collection<Loose>('sales').aggregate([{ $match: { _id: { $in: [1, 2] } } }, { $project: { store: 1, amount: 1 } }]);

    async function mergeWith(spec: Record<string, unknown>) {
      await db.collection<Loose>('sales').aggregate([
        { $match: { _id: { $in: [1, 2] } } },
        { $project: { store: 1, amount: 1 } },
        { $merge: { into: 'target', ...spec } },
      ]).toArray();
      return all(db, 'target');
    }

    it('source documents are what the merge sees', async () => {
      expect(await source().toArray()).to.deep.equal([{ _id: 1, store: 'a', amount: 10 }, { _id: 2, store: 'b', amount: 5 }]);
    });

    it('whenMatched merge (default) merges fields; whenNotMatched insert (default) inserts', async () => {
      expect(await mergeWith({})).to.deep.equal([
        { _id: 1, store: 'a', keep: true, amount: 10 },
        { _id: 2, store: 'b', amount: 5 },
        { _id: 99, other: 'untouched' },
      ]);
    });

    it('whenMatched replace replaces the document', async () => {
      const docs = await mergeWith({ whenMatched: 'replace', whenNotMatched: 'discard' });
      expect(docs).to.deep.equal([{ _id: 1, store: 'a', amount: 10 }, { _id: 99, other: 'untouched' }]);
    });

    it('whenMatched keepExisting keeps the target document', async () => {
      const docs = await mergeWith({ whenMatched: 'keepExisting' });
      expect(docs).to.deep.equal([{ _id: 1, store: 'a', keep: true, amount: 0 }, { _id: 2, store: 'b', amount: 5 }, { _id: 99, other: 'untouched' }]);
    });

    it('whenMatched fail fails the aggregation and leaves the matched document alone', async () => {
      const err = await expectFailure(mergeWith({ whenMatched: 'fail' }));
      expect(err.code).to.equal(11000);
      expect(await db.collection<Loose>('target').findOne({ _id: 1 })).to.deep.equal({ _id: 1, store: 'a', keep: true, amount: 0 });
    });

    it('whenMatched with an update pipeline uses $$new', async () => {
      const docs = await mergeWith({ whenMatched: [{ $set: { amount: { $add: ['$amount', '$$new.amount'] }, merged: true } }], whenNotMatched: 'discard' });
      expect(docs).to.deep.equal([{ _id: 1, store: 'a', keep: true, amount: 10, merged: true }, { _id: 99, other: 'untouched' }]);
    });

    it("merging 'on' a field needs a unique index on it (51183)", async () => {
      await expectCode(mergeWith({ on: 'store' }), 51183);
      expect(await db.collection<Loose>('target').countDocuments()).to.equal(2);
      await db.collection<Loose>('target').createIndex({ store: 1 }, { unique: true });
      const docs = await mergeWith({ on: 'store', whenMatched: 'merge' });
      // The target keeps its own _id for the matched document; the unmatched one is inserted.
      expect(docs.find((d) => d.store === 'a')).to.deep.equal({ _id: 1, store: 'a', keep: true, amount: 10 });
      expect(docs.filter((d) => d.store === 'b')).to.have.length(1);
    });
  });
});
