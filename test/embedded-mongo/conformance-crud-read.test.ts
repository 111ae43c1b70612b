/**
 * Conformance of the read commands (find with its projections and cursors,
 * getMore, killCursors, findAndModify, count, distinct, countDocuments) with
 * MongoDB's documented behaviour and the manual's examples.
 */
import { expect } from 'chai';
import { Decimal128, Double, Long, type Db, type Document } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/embedded.js';
import { all, expectCode, type Loose } from './conformance-helpers.js';

/** Cursor ids come back as Long (or as a number when small, or 0 when exhausted). */
function cursorId(v: unknown): Long {
  return typeof v === 'number' ? Long.fromNumber(v) : (v as Long);
}

describe('conformance: find, cursors, findAndModify, count, distinct', () => {
  let t: TestStore;
  let db: Db;

  before(async () => {
    t = await startTestStore();
    db = t.client.db('reads');
    // The manual's projection examples ($elemMatch and positional).
    await db.collection<Loose>('schools').insertMany([
      { _id: 1, zipcode: '63109', students: [{ name: 'john', school: 102, age: 10 }, { name: 'jess', school: 102, age: 11 }, { name: 'jeff', school: 108, age: 15 }] },
      { _id: 2, zipcode: '63110', students: [{ name: 'ajax', school: 100, age: 7 }, { name: 'achilles', school: 100, age: 8 }] },
      { _id: 3, zipcode: '63109', students: [{ name: 'ajax', school: 100, age: 7 }, { name: 'achilles', school: 100, age: 8 }] },
    ]);
    await db.collection<Loose>('students').insertMany([
      { _id: 1, semester: 1, grades: [70, 87, 90] },
      { _id: 2, semester: 1, grades: [90, 88, 92] },
      { _id: 3, semester: 1, grades: [85, 100, 90] },
      { _id: 4, semester: 2, grades: [79, 85, 80] },
    ]);
    await db.collection<Loose>('many').insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i, even: i % 2 === 0 })));
  });
  after(() => t.stop());

  describe('find', () => {
    it('filters, sorts and projects', async () => {
      const docs = await db.collection<Loose>('students').find({ semester: 1 }, { sort: { _id: -1 }, projection: { _id: 1, semester: 1 } }).toArray();
      expect(docs).to.deep.equal([{ _id: 3, semester: 1 }, { _id: 2, semester: 1 }, { _id: 1, semester: 1 }]);
      const excl = await db.collection<Loose>('students').findOne({ _id: 4 }, { projection: { grades: 0 } });
      expect(excl).to.deep.equal({ _id: 4, semester: 2 });
    });

    it('$slice keeps the other fields and cuts the array', async () => {
      const coll = db.collection<Loose>('students');
      expect(await coll.findOne({ _id: 1 }, { projection: { grades: { $slice: 2 } } })).to.deep.equal({ _id: 1, semester: 1, grades: [70, 87] });
      expect(await coll.findOne({ _id: 1 }, { projection: { grades: { $slice: -1 } } })).to.deep.equal({ _id: 1, semester: 1, grades: [90] });
      expect(await coll.findOne({ _id: 1 }, { projection: { grades: { $slice: [1, 1] } } })).to.deep.equal({ _id: 1, semester: 1, grades: [87] });
    });

    it('$elemMatch projection returns the first matching element only (manual example)', async () => {
      const docs = await db.collection<Loose>('schools').find({ zipcode: '63109' }, { projection: { students: { $elemMatch: { school: 102 } } } }).toArray();
      expect(docs).to.deep.equal([{ _id: 1, students: [{ name: 'john', school: 102, age: 10 }] }, { _id: 3 }]);
    });

    it('positional projection returns the element that matched the query (manual example)', async () => {
      const docs = await db.collection<Loose>('students').find({ semester: 1, grades: { $gte: 85 } }, { projection: { 'grades.$': 1 } }).toArray();
      expect(docs).to.deep.equal([{ _id: 1, grades: [87] }, { _id: 2, grades: [90] }, { _id: 3, grades: [85] }]);
    });

    it('skip and limit apply after the sort', async () => {
      const docs = await db.collection<Loose>('many').find({ even: true }, { sort: { _id: -1 }, skip: 2, limit: 3 }).toArray();
      expect(docs.map((d) => d._id)).to.deep.equal([244, 242, 240]);
    });
  });

  describe('cursors', () => {
    it('a getMore of ~17,000 small documents stays within the reply limit (array keys counted)', async function () {
      this.timeout(120_000);
      // 20,000 × ~900 bytes: a 16 MiB batch of documents plus ~7 bytes of array key each would overflow the reply.
      const filler = 'x'.repeat(860);
      const docs = Array.from({ length: 20_000 }, (_, i) => ({ _id: i, filler }));
      await db.collection<Loose>('smalls').insertMany(docs);
      let seen = 0;
      for await (const d of db.collection<Loose>('smalls').find()) {
        expect(d._id).to.equal(seen);
        seen++;
      }
      expect(seen).to.equal(20_000);
    });

    it('first batch is 101 by default; getMore without batchSize returns the rest', async () => {
      const first = await db.command({ find: 'many', filter: {} });
      expect(first.cursor.firstBatch).to.have.length(101);
      expect(first.cursor.ns).to.equal('reads.many');
      const id = cursorId(first.cursor.id);
      expect(id.isZero()).to.equal(false);
      const more = await db.command({ getMore: id, collection: 'many' });
      expect(more.cursor.nextBatch).to.have.length(149);
      expect(more.cursor.nextBatch[0]._id).to.equal(101);
      expect(cursorId(more.cursor.id).isZero()).to.equal(true);
      await expectCode(db.command({ getMore: id, collection: 'many' }), 43);
    });

    it('honours batchSize on find and getMore', async () => {
      const first = await db.command({ find: 'many', filter: {}, batchSize: 50 });
      expect(first.cursor.firstBatch).to.have.length(50);
      const id = cursorId(first.cursor.id);
      const second = await db.command({ getMore: id, collection: 'many', batchSize: 100 });
      expect(second.cursor.nextBatch.map((d: Document) => d._id)).to.deep.equal(Array.from({ length: 100 }, (_, i) => 50 + i));
      const third = await db.command({ getMore: id, collection: 'many', batchSize: 150 });
      expect(third.cursor.nextBatch).to.have.length(100);
      expect(cursorId(third.cursor.id).isZero()).to.equal(true);
    });

    it('limit closes the cursor after the limit', async () => {
      const first = await db.command({ find: 'many', filter: {}, limit: 120 });
      expect(first.cursor.firstBatch).to.have.length(101);
      const more = await db.command({ getMore: cursorId(first.cursor.id), collection: 'many' });
      expect(more.cursor.nextBatch).to.have.length(19);
      expect(cursorId(more.cursor.id).isZero()).to.equal(true);
    });

    it('singleBatch returns one batch and no cursor', async () => {
      const r = await db.command({ find: 'many', filter: {}, batchSize: 10, singleBatch: true });
      expect(r.cursor.firstBatch).to.have.length(10);
      expect(cursorId(r.cursor.id).isZero()).to.equal(true);
    });

    it('the driver iterates all batches', async () => {
      const docs = await db.collection<Loose>('many').find({}, { batchSize: 7 }).toArray();
      expect(docs).to.have.length(250);
      expect(new Set(docs.map((d) => d._id)).size).to.equal(250);
    });

    it('killCursors kills an open cursor; a later getMore gets 43', async () => {
      const first = await db.command({ find: 'many', filter: {}, batchSize: 2 });
      const id = cursorId(first.cursor.id);
      const killed = await db.command({ killCursors: 'many', cursors: [id] });
      expect(killed.cursorsKilled.map(String)).to.deep.equal([id.toString()]);
      expect(killed.cursorsNotFound).to.deep.equal([]);
      await expectCode(db.command({ getMore: id, collection: 'many' }), 43);
      const again = await db.command({ killCursors: 'many', cursors: [id] });
      expect(again.cursorsNotFound.map(String)).to.deep.equal([id.toString()]);
    });

    it('getMore on an unknown cursor id fails with 43 (CursorNotFound)', async () => {
      const err = await expectCode(db.command({ getMore: Long.fromString('123456789'), collection: 'many' }), 43);
      expect(err.codeName).to.equal('CursorNotFound');
    });
  });

  describe('findAndModify', () => {
    beforeEach(async () => {
      await db.collection<Loose>('fam').deleteMany({});
      await db.collection<Loose>('fam').insertMany([{ _id: 1, k: 'a', n: 1 }, { _id: 2, k: 'a', n: 5 }, { _id: 3, k: 'b', n: 3 }]);
    });

    it('returns the old document by default and the new one with new: true', async () => {
      const old = await db.command({ findAndModify: 'fam', query: { _id: 1 }, update: { $inc: { n: 1 } } });
      expect(old.value).to.deep.equal({ _id: 1, k: 'a', n: 1 });
      expect(old.lastErrorObject).to.include({ n: 1, updatedExisting: true });
      const fresh = await db.command({ findAndModify: 'fam', query: { _id: 1 }, update: { $inc: { n: 1 } }, new: true });
      expect(fresh.value).to.deep.equal({ _id: 1, k: 'a', n: 3 });
      expect(await db.collection<Loose>('fam').findOne({ _id: 1 })).to.deep.equal({ _id: 1, k: 'a', n: 3 });
    });

    it('picks the first document in sort order and projects with fields', async () => {
      const r = await db.command({ findAndModify: 'fam', query: { k: 'a' }, sort: { n: -1 }, update: { $set: { top: true } }, fields: { n: 1, _id: 0 }, new: true });
      expect(r.value).to.deep.equal({ n: 5 });
      expect((await all(db, 'fam')).filter((d) => d.top).map((d) => d._id)).to.deep.equal([2]);
    });

    it('upserts and reports the new _id', async () => {
      const r = await db.command({ findAndModify: 'fam', query: { _id: 9 }, update: { $set: { n: 0 } }, upsert: true, new: true });
      expect(r.value).to.deep.equal({ _id: 9, n: 0 });
      expect(r.lastErrorObject).to.deep.include({ n: 1, updatedExisting: false, upserted: 9 });
      expect(await db.collection<Loose>('fam').findOne({ _id: 9 })).to.deep.equal({ _id: 9, n: 0 });
      const none = await db.command({ findAndModify: 'fam', query: { _id: 10 }, update: { $set: { n: 0 } }, upsert: true });
      expect(none.value).to.equal(null);
      expect(await db.collection<Loose>('fam').countDocuments()).to.equal(5);
    });

    it('removes the document and returns it', async () => {
      const r = await db.command({ findAndModify: 'fam', query: { k: 'a' }, sort: { n: 1 }, remove: true });
      expect(r.value).to.deep.equal({ _id: 1, k: 'a', n: 1 });
      expect((await all(db, 'fam')).map((d) => d._id)).to.deep.equal([2, 3]);
      const none = await db.command({ findAndModify: 'fam', query: { k: 'zzz' }, remove: true });
      expect(none.value).to.equal(null);
      expect(none.lastErrorObject.n).to.equal(0);
    });

    it('works through the driver helpers', async () => {
      const coll = db.collection<Loose>('fam');
      const after = await coll.findOneAndUpdate({ _id: 3 }, { $set: { k: 'c' } }, { returnDocument: 'after' });
      expect(after).to.deep.equal({ _id: 3, k: 'c', n: 3 });
      const replaced = await coll.findOneAndReplace({ _id: 3 }, { r: 1 });
      expect(replaced).to.deep.equal({ _id: 3, k: 'c', n: 3 });
      expect(await coll.findOneAndDelete({ _id: 3 })).to.deep.equal({ _id: 3, r: 1 });
      expect(await coll.findOne({ _id: 3 })).to.equal(null);
    });
  });

  describe('count, distinct, countDocuments', () => {
    it('count applies query, skip and limit', async () => {
      expect((await db.command({ count: 'many' })).n).to.equal(250);
      expect((await db.command({ count: 'many', query: { even: true } })).n).to.equal(125);
      expect((await db.command({ count: 'many', query: { even: true }, skip: 100 })).n).to.equal(25);
      expect((await db.command({ count: 'many', query: { even: true }, limit: 10 })).n).to.equal(10);
      expect((await db.command({ count: 'nowhere' })).n).to.equal(0);
    });

    it('distinct unwinds arrays and treats equal numbers of different types as one value', async () => {
      await db.collection<Loose>('dist').insertMany([
        { v: [1, 2] }, { v: 2 }, { v: Long.fromNumber(2) }, { v: new Double(3) }, { v: 3 }, { v: Decimal128.fromString('1.0') },
        { v: 'x' }, { v: [[7]] }, { w: 1 }, { v: null },
      ]);
      const r = await db.command({ distinct: 'dist', key: 'v' });
      const values = r.values.map((v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Number(String(v)) : v));
      expect(values).to.have.length(6);
      expect(values).to.deep.include.members([1, 2, 3, 'x', [7], null]);
      const filtered = await db.collection<Loose>('dist').distinct('v', { v: { $type: 'string' } });
      expect(filtered).to.deep.equal(['x']);
      expect(await db.collection<Loose>('dist').distinct('v.nope')).to.deep.equal([]);
    });

    it('countDocuments and estimatedDocumentCount', async () => {
      const coll = db.collection<Loose>('many');
      expect(await coll.countDocuments({ even: false })).to.equal(125);
      expect(await coll.countDocuments({ _id: { $lt: 10 } }, { skip: 3, limit: 4 })).to.equal(4);
      expect(await coll.countDocuments({ _id: { $lt: 0 } })).to.equal(0);
      expect(await coll.estimatedDocumentCount()).to.equal(250);
    });
  });
});
