import { expect } from 'chai';
import { Decimal128, Double, Long, ObjectId, Timestamp } from 'bson';
import { ErrorCodes } from '../../server/embedded-mongo/errors.js';
import { applyUpdate, buildUpsertSeed } from '../../server/embedded-mongo/query/update.js';
import { deepFreeze, expectError, expectSameDoc, fails, unchanged, updated } from './query-update-helpers.js';

describe('update engine: replacement documents', () => {
  it('replaces every field but _id, which stays first', () => {
    expectSameDoc(updated({ _id: 1, a: 1, b: 2 }, { c: 3 }), { _id: 1, c: 3 });
    expectSameDoc(updated({ _id: 1, a: 1 }, { c: 3, _id: 1 }), { _id: 1, c: 3 });
    expectSameDoc(updated({ _id: 1, a: 1 }, {}), { _id: 1 });
  });

  it('reports no modification for an identical replacement', () => {
    unchanged({ _id: 1, a: 1, b: [1] }, { a: 1, b: [1] });
    unchanged({ _id: 1, a: 1 }, { _id: 1, a: 1 });
  });

  it('refuses to change _id', () => {
    fails({ _id: 1, a: 1 }, { _id: 2, a: 1 }, ErrorCodes.ImmutableField,
      "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2");
    const oid = new ObjectId('5f0000000000000000000000');
    fails({ _id: new ObjectId() }, { _id: oid }, ErrorCodes.ImmutableField,
      "After applying the update, the (immutable) field '_id' was found to have been altered to _id: ObjectId('5f0000000000000000000000')");
  });

  it('refuses $-prefixed top-level fields', () => {
    fails({ _id: 1 }, { a: 1, $set: { b: 1 } }, ErrorCodes.DollarPrefixedFieldName,
      "The dollar ($) prefixed field '$set' in '$set' is not allowed in the context of an update's replacement document. "
      + 'Consider using an aggregation pipeline with $replaceWith.');
  });

  it('fills in a top-level Timestamp(0, 0), as MongoDB does', () => {
    const now = new Date('2021-01-01T00:00:00Z');
    const doc = updated({ _id: 1 }, { t: new Timestamp({ t: 0, i: 0 }), nested: { t: new Timestamp({ t: 0, i: 0 }) } }, { now: () => now });
    expect((doc.t as Timestamp).t).to.equal(now.getTime() / 1000);
    expect((doc.nested.t as Timestamp).isZero()).to.equal(true);
  });

  it('copies rather than aliases the replacement', () => {
    const replacement = { list: [1, 2] };
    const doc = applyUpdate({ _id: 1 }, replacement).doc;
    expect(doc.list).to.deep.equal([1, 2]);
    expect(doc.list).to.not.equal(replacement.list);
  });
});

