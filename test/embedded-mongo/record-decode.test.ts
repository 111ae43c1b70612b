/**
 * The start-up decoder (storage/record-decode.ts) must give exactly what the
 * general decoder (`decodeDocument`) gives, for every value, type and field
 * order, and refuse what the general decoder refuses.
 */
import { deepStrictEqual } from 'node:assert';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  Binary, BSONRegExp, Code, DBRef, Decimal128, Double, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID,
} from 'bson';
import { decodeDocument, encodeDocument, type Document } from '../../server/embedded-mongo/bson-values.js';
import { idKeyOf } from '../../server/embedded-mongo/engine/collection-store.js';
import { canonicalKey } from '../../server/embedded-mongo/query/compare.js';
import { decodeRecord } from '../../server/embedded-mongo/storage/record-decode.js';
import { encodeRecord } from '../../server/embedded-mongo/storage/record-file.js';

/** Decodes `ops` both ways (the fast decoder reading from inside a larger buffer) and checks they agree. */
function checkSame(ops: Document[]): Document[] {
  const payload = Buffer.from(encodeRecord(ops).payload);
  const general = decodeDocument(payload).ops as Document[];
  const padded = Buffer.concat([Buffer.from([7, 7, 7]), payload, Buffer.from([9, 9])]);
  const fast = decodeRecord(padded, 3, payload.length).ops;
  deepStrictEqual(fast, general);
  // Same types and field order: they serialise to the same bytes.
  expect(Buffer.from(encodeRecord(fast).payload).equals(Buffer.from(encodeRecord(general).payload))).to.equal(true);
  return fast;
}

const leaf = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double().map((n) => (Object.is(n, -0) || (Number.isInteger(n) && Math.abs(n) < 2 ** 31) ? new Double(n) : n)),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => new ObjectId(b)),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.string().filter((k) => !k.startsWith('$') && !k.includes('\0') && k !== '__proto__'), tie('value'), { maxKeys: 5 }),
})).value;

describe('storage: start-up record decoder', () => {
  it('decodes generated documents exactly as the general decoder does', () => {
    fc.assert(fc.property(fc.array(value, { maxLength: 5 }), (docs) => {
      checkSame(docs.map((doc, i) => ({ op: 'p', db: 'db', coll: `c${i}`, doc: { _id: i, v: doc } })));
    }), { numRuns: 300 });
  });

  it('hands values of other types to the general decoder, per op', () => {
    const odd = {
      _id: new UUID(),
      long: Long.fromString('9007199254740993'),
      decimal: Decimal128.fromString('1.10'),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0x80),
      regex: new BSONRegExp('^a.c$', 'imx'),
      ts: new Timestamp({ t: 1700000000, i: 7 }),
      min: new MinKey(),
      max: new MaxKey(),
      code: new Code('function () { return 1; }'),
      ref: new DBRef('other', new ObjectId()),
      nested: { deep: [1, { x: Long.fromNumber(4) }] },
    };
    const [plain, unusual, after] = checkSame([
      { op: 'p', db: 'db', coll: 'c', doc: { _id: new ObjectId(), n: 1 } },
      { op: 'p', db: 'db', coll: 'c', doc: odd },
      { op: 'd', db: 'db', coll: 'c', id: 'x' },
    ]);
    expect(plain.doc.n).to.equal(1);
    expect(unusual.doc.ref).to.be.instanceOf(DBRef);
    expect(unusual.doc.long).to.be.instanceOf(Long);
    expect(after.id).to.equal('x');
  });

  it('keeps field names and op strings right when they repeat or collide in its cache', () => {
    const ops: Document[] = [];
    for (let i = 0; i < 3000; i++) {
      ops.push({ op: 'p', db: `db${i % 3}`, coll: `c${i % 7}`, doc: { _id: i, [`f${i % 1500}`]: i, ['é' + (i % 5)]: 'ü', same: 'op' } });
    }
    checkSame(ops);
  });

  it('decodes integral and negative-zero doubles as Double, others as numbers', () => {
    const [op] = checkSame([{ op: 'p', doc: { a: new Double(1), b: new Double(-0), c: 2.5, d: 3, e: new Double(2 ** 40) } }]);
    expect(op.doc.a).to.be.instanceOf(Double);
    expect(Object.is(op.doc.b.value, -0)).to.equal(true);
    expect(op.doc.c).to.equal(2.5);
    expect(op.doc.d).to.equal(3);
    expect(op.doc.e).to.equal(2 ** 40);
  });

  it('keeps no view of the buffer it decoded', () => {
    const payload = Buffer.from(encodeRecord([{ op: 'p', doc: { _id: new ObjectId(), s: 'text', d: new Date(5) } }]).payload);
    const before = EJSONish(decodeRecord(payload, 0, payload.length).ops);
    const ops = decodeRecord(payload, 0, payload.length).ops;
    payload.fill(0x41);
    expect(EJSONish(ops)).to.equal(before);
  });

  it('refuses malformed records as the general decoder does', () => {
    const good = Buffer.from(encodeRecord([{ op: 'p', doc: { _id: 1, s: 'abc', o: { x: 1 } } }]).payload);
    const cases: Buffer[] = [];
    // Wrong outer length, a string length running past its document, an embedded length past its end,
    // an illegal boolean, invalid UTF-8 in a string value.
    const shortened = Buffer.from(good);
    shortened.writeInt32LE(good.length - 1, 0);
    cases.push(shortened);
    const at = good.indexOf(Buffer.from('s\0', 'latin1')) + 2;
    const longString = Buffer.from(good);
    longString.writeInt32LE(1000, at);
    cases.push(longString);
    const objAt = good.indexOf(Buffer.from('o\0', 'latin1')) + 2;
    const longObject = Buffer.from(good);
    longObject.writeInt32LE(1000, objAt);
    cases.push(longObject);
    const withBool = Buffer.from(encodeRecord([{ op: 'p', doc: { b: true } }]).payload);
    withBool[withBool.indexOf(Buffer.from('b\0', 'latin1')) + 2] = 2;
    cases.push(withBool);
    const badUtf8 = Buffer.from(good);
    badUtf8[at + 4] = 0xff;
    cases.push(badUtf8);
    for (const bytes of cases) {
      expect(() => decodeDocument(bytes), 'general').to.throw();
      expect(() => decodeRecord(bytes, 0, bytes.length), 'fast').to.throw();
    }
  });

  it('accepts a well-formed record of another shape through the general decoder', () => {
    const bytes = Buffer.from(encodeDocument({ other: 1, ops: [{ op: 'p', doc: { _id: 1 } }] }));
    expect(decodeRecord(bytes, 0, bytes.length).ops).to.deep.equal([{ op: 'p', doc: { _id: 1 } }]);
    const noOps = Buffer.from(encodeDocument({ other: 1 }));
    expect(() => decodeRecord(noOps, 0, noOps.length)).to.throw(/no ops array/);
  });
});

describe('engine: id keys', () => {
  it('gives an ObjectId the same key as canonicalKey', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), (bytes) => {
      const id = new ObjectId(bytes);
      expect(idKeyOf(id)).to.equal(canonicalKey(id));
    }));
    expect(idKeyOf('abc')).to.equal(canonicalKey('abc'));
  });
});

function EJSONish(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x instanceof ObjectId ? `oid:${x.toHexString()}` : x));
}
