import { expect } from 'chai';
import { Binary, Decimal128, Double, Long, ObjectId } from 'bson';
import { compileFilter } from '../../server/embedded-mongo/query/matcher.js';
import { expectError, ids, matches } from './query-test-helpers.js';

describe('query/matcher: $expr', () => {
  const monthly = [{ _id: 1, category: 'food', budget: 400, spent: 450 }, { _id: 2, category: 'drinks', budget: 500, spent: 100 },
    { _id: 3, category: 'clothes', budget: 100, spent: 150 }, { _id: 4, category: 'misc', budget: 500, spent: 300 }];

  it('compares fields of the same document', () => {
    expect(ids({ $expr: { $gt: ['$spent', '$budget'] } }, monthly)).to.deep.equal([1, 3]);
    const discounted = { $cond: { if: { $gte: ['$budget', 500] }, then: { $multiply: ['$budget', 0.5] }, else: '$budget' } };
    expect(ids({ $expr: { $lt: [discounted, '$spent'] } }, monthly)).to.deep.equal([1, 3, 4]);
  });

  it('compares with BSON semantics: exact numbers, missing below null, let variables', () => {
    expect(matches({ $expr: { $eq: ['$a', '$b'] } }, { a: Long.fromString('9007199254740993'), b: 9007199254740992 })).to.equal(false);
    expect(matches({ $expr: { $eq: ['$a', Decimal128.fromString('2.0')] } }, { a: new Double(2) })).to.equal(true);
    expect(matches({ $expr: { $eq: ['$missing', null] } }, { a: 1 })).to.equal(false);
    expect(matches({ $expr: { $lt: ['$missing', null] } }, { a: 1 })).to.equal(true);
    expect(matches({ $expr: { $eq: [{ $type: '$a' }, 'double'] } }, { a: new Double(2) })).to.equal(true);
    expect(compileFilter({ $expr: { $gt: ['$a', '$$limit'] } }, { variables: { limit: 3 } }).matches({ a: 4 })).to.equal(true);
    expect(matches({ $expr: '$flag' }, { flag: Decimal128.fromString('0') })).to.equal(false);
  });

  it('refuses arithmetic it cannot do exactly', () => {
    expectError(() => matches({ $expr: { $gt: [{ $add: ['$a', 1] }, 0] } }, { a: Decimal128.fromString('1.5') }), 238);
    expect(matches({ $expr: { $gt: [{ $add: ['$a', 1] }, 0] } }, { a: 1, b: Decimal128.fromString('1.5') })).to.equal(true);
  });
});