describe('update engine: pipeline updates', () => {
  it('computes new fields from existing ones', () => {
    expectSameDoc(updated({ _id: 1, a: 1, b: 2 }, [{ $set: { c: { $add: ['$a', '$b'] } } }, { $unset: ['b'] }]), { _id: 1, a: 1, c: 3 });
    expectSameDoc(updated({ _id: 1, a: 1, b: 2 }, [{ $addFields: { s: { $concat: ['x', 'y'] } } }, { $project: { s: 1 } }]),
      { _id: 1, s: 'xy' });
  });

  it('keeps _id first and keeps it when a stage drops it', () => {
    expectSameDoc(updated({ _id: 1, a: 1 }, [{ $replaceWith: { x: '$a' } }]), { _id: 1, x: 1 });
    expectSameDoc(updated({ _id: 1, a: 1 }, [{ $unset: '_id' }, { $set: { b: 2 } }]), { _id: 1, a: 1, b: 2 });
    expectSameDoc(updated({ _id: 1, a: 1 }, [{ $project: { a: 1, _id: 1 } }, { $set: { z: 0 } }]), { _id: 1, a: 1, z: 0 });
  });

  it('refuses to change _id', () => {
    fails({ _id: 1, a: 1 }, [{ $replaceRoot: { newRoot: { _id: 2 } } }], ErrorCodes.ImmutableField,
      "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2");
  });

  it('accepts only the stages MongoDB allows in updates', () => {
    fails({ _id: 1 }, [{ $match: { a: 1 } }], ErrorCodes.InvalidOptions, '$match is not allowed to be used within an update');
    fails({ _id: 1 }, [{ $group: { _id: null } }], ErrorCodes.InvalidOptions, '$group is not allowed to be used within an update');
    fails({ _id: 1 }, [{ $frobnicate: {} }], 40324, "Unrecognized pipeline stage name: '$frobnicate'");
    fails({ _id: 1 }, [{ $set: { a: 1 }, $unset: 'b' }], 40323, 'A pipeline stage specification object must contain exactly one field.');
    fails({ _id: 1 }, [{ $set: { a: 1 } }], ErrorCodes.FailedToParse, 'arrayFilters may not be specified for pipeline-style updates',
      { arrayFilters: [{ i: 1 }] });
  });

  it('passes let variables and a fixed $$NOW', () => {
    const now = new Date('2020-01-02T03:04:05Z');
    expectSameDoc(updated({ _id: 1 }, [{ $set: { v: '$$myVar', at: '$$NOW' } }], { variables: { myVar: 7 }, now: () => now }),
      { _id: 1, v: 7, at: now });
  });

  it('keeps BSON numeric types of values it passes through, and compares them correctly', () => {
    const doc = updated({ _id: 1, d: new Double(5), l: Long.fromNumber(7), big: Long.MAX_VALUE }, [
      { $set: { gt: { $gt: ['$d', 4] }, eq: { $eq: ['$l', 7] }, copy: '$big', n: 1 } },
    ]);
    expectSameDoc(doc, { _id: 1, d: new Double(5), l: Long.fromNumber(7), big: Long.MAX_VALUE, gt: true, eq: true, copy: Long.MAX_VALUE, n: 1 });
  });

  it('keeps the BSON type of values copied to new paths', () => {
    const five = new Double(5);
    expectSameDoc(updated({ _id: 1, d: five, s: { x: five, l: Long.fromNumber(2) } }, [
      { $set: { copy: '$d', nested: { c: '$s.x' }, arr: ['$d', 1], root: '$$ROOT.d' } },
    ]), { _id: 1, d: five, s: { x: five, l: Long.fromNumber(2) }, copy: five, nested: { c: five }, arr: [five, 1], root: five });
    expectSameDoc(updated({ _id: 1, s: { x: five, l: Long.fromNumber(2) } }, [{ $replaceWith: '$s' }]),
      { _id: 1, x: five, l: Long.fromNumber(2) });
  });

  it('copies Decimal128 values but refuses to compute with them rather than answer wrongly', () => {
    const price = Decimal128.fromString('1.10');
    expectSameDoc(updated({ _id: 1, price }, [{ $set: { copy: '$price', kept: { $ifNull: ['$price', 0] } } }]),
      { _id: 1, price, copy: price, kept: price });
    fails({ _id: 1, price }, [{ $set: { more: { $add: ['$price', 1] } } }], ErrorCodes.NotImplemented);
    fails({ _id: 1, price }, [{ $set: { cheap: { $lt: ['$price', 2] } } }], ErrorCodes.NotImplemented);
    fails({ _id: 1, p: [price] }, [{ $set: { m: { $max: '$p' } } }], ErrorCodes.NotImplemented);
  });

  it('does not mutate the input even when a stage would', () => {
    const doc = deepFreeze({ _id: 1, sub: { q: 1, r: 2 } });
    expectSameDoc(applyUpdate(doc, [{ $unset: 'sub.q' }]).doc, { _id: 1, sub: { r: 2 } });
    expectSameDoc(doc, { _id: 1, sub: { q: 1, r: 2 } });
  });

  it('reports no modification when the pipeline changes nothing', () => {
    unchanged({ _id: 1, a: 1 }, [{ $set: { a: 1 } }]);
    unchanged({ _id: 1, a: 1 }, []);
  });
});

