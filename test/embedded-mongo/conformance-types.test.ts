/**
 * Conformance of BSON value handling: every type round-trips with its exact
 * BSON type (read back without promotion), updates keep or change types as
 * MongoDB's arithmetic rules say, sorting follows MongoDB's cross-type order,
 * numeric comparison is exact across Int32/Double/Long/Decimal128, and null
 * and missing fields match as documented.
 */
import { expect } from 'chai';
import {
  Binary, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID, type Db, type Document,
} from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/embedded.js';
import type { Loose } from './conformance-helpers.js';

const BIG = '9007199254740993'; // 2^53 + 1: not representable as a double

function typeOf(v: unknown): string {
  return (v as { _bsontype?: string })?._bsontype ?? typeof v;
}

describe('conformance: BSON types', () => {
  let t: TestStore;
  let db: Db;
  const ids = async (coll: string, filter: Document, sort: Document = { _id: 1 }) =>
    (await db.collection<Loose>(coll).find(filter, { sort }).toArray()).map((d) => d._id);

  before(async () => {
    t = await startTestStore();
    db = t.client.db('types');
  });
  after(() => t.stop());

  describe('round trips', () => {
    const original = {
      _id: 'all',
      i32: new Int32(42),
      dbl1: new Double(1.0),
      negz: new Double(-0),
      frac: 2.5,
      long: Long.fromString(BIG),
      dec: Decimal128.fromString('1234.5670'),
      date: new Date('2024-01-02T03:04:05.678Z'),
      oid: new ObjectId('65a1b2c3d4e5f60718293a4b'),
      bin: new Binary(Buffer.from([1, 2, 3]), 0),
      binUser: new Binary(Buffer.from('abc'), 128),
      uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e'),
      re: new BSONRegExp('^a.b$', 'imsx'),
      ts: new Timestamp({ t: 1700000000, i: 7 }),
      min: new MinKey(),
      max: new MaxKey(),
      nested: [[1, [new Int32(2), new Double(3)]], { x: [Long.fromNumber(4)] }, []],
      str: 'héllo ✓',
      bool: false,
      nul: null,
      obj: { z: 1, a: { b: new Double(2) } },
    };

    before(async () => {
      await db.collection<Loose>('rt').insertOne(original);
    });

    it('keeps every value and its exact type (promoteValues: false, bsonRegExp)', async () => {
      const d = (await db.collection<Loose>('rt').findOne({ _id: 'all' as never }, { promoteValues: false, bsonRegExp: true }))!;
      expect(Object.keys(d)).to.deep.equal(Object.keys(original));
      expect([typeOf(d.i32), d.i32.value]).to.deep.equal(['Int32', 42]);
      expect([typeOf(d.dbl1), d.dbl1.value]).to.deep.equal(['Double', 1]);
      expect(typeOf(d.negz)).to.equal('Double');
      expect(Object.is(d.negz.value, -0), '-0.0 keeps its sign').to.equal(true);
      expect([typeOf(d.frac), d.frac.value]).to.deep.equal(['Double', 2.5]);
      expect([typeOf(d.long), d.long.toString()]).to.deep.equal(['Long', BIG]);
      expect([typeOf(d.dec), d.dec.toString()]).to.deep.equal(['Decimal128', '1234.5670']);
      expect(d.date).to.be.instanceOf(Date);
      expect(d.date.getTime()).to.equal(original.date.getTime());
      expect(d.oid.toHexString()).to.equal('65a1b2c3d4e5f60718293a4b');
      expect([d.bin.sub_type, [...d.bin.buffer]]).to.deep.equal([0, [1, 2, 3]]);
      expect([d.binUser.sub_type, Buffer.from(d.binUser.buffer).toString()]).to.deep.equal([128, 'abc']);
      expect(d.uuid.sub_type).to.equal(4);
      expect(d.uuid.toUUID().toHexString()).to.equal('0f8fad5b-d9cb-469f-a165-70867728950e');
      expect(typeOf(d.re)).to.equal('BSONRegExp');
      expect([d.re.pattern, d.re.options]).to.deep.equal(['^a.b$', 'imsx']);
      expect(typeOf(d.ts)).to.equal('Timestamp');
      expect([d.ts.t, d.ts.i]).to.deep.equal([1700000000, 7]);
      expect([typeOf(d.min), typeOf(d.max)]).to.deep.equal(['MinKey', 'MaxKey']);
      expect(typeOf(d.nested[0][0])).to.equal('Int32');
      expect(d.nested[0][1].map(typeOf)).to.deep.equal(['Int32', 'Double']);
      expect(typeOf(d.nested[1].x[0])).to.equal('Long');
      expect(d.nested[2]).to.deep.equal([]);
      expect([d.str, d.bool, d.nul]).to.deep.equal(['héllo ✓', false, null]);
      expect(Object.keys(d.obj)).to.deep.equal(['z', 'a']);
      expect(typeOf(d.obj.a.b)).to.equal('Double');
    });

    it('returns Long beyond 2^53 exactly with useBigInt64', async () => {
      const d = (await db.collection<Loose>('rt').findOne({ _id: 'all' as never }, { useBigInt64: true }))!;
      expect(d.long).to.equal(9007199254740993n);
    });

    it('the server sees the stored types ($type)', async () => {
      const checks: [string, string][] = [
        ['i32', 'int'], ['dbl1', 'double'], ['negz', 'double'], ['frac', 'double'], ['long', 'long'], ['dec', 'decimal'],
        ['date', 'date'], ['oid', 'objectId'], ['bin', 'binData'], ['uuid', 'binData'], ['re', 'regex'], ['ts', 'timestamp'],
        ['min', 'minKey'], ['max', 'maxKey'], ['str', 'string'], ['bool', 'bool'], ['nul', 'null'], ['obj', 'object'], ['nested', 'array'],
      ];
      for (const [field, type] of checks) {
        expect(await db.collection<Loose>('rt').countDocuments({ [field]: { $type: type } }), `${field} is ${type}`).to.equal(1);
      }
      expect(await db.collection<Loose>('rt').countDocuments({ i32: { $type: 'double' } })).to.equal(0);
      expect(await db.collection<Loose>('rt').countDocuments({ dbl1: { $type: 'int' } })).to.equal(0);
      expect(await db.collection<Loose>('rt').countDocuments({ long: { $type: 'number' } })).to.equal(1);
    });

    it('updating one field leaves the types of the others alone', async () => {
      await db.collection<Loose>('rt').updateOne({ _id: 'all' as never }, { $set: { str: 'changed' } });
      const d = (await db.collection<Loose>('rt').findOne({ _id: 'all' as never }, { promoteValues: false }))!;
      expect([typeOf(d.i32), typeOf(d.dbl1), typeOf(d.negz), typeOf(d.long), typeOf(d.dec)]).to.deep.equal(['Int32', 'Double', 'Double', 'Long', 'Decimal128']);
      expect(Object.is(d.negz.value, -0)).to.equal(true);
    });

    it('$inc follows the numeric type rules (int+int=int, long+int=long, double+int=double)', async () => {
      await db.collection<Loose>('rt').updateOne({ _id: 'all' as never }, { $inc: { i32: new Int32(1), long: new Int32(1), dbl1: new Int32(1), dec: new Int32(1) } });
      const d = (await db.collection<Loose>('rt').findOne({ _id: 'all' as never }, { promoteValues: false }))!;
      expect([typeOf(d.i32), d.i32.value]).to.deep.equal(['Int32', 43]);
      expect([typeOf(d.long), d.long.toString()]).to.deep.equal(['Long', '9007199254740994']);
      expect([typeOf(d.dbl1), d.dbl1.value]).to.deep.equal(['Double', 2]);
      expect([typeOf(d.dec), d.dec.toString()]).to.deep.equal(['Decimal128', '1235.5670']);
      await db.collection<Loose>('rt').updateOne({ _id: 'all' as never }, { $inc: { i32: new Int32(2147483647) } });
      const o = (await db.collection<Loose>('rt').findOne({ _id: 'all' as never }, { promoteValues: false }))!;
      expect([typeOf(o.i32), o.i32.toString()], 'int32 overflow becomes a long').to.deep.equal(['Long', '2147483690']);
    });
  });

  describe('sort order across types', () => {
    before(async () => {
      await db.collection<Loose>('mixed').insertMany([
        { _id: 'maxkey', v: new MaxKey() }, { _id: 'regex', v: new BSONRegExp('a', '') },
        { _id: 'ts', v: new Timestamp({ t: 1, i: 1 }) }, { _id: 'date', v: new Date(0) }, { _id: 'true', v: true }, { _id: 'false', v: false },
        { _id: 'oid', v: new ObjectId() }, { _id: 'bin', v: new Binary(Buffer.from([0])) }, { _id: 'obj', v: { a: 1 } },
        { _id: 'strB', v: 'B' }, { _id: 'stra', v: 'a' }, { _id: 'int5', v: 5 }, { _id: 'long3', v: Long.fromNumber(3) },
        { _id: 'dbl4.5', v: 4.5 }, { _id: 'dec4.7', v: Decimal128.fromString('4.7') }, { _id: 'null', v: null }, { _id: 'missing' },
        { _id: 'minkey', v: new MinKey() },
      ]);
    });

    const ascending = ['minkey', 'missing', 'null', 'long3', 'dbl4.5', 'dec4.7', 'int5', 'strB', 'stra', 'obj', 'bin', 'oid', 'false', 'true', 'date', 'ts', 'regex', 'maxkey'];

    it('sorts ascending in MongoDB type order (missing as null; ties by _id)', async () => {
      expect(await ids('mixed', {}, { v: 1, _id: 1 })).to.deep.equal(ascending);
    });

    it('sorts descending in the reverse order', async () => {
      const desc = await ids('mixed', {}, { v: -1, _id: 1 });
      expect(desc.filter((i) => i !== 'missing' && i !== 'null')).to.deep.equal([...ascending].reverse().filter((i) => i !== 'missing' && i !== 'null'));
    });

    it('arrays sort by their smallest element ascending and largest descending; [] before null', async () => {
      await db.collection<Loose>('arrsort').insertMany([{ _id: 1, v: [1, 10] }, { _id: 2, v: 5 }, { _id: 3, v: [3, 4] }, { _id: 4, v: [] }, { _id: 5, v: null }]);
      expect(await ids('arrsort', {}, { v: 1 })).to.deep.equal([4, 5, 1, 3, 2]);
      expect(await ids('arrsort', {}, { v: -1 })).to.deep.equal([1, 2, 3, 5, 4]);
    });
  });

  describe('numeric comparison across types', () => {
    before(async () => {
      await db.collection<Loose>('nums').insertMany([
        { _id: 'i1', v: new Int32(1) }, { _id: 'd1.5', v: 1.5 }, { _id: 'l2', v: Long.fromNumber(2) },
        { _id: 'm2.5', v: Decimal128.fromString('2.5') }, { _id: 's3', v: '3' },
        { _id: 'L3', v: Long.fromString(BIG) }, { _id: 'L2', v: Long.fromString('9007199254740992') }, { _id: 'D2', v: 9007199254740992 },
        { _id: 'i7', v: 7 }, { _id: 'd7', v: new Double(7) }, { _id: 'l7', v: Long.fromNumber(7) }, { _id: 'm7', v: Decimal128.fromString('7.00') },
      ]);
    });

    it('Decimal128 bounds compare with every numeric type, never with strings', async () => {
      expect(await ids('nums', { v: { $gt: Decimal128.fromString('1.4'), $lt: 3 } })).to.deep.equal(['d1.5', 'l2', 'm2.5']);
      expect(await ids('nums', { v: { $lte: Long.fromNumber(2) } })).to.deep.equal(['d1.5', 'i1', 'l2']);
      expect(await ids('nums', { v: { $gte: 1, $lt: 2 } })).to.deep.equal(['d1.5', 'i1']);
    });

    it('Long beyond 2^53 compares exactly', async () => {
      expect(await ids('nums', { v: { $gt: Long.fromString('9007199254740992') } })).to.deep.equal(['L3']);
      expect(await ids('nums', { v: Long.fromString(BIG) })).to.deep.equal(['L3']);
      expect(await ids('nums', { v: 9007199254740992 })).to.deep.equal(['D2', 'L2']);
      expect(await ids('nums', { v: { $gte: Decimal128.fromString('9007199254740992.5') } })).to.deep.equal(['L3']);
      expect((await ids('nums', { v: { $gt: 100 } }, { v: -1, _id: 1 }))).to.deep.equal(['L3', 'D2', 'L2']);
    });

    it('equal values of different numeric types are equal (Int32 vs Double vs Long vs Decimal128)', async () => {
      const sevens = ['d7', 'i7', 'l7', 'm7'];
      expect(await ids('nums', { v: 7 })).to.deep.equal(sevens);
      expect(await ids('nums', { v: new Double(7) })).to.deep.equal(sevens);
      expect(await ids('nums', { v: { $in: [Decimal128.fromString('7')] } })).to.deep.equal(sevens);
      expect(await ids('nums', { v: '3' })).to.deep.equal(['s3']);
      expect(await ids('nums', { v: 3 })).to.deep.equal([]);
    });
  });

  describe('null and missing', () => {
    before(async () => {
      await db.collection<Loose>('nulls').insertMany([
        { _id: 1, a: null }, { _id: 2 }, { _id: 3, a: 1 }, { _id: 4, a: [1, null] }, { _id: 5, a: [2] }, { _id: 6, a: { b: null } },
      ]);
    });

    it('{a: null} matches null, missing and arrays holding null', async () => {
      expect(await ids('nulls', { a: null })).to.deep.equal([1, 2, 4]);
      expect(await ids('nulls', { a: { $in: [null] } })).to.deep.equal([1, 2, 4]);
      expect(await ids('nulls', { 'a.b': null })).to.include.members([1, 2, 3, 6]);
    });

    it('$exists distinguishes missing from null', async () => {
      expect(await ids('nulls', { a: { $exists: true } })).to.deep.equal([1, 3, 4, 5, 6]);
      expect(await ids('nulls', { a: { $exists: false } })).to.deep.equal([2]);
    });

    it('$ne: null excludes null, missing and arrays holding null', async () => {
      expect(await ids('nulls', { a: { $ne: null } })).to.deep.equal([3, 5, 6]);
    });

    it("$type: 'null' matches only stored nulls (including array elements)", async () => {
      expect(await ids('nulls', { a: { $type: 'null' } })).to.deep.equal([1, 4]);
      expect(await ids('nulls', { a: { $type: 10 } })).to.deep.equal([1, 4]);
    });
  });
});
