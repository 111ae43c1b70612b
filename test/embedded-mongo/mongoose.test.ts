/**
 * Mongoose 9 against the embedded store, through the unchanged mongodb driver:
 * indexes and duplicate-key errors, populate, cursors over thousands of
 * documents, updates, bulk writes, aggregation, BSON types beyond 2^53,
 * transactions (including contention), and explain.
 */
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { Long } from 'bson';
import mongoose, { Schema, Types, type Connection } from 'mongoose';
import { startTestStore, type TestStore } from '../helpers/embedded.js';

let t: TestStore;
let conn: Connection;
let dbSeq = 0;

async function freshConnection(): Promise<Connection> {
  return mongoose.createConnection(`${t.store.uri}mg${++dbSeq}`).asPromise();
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the operation to fail');
}

describe('embedded store: Mongoose 9', function () {
  this.timeout(20000);
  before(async () => { t = await startTestStore(); });
  after(async () => { await t?.stop(); });
  beforeEach(async () => { conn = await freshConnection(); });
  afterEach(async () => { await conn?.close(); });

  describe('indexes and duplicate keys', () => {
    it('init() builds a unique index and a duplicate insert fails with E11000 details', async () => {
      const User = conn.model('User', new Schema({ email: { type: String, unique: true }, name: String }));
      await User.init();
      const idx = await User.collection.indexes();
      expect(idx.find((i) => i.name === 'email_1')).to.include({ unique: true });
      const first = await User.create({ email: 'a@x.cn', name: 'A' });
      expect((await rejection(User.create({ _id: first._id, email: 'other@x.cn' }))).keyPattern).to.deep.equal({ _id: 1 });
      const err = await rejection(User.create({ email: 'a@x.cn', name: 'B' }));
      expect(err.code).to.equal(11000);
      expect(err.keyValue).to.deep.equal({ email: 'a@x.cn' });
      expect(err.keyPattern).to.deep.equal({ email: 1 });
      expect(err.message).to.match(/^E11000 duplicate key error collection: mg\d+\.users index: email_1 dup key: \{ email: "a@x.cn" \}/);
      expect(await User.find().lean()).to.have.length(1);
      expect((await User.findOne().lean())!.name).to.equal('A');
    });

    it('compound, sparse and partial unique indexes apply their own key rules', async () => {
      const s = new Schema({ a: Number, b: Number, code: String, email: String, active: Boolean });
      s.index({ a: 1, b: 1 }, { unique: true });
      s.index({ code: 1 }, { unique: true, sparse: true });
      s.index({ email: 1 }, { unique: true, partialFilterExpression: { active: true } });
      const M = conn.model('Keyed', s);
      await M.init();
      await M.create([{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 1 }]);
      const compound = await rejection(M.create({ a: 1, b: 2 }));
      expect(compound.code).to.equal(11000);
      expect(compound.keyPattern).to.deep.equal({ a: 1, b: 1 });
      expect(compound.keyValue).to.deep.equal({ a: 1, b: 2 });
      // sparse: missing codes are not indexed; present ones (null too) are
      await M.create([{ a: 3 }, { a: 4 }, { a: 5, code: 'X' }, { a: 6, code: null }]);
      expect((await rejection(M.create({ a: 7, code: 'X' }))).keyPattern).to.deep.equal({ code: 1 });
      expect((await rejection(M.create({ a: 8, code: null }))).code).to.equal(11000);
      // partial: only active documents take part
      await M.create([{ a: 10, email: 'p@x', active: false }, { a: 11, email: 'p@x', active: false }, { a: 12, email: 'p@x', active: true }]);
      expect((await rejection(M.create({ a: 13, email: 'p@x', active: true }))).keyPattern).to.deep.equal({ email: 1 });
      expect((await rejection(M.updateOne({ a: 10 }, { active: true }))).code).to.equal(11000);
      expect(await M.countDocuments({ email: 'p@x' })).to.equal(3);
      expect(await M.countDocuments({ a: { $in: [7, 8, 13] } })).to.equal(0);
      expect((await M.findOne({ a: 10 }).lean())!.active).to.equal(false);
    });

    it('syncIndexes drops indexes the schema lost and builds new ones', async () => {
      const s = new Schema({ x: Number, y: Number });
      s.index({ x: 1 });
      const M = conn.model('Synced', s);
      await M.init();
      await M.collection.createIndex({ y: 1 });
      const dropped = await M.syncIndexes();
      expect(dropped).to.deep.equal(['y_1']);
      expect((await M.collection.indexes()).map((i) => i.name).sort()).to.deep.equal(['_id_', 'x_1']);
    });
  });

  it('populates single and array references', async () => {
    const Author = conn.model('Author', new Schema({ name: String }));
    const Post = conn.model('Post', new Schema({
      title: String, author: { type: Schema.Types.ObjectId, ref: 'Author' }, reviewers: [{ type: Schema.Types.ObjectId, ref: 'Author' }],
    }));
    const [a, b, c] = await Author.create([{ name: 'A' }, { name: 'B' }, { name: 'C' }]);
    await Post.create({ title: 'p', author: a._id, reviewers: [c._id, b._id] });
    const p: any = await Post.findOne({ title: 'p' }).populate('author').populate('reviewers').lean();
    expect(p.author.name).to.equal('A');
    expect(p.reviewers.map((r: any) => r.name)).to.deep.equal(['C', 'B']);
  });

  describe('reads over many documents', () => {
    const Item = () => conn.models.Item ?? conn.model('Item', new Schema({ n: Number, g: String, pad: String }));
    beforeEach(async () => {
      const docs = Array.from({ length: 5000 }, (_, i) => ({ n: i, g: `g${i % 7}`, pad: 'x'.repeat(50) }));
      await Item().insertMany(docs.reverse(), { lean: true });
    });

    it('iterates 5,000 documents with a cursor in batches of 100', async () => {
      let expected = 0;
      const cursors = t.store.engine.cursors;
      for await (const doc of Item().find().sort({ n: 1 }).batchSize(100).cursor()) {
        expect(doc.n).to.equal(expected++);
        if (expected === 150) expect(cursors.openCount, 'a server cursor is open mid-stream').to.equal(1);
      }
      expect(expected).to.equal(5000);
      expect(cursors.openCount, 'the exhausted cursor is gone').to.equal(0);
    });

    it('find() returns 3,000 documents; limit/skip/sort/select; counts and distinct', async () => {
      const many = await Item().find({ n: { $lt: 3000 } }).lean();
      expect(many).to.have.length(3000);
      expect(new Set(many.map((d) => d.n)).size).to.equal(3000);
      const page = await Item().find({ g: 'g3' }).sort({ n: -1 }).skip(2).limit(3).select('n -_id').lean();
      expect(page).to.deep.equal([{ n: 4980 }, { n: 4973 }, { n: 4966 }]);
      expect(await Item().countDocuments({ g: 'g0' })).to.equal(715);
      expect(await Item().estimatedDocumentCount()).to.equal(5000);
      expect((await Item().distinct('g')).sort()).to.deep.equal(['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6']);
      await Item().deleteMany({ n: { $gte: 1000 } });
      expect(await Item().countDocuments()).to.equal(1000);
      expect(await Item().countDocuments({ n: { $gte: 1000 } })).to.equal(0);
    });
  });

  describe('updates and writes', () => {
    const schema = () => new Schema({ name: { type: String, unique: true }, n: Number, tags: [String], created: String }, { timestamps: true });

    it('findOneAndUpdate with new, upsert + $setOnInsert, and timestamps', async () => {
      const M = conn.model('Fou', schema());
      await M.init();
      const up = await M.findOneAndUpdate({ name: 'u' }, { $inc: { n: 1 }, $setOnInsert: { created: 'ins' } }, { upsert: true, new: true });
      expect(up!.toObject()).to.include({ name: 'u', n: 1, created: 'ins' });
      expect(up!.createdAt).to.be.instanceOf(Date);
      const createdAt = up!.createdAt!.getTime();
      await delay(5);
      const again = await M.findOneAndUpdate({ name: 'u' }, { $inc: { n: 1 }, $setOnInsert: { created: 'again' } }, { upsert: true, returnDocument: 'after' });
      expect(again!.toObject()).to.include({ n: 2, created: 'ins' });
      expect(again!.createdAt!.getTime()).to.equal(createdAt);
      expect(again!.updatedAt!.getTime()).to.be.greaterThan(createdAt);
      const old = await M.findOneAndUpdate({ name: 'u' }, { n: 10 });
      expect(old!.n).to.equal(2);
      const raw = await M.collection.findOne({ name: 'u' });
      expect(raw).to.include({ n: 10, created: 'ins' });
      expect(await M.countDocuments()).to.equal(1);
    });

    it('updateOne reports modifiedCount 0 for a no-op, and save() writes array changes', async () => {
      const M = conn.model('Saved', schema());
      const doc = await M.create({ name: 's', n: 1, tags: ['a', 'b'] });
      const noop = await M.updateOne({ name: 's' }, { $set: { n: 1 } }, { timestamps: false });
      expect(noop).to.include({ matchedCount: 1, modifiedCount: 0 });
      const real = await M.updateOne({ name: 's' }, { $set: { n: 2 } });
      expect(real).to.include({ matchedCount: 1, modifiedCount: 1 });
      const loaded = (await M.findById(doc._id))!;
      loaded.tags.push('c');
      await loaded.save();
      expect((await M.collection.findOne({ _id: doc._id }))!.tags).to.deep.equal(['a', 'b', 'c']);
      const tags = loaded.tags as unknown as Types.Array<string>;
      tags.pull('a');
      tags.set(0, 'B');
      await loaded.save();
      const raw = (await M.collection.findOne({ _id: doc._id }))!;
      expect(raw.tags).to.deep.equal(['B', 'c']);
      expect(raw.n).to.equal(2);
    });

    it('bulkWrite with several operation kinds', async () => {
      const M = conn.model('Bulk', schema());
      await M.create([{ name: 'a', n: 1 }, { name: 'b', n: 2 }, { name: 'c', n: 3 }, { name: 'd', n: 4 }]);
      const res = await M.bulkWrite([
        { insertOne: { document: { name: 'e', n: 5 } } },
        { updateOne: { filter: { name: 'a' }, update: { $inc: { n: 10 } } } },
        { updateMany: { filter: { n: { $gte: 3 } }, update: { $push: { tags: 'big' } } } },
        { replaceOne: { filter: { name: 'b' }, replacement: { name: 'b2', n: 20 } } },
        { deleteOne: { filter: { name: 'c' } } },
        { updateOne: { filter: { name: 'z' }, update: { $set: { n: 99 } }, upsert: true } },
      ]);
      expect(res).to.include({ insertedCount: 1, matchedCount: 6, modifiedCount: 6, deletedCount: 1, upsertedCount: 1 });
      const all = await M.find().sort({ name: 1 }).select('name n tags -_id').lean();
      expect(all).to.deep.equal([
        { name: 'a', n: 11, tags: ['big'] }, { name: 'b2', n: 20, tags: [] }, { name: 'd', n: 4, tags: ['big'] },
        { name: 'e', n: 5, tags: ['big'] }, { name: 'z', n: 99, tags: [] },
      ]);
    });

    it('insertMany ordered:false inserts all but the duplicate', async () => {
      const M = conn.model('Many', schema());
      await M.init();
      const err = await rejection(M.insertMany([{ name: 'a' }, { name: 'b' }, { name: 'a' }, { name: 'c' }], { ordered: false }));
      expect(err.code).to.equal(11000);
      expect((await M.find().lean()).map((d) => d.name).sort()).to.deep.equal(['a', 'b', 'c']);
    });

    it('aggregate with $match/$group/$sort/$lookup', async () => {
      const Cat = conn.model('Cat', new Schema({ _id: String, label: String }));
      const Sale = conn.model('Sale', new Schema({ cat: String, amount: Number }));
      await Cat.create([{ _id: 'x', label: 'X' }, { _id: 'y', label: 'Y' }]);
      await Sale.create([{ cat: 'x', amount: 5 }, { cat: 'y', amount: 7 }, { cat: 'x', amount: 4 }, { cat: 'y', amount: 1 }, { cat: 'x', amount: -3 }]);
      const out = await Sale.aggregate([
        { $match: { amount: { $gt: 0 } } },
        { $group: { _id: '$cat', total: { $sum: '$amount' }, count: { $sum: 1 } } },
        { $sort: { total: -1 } },
        { $lookup: { from: 'cats', localField: '_id', foreignField: '_id', as: 'cat' } },
        { $project: { total: 1, count: 1, label: { $first: '$cat.label' } } },
      ]);
      expect(out).to.deep.equal([{ _id: 'x', total: 9, count: 2, label: 'X' }, { _id: 'y', total: 8, count: 2, label: 'Y' }]);
    });
  });

  it('round-trips Decimal128, BigInt, Long, Buffer, UUID and Date with range queries beyond 2^53', async () => {
    const M = conn.model('Typed', new Schema({
      k: Number, d: Schema.Types.Decimal128, b: Schema.Types.BigInt, buf: Buffer, u: Schema.Types.UUID, at: Date,
    }));
    const big = 2n ** 53n;
    const uuid = new mongoose.mongo.BSON.UUID();
    const rows = [
      { k: 0, d: '9007199254740993.5', b: big + 3n, at: new Date('2024-01-01') },
      { k: 1, d: '9007199254740993', b: big + 1n, at: new Date('2024-03-01') },
      { k: 2, d: '1E+30', b: 2n ** 62n, at: new Date('2024-02-01') },
      { k: 3, d: '-0.1', b: -(big + 1n), at: new Date('2023-12-31') },
      { k: 4, d: '9007199254740992', b: big, buf: Buffer.from([0, 1, 254, 255]), u: uuid, at: new Date('2024-02-15') },
    ];
    await M.create(rows);
    await M.collection.insertMany([
      { k: 5, l: Long.fromBigInt(big + 1n) }, { k: 6, l: Long.fromBigInt(big + 2n) }, { k: 7, l: Long.fromBigInt(big) }, { k: 8, l: 2 ** 53 },
    ]);
    const gtBig = await M.find({ b: { $gt: big } }).sort({ b: 1 });
    expect(gtBig.map((r) => r.b)).to.deep.equal([big + 1n, big + 3n, 2n ** 62n]);
    const decs = await M.find({ d: { $gte: mongoose.Types.Decimal128.fromString('9007199254740993') } }).sort({ d: -1 });
    expect(decs.map((r) => r.k)).to.deep.equal([2, 0, 1]);
    expect(decs[0].d).to.be.instanceOf(Types.Decimal128);
    expect(decs[1].d!.toString()).to.equal('9007199254740993.5');
    const longs = await M.collection.find({ l: { $gt: Long.fromBigInt(big) } }, { useBigInt64: true }).sort({ l: 1 }).toArray();
    expect(longs.map((r) => r.l)).to.deep.equal([big + 1n, big + 2n]);
    expect(await M.countDocuments({ b: { $type: 'long' } })).to.equal(5);
    expect(await M.countDocuments({ d: { $type: 'decimal' } })).to.equal(5);
    expect(await M.countDocuments({ l: { $type: 'long' } })).to.equal(3);
    // numeric comparison across types: Long 2^53 equals double 2^53 and Decimal 9007199254740992
    expect(await M.countDocuments({ l: 2 ** 53 })).to.equal(2);
    expect(await M.collection.countDocuments({ b: mongoose.Types.Decimal128.fromString('9007199254740992') })).to.equal(1);
    const one = (await M.findOne({ k: 4 }))!;
    expect(Buffer.from(one.buf!)).to.deep.equal(Buffer.from([0, 1, 254, 255]));
    expect(String(one.u)).to.equal(uuid.toHexString(true));
    expect(await M.countDocuments({ u: uuid.toHexString(true) })).to.equal(1);
    const raw = (await M.collection.findOne({ k: 4 }))!;
    expect(raw.u._bsontype).to.equal('Binary');
    expect(raw.u.sub_type).to.equal(4);
    const inFeb = await M.find({ at: { $gte: new Date('2024-02-01'), $lt: new Date('2024-03-01') } }).sort({ at: 1 }).lean();
    expect(inFeb.map((r) => r.k)).to.deep.equal([2, 4]);
    expect(inFeb[0].at).to.be.instanceOf(Date);
  });

  describe('transactions', () => {
    const Counter = () => conn.models.Counter ?? conn.model('Counter', new Schema({ n: Number, x: Number }));

    it('commit is visible after; a throw aborts; reads inside see own writes, outside do not', async () => {
      const C = Counter();
      await C.createCollection();
      await conn.transaction(async (session) => {
        await C.create([{ n: 1 }], { session });
        expect(await C.countDocuments({ n: 1 }).session(session)).to.equal(1);
        expect(await C.find({ n: { $gte: 1 } }).session(session).lean()).to.have.length(1);
        expect(await C.countDocuments({ n: 1 })).to.equal(0); // outside the transaction
      });
      expect(await C.countDocuments({ n: 1 })).to.equal(1);
      const err = await rejection(conn.transaction(async (session) => {
        await C.create([{ n: 2 }], { session });
        await C.updateOne({ n: 1 }, { $set: { x: 5 } }, { session });
        throw new Error('boom');
      }));
      expect(err.message).to.equal('boom');
      expect(await C.countDocuments({ n: 2 })).to.equal(0);
      expect((await C.findOne({ n: 1 }).lean())!.x).to.equal(undefined);
      expect(t.store.engine.store.activeTxns.size).to.equal(0);
    });

    it('20 concurrent transactions incrementing one counter end at exactly 20', async () => {
      const C = Counter();
      const { _id } = await C.create({ n: 0 });
      const N = 20;
      await Promise.all(Array.from({ length: N }, () => conn.transaction(async (session) => {
        const c = (await C.findById(_id).session(session))!;
        c.n = (c.n ?? 0) + 1;
        await c.save({ session });
      })));
      expect((await C.findById(_id).lean())!.n).to.equal(N);
    });

    it('concurrent unique inserts in two transactions: one wins, the other fails', async () => {
      const U = conn.model('TxUser', new Schema({ email: { type: String, unique: true } }));
      await U.init();
      const attempt = (tag: string) => conn.transaction(async (session) => {
        await U.create([{ email: 'same@x' }], { session });
        await delay(50);
        return tag;
      });
      const results = await Promise.allSettled([attempt('a'), attempt('b')]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).to.have.length(1);
      expect(failed).to.have.length(1);
      expect(failed[0].reason.code).to.equal(11000);
      expect(await U.countDocuments({ email: 'same@x' })).to.equal(1);
    });

    it('a non-transactional update of a document held by an open transaction waits for it', async () => {
      const C = Counter();
      const { _id } = await C.create({ n: 0 });
      const session = await conn.startSession();
      try {
        session.startTransaction();
        await C.updateOne({ _id }, { $set: { x: 1 } }, { session });
        let settled = false;
        const outside = C.updateOne({ _id }, { $inc: { n: 1 } }).then((r) => ((settled = true), r));
        await delay(300);
        expect(settled).to.equal(false);
        expect((await C.findById(_id).lean())!).to.include({ n: 0 });
        await session.commitTransaction();
        expect((await outside).modifiedCount).to.equal(1);
      } finally {
        await session.endSession();
      }
      expect(await C.findById(_id).lean()).to.include({ n: 1, x: 1 });
    });
  });

  it('explain names the index used, or COLLSCAN', async () => {
    const M = conn.model('Explained', new Schema({ email: { type: String, index: true }, other: String }));
    await M.init();
    await M.create([{ email: 'a', other: 'x' }, { email: 'b', other: 'y' }]);
    const unwrap = (r: any) => (Array.isArray(r) ? r[0] : r);
    const ix = unwrap(await M.find({ email: 'a' }).explain('queryPlanner'));
    expect(ix.queryPlanner.winningPlan.inputStage.indexName).to.equal('email_1');
    expect(ix.queryPlanner.winningPlan.inputStage.stage).to.equal('IXSCAN');
    const scan = unwrap(await M.find({ other: 'x' }).explain('queryPlanner'));
    expect(scan.queryPlanner.winningPlan.stage).to.equal('COLLSCAN');
    const stats = unwrap(await M.find({ email: 'a' }).explain('executionStats'));
    expect(stats.executionStats.nReturned).to.equal(1);
    expect(stats.executionStats.totalDocsExamined).to.equal(1);
  });
});
