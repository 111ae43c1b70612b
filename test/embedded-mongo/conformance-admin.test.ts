/**
 * Conformance of the handshake, diagnostics and catalogue commands, and of
 * the errors for what the store does not implement: an unknown command is
 * 59, and each unsupported feature fails with a message naming it (never a
 * silent, wrong answer), always with `code` and `codeName`.
 */
import { expect } from 'chai';
import type { Db } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/embedded.js';
import { expectCode, expectFailure, type Loose } from './conformance-helpers.js';

describe('conformance: admin and catalogue commands', () => {
  let t: TestStore;
  let db: Db;

  before(async () => {
    t = await startTestStore();
    db = t.client.db('adm');
    await db.collection<Loose>('a').insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 2 }]);
    await db.collection<Loose>('b').insertOne({ _id: 1 });
    await db.collection<Loose>('b').createIndex({ y: 1 });
  });
  after(() => t.stop());

  describe('handshake and diagnostics', () => {
    it('hello presents a standalone 7.0 server (wire version 21, sessions, no setName)', async () => {
      const r = await t.client.db('admin').command({ hello: 1 });
      expect(r).to.include({
        isWritablePrimary: true, helloOk: true, maxWireVersion: 21, minWireVersion: 0, logicalSessionTimeoutMinutes: 30,
        maxBsonObjectSize: 16 * 1024 * 1024, maxMessageSizeBytes: 48_000_000, maxWriteBatchSize: 100_000, ok: 1,
      });
      expect(r.localTime).to.be.instanceOf(Date);
      expect(r.connectionId).to.be.a('number');
      for (const absent of ['setName', 'hosts', 'msg', 'topologyVersion']) expect(r, absent).to.not.have.property(absent);
    });

    it('the legacy ismaster/isMaster reply says ismaster: true', async () => {
      for (const name of ['ismaster', 'isMaster']) {
        const r = await t.client.db('admin').command({ [name]: 1 });
        expect(r).to.include({ ismaster: true, maxWireVersion: 21, ok: 1 });
        expect(r).to.not.have.property('setName');
      }
    });

    it('ping, buildInfo and serverStatus', async () => {
      expect(await db.command({ ping: 1 })).to.deep.equal({ ok: 1 });
      const info = await db.admin().buildInfo();
      expect(info.version).to.match(/^7\.0\./);
      expect(info.versionArray.slice(0, 2)).to.deep.equal([7, 0]);
      expect(info.maxBsonObjectSize).to.equal(16 * 1024 * 1024);
      const status = await db.admin().serverStatus();
      expect(status.ok).to.equal(1);
      expect(status.version).to.equal(info.version);
      expect(status.host).to.be.a('string');
      expect(status.uptime).to.be.a('number');
      expect(status.localTime).to.be.instanceOf(Date);
    });

    it('dbStats and collStats count documents and indexes', async () => {
      const s = await db.command({ dbStats: 1 });
      expect(s).to.include({ db: 'adm', collections: 2, objects: 3, indexes: 3, ok: 1 });
      expect(s.dataSize).to.be.above(0);
      const c = await db.command({ collStats: 'b' });
      expect(c).to.include({ ns: 'adm.b', count: 1, nindexes: 2, ok: 1 });
      expect(c.size).to.be.above(0);
      expect(Object.keys(c.indexSizes)).to.have.members(['_id_', 'y_1']);
    });
  });

  describe('catalogue', () => {
    it('listDatabases lists databases with data, with sizes, or names only', async () => {
      const r = await db.admin().listDatabases();
      const entry = r.databases.find((d) => d.name === 'adm');
      expect(entry).to.not.equal(undefined);
      expect(entry!.sizeOnDisk).to.be.a('number');
      expect(entry!.empty).to.equal(false);
      expect(r.totalSize).to.be.a('number');
      const names = await db.admin().command({ listDatabases: 1, nameOnly: true });
      expect(names.databases.map((d: { name: string }) => d.name)).to.include('adm');
      expect(names.databases.find((d: { name: string }) => d.name === 'adm')).to.deep.equal({ name: 'adm' });
    });

    it('listCollections with a filter and with nameOnly', async () => {
      const full = await db.listCollections({ name: 'a' }, { nameOnly: false }).toArray();
      expect(full).to.have.length(1);
      expect(full[0]).to.include({ name: 'a', type: 'collection' });
      expect(full[0].options).to.deep.equal({});
      expect(full[0].idIndex).to.deep.include({ key: { _id: 1 }, name: '_id_' });
      const names = await db.listCollections({}, { nameOnly: true }).toArray();
      expect(names.map((c) => c.name).sort()).to.deep.equal(['a', 'b']);
      expect(names.find((c) => c.name === 'a')).to.deep.equal({ name: 'a', type: 'collection' });
      expect(await db.listCollections({ name: { $regex: '^z' } }).toArray()).to.deep.equal([]);
    });

    it('create makes an empty collection; creating it again is 48 (NamespaceExists)', async () => {
      await db.createCollection('made');
      expect((await db.listCollections({ name: 'made' }).toArray()).map((c) => c.name)).to.deep.equal(['made']);
      const err = await expectCode(db.command({ create: 'made' }), 48);
      expect(err.codeName).to.equal('NamespaceExists');
      expect(await db.collection<Loose>('made').countDocuments()).to.equal(0);
    });

    it('drop removes a collection; dropping a missing one succeeds (7.0)', async () => {
      await db.collection<Loose>('gone').insertOne({ a: 1 });
      const r = await db.command({ drop: 'gone' });
      expect(r.ok).to.equal(1);
      expect(await db.listCollections({ name: 'gone' }).toArray()).to.deep.equal([]);
      expect(await db.collection<Loose>('gone').countDocuments()).to.equal(0);
      expect((await db.command({ drop: 'never_was' })).ok).to.equal(1);
    });

    it('dropDatabase removes every collection of the database only', async () => {
      const other = t.client.db('adm_other');
      await other.collection<Loose>('x').insertOne({ a: 1 });
      await other.collection<Loose>('y').createIndex({ q: 1 });
      const r = await other.command({ dropDatabase: 1 });
      expect(r.ok).to.equal(1);
      expect(await other.listCollections().toArray()).to.deep.equal([]);
      expect((await db.admin().listDatabases()).databases.map((d) => d.name)).to.not.include('adm_other');
      expect(await db.collection<Loose>('a').countDocuments()).to.equal(2);
    });
  });

  describe('errors', () => {
    it('an unknown command is 59 (CommandNotFound)', async () => {
      const err = await expectCode(db.command({ frobnicate: 1 }), 59);
      expect(err.codeName).to.equal('CommandNotFound');
      expect(err.message).to.match(/frobnicate/);
    });

    const unsupported: [string, RegExp, () => Promise<unknown>][] = [
      ['$text query', /\$text/, () => db.collection<Loose>('a').find({ $text: { $search: 'coffee' } }).toArray()],
      ['$near query', /\$near/, () => db.collection<Loose>('a').find({ loc: { $near: [0, 0] } }).toArray()],
      ['$geoWithin query', /\$geoWithin/, () => db.collection<Loose>('a').find({ loc: { $geoWithin: { $centerSphere: [[0, 0], 1] } } }).toArray()],
      ['$geoIntersects query', /\$geoIntersects/, () => db.collection<Loose>('a').find({ loc: { $geoIntersects: { $geometry: { type: 'Point', coordinates: [0, 0] } } } }).toArray()],
      ['$where query', /\$where/, () => db.collection<Loose>('a').find({ $where: 'this.x > 1' }).toArray()],
      ['$changeStream stage', /\$changeStream/, () => db.collection<Loose>('a').aggregate([{ $changeStream: {} }]).toArray()],
      ['$geoNear stage', /\$geoNear/, () => db.collection<Loose>('a').aggregate([{ $geoNear: { near: [0, 0], distanceField: 'd' } }]).toArray()],
      ['mapReduce command', /mapReduce/, () => db.command({ mapReduce: 'a', map: 'function(){}', reduce: 'function(){}', out: { inline: 1 } })],
      ['text index', /text/, () => db.collection<Loose>('a').createIndex({ x: 'text' })],
      ['2dsphere index', /2dsphere/, () => db.collection<Loose>('a').createIndex({ loc: '2dsphere' })],
      ['non-simple collation on find', /collation/i, () => db.collection<Loose>('a').find({}, { collation: { locale: 'fr' } }).toArray()],
      ['non-simple collation on aggregate', /collation/i, () => db.collection<Loose>('a').aggregate([], { collation: { locale: 'en', strength: 2 } }).toArray()],
      ['capped collection', /capped/, () => db.createCollection('capped', { capped: true, size: 4096 })],
    ];
    for (const [what, pattern, run] of unsupported) {
      it(`${what}: fails with an error that names it`, async () => {
        const err = await expectFailure(run());
        expect(err.code, `code of "${String(err.message)}"`).to.be.a('number');
        expect(err.codeName).to.be.a('string').and.not.equal('');
        expect(String(err.message)).to.match(pattern);
        expect(await db.collection<Loose>('a').countDocuments()).to.equal(2);
      });
    }

    it('watch() fails with an error naming $changeStream', async () => {
      const stream = db.collection<Loose>('a').watch();
      try {
        const err = await expectFailure(stream.tryNext());
        expect(err.code).to.be.a('number');
        expect(String(err.message)).to.match(/\$changeStream|change stream/i);
      } finally {
        await stream.close();
      }
    });

    it('the index listing is unchanged after the refused index creations', async () => {
      const names = (await db.collection<Loose>('a').listIndexes().toArray()).map((i) => i.name);
      expect(names).to.deep.equal(['_id_']);
    });
  });
});
