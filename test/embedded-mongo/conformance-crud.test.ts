/**
 * Conformance of the write commands (insert, update, delete) with MongoDB's
 * documented behaviour, through the real driver; every write is checked by
 * reading the collection back, not only by its reply.
 */
import { expect } from 'chai';
import { ObjectId, type Db } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/embedded.js';
import { all, expectCode, expectFailure, type Loose } from './conformance-helpers.js';

describe('conformance: insert, update, delete', () => {
  let t: TestStore;
  let db: Db;

  before(async () => {
    t = await startTestStore();
    db = t.client.db('crud');
  });
  after(() => t.stop());

  describe('insert', () => {
    it('generates an ObjectId _id when none is given, and stores _id first', async () => {
      const reply = await db.command({ insert: 'gen', documents: [{ a: 1 }, { b: 2, _id: 7 }] });
      expect(reply).to.include({ n: 2, ok: 1 });
      const docs = await db.collection<Loose>('gen').find().toArray();
      expect(docs).to.have.length(2);
      const generated = docs.find((d) => d.a === 1)!;
      expect(generated._id).to.be.instanceOf(ObjectId);
      for (const d of docs) expect(Object.keys(d)[0]).to.equal('_id');
      expect(docs.find((d) => d._id === 7)).to.deep.equal({ _id: 7, b: 2 });
    });

    it('ordered batch stops at the first error and reports index, code and keyValue', async () => {
      const reply = await db.command({ insert: 'ord', documents: [{ _id: 1 }, { _id: 1, x: 'dup' }, { _id: 2 }] });
      expect(reply.n).to.equal(1);
      expect(reply.writeErrors).to.have.length(1);
      expect(reply.writeErrors[0]).to.include({ index: 1, code: 11000 });
      expect(reply.writeErrors[0].keyValue).to.deep.equal({ _id: 1 });
      expect(reply.writeErrors[0].errmsg).to.match(/E11000 duplicate key error/);
      expect(await all(db, 'ord')).to.deep.equal([{ _id: 1 }]);
    });

    it('unordered batch continues past errors and reports each one', async () => {
      const reply = await db.command({
        insert: 'unord', ordered: false,
        documents: [{ _id: 1 }, { _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }],
      });
      expect(reply.n).to.equal(3);
      expect(reply.writeErrors.map((e: { index: number; code: number }) => [e.index, e.code])).to.deep.equal([[1, 11000], [3, 11000]]);
      expect(reply.writeErrors[1].keyValue).to.deep.equal({ _id: 2 });
      expect(await all(db, 'unord')).to.deep.equal([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    });

    it('insertMany through the driver surfaces writeErrors as MongoBulkWriteError', async () => {
      const err = await expectFailure(db.collection<Loose>('bulk').insertMany([{ _id: 'a' }, { _id: 'a' }, { _id: 'b' }], { ordered: false }));
      expect(err.code).to.equal(11000);
      expect(err.writeErrors).to.have.length(1);
      expect(err.writeErrors[0].index).to.equal(1);
      expect(await db.collection<Loose>('bulk').countDocuments()).to.equal(2);
    });

    it("accepts '$'-prefixed field names at any level (manual: dollar-prefixed field names)", async () => {
      await db.collection<Loose>('dollar').insertOne({ _id: 1, $price: 50, quantity: 30 });
      await db.collection<Loose>('dollar').insertOne({ _id: 2, $id: 'h1961-01', location: { $db: 'novels', $ref: '2007042768', $inc: true } });
      expect(await all(db, 'dollar')).to.deep.equal([
        { _id: 1, $price: 50, quantity: 30 },
        { _id: 2, $id: 'h1961-01', location: { $db: 'novels', $ref: '2007042768', $inc: true } },
      ]);
      // A replacement, unlike an insert, may not have a top-level '$' field.
      const r = await db.command({ update: 'dollar', updates: [{ q: { _id: 1 }, u: { quantity: 1, $price: 1 } }] });
      expect(r.writeErrors?.[0]?.code).to.equal(52);
      expect(await db.collection<Loose>('dollar').findOne({ _id: 1 })).to.deep.equal({ _id: 1, $price: 50, quantity: 30 });
    });

    it('rejects an array _id with 53 (InvalidIdField)', async () => {
      const reply = await db.command({ insert: 'badid', documents: [{ _id: [1, 2] }] });
      expect(reply.n).to.equal(0);
      expect(reply.writeErrors[0]).to.include({ index: 0, code: 53, codeName: 'InvalidIdField' });
      expect(await db.collection<Loose>('badid').countDocuments()).to.equal(0);
    });

    it('refuses a document over 16 MB (10334 or a driver-side size error) and stores nothing', async () => {
      const big = { _id: 'big', blob: 'x'.repeat(16 * 1024 * 1024) };
      const err = await expectFailure(db.collection<Loose>('big').insertOne(big));
      if (err.code !== undefined && typeof err.code === 'number') expect(err.code).to.equal(10334);
      else expect(String(err.message)).to.match(/larger than|too large|size/i);
      expect(await db.collection<Loose>('big').countDocuments()).to.equal(0);
      const viaCommand = await db.command({ insert: 'big', documents: [{ _id: 'b2', blob: 'y'.repeat(16 * 1024 * 1024 - 10) }] }).catch((e) => e);
      const code = viaCommand.writeErrors?.[0]?.code ?? viaCommand.code;
      if (code !== undefined) expect(code).to.equal(10334);
      expect(await db.collection<Loose>('big').countDocuments()).to.equal(0);
    });
  });

  describe('update', () => {
    beforeEach(async () => {
      await db.collection<Loose>('u').deleteMany({});
      await db.collection<Loose>('u').insertMany([
        { _id: 1, a: 1, grades: [80, 85, 90], tags: ['x'] },
        { _id: 2, a: 2, grades: [95, 102, 100], tags: ['y'] },
        { _id: 3, a: 1, grades: [100, 110] },
      ]);
    });

    it('applies operators and reports n/nModified', async () => {
      const reply = await db.command({ update: 'u', updates: [{ q: { _id: 1 }, u: { $set: { b: 'new' }, $inc: { a: 5 } } }] });
      expect(reply).to.include({ n: 1, nModified: 1, ok: 1 });
      expect(await db.collection<Loose>('u').findOne({ _id: 1 })).to.deep.equal({ _id: 1, a: 6, grades: [80, 85, 90], tags: ['x'], b: 'new' });
    });

    it('replaces a whole document, keeping _id', async () => {
      const res = await db.collection<Loose>('u').replaceOne({ _id: 2 }, { z: true });
      expect(res.modifiedCount).to.equal(1);
      expect(await db.collection<Loose>('u').findOne({ _id: 2 })).to.deep.equal({ _id: 2, z: true });
    });

    it('runs a pipeline update with aggregation expressions', async () => {
      await db.collection<Loose>('u').updateOne({ _id: 1 }, [{ $set: { total: { $sum: '$grades' }, count: { $size: '$grades' } } }, { $unset: 'tags' }]);
      expect(await db.collection<Loose>('u').findOne({ _id: 1 })).to.deep.equal({ _id: 1, a: 1, grades: [80, 85, 90], total: 255, count: 3 });
    });

    it('nModified counts only documents that really changed', async () => {
      const reply = await db.command({ update: 'u', updates: [{ q: {}, u: { $set: { a: 1 } }, multi: true }] });
      expect(reply).to.include({ n: 3, nModified: 1 });
      const same = await db.collection<Loose>('u').updateOne({ _id: 1 }, { $set: { a: 1, grades: [80, 85, 90] } });
      expect([same.matchedCount, same.modifiedCount]).to.deep.equal([1, 0]);
      expect((await all(db, 'u')).map((d) => d.a)).to.deep.equal([1, 1, 1]);
    });

    it('upserts with $setOnInsert and seeds the document from equality predicates (dotted and $and)', async () => {
      const reply = await db.command({
        update: 'u',
        updates: [{
          q: { name: 'ann', 'addr.city': 'Hangzhou', $and: [{ level: 3 }, { score: { $gt: 10 } }], kind: { $eq: 'p' } },
          u: { $set: { visits: 1 }, $setOnInsert: { created: true } },
          upsert: true,
        }],
      });
      expect(reply).to.include({ n: 1, nModified: 0 });
      expect(reply.upserted).to.have.length(1);
      expect(reply.upserted[0].index).to.equal(0);
      const id = reply.upserted[0]._id;
      expect(id).to.be.instanceOf(ObjectId);
      const doc = await db.collection<Loose>('u').findOne({ _id: id });
      expect(doc).to.deep.equal({ _id: id, name: 'ann', addr: { city: 'Hangzhou' }, level: 3, kind: 'p', visits: 1, created: true });
      // On a match, $setOnInsert does nothing.
      await db.collection<Loose>('u').updateOne({ name: 'ann' }, { $inc: { visits: 1 }, $setOnInsert: { created: false } }, { upsert: true });
      expect(await db.collection<Loose>('u').findOne({ _id: id })).to.include({ visits: 2, created: true });
      expect(await db.collection<Loose>('u').countDocuments({ name: 'ann' })).to.equal(1);
    });

    it('adds new fields in lexicographic order (MongoDB 5.0+)', async () => {
      await db.collection<Loose>('u').updateOne({ _id: 3 }, { $set: { zeta: 1, beta: 2, 'nested.y': 1, 'nested.x': 2 } });
      const doc = await db.collection<Loose>('u').findOne({ _id: 3 });
      expect(Object.keys(doc!)).to.deep.equal(['_id', 'a', 'grades', 'beta', 'nested', 'zeta']);
      expect(Object.keys(doc!.nested)).to.deep.equal(['x', 'y']);
    });

    it('an upsert whose filter misses an existing _id is a duplicate key, never a silent replace', async () => {
      // The lease pattern: {_id, expiresAt <= now} misses a live lease, so the upsert tries to insert that _id.
      const c = db.collection<Loose>('lease');
      await c.insertOne({ _id: 'job', owner: 'a', until: 10 });
      await expectCode(c.updateOne({ _id: 'job', until: { $lte: 5 } }, { $set: { owner: 'b' } }, { upsert: true }), 11000);
      await expectCode(c.findOneAndUpdate({ _id: 'job', until: { $lte: 5 } }, { $set: { owner: 'c' } }, { upsert: true }), 11000);
      await expectCode(c.replaceOne({ _id: 'job', until: { $lte: 5 } }, { owner: 'd' }, { upsert: true }), 11000);
      expect(await all(db, 'lease')).to.deep.equal([{ _id: 'job', owner: 'a', until: 10 }]);
      const session = t.client.startSession();
      try {
        await expectCode(session.withTransaction(() => c.updateOne({ _id: 'job', until: { $lte: 5 } }, { $set: { owner: 'e' } }, { upsert: true, session })), 11000);
      } finally {
        await session.endSession();
      }
      expect(await all(db, 'lease')).to.deep.equal([{ _id: 'job', owner: 'a', until: 10 }]);
    });

    it('upsert takes _id from the query', async () => {
      const res = await db.collection<Loose>('u').updateOne({ _id: 'fresh' }, { $set: { v: 1 } }, { upsert: true });
      expect(res.upsertedId).to.equal('fresh');
      expect(await db.collection<Loose>('u').findOne({ _id: 'fresh' as never })).to.deep.equal({ _id: 'fresh', v: 1 });
    });

    it('positional $ updates the first matching element', async () => {
      await db.collection<Loose>('u').updateOne({ _id: 1, grades: 85 }, { $set: { 'grades.$': 82 } });
      expect((await db.collection<Loose>('u').findOne({ _id: 1 }))!.grades).to.deep.equal([80, 82, 90]);
    });

    it('$[] updates every element', async () => {
      await db.collection<Loose>('u').updateMany({}, { $inc: { 'grades.$[]': 10 } });
      expect((await all(db, 'u')).map((d) => d.grades)).to.deep.equal([[90, 95, 100], [105, 112, 110], [110, 120]]);
    });

    it('$[id] with arrayFilters updates only the filtered elements', async () => {
      const res = await db.collection<Loose>('u').updateMany({}, { $set: { 'grades.$[g]': 100 } }, { arrayFilters: [{ g: { $gte: 100 } }] });
      expect([res.matchedCount, res.modifiedCount]).to.deep.equal([3, 2]);
      expect((await all(db, 'u')).map((d) => d.grades)).to.deep.equal([[80, 85, 90], [95, 100, 100], [100, 100]]);
    });

    it('changing _id fails with 66 (ImmutableField) and leaves the document alone', async () => {
      const reply = await db.command({ update: 'u', updates: [{ q: { _id: 1 }, u: { $set: { _id: 9 } } }] });
      expect(reply.writeErrors[0]).to.include({ index: 0, code: 66, codeName: 'ImmutableField' });
      await expectCode(db.collection<Loose>('u').replaceOne({ _id: 1 }, { _id: 10, a: 0 }), 66);
      expect((await all(db, 'u')).map((d) => d._id)).to.deep.equal([1, 2, 3]);
      expect((await db.collection<Loose>('u').findOne({ _id: 1 }))!.a).to.equal(1);
    });

    it('refuses multi: true with a replacement document', async () => {
      const out = await db.command({ update: 'u', updates: [{ q: {}, u: { a: 0 }, multi: true }] }).catch((e) => e);
      const code = out.writeErrors?.[0]?.code ?? out.code;
      expect(code).to.equal(9);
      expect((await all(db, 'u')).map((d) => d.a)).to.deep.equal([1, 2, 1]);
    });
  });

  describe('delete', () => {
    beforeEach(async () => {
      await db.collection<Loose>('d').deleteMany({});
      await db.collection<Loose>('d').insertMany([{ _id: 1, k: 'a' }, { _id: 2, k: 'a' }, { _id: 3, k: 'b' }]);
    });

    it('limit 1 deletes one matching document', async () => {
      const reply = await db.command({ delete: 'd', deletes: [{ q: { k: 'a' }, limit: 1 }] });
      expect(reply).to.include({ n: 1, ok: 1 });
      expect(await db.collection<Loose>('d').countDocuments({ k: 'a' })).to.equal(1);
      expect(await db.collection<Loose>('d').countDocuments({ k: 'b' })).to.equal(1);
    });

    it('limit 0 deletes every matching document', async () => {
      const reply = await db.command({ delete: 'd', deletes: [{ q: { k: 'a' }, limit: 0 }] });
      expect(reply.n).to.equal(2);
      expect(await all(db, 'd')).to.deep.equal([{ _id: 3, k: 'b' }]);
    });

    it('deleting from a missing collection matches nothing', async () => {
      const reply = await db.command({ delete: 'nowhere', deletes: [{ q: {}, limit: 0 }] });
      expect(reply).to.include({ n: 0, ok: 1 });
    });
  });
});