describe('query/matcher: errors', () => {
  it('rejects unknown operators with MongoDB messages', () => {
    expectError(() => compileFilter({ $foo: 1 }), 2, 'unknown top level operator: $foo');
    expectError(() => compileFilter({ a: { $foo: 1 } }), 2, 'unknown operator: $foo');
    expectError(() => compileFilter({ a: { $gt: 1, b: 1 } }), 2, 'unknown operator: b');
    expect(compileFilter({ a: { b: 1, $gt: 1 } }).matches({ a: { b: 1, $gt: 1 } })).to.equal(true); // equality, not operators
    expectError(() => compileFilter({ $expr: { $foo: 1 } }), 168, "Unrecognized expression '$foo'");
  });

  it('rejects malformed arguments', () => {
    expectError(() => compileFilter({ a: { $in: 1 } }), 2, '$in needs an array');
    expectError(() => compileFilter({ a: { $nin: {} } }), 2, '$in needs an array');
    expectError(() => compileFilter({ a: { $in: [{ $gt: 1 }] } }), 2, 'cannot nest $ under $in');
    expectError(() => compileFilter({ $and: [] }), 2, '$and/$or/$nor must be a nonempty array');
    expectError(() => compileFilter({ $or: {} }), 2, '$or must be an array');
    expectError(() => compileFilter({ $nor: [1] }), 2, '$or/$and/$nor entries need to be full objects');
    expectError(() => compileFilter({ a: { $size: -1 } }), 2, '$size may not be negative');
    expectError(() => compileFilter({ a: { $size: 1.5 } }), 2, '$size must be a whole number');
    expectError(() => compileFilter({ a: { $size: '1' } }), 2, '$size needs a number');
    expectError(() => compileFilter({ a: { $regex: 1 } }), 2, '$regex has to be a string');
    expectError(() => compileFilter({ a: { $options: 'i' } }), 2, '$options needs a $regex');
    expectError(() => compileFilter({ a: { $regex: /a/i, $options: 'm' } }), 51075);
    expectError(() => compileFilter({ a: { $regex: 'a', $options: 'g' } }), 51108, 'invalid flag in regex options: g');
    expectError(() => compileFilter({ a: { $regex: '(' } }), 51091);
    expectError(() => compileFilter({ a: { $mod: [4] } }), 2, 'malformed mod, not enough elements');
    expectError(() => compileFilter({ a: { $mod: [4, 1, 2] } }), 2, 'malformed mod, too many elements');
    expectError(() => compileFilter({ a: { $mod: ['4', 1] } }), 2, 'malformed mod, divisor not a number');
    expectError(() => compileFilter({ a: { $mod: [0, 1] } }), 2, 'divisor cannot be 0');
    expectError(() => compileFilter({ a: { $mod: 4 } }), 2, 'malformed mod, needs to be an array');
    expectError(() => compileFilter({ a: { $not: {} } }), 2, '$not cannot be empty');
    expectError(() => compileFilter({ a: { $not: 1 } }), 2, '$not needs a regex or a document');
    expectError(() => compileFilter({ a: { $ne: /a/ } }), 2, "Can't have regex as arg to $ne.");
    expectError(() => compileFilter({ a: { $gt: /a/ } }), 2, "Can't have RegEx as arg to predicate over field 'a'.");
    expectError(() => compileFilter({ a: { $elemMatch: 1 } }), 2, '$elemMatch needs an Object');
    expectError(() => compileFilter({ a: { $all: 1 } }), 2, '$all needs an array');
    expectError(() => compileFilter({ a: { $all: [{ $elemMatch: {} }, 1] } }), 2, '$all/$elemMatch has to be consistent');
    expectError(() => compileFilter({ a: { $all: [{ $gt: 1 }] } }), 2, 'no $ expressions in $all');
    expectError(() => compileFilter({ a: { $type: 'foo' } }), 2, 'Unknown type name alias: foo');
    expectError(() => compileFilter({ a: { $type: 99 } }), 2, 'Invalid numerical type code: 99');
    expectError(() => compileFilter({ a: { $type: [] } }), 9);
    expectError(() => compileFilter({ a: { $elemMatch: { $expr: { $eq: [1, 1] } } } }), 2, '$expr can only be applied to the top-level document');
  });

  it('throws notSupported for features the store does not implement', () => {
    for (const filter of [
      { $text: { $search: 'x' } }, { $where: 'true' }, { $jsonSchema: {} }, { loc: { $near: [0, 0] } },
      { loc: { $nearSphere: [0, 0] } }, { loc: { $geoWithin: {} } }, { loc: { $geoIntersects: {} } },
      { $expr: { $function: { body: 'x', args: [], lang: 'js' } } },
    ]) {
      expectError(() => compileFilter(filter), 238, /not supported by the embedded store/);
    }
    expectError(() => compileFilter({ loc: { $near: [0, 0] } }), 238, /\$near/);
  });
});

describe('query/matcher: value types', () => {
  it('matches ObjectId, Date and Binary by value', () => {
    const id = new ObjectId();
    expect(matches({ _id: new ObjectId(id.toHexString()) }, { _id: id })).to.equal(true);
    expect(matches({ d: { $gte: new Date(5) } }, { d: new Date(6) })).to.equal(true);
    expect(matches({ b: new Binary(Buffer.from([1]), 4) }, { b: new Binary(Buffer.from([1]), 0) })).to.equal(false);
  });

  it('treats an undefined filter value like the driver does (as null)', () => {
    expect(matches({ a: undefined }, {})).to.equal(true);
    expect(matches({ a: undefined }, { a: 1 })).to.equal(false);
  });
});
