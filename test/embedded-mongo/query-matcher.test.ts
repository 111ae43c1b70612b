import { expect } from 'chai';
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, MinKey } from 'bson';
import type { Document } from '../../server/embedded-mongo/bson-values.js';
import { MongoError } from '../../server/embedded-mongo/errors.js';
import { compileFilter, getValuesAtPath } from '../../server/embedded-mongo/query/matcher.js';
import { ids, matches } from './query-test-helpers.js';

const inventory: Document[] = [
  { _id: 1, item: { name: 'ab', code: '123' }, qty: 15, tags: ['A', 'B', 'C'] },
  { _id: 2, item: { name: 'cd', code: '123' }, qty: 20, tags: ['B'] },
  { _id: 3, item: { name: 'ij', code: '456' }, qty: 25, tags: ['A', 'B'] },
  { _id: 4, item: { name: 'xy', code: '456' }, qty: 30, tags: ['B', 'A'] },
  { _id: 5, item: { name: 'mn', code: '000' }, qty: 20, tags: [['A', 'B'], 'C'] },
];

describe('query/matcher: comparison operators (manual examples)', () => {
  it('$eq on fields, embedded fields, array elements and whole arrays', () => {
    expect(ids({ qty: { $eq: 20 } }, inventory)).to.deep.equal([2, 5]);
    expect(ids({ qty: 20 }, inventory)).to.deep.equal([2, 5]);
    expect(ids({ 'item.name': 'ab' }, inventory)).to.deep.equal([1]);
    expect(ids({ tags: 'B' }, inventory)).to.deep.equal([1, 2, 3, 4]);
    expect(ids({ tags: ['A', 'B'] }, inventory)).to.deep.equal([3, 5]);
    expect(ids({ item: { name: 'ab', code: '123' } }, inventory)).to.deep.equal([1]);
    expect(ids({ item: { code: '123', name: 'ab' } }, inventory)).to.deep.equal([]);
  });

  it('matches numerically equal values of any numeric type', () => {
    const docs = [{ _id: 1, v: 1 }, { _id: 2, v: new Double(1) }, { _id: 3, v: Long.fromNumber(1) }, { _id: 4, v: Decimal128.fromString('1.00') }, { _id: 5, v: '1' }];
    expect(ids({ v: 1 }, docs)).to.deep.equal([1, 2, 3, 4]);
    expect(ids({ v: Decimal128.fromString('1') }, docs)).to.deep.equal([1, 2, 3, 4]);
    expect(ids({ v: { $in: [Long.fromNumber(1)] } }, docs)).to.deep.equal([1, 2, 3, 4]);
    expect(ids({ v: { $in: [Decimal128.fromString('1.0'), 'x'] } }, docs)).to.deep.equal([1, 2, 3, 4]);
    expect(ids({ v: { $in: [Decimal128.fromString('0.1')] } }, [{ _id: 1, v: 0.1 }])).to.deep.equal([]);
    expect(ids({ v: { $in: [Long.fromBigInt(2n ** 60n)] } }, [{ _id: 1, v: 2 ** 60 }])).to.deep.equal([1]);
  });

  it('$gt/$gte/$lt/$lte only compare within a type bracket', () => {
    const docs = [{ _id: 1, a: 5 }, { _id: 2, a: 'b' }, { _id: 3, a: null }, { _id: 4 }, { _id: 5, a: [1, 10] }, { _id: 6, a: new Date(5) }];
    expect(ids({ a: { $gt: 4 } }, docs)).to.deep.equal([1, 5]);
    expect(ids({ a: { $gt: 'a' } }, docs)).to.deep.equal([2]);
    expect(ids({ a: { $lt: 2 } }, docs)).to.deep.equal([5]);
    expect(ids({ a: { $gte: null } }, docs)).to.deep.equal([3, 4]);
    expect(ids({ a: { $lte: null } }, docs)).to.deep.equal([3, 4]);
    expect(ids({ a: { $gt: null } }, docs)).to.deep.equal([]);
    expect(ids({ a: { $gt: 2, $lt: 8 } }, docs)).to.deep.equal([1, 5]); // different elements may satisfy each bound
  });

  it('MinKey and MaxKey bound every type, including missing', () => {
    const docs = [{ _id: 1, a: 5 }, { _id: 2, a: 'x' }, { _id: 3 }, { _id: 4, a: new MaxKey() }, { _id: 5, a: new MinKey() }];
    expect(ids({ a: { $lt: new MaxKey() } }, docs)).to.deep.equal([1, 2, 3, 5]);
    expect(ids({ a: { $gt: new MinKey() } }, docs)).to.deep.equal([1, 2, 3, 4]);
    expect(ids({ a: { $lte: new MaxKey() } }, docs)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(ids({ a: new MaxKey() }, docs)).to.deep.equal([4]);
  });

  it('NaN equals NaN but is neither greater nor less than anything', () => {
    const docs = [{ _id: 1, a: Number.NaN }, { _id: 2, a: 0 }, { _id: 3, a: Decimal128.fromString('NaN') }];
    expect(ids({ a: Number.NaN }, docs)).to.deep.equal([1, 3]);
    expect(ids({ a: { $lt: 0 } }, docs)).to.deep.equal([]);
    expect(ids({ a: { $gte: Number.NaN } }, docs)).to.deep.equal([1, 3]);
    expect(ids({ a: { $gt: Number.NaN } }, docs)).to.deep.equal([]);
  });

  it('$ne and $nin are complements over arrays and missing fields', () => {
    expect(ids({ tags: { $ne: 'A' } }, inventory)).to.deep.equal([2, 5]);
    expect(ids({ qty: { $nin: [20, 30] } }, inventory)).to.deep.equal([1, 3]);
    expect(ids({ nope: { $ne: 1 } }, inventory)).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('$in with regexes, arrays and null', () => {
    expect(ids({ tags: { $in: [/^c/i, 'Z'] } }, inventory)).to.deep.equal([1, 5]);
    expect(ids({ tags: { $in: [['A', 'B']] } }, inventory)).to.deep.equal([3, 5]);
    const docs = [{ _id: 1, a: null }, { _id: 2 }, { _id: 3, a: 4 }, { _id: 4, a: [1, null] }];
    expect(ids({ a: { $in: [null, 4] } }, docs)).to.deep.equal([1, 2, 3, 4]);
    expect(ids({ a: { $nin: [null] } }, docs)).to.deep.equal([3]);
    expect(ids({ a: { $in: [] } }, docs)).to.deep.equal([]);
  });
});

describe('query/matcher: null, missing and $exists', () => {
  const docs = [{ _id: 1, item: null }, { _id: 2 }, { _id: 3, item: 0 }, { _id: 4, item: [1, null] }, { _id: 5, item: [] }];

  it('{field: null} matches null, missing and arrays holding null; $ne: null is the complement', () => {
    expect(ids({ item: null }, docs)).to.deep.equal([1, 2, 4]);
    expect(ids({ item: { $ne: null } }, docs)).to.deep.equal([3, 5]);
    expect(ids({ item: { $type: 10 } }, docs)).to.deep.equal([1, 4]);
    expect(ids({ item: { $exists: false } }, docs)).to.deep.equal([2]);
    expect(ids({ item: { $exists: true } }, docs)).to.deep.equal([1, 3, 4, 5]);
    expect(ids({ item: { $exists: 0 } }, docs)).to.deep.equal([2]);
  });

  it('dotted null through arrays follows MongoDB (pre-9.0) semantics', () => {
    const more = [
      { _id: 'sub_missing', a: [{ b: 3 }, {}] }, { _id: 'scalars', a: [1, 2] }, { _id: 'empty', a: [] },
      { _id: 'sub_null', a: { b: null } }, { _id: 'scalar', a: 4 }, { _id: 'no_a' }, { _id: 'b_set', a: [{ b: 1 }] },
    ];
    expect(ids({ 'a.b': null }, more)).to.deep.equal(['sub_missing', 'sub_null', 'scalar', 'no_a']);
    expect(ids({ 'a.b': { $ne: null } }, more)).to.deep.equal(['scalars', 'empty', 'b_set']);
    expect(ids({ 'a.b': { $exists: false } }, more)).to.deep.equal(['scalars', 'empty', 'scalar', 'no_a']);
  });
});

describe('query/matcher: arrays and paths', () => {
  const inv = [
    { _id: 1, instock: [{ warehouse: 'A', qty: 5 }, { warehouse: 'C', qty: 15 }] },
    { _id: 2, instock: [{ warehouse: 'C', qty: 5 }] },
    { _id: 3, instock: [{ warehouse: 'A', qty: 60 }, { warehouse: 'B', qty: 15 }] },
  ];

  it('queries fields of embedded documents in arrays, by any element or position', () => {
    expect(ids({ 'instock.qty': { $lte: 5 } }, inv)).to.deep.equal([1, 2]);
    expect(ids({ 'instock.0.qty': { $lte: 20 } }, inv)).to.deep.equal([1, 2]);
    expect(ids({ instock: { warehouse: 'A', qty: 5 } }, inv)).to.deep.equal([1]);
    expect(ids({ instock: { qty: 5, warehouse: 'A' } }, inv)).to.deep.equal([]);
    // Without $elemMatch each condition may be met by a different element.
    expect(ids({ 'instock.qty': 15, 'instock.warehouse': 'A' }, inv)).to.deep.equal([1, 3]);
    expect(ids({ instock: { $elemMatch: { qty: 15, warehouse: 'A' } } }, inv)).to.deep.equal([]);
    expect(ids({ instock: { $elemMatch: { qty: 5, warehouse: 'A' } } }, inv)).to.deep.equal([1]);
  });

  it('numeric components address positions and digit-named fields; nested arrays are not flattened', () => {
    expect(matches({ 'a.0': 'x' }, { a: { 0: 'x' } })).to.equal(true);
    expect(matches({ 'a.0': 'x' }, { a: [{ 0: 'x' }] })).to.equal(true);
    expect(matches({ 'a.1': 'x' }, { a: ['w', 'x'] })).to.equal(true);
    expect(matches({ 'a.01': 'x' }, { a: ['w', 'x'] })).to.equal(false);
    expect(matches({ 'a.0.1': 2 }, { a: [[1, 2]] })).to.equal(true);
    expect(matches({ a: 1 }, { a: [[1], 2] })).to.equal(false);
    expect(matches({ a: [1] }, { a: [[1], 2] })).to.equal(true);
    expect(matches({ 'a.b': 1 }, { a: [[{ b: 1 }]] })).to.equal(false);
    expect(getValuesAtPath({ a: [{ b: 1 }, { b: [2, 3] }] }, 'a.b')).to.deep.equal([1, 2, 3, [2, 3]]);
    expect(getValuesAtPath({ a: [1, [2]] }, 'a', { includeArrays: false })).to.deep.equal([1, [2]]);
  });

  it('does not treat inherited properties as fields', () => {
    expect(matches({ constructor: { $exists: true } }, { a: 1 })).to.equal(false);
    expect(matches({ 'a.toString': { $exists: true } }, { a: {} })).to.equal(false);
  });

  it('reports the index of the first array traversed (elemMatchKey)', () => {
    const f = compileFilter({ 'grades.grade': { $gte: 85 } });
    const details: { arrayIndex?: number } = {};
    expect(f.matches({ grades: [{ grade: 80 }, { grade: 85 }, { grade: 90 }] }, details)).to.equal(true);
    expect(details.arrayIndex).to.equal(1);
    expect(f.matches({ grades: { grade: 90 } }, details)).to.equal(true);
    expect(details.arrayIndex).to.equal(undefined);
    expect(f.matches({ grades: [{ grade: 1 }] }, details)).to.equal(false);
    expect(details.arrayIndex).to.equal(undefined);
    const em = compileFilter({ a: { $elemMatch: { $gt: 2 } } });
    expect(em.matches({ a: [1, 5] }, details)).to.equal(true);
    expect(details.arrayIndex).to.equal(1);
    const outer = compileFilter({ 'a.b': { $elemMatch: { $gt: 2 } } });
    expect(outer.matches({ a: [{ b: [0] }, { b: [1, 7] }] }, details)).to.equal(true);
    expect(details.arrayIndex).to.equal(1); // the outer array wins
    const and = compileFilter({ x: 1, a: 3 });
    expect(and.matches({ x: 1, a: [1, 2, 3] }, details)).to.equal(true);
    expect(details.arrayIndex).to.equal(2);
  });
});

describe('query/matcher: array operators', () => {
  it('$all, including $all of $elemMatch', () => {
    expect(ids({ tags: { $all: ['A', 'B'] } }, inventory)).to.deep.equal([1, 3, 4]);
    expect(ids({ tags: { $all: [['A', 'B']] } }, inventory)).to.deep.equal([3, 5]);
    expect(ids({ tags: { $all: [] } }, inventory)).to.deep.equal([]);
    const docs = [
      { _id: 1, qty: [{ size: 'S', num: 10, color: 'blue' }, { size: 'M', num: 100, color: 'blue' }, { size: 'L', num: 100, color: 'green' }] },
      { _id: 2, qty: [{ size: 'M', num: 100, color: 'green' }] },
      { _id: 3, qty: [{ size: 'M', num: 45, color: 'green' }, { size: 'L', num: 100, color: 'green' }] },
    ];
    const filter = { qty: { $all: [{ $elemMatch: { size: 'M', num: { $gt: 50 } } }, { $elemMatch: { num: 100, color: 'green' } }] } };
    expect(ids(filter, docs)).to.deep.equal([1, 2]);
  });

  it('$elemMatch on values and on documents, only over arrays', () => {
    const scores = [{ _id: 1, results: [82, 85, 88] }, { _id: 2, results: [75, 88, 89] }, { _id: 3, results: 82 }];
    expect(ids({ results: { $elemMatch: { $gte: 80, $lt: 85 } } }, scores)).to.deep.equal([1]);
    expect(ids({ results: { $gte: 80, $lt: 85 } }, scores)).to.deep.equal([1, 2, 3]);
    const survey = [
      { _id: 1, results: [{ product: 'abc', score: 10 }, { product: 'xyz', score: 5 }] },
      { _id: 2, results: [{ product: 'abc', score: 8 }, { product: 'xyz', score: 7 }] },
      { _id: 3, results: [{ product: 'abc', score: 7 }, { product: 'xyz', score: 8 }] },
    ];
    expect(ids({ results: { $elemMatch: { product: 'xyz', score: { $gte: 8 } } } }, survey)).to.deep.equal([3]);
    expect(ids({ results: { $elemMatch: { product: { $ne: 'xyz' } } } }, survey)).to.deep.equal([1, 2, 3]);
    expect(matches({ a: { $elemMatch: { 0: 1 } } }, { a: [[1, 2]] })).to.equal(true);
    expect(matches({ a: { $elemMatch: { $type: 'array' } } }, { a: [[1]] })).to.equal(true);
  });

  it('$size matches the array itself, not its elements', () => {
    const docs = [{ _id: 1, a: [1, 2] }, { _id: 2, a: [[1, 2]] }, { _id: 3, a: 2 }, { _id: 4, a: [] }];
    expect(ids({ a: { $size: 2 } }, docs)).to.deep.equal([1]);
    expect(ids({ a: { $size: 0 } }, docs)).to.deep.equal([4]);
    expect(ids({ a: { $size: new Double(1) } }, docs)).to.deep.equal([2]);
    expect(matches({ 'a.b': { $size: 1 } }, { a: [{ b: [5] }] })).to.equal(true);
  });
});

describe('query/matcher: element and evaluation operators', () => {
  it('$type with aliases, codes, "number" and lists; arrays match "array"', () => {
    const docs = [
      { _id: 1, z: '1' }, { _id: 2, z: 1 }, { _id: 3, z: new Double(1) }, { _id: 4, z: Long.fromNumber(1) },
      { _id: 5, z: Decimal128.fromString('1') }, { _id: 6, z: [1, 'x'] }, { _id: 7, z: null }, { _id: 8 },
    ];
    expect(ids({ z: { $type: 'string' } }, docs)).to.deep.equal([1, 6]);
    expect(ids({ z: { $type: 2 } }, docs)).to.deep.equal([1, 6]);
    expect(ids({ z: { $type: 'number' } }, docs)).to.deep.equal([2, 3, 4, 5, 6]);
    expect(ids({ z: { $type: ['double', 'long'] } }, docs)).to.deep.equal([3, 4]);
    expect(ids({ z: { $type: 'int' } }, docs)).to.deep.equal([2, 6]);
    expect(ids({ z: { $type: 'array' } }, docs)).to.deep.equal([6]);
    expect(ids({ z: { $type: new Int32(10) } }, docs)).to.deep.equal([7]);
  });

  it('$mod truncates toward zero and keeps the sign of the dividend', () => {
    const docs = [{ _id: 1, qty: 0 }, { _id: 2, qty: 5 }, { _id: 3, qty: 12 }, { _id: 4, qty: -7 }, { _id: 5, qty: 12.9 }, { _id: 6, qty: 'x' }];
    expect(ids({ qty: { $mod: [4, 0] } }, docs)).to.deep.equal([1, 3, 5]);
    expect(ids({ qty: { $mod: [4, -3] } }, docs)).to.deep.equal([4]);
    expect(ids({ qty: { $mod: [4.5, 0] } }, docs)).to.deep.equal([1, 3, 5]);
    expect(ids({ qty: { $mod: [Long.fromNumber(5), 0] } }, docs)).to.deep.equal([1, 2]);
  });

  it('$regex with string, BSONRegExp and RegExp, and flags i m s x', () => {
    const products = [
      { _id: 100, sku: 'abc123', description: 'Single line description.' },
      { _id: 101, sku: 'abc789', description: 'First line\nSecond line' },
      { _id: 102, sku: 'xyz456', description: 'Many spaces before     line' },
      { _id: 103, sku: 'xyz789', description: 'Multiple\nline description' },
    ];
    expect(ids({ sku: { $regex: /789$/ } }, products)).to.deep.equal([101, 103]);
    expect(ids({ sku: { $regex: '^ABC', $options: 'i' } }, products)).to.deep.equal([100, 101]);
    expect(ids({ sku: new BSONRegExp('^ABC', 'i') }, products)).to.deep.equal([100, 101]);
    expect(ids({ description: { $regex: /^S/, $options: 'm' } }, products)).to.deep.equal([100, 101]);
    expect(ids({ description: { $regex: /^S/ } }, products)).to.deep.equal([100]);
    expect(ids({ description: { $regex: /m.*line/, $options: 'si' } }, products)).to.deep.equal([102, 103]);
    expect(ids({ description: { $regex: /m.*line/, $options: 'i' } }, products)).to.deep.equal([102]);
    const pattern = 'abc #category code\n123 #item number';
    expect(ids({ sku: { $regex: pattern, $options: 'x' } }, products)).to.deep.equal([100]);
  });

  it('translates PCRE-only syntax faithfully', () => {
    expect(matches({ s: /abc$/ }, { s: 'abc\n' })).to.equal(true); // PCRE $ matches before a final newline
    expect(matches({ s: /^a.c$/ }, { s: 'a\rc' })).to.equal(true); // PCRE . matches \r
    expect(matches({ s: new BSONRegExp('\\Aab\\z') }, { s: 'ab' })).to.equal(true);
    expect(matches({ s: new BSONRegExp('[]a]+') }, { s: ']a' })).to.equal(true);
    expect(matches({ s: new BSONRegExp('^[[:digit:]]+$') }, { s: '123' })).to.equal(true);
    expect(matches({ s: new BSONRegExp('^\\s$') }, { s: '\u00a0' })).to.equal(false); // PCRE \s is ASCII
    expect(matches({ s: new BSONRegExp('(?i)^abc') }, { s: 'ABC' })).to.equal(true);
    expect(matches({ s: new BSONRegExp('^(?P<x>a)(?P=x)$') }, { s: 'aa' })).to.equal(true);
    expect(matches({ s: /^.$/ }, { s: '😀' })).to.equal(true); // UTF mode: one code point
    expect(() => compileFilter({ s: new BSONRegExp('\\Qa.b\\E') })).to.throw(MongoError);
  });

  it('a regex value matches strings and an identical stored regex', () => {
    const docs = [{ _id: 1, r: new BSONRegExp('a', 'i') }, { _id: 2, r: new BSONRegExp('a', '') }, { _id: 3, r: 'A' }];
    expect(ids({ r: /a/i }, docs)).to.deep.equal([1, 3]);
    expect(ids({ r: { $eq: new BSONRegExp('a', 'i') } }, docs)).to.deep.equal([1]);
  });

  it('$not negates an operator document or a regex, including missing fields', () => {
    const docs = [{ _id: 1, item: 'pencil', price: 1.5 }, { _id: 2, item: 'eraser', price: 2.5 }, { _id: 3, item: 'pen' }];
    expect(ids({ price: { $not: { $gt: 1.99 } } }, docs)).to.deep.equal([1, 3]);
    expect(ids({ item: { $not: /^p.*/ } }, docs)).to.deep.equal([2]);
    expect(ids({ item: { $not: { $regex: '^p' } } }, docs)).to.deep.equal([2]);
  });

  it('$and, $or, $nor and implicit AND', () => {
    const docs = [{ _id: 1, price: 1.99, qty: 10, sale: true }, { _id: 2, price: 2, qty: 30 }, { _id: 3, qty: 5, sale: false }];
    expect(ids({ $and: [{ price: { $ne: 1.99 } }, { price: { $exists: true } }] }, docs)).to.deep.equal([2]);
    expect(ids({ $or: [{ qty: { $lt: 8 } }, { price: 2 }] }, docs)).to.deep.equal([2, 3]);
    expect(ids({ $nor: [{ price: 1.99 }, { sale: true }] }, docs)).to.deep.equal([2, 3]);
    expect(ids({ qty: { $gt: 4 }, $comment: 'ignored', $or: [{ sale: false }, { sale: true }] }, docs)).to.deep.equal([1, 3]);
    expect(ids({}, docs)).to.deep.equal([1, 2, 3]);
  });

  it('$bitsAllSet and friends', () => {
    const docs = [{ _id: 1, a: 54 }, { _id: 2, a: 20 }, { _id: 3, a: 20.5 }, { _id: 4, a: new Binary(Buffer.from([0x36])) }];
    expect(ids({ a: { $bitsAllSet: [1, 5] } }, docs)).to.deep.equal([1, 4]);
    expect(ids({ a: { $bitsAnySet: 0b110 } }, docs)).to.deep.equal([1, 2, 4]);
    expect(ids({ a: { $bitsAllClear: [0, 1] } }, docs)).to.deep.equal([2]);
  });
});
