/**
 * Conformance of indexes: the createIndexes/listIndexes/dropIndexes replies
 * and errors, the key rules (unique, compound, multikey, sparse, partial,
 * parallel arrays), what explain reports for the planner's choice, and TTL.
 */
import { expect } from 'chai';
import { Double, Long, type Db, type Document } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/embedded.js';
import { all, expectCode, planStages, type Loose } from './conformance-helpers.js';

describe('conformance: indexes', () => {
  let t: TestStore;
  let db: Db;
  const indexNames = async (coll: string) => (await db.collection<Loose>(coll).listIndexes().toArray()).map((i) => i.name);

  before(async () => {
    t = await startTestStore();
    db = t.client.db('idx');
  });
  after(() => t.stop());

  describe('createIndexes, listIndexes, dropIndexes', () => {
    it('reports numIndexesBefore/After and createdCollectionAutomatically', async () => {
      const first = await db.command({ createIndexes: 'c1', indexes: [{ key: { a: 1 }, name: 'a_1' }] });
      expect(first).to.deep.include({ numIndexesBefore: 1, numIndexesAfter: 2, createdCollectionAutomatically: true, ok: 1 });
      const second = await db.command({ createIndexes: 'c1', indexes: [{ key: { b: -1, c: 1 }, name: 'b_-1_c_1' }] });
      expect(second).to.deep.include({ numIndexesBefore: 2, numIndexesAfter: 3, createdCollectionAutomatically: false });
    });

    it('re-creating an identical index is a no-op with a note', async () => {
      const again = await db.command({ createIndexes: 'c1', indexes: [{ key: { a: 1 }, name: 'a_1' }] });
      expect(again).to.deep.include({ numIndexesBefore: 3, numIndexesAfter: 3, ok: 1 });
      expect(again.note).to.equal('all indexes already exist');
      expect(await db.collection<Loose>('c1').createIndex({ a: 1 })).to.equal('a_1');
      expect(await indexNames('c1')).to.deep.equal(['_id_', 'a_1', 'b_-1_c_1']);
    });

    it('listIndexes reports v, key and name (and the options given)', async () => {
      await db.collection<Loose>('c1').createIndex({ u: 1 }, { unique: true, sparse: true });
      const specs = await db.collection<Loose>('c1').listIndexes().toArray();
      expect(specs[0]).to.deep.equal({ v: 2, key: { _id: 1 }, name: '_id_' });
      expect(specs.find((s) => s.name === 'u_1')).to.deep.equal({ v: 2, key: { u: 1 }, name: 'u_1', unique: true, sparse: true });
    });

    it('the same name with another key is 86; the same key with another name or options is 85', async () => {
      await expectCode(db.command({ createIndexes: 'c1', indexes: [{ key: { z: 1 }, name: 'a_1' }] }), 86);
      await expectCode(db.command({ createIndexes: 'c1', indexes: [{ key: { a: 1 }, name: 'another' }] }), 85);
      await expectCode(db.command({ createIndexes: 'c1', indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }] }), 85);
      expect(await indexNames('c1')).to.deep.equal(['_id_', 'a_1', 'b_-1_c_1', 'u_1']);
    });

    it('listIndexes on a missing collection is 26 (NamespaceNotFound)', async () => {
      const err = await expectCode(db.command({ listIndexes: 'nope' }), 26);
      expect(err.codeName).to.equal('NamespaceNotFound');
    });

    it('dropIndexes by name, by key, "*" and a missing name (27)', async () => {
      await db.collection<Loose>('c2').createIndexes([{ key: { a: 1 } }, { key: { b: 1 } }, { key: { c: 1 } }, { key: { d: 1 } }]);
      const byName = await db.command({ dropIndexes: 'c2', index: 'a_1' });
      expect(byName).to.include({ nIndexesWas: 5, ok: 1 });
      await db.command({ dropIndexes: 'c2', index: { b: 1 } });
      expect(await indexNames('c2')).to.deep.equal(['_id_', 'c_1', 'd_1']);
      const err = await expectCode(db.command({ dropIndexes: 'c2', index: 'a_1' }), 27);
      expect(err.codeName).to.equal('IndexNotFound');
      await expectCode(db.command({ dropIndexes: 'c2', index: { zz: 1 } }), 27);
      await db.command({ dropIndexes: 'c2', index: '*' });
      expect(await indexNames('c2')).to.deep.equal(['_id_']);
      await expectCode(db.command({ dropIndexes: 'c2', index: '_id_' }), 72);
      expect(await indexNames('c2')).to.deep.equal(['_id_']);
      await expectCode(db.command({ dropIndexes: 'missing_coll', index: '*' }), 26);
    });
  });

  describe('key rules', () => {
    it('a unique index over existing duplicates fails with 11000 and is not created', async () => {
      await db.collection<Loose>('dups').insertMany([{ e: 'x' }, { e: 'x' }]);
      await expectCode(db.collection<Loose>('dups').createIndex({ e: 1 }, { unique: true }), 11000);
      expect(await indexNames('dups')).to.deep.equal(['_id_']);
      expect(await db.collection<Loose>('dups').countDocuments()).to.equal(2);
    });

    it('a unique index treats missing as null: a second document without the field is a duplicate', async () => {
      await db.collection<Loose>('uniq').createIndex({ e: 1 }, { unique: true });
      await db.collection<Loose>('uniq').insertOne({ _id: 1 });
      const err = await expectCode(db.collection<Loose>('uniq').insertOne({ _id: 2 }), 11000);
      expect(err.keyValue).to.deep.equal({ e: null });
      await expectCode(db.collection<Loose>('uniq').insertOne({ _id: 3, e: null }), 11000);
      expect((await all(db, 'uniq')).map((d) => d._id)).to.deep.equal([1]);
    });

    it('compound unique indexes compare the whole key', async () => {
      await db.collection<Loose>('comp').createIndex({ a: 1, b: 1 }, { unique: true });
      await db.collection<Loose>('comp').insertMany([{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 1 }]);
      const err = await expectCode(db.collection<Loose>('comp').insertOne({ a: 1, b: 2 }), 11000);
      expect(err.keyPattern).to.deep.equal({ a: 1, b: 1 });
      expect(err.keyValue).to.deep.equal({ a: 1, b: 2 });
      expect(await db.collection<Loose>('comp').countDocuments()).to.equal(3);
    });

    it('multikey unique indexes compare array elements across documents, not within one', async () => {
      await db.collection<Loose>('multi').createIndex({ tags: 1 }, { unique: true });
      await db.collection<Loose>('multi').insertOne({ _id: 1, tags: ['a', 'b', 'b'] });
      await expectCode(db.collection<Loose>('multi').insertOne({ _id: 2, tags: ['c', 'b'] }), 11000);
      await db.collection<Loose>('multi').insertOne({ _id: 3, tags: ['c'] });
      await expectCode(db.collection<Loose>('multi').updateOne({ _id: 3 }, { $push: { tags: 'a' } as Document }), 11000);
      expect(await db.collection<Loose>('multi').find({ tags: 'b' }).toArray()).to.deep.equal([{ _id: 1, tags: ['a', 'b', 'b'] }]);
      expect(await db.collection<Loose>('multi').findOne({ _id: 3 })).to.deep.equal({ _id: 3, tags: ['c'] });
    });

    it('sparse unique indexes allow many documents without the field but not two nulls', async () => {
      await db.collection<Loose>('sparse').createIndex({ s: 1 }, { unique: true, sparse: true });
      await db.collection<Loose>('sparse').insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3, s: null }]);
      await expectCode(db.collection<Loose>('sparse').insertOne({ _id: 4, s: null }), 11000);
      expect((await all(db, 'sparse')).map((d) => d._id)).to.deep.equal([1, 2, 3]);
      // A sparse index must not hide documents from queries that match missing fields.
      expect((await db.collection<Loose>('sparse').find({ s: null }).toArray()).map((d) => d._id)).to.deep.equal([1, 2, 3]);
    });

    it('partial unique indexes only constrain documents matching partialFilterExpression (manual example)', async () => {
      await db.collection<Loose>('users').createIndex({ username: 1 }, { unique: true, partialFilterExpression: { age: { $gte: 21 } } });
      await db.collection<Loose>('users').insertMany([{ username: 'david', age: 29 }, { username: 'amanda', age: 25 }]);
      await db.collection<Loose>('users').insertMany([{ username: 'david', age: 20 }, { username: 'david' }]);
      await expectCode(db.collection<Loose>('users').insertOne({ username: 'david', age: 27 }), 11000);
      expect(await db.collection<Loose>('users').countDocuments({ username: 'david' })).to.equal(3);
      expect(await db.collection<Loose>('users').countDocuments({ username: 'david', age: { $gte: 21 } })).to.equal(1);
    });

    it('refuses parallel arrays in a compound index (171), at insert and at index build', async () => {
      await db.collection<Loose>('par').createIndex({ a: 1, b: 1 });
      await db.collection<Loose>('par').insertOne({ _id: 1, a: [1, 2], b: 1 });
      await expectCode(db.collection<Loose>('par').insertOne({ _id: 2, a: [1, 2], b: [3, 4] }), 171);
      await expectCode(db.collection<Loose>('par').updateOne({ _id: 1 }, { $set: { b: [5, 6] } }), 171);
      expect(await all(db, 'par')).to.deep.equal([{ _id: 1, a: [1, 2], b: 1 }]);
      await db.collection<Loose>('par2').insertOne({ a: [1], b: [2, 3], c: [4, 5] });
      await expectCode(db.collection<Loose>('par2').createIndex({ b: 1, c: 1 }), 171);
      expect(await indexNames('par2')).to.deep.equal(['_id_']);
    });
  });

  describe('explain', () => {
    before(async () => {
      const docs = Array.from({ length: 200 }, (_, i) => ({ _id: i, a: i % 50, b: i, c: i % 7, s: `k${i}` }));
      await db.collection<Loose>('plan').insertMany(docs);
      await db.collection<Loose>('plan').createIndex({ a: 1 });
      await db.collection<Loose>('plan').createIndex({ b: 1, c: 1 });
    });
    const explain = (filter: Document) => db.command({ explain: { find: 'plan', filter }, verbosity: 'executionStats' });

    it('uses the _id index for _id equality (IDHACK or IXSCAN on _id_)', async () => {
      const r = await explain({ _id: 17 });
      const stages = planStages(r);
      expect(stages.some((s) => s.stage === 'IDHACK' || (s.stage === 'IXSCAN' && s.indexName === '_id_')), JSON.stringify(stages)).to.equal(true);
      expect(r.executionStats.nReturned).to.equal(1);
      expect(r.executionStats.totalDocsExamined).to.be.at.most(1);
    });

    it('IXSCAN with the index name for equality, $in and range predicates', async () => {
      for (const [filter, name, n] of [
        [{ a: 7 }, 'a_1', 4], [{ a: { $in: [1, 2] } }, 'a_1', 8], [{ a: { $gte: 48 } }, 'a_1', 8],
        [{ b: { $gt: 10, $lte: 20 } }, 'b_1_c_1', 10], [{ b: 5, c: 5 }, 'b_1_c_1', 1],
      ] as [Document, string, number][]) {
        const r = await explain(filter);
        const ix = planStages(r).find((s) => s.stage === 'IXSCAN');
        expect(ix?.indexName, JSON.stringify(filter)).to.equal(name);
        expect(r.executionStats.nReturned, JSON.stringify(filter)).to.equal(n);
        expect(r.executionStats.totalDocsExamined, JSON.stringify(filter)).to.be.below(200);
        expect(await db.collection<Loose>('plan').countDocuments(filter)).to.equal(n);
      }
    });

    it('point reads: bounds in explain, numeric equivalents, misses, and a multikey document returned once', async () => {
      const bounds = (r: Document) => {
        let plan = r.queryPlanner.winningPlan as Document | undefined;
        while (plan && !plan.indexBounds) plan = plan.inputStage as Document | undefined;
        return plan?.indexBounds;
      };
      expect(bounds(await explain({ a: 7 }))).to.deep.equal({ a: ['7'] });
      expect(bounds(await explain({ b: { $gt: 10, $lte: 20 } }))).to.deep.equal({ b: ['(10, 20]'] });
      const plan = db.collection<Loose>('plan');
      // An _id stored as Int32 17 is the same key as 17.0 and 17n: one map probe finds it for each.
      for (const id of [17, new Double(17), Long.fromNumber(17)]) expect(await plan.findOne({ _id: id }), String(id)).to.include({ b: 17 });
      expect(await plan.findOne({ _id: 1000 })).to.equal(null);
      expect(await plan.findOne({ a: 1000 })).to.equal(null);
      await plan.insertOne({ _id: 'multi', a: [4242, 4242, 7], b: -1 });
      expect(await plan.find({ a: 4242 }).toArray()).to.have.length(1);
      expect(await plan.countDocuments({ a: 7 })).to.equal(5);
      await plan.deleteOne({ _id: 'multi' });
    });

    it('null equality: served by a full index, matching null, missing and arrays holding null (not []); a sparse index is not used for it', async () => {
      const nulls = db.collection<Loose>('nulls');
      await nulls.insertMany([
        ...Array.from({ length: 100 }, (_, i) => ({ _id: i, p: new Date(Date.UTC(2026, 0, 1 + i)), q: i })),
        { _id: 'null', p: null, q: 1 }, { _id: 'missing', q: 2 }, { _id: 'array-null', p: [null, 3], q: 3 }, { _id: 'empty', p: [], q: 4 },
      ]);
      await nulls.createIndex({ p: 1, q: 1 });
      await nulls.createIndex({ q: 1 }, { sparse: true });
      const r = await db.command({ explain: { find: 'nulls', filter: { p: null } }, verbosity: 'executionStats' });
      expect(planStages(r).find((st) => st.stage === 'IXSCAN')?.indexName).to.equal('p_1_q_1');
      expect(r.executionStats.totalDocsExamined).to.be.below(10);
      expect((await nulls.find({ p: null }).sort({ _id: 1 }).toArray()).map((d) => d._id)).to.deep.equal(['array-null', 'missing', 'null']);
      expect((await nulls.find({ p: { $in: [null, new Date(Date.UTC(2026, 0, 1))] } }).toArray()).map((d) => d._id).sort()).to.deep.equal([0, 'array-null', 'missing', 'null'].sort());
      await nulls.insertOne({ _id: 'no-q', p: 1 });
      expect((await nulls.find({ q: null }).toArray()).map((d) => d._id), 'the sparse index on q holds no entry for it').to.deep.equal(['no-q']);
    });

    it('COLLSCAN when no index applies', async () => {
      for (const filter of [{ s: 'k3' }, { c: 3 }, { $or: [{ a: 1 }, { s: 'k2' }] }, {}]) {
        const stages = planStages(await explain(filter));
        expect(stages.map((s) => s.stage), JSON.stringify(filter)).to.include('COLLSCAN');
      }
      const viaDriver = await db.collection<Loose>('plan').find({ s: 'k3' }).explain('queryPlanner');
      expect(planStages(viaDriver).map((s) => s.stage)).to.include('COLLSCAN');
    });
  });

  describe('TTL', () => {
    it('runTtl removes expired documents and keeps future, non-date and missing ones', async () => {
      const coll = db.collection<Loose>('sessions');
      await coll.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
      const now = Date.now();
      await coll.insertMany([
        { _id: 'expired', at: new Date(now - 60_000) },
        { _id: 'future', at: new Date(now + 3_600_000) },
        { _id: 'array', at: [new Date(now + 3_600_000), new Date(now - 1000)] },
        { _id: 'string', at: 'yesterday' },
        { _id: 'none' },
      ]);
      const spec = (await coll.listIndexes().toArray()).find((i) => i.name === 'at_1');
      expect(spec?.expireAfterSeconds).to.equal(0);
      await t.store.engine.runTtl();
      expect((await all(db, 'sessions')).map((d) => d._id)).to.deep.equal(['future', 'none', 'string']);
    });

    it('honours expireAfterSeconds', async () => {
      const coll = db.collection<Loose>('ttl_hour');
      await coll.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
      await coll.insertMany([{ _id: 'recent', at: new Date(Date.now() - 60_000) }, { _id: 'old', at: new Date(Date.now() - 7_200_000) }]);
      await t.store.engine.runTtl();
      expect((await all(db, 'ttl_hour')).map((d) => d._id)).to.deep.equal(['recent']);
    });
  });
});