describe('update engine: upsert seed', () => {
  it('takes equality predicates, nesting dotted paths', () => {
    expectSameDoc(buildUpsertSeed({ a: 1, 'b.c': 2, d: { $gt: 1 } }), { a: 1, b: { c: 2 } });
    expectSameDoc(buildUpsertSeed({ a: { $eq: 1 }, b: { $in: [2] }, c: { $in: [1, 2] }, e: /x/ }), { a: 1, b: 2 });
    expectSameDoc(buildUpsertSeed({ $and: [{ a: 1 }, { $and: [{ b: 2 }] }], $or: [{ c: 3 }, { d: 4 }] }), { a: 1, b: 2 });
    expectSameDoc(buildUpsertSeed({ 'b.y': 1, 'b.x': 2 }), { b: { x: 2, y: 1 } });
    expectSameDoc(buildUpsertSeed({ a: { x: 1, y: [1] } }), { a: { x: 1, y: [1] } });
    expectSameDoc(buildUpsertSeed({ $expr: { $eq: ['$a', 1] }, $or: [{ b: 1 }], c: { $all: [2] } }), { b: 1, c: 2 });
  });

  it('puts _id first', () => {
    expect(Object.keys(buildUpsertSeed({ x: 1, _id: 3 }))).to.deep.equal(['_id', 'x']);
  });

  it('refuses two equalities on one path or on nested paths', () => {
    expectError(() => buildUpsertSeed({ a: 1, $and: [{ a: 2 }] }), ErrorCodes.NotSingleValueField,
      "cannot infer query fields to set, path 'a' is matched twice");
    expectError(() => buildUpsertSeed({ a: { b: 1 }, 'a.b': 1 }), ErrorCodes.NotSingleValueField,
      "cannot infer query fields to set, both paths 'a.b' and 'a' are matched");
    expectError(() => buildUpsertSeed({ tags: { $all: ['x', 'y'] } }), ErrorCodes.NotSingleValueField);
  });

  it('takes only _id for a replacement', () => {
    expectSameDoc(buildUpsertSeed({ a: 1, _id: 5 }, 'replacement'), { _id: 5 });
    expectSameDoc(buildUpsertSeed({ a: 1, $and: [{ a: 2 }] }, 'replacement'), {});
  });

  it('gives a replacement upsert the filter\'s _id and nothing else', () => {
    const seed = buildUpsertSeed({ _id: 5, a: 1 }, 'replacement');
    expectSameDoc(updated(seed, { b: 2 }, { isInsert: true }), { _id: 5, b: 2 });
    fails(seed, { _id: 6, b: 2 }, ErrorCodes.ImmutableField, /altered to _id: 6/, { isInsert: true });
  });

  it('does not alias the filter', () => {
    const filter = { a: { x: [1] } };
    const seed = buildUpsertSeed(filter);
    expect(seed.a).to.deep.equal(filter.a);
    expect(seed.a).to.not.equal(filter.a);
  });

  it('feeds the update applied as an insert', () => {
    const filter = { _id: 1, a: 1 };
    const doc = updated(buildUpsertSeed(filter), { $set: { b: 2 }, $setOnInsert: { c: 3 }, $inc: { n: 1 } }, { isInsert: true, query: filter });
    expectSameDoc(doc, { _id: 1, a: 1, b: 2, c: 3, n: 1 });
    fails(buildUpsertSeed(filter), { $set: { _id: 2 } }, ErrorCodes.ImmutableField,
      "Performing an update on the path '_id' would modify the immutable field '_id'", { isInsert: true, query: filter });
    expectSameDoc(updated(buildUpsertSeed({ a: 1 }), { $set: { b: 1, _id: 9 } }, { isInsert: true }), { _id: 9, a: 1, b: 1 });
  });
});
