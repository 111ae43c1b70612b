import { expect } from 'chai';
import { Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId } from 'bson';
import type { Document } from '../../server/embedded-mongo/bson-values.js';
import { compileFilter } from '../../server/embedded-mongo/query/matcher.js';
import { compileProjection } from '../../server/embedded-mongo/query/projection.js';
import { compileSort } from '../../server/embedded-mongo/query/sort.js';
import { expectError } from './query-test-helpers.js';

function sortedIds(spec: Document, docs: Document[]): unknown[] {
  return [...docs].sort(compileSort(spec)).map((d) => d._id);
}

describe('query/sort', () => {
  it('sorts ascending and descending on several keys, stably', () => {
    const docs = [{ _id: 1, a: 2, b: 1 }, { _id: 2, a: 1, b: 2 }, { _id: 3, a: 2, b: 0 }, { _id: 4, a: 1, b: 2 }];
    expect(sortedIds({ a: 1, b: -1 }, docs)).to.deep.equal([2, 4, 1, 3]);
    expect(sortedIds({ a: -1 }, docs)).to.deep.equal([1, 3, 2, 4]);
  });

  it('accepts any numeric 1/-1 and rejects anything else', () => {
    const docs = [{ _id: 1, a: 1 }, { _id: 2, a: 2 }];
    expect(sortedIds({ a: new Int32(-1) }, docs)).to.deep.equal([2, 1]);
    expect(sortedIds({ a: new Double(-1) }, docs)).to.deep.equal([2, 1]);
    expect(sortedIds({ a: Long.fromNumber(1) }, docs)).to.deep.equal([1, 2]);
    expect(sortedIds({ a: Decimal128.fromString('-1.0') }, docs)).to.deep.equal([2, 1]);
    for (const bad of [2, 0, 'asc', true, { x: 1 }]) {
      expectError(() => compileSort({ a: bad }), 2, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    }
    expectError(() => compileSort({ a: { $meta: 'textScore' } }), 238);
    expectError(() => compileSort({ '': 1 }), 40352);
    expectError(() => compileSort({ $a: 1 }), 16410);
  });

  it('orders mixed types by BSON order, missing as null, an empty array below null', () => {
    const docs = [
      { _id: 'str', a: 'x' }, { _id: 'num', a: 3 }, { _id: 'null', a: null }, { _id: 'missing' }, { _id: 'empty', a: [] },
      { _id: 'obj', a: { b: 1 } }, { _id: 'bool', a: true }, { _id: 'date', a: new Date(0) }, { _id: 'oid', a: new ObjectId() },
      { _id: 'min', a: new MinKey() }, { _id: 'max', a: new MaxKey() }, { _id: 'long', a: Long.fromNumber(2) },
    ];
    expect(sortedIds({ a: 1 }, docs)).to.deep.equal(['min', 'empty', 'null', 'missing', 'long', 'num', 'str', 'obj', 'oid', 'bool', 'date', 'max']);
  });

  it('uses the smallest array element ascending and the largest descending', () => {
    const shoes = [{ _id: 'A', sizes: [7, 11] }, { _id: 'B', sizes: [8, 9, 10] }];
    expect(sortedIds({ sizes: 1 }, shoes)).to.deep.equal(['A', 'B']);
    expect(sortedIds({ sizes: -1 }, shoes)).to.deep.equal(['A', 'B']);
    const docs = [{ _id: 1, a: [1, 5] }, { _id: 2, a: 3 }, { _id: 3, a: [[0], 4] }];
    expect(sortedIds({ a: 1 }, docs)).to.deep.equal([1, 2, 3]); // the nested array [0] is an array value, above numbers
    expect(sortedIds({ a: -1 }, docs)).to.deep.equal([3, 1, 2]);
  });

  it('sorts dotted paths through arrays, counting elements without the field as null', () => {
    const docs = [
      { _id: 1, a: [{ b: 5 }, { b: 1 }] }, { _id: 2, a: [{ b: 3 }, { c: 1 }] }, { _id: 3, a: { b: 2 } }, { _id: 4, a: [{ b: [0, 9] }] },
    ];
    expect(sortedIds({ 'a.b': 1 }, docs)).to.deep.equal([2, 4, 1, 3]);
    expect(sortedIds({ 'a.b': -1 }, docs)).to.deep.equal([4, 1, 2, 3]);
    expect(sortedIds({ 'a.0.b': 1 }, docs)).to.deep.equal([3, 4, 2, 1]);
  });

  it('keeps fields through the same array together and refuses parallel arrays', () => {
    const docs = [{ _id: 1, a: [{ x: 1, y: 9 }, { x: 2, y: 0 }] }, { _id: 2, a: [{ x: 1, y: 5 }] }];
    // Per-field minima would give doc 1 the key (1, 0); MongoDB keys it by element: (1, 9).
    expect(sortedIds({ 'a.x': 1, 'a.y': 1 }, docs)).to.deep.equal([2, 1]);
    expectError(() => [{ a: [1, 2], b: [1, 2] }, { a: 1, b: 1 }].sort(compileSort({ a: 1, b: 1 })), 2, 'cannot sort with keys that are parallel arrays');
  });

  it('agrees between documents with and without arrays on the sort paths', () => {
    const docs = [{ _id: 1, a: 1, b: [5, 0] }, { _id: 2, a: 1, b: 3 }, { _id: 3, a: 0, b: [9] }, { _id: 4, a: [1], b: 1 }];
    expect(sortedIds({ a: 1, b: 1 }, docs)).to.deep.equal([3, 1, 4, 2]);
    expect(sortedIds({ a: -1, b: -1 }, docs)).to.deep.equal([1, 2, 4, 3]);
  });
});

describe('query/projection: inclusion and exclusion', () => {
  const doc = { _id: 1, item: 'journal', status: 'A', size: { h: 14, w: 21, uom: 'cm' }, instock: [{ warehouse: 'A', qty: 5 }, { warehouse: 'C', qty: 15 }, 7] };

  it('includes fields (and _id unless excluded) in document order', () => {
    expect(compileProjection({ status: 1, item: 1 })(doc)).to.deep.equal({ _id: 1, item: 'journal', status: 'A' });
    expect(Object.keys(compileProjection({ status: 1, item: 1 })(doc))).to.deep.equal(['_id', 'item', 'status']);
    expect(compileProjection({ item: 1, _id: 0 })(doc)).to.deep.equal({ item: 'journal' });
    expect(compileProjection({ _id: 1 })(doc)).to.deep.equal({ _id: 1 });
    expect(compileProjection({ item: true, status: new Double(1) })(doc)).to.deep.equal({ _id: 1, item: 'journal', status: 'A' });
  });

  it('excludes fields, keeping _id unless excluded', () => {
    expect(compileProjection({ status: 0, instock: 0, size: false })(doc)).to.deep.equal({ _id: 1, item: 'journal' });
    expect(compileProjection({ _id: 0 })(doc)).to.deep.equal({ item: 'journal', status: 'A', size: doc.size, instock: doc.instock });
    expect(compileProjection({ _id: 1, status: 0, size: 0, instock: 0 })(doc)).to.deep.equal({ _id: 1, item: 'journal' });
  });

  it('projects dotted paths through embedded documents and arrays of documents', () => {
    expect(compileProjection({ 'size.uom': 1 })(doc)).to.deep.equal({ _id: 1, size: { uom: 'cm' } });
    expect(compileProjection({ size: { uom: 1 } })(doc)).to.deep.equal({ _id: 1, size: { uom: 'cm' } });
    expect(compileProjection({ 'instock.qty': 1 })(doc)).to.deep.equal({ _id: 1, instock: [{ qty: 5 }, { qty: 15 }] });
    expect(compileProjection({ 'size.uom': 0, 'instock.qty': 0 })(doc)).to.deep.equal({
      _id: 1, item: 'journal', status: 'A', size: { h: 14, w: 21 }, instock: [{ warehouse: 'A' }, { warehouse: 'C' }, 7],
    });
    expect(compileProjection({ 'a.b': 1 })({ _id: 2, a: [[{ b: 1, c: 2 }], { c: 3 }] })).to.deep.equal({ _id: 2, a: [[{ b: 1 }], {}] });
    expect(compileProjection({ 'a.b': 1 })({ _id: 3, a: 5 })).to.deep.equal({ _id: 3 });
  });

  it('rejects mixing inclusion and exclusion, and path collisions', () => {
    expectError(() => compileProjection({ a: 1, b: 0 }), 31254, 'Cannot do exclusion on field b in inclusion projection');
    expectError(() => compileProjection({ a: 0, b: 1 }), 31253, 'Cannot do inclusion on field b in exclusion projection');
    expectError(() => compileProjection({ a: 0, b: 'x' }), 31310);
    expectError(() => compileProjection({ a: 0, b: { $add: [1, 2] } }), 31252);
    expectError(() => compileProjection({ a: 1, 'a.b': 1 }), 31249);
    expectError(() => compileProjection({ 'a.b': 1, a: 1 }), 31250);
    expectError(() => compileProjection({ a: {} }), 51270);
    expectError(() => compileProjection({ a: { $foo: 1 } }), 31325, 'Unknown expression $foo');
    expectError(() => compileProjection({ $a: 1 }), 16410);
  });

  it('never mutates the input and returns copies', () => {
    const input = { _id: 1, a: { b: [1, { c: 2 }] }, d: new Date(5) };
    const snapshot = JSON.stringify(input);
    const out = compileProjection({ a: 1, d: 1 })(input);
    expect(JSON.stringify(input)).to.equal(snapshot);
    expect(out.a).to.deep.equal(input.a);
    expect(out.a).not.to.equal(input.a);
    expect(out.a.b).not.to.equal(input.a.b);
    expect(out.d).not.to.equal(input.d);
    const excluded = compileProjection({ x: 0 })(input);
    expect(excluded.a).not.to.equal(input.a);
  });
});

describe('query/projection: find operators', () => {
  it('$slice with n, -n and [skip, limit], neutral about the projection type', () => {
    const post = { _id: 1, title: 't', comments: [1, 2, 3, 4, 5] };
    expect(compileProjection({ comments: { $slice: 2 } })(post)).to.deep.equal({ _id: 1, title: 't', comments: [1, 2] });
    expect(compileProjection({ comments: { $slice: -2 } })(post)).to.deep.equal({ _id: 1, title: 't', comments: [4, 5] });
    expect(compileProjection({ comments: { $slice: [1, 2] } })(post)).to.deep.equal({ _id: 1, title: 't', comments: [2, 3] });
    expect(compileProjection({ comments: { $slice: [-2, 5] } })(post)).to.deep.equal({ _id: 1, title: 't', comments: [4, 5] });
    expect(compileProjection({ comments: { $slice: [7, 1] } })(post).comments).to.deep.equal([]);
    expect(compileProjection({ title: 1, comments: { $slice: 1 } })(post)).to.deep.equal({ _id: 1, title: 't', comments: [1] });
    expect(compileProjection({ _id: 1, comments: { $slice: 1 } })(post)).to.deep.equal({ _id: 1, comments: [1] });
    expect(compileProjection({ title: 0, comments: { $slice: 1 } })(post)).to.deep.equal({ _id: 1, comments: [1] });
    const nested = { _id: 2, a: [{ b: [1, 2, 3] }, { b: [4, 5] }, { b: 9 }] };
    expect(compileProjection({ 'a.b': { $slice: 1 } })(nested)).to.deep.equal({ _id: 2, a: [{ b: [1] }, { b: [4] }, { b: 9 }] });
    expect(compileProjection({ x: { $slice: 1 } })({ _id: 3, x: 'str' })).to.deep.equal({ _id: 3, x: 'str' });
    expectError(() => compileProjection({ a: { $slice: 'x' } }), 31273);
  });

  it('$elemMatch returns the first matching element only', () => {
    const schools = [
      { _id: 1, zipcode: '63109', students: [{ name: 'john', school: 102, age: 10 }, { name: 'jess', school: 102, age: 11 }, { name: 'jeff', school: 108, age: 15 }] },
      { _id: 3, zipcode: '63109', students: [{ name: 'ajax', school: 100, age: 7 }, { name: 'achilles', school: 100, age: 8 }] },
    ];
    const p = compileProjection({ students: { $elemMatch: { school: 102 } } });
    expect(schools.map((d) => p(d))).to.deep.equal([{ _id: 1, students: [{ name: 'john', school: 102, age: 10 }] }, { _id: 3 }]);
    const q = compileProjection({ zipcode: 1, students: { $elemMatch: { school: 102, age: { $gt: 10 } } } });
    expect(q(schools[0])).to.deep.equal({ _id: 1, zipcode: '63109', students: [{ name: 'jess', school: 102, age: 11 }] });
    expectError(() => compileProjection({ 'a.b': { $elemMatch: { x: 1 } } }), 31275);
    expectError(() => compileProjection({ a: { $elemMatch: 1 } }), 31274);
  });

  it('positional $ projects the element the query matched', () => {
    const students = { _id: 1, semester: 1, grades: [70, 87, 90] };
    const filter = compileFilter({ semester: 1, grades: { $gte: 85 } });
    const details: { arrayIndex?: number } = {};
    expect(filter.matches(students, details)).to.equal(true);
    expect(compileProjection({ 'grades.$': 1 })(students, details)).to.deep.equal({ _id: 1, grades: [87] });
    const docs = { _id: 7, grades: [{ grade: 80, mean: 75 }, { grade: 85, mean: 90 }, { grade: 90, mean: 85 }] };
    compileFilter({ 'grades.mean': { $gt: 70 } }).matches(docs, details);
    expect(compileProjection({ 'grades.$': 1, _id: 0 })(docs, details)).to.deep.equal({ grades: [{ grade: 80, mean: 75 }] });
    expectError(() => compileProjection({ 'grades.$': 1 })(students, {}), 2);
    expectError(() => compileProjection({ 'grades.$': 1 })(students), 2);
    expectError(() => compileProjection({ 'a.$': 1, 'b.$': 1 }), 31276);
    expectError(() => compileProjection({ b: { $elemMatch: {} }, 'a.$': 1 }), 31256);
    expectError(() => compileProjection({ 'a.$': 1, b: { $elemMatch: {} } }), 31255);
    expectError(() => compileProjection({ 'a.$': { $slice: 1 } }), 31271);
  });
});

describe('query/projection: expressions (MongoDB 4.4+)', () => {
  const doc = { _id: 1, a: { b: new Double(2) }, n: 3, arr: [{ x: 1 }, { x: 2 }, { y: 3 }] };

  it('evaluates literals, field paths and operator expressions as computed fields', () => {
    const p = compileProjection({ lit: { $literal: 5 }, path: '$a.b', sum: { $add: ['$n', 1] }, s: 'text', xs: '$arr.x', arrLit: ['$n', '$nope'] });
    expect(p(doc)).to.deep.equal({ _id: 1, lit: 5, path: new Double(2), sum: 4, s: 'text', xs: [1, 2], arrLit: [3, null] });
    expect(p(doc).path).to.be.instanceOf(Double); // a plain field path keeps the stored BSON type
  });

  it('mixes computed fields with inclusions, appending new fields and replacing in place', () => {
    const p = compileProjection({ n: { $multiply: ['$n', 2] }, a: 1, extra: '$n', missing: '$nope' });
    const out = p({ _id: 1, n: 3, a: 1, z: 0 });
    expect(out).to.deep.equal({ _id: 1, a: 1, n: 6, extra: 3 });
    expect(Object.keys(out)).to.deep.equal(['_id', 'a', 'n', 'extra']);
    expect(compileProjection({ 'sub.k': { $literal: 1 } })({ _id: 2, sub: { j: 0 } })).to.deep.equal({ _id: 2, sub: { k: 1 } });
  });

  it('refuses $meta and unsupported expression operators', () => {
    expectError(() => compileProjection({ score: { $meta: 'textScore' } }), 238);
    expectError(() => compileProjection({ f: { $function: { body: 'x', args: [], lang: 'js' } } }), 238);
    expectError(() => compileProjection({ f: { $toLong: '$n' } }), 238);
  });

  it('can use the aggregation $slice when the find form does not apply', () => {
    expect(compileProjection({ s: { $slice: ['$arr', 1] } })(doc)).to.deep.equal({ _id: 1, s: [{ x: 1 }] });
  });
});
