import { expect } from 'chai';
import { Decimal128, Double, Int32, Long, Timestamp } from 'bson';
import { ErrorCodes } from '../../server/embedded-mongo/errors.js';
import { validateUpdate } from '../../server/embedded-mongo/query/update.js';
import { expectSameDoc, fails, unchanged, updated } from './query-update-helpers.js';

// Examples follow the MongoDB manual's page for each operator.

describe('update engine: field operators', () => {
  describe('$set', () => {
    const product = () => ({
      _id: 100, quantity: 250, instock: true, reorder: false,
      details: { model: '14QQ', make: 'Clothes Corp' },
      tags: ['apparel', 'clothing'],
      ratings: [{ by: 'Customer007', rating: 4 }],
    });

    it('replaces top-level fields in place', () => {
      const doc = updated(product(), {
        $set: { quantity: 500, details: { model: '2600', make: 'Fashionaires' }, tags: ['coats', 'outerwear', 'clothing'] },
      });
      expectSameDoc(doc, {
        _id: 100, quantity: 500, instock: true, reorder: false,
        details: { model: '2600', make: 'Fashionaires' },
        tags: ['coats', 'outerwear', 'clothing'],
        ratings: [{ by: 'Customer007', rating: 4 }],
      });
    });

    it('sets fields in embedded documents and array elements', () => {
      const doc = updated(product(), { $set: { 'details.make': 'Kustom Kidz', 'tags.1': 'rain gear', 'ratings.0.rating': 2 } });
      expect(doc.details).to.deep.equal({ model: '14QQ', make: 'Kustom Kidz' });
      expect(doc.tags).to.deep.equal(['apparel', 'rain gear']);
      expect(doc.ratings).to.deep.equal([{ by: 'Customer007', rating: 2 }]);
    });

    it('creates missing intermediate documents', () => {
      expectSameDoc(updated({ _id: 1 }, { $set: { 'a.b.c': 1 } }), { _id: 1, a: { b: { c: 1 } } });
    });

    it('pads an array with nulls to reach a numeric index', () => {
      expectSameDoc(updated({ _id: 1, a: [1, 2] }, { $set: { 'a.5': 9 } }), { _id: 1, a: [1, 2, null, null, null, 9] });
      expectSameDoc(updated({ _id: 1, a: [] }, { $set: { 'a.1.b': 1 } }), { _id: 1, a: [null, { b: 1 }] });
    });

    it('treats a numeric component of an embedded document as a field name', () => {
      expectSameDoc(updated({ _id: 1, a: { x: 1 } }, { $set: { 'a.0': 2 } }), { _id: 1, a: { x: 1, 0: 2 } });
    });

    it('keeps existing fields in place and appends new ones in field-name order', () => {
      const doc = updated({ _id: 1, m: 0, b: 1 }, { $set: { z: 1, a: 1, 'y.k': 1, b: 2, m: 3 } });
      expect(Object.keys(doc)).to.deep.equal(['_id', 'm', 'b', 'a', 'y', 'z']);
      const nested = updated({ _id: 1, s: { q: 1 } }, { $set: { 's.c': 1, 's.a': 1, 's.q': 2 } });
      expect(Object.keys(nested.s)).to.deep.equal(['q', 'a', 'c']);
    });

    it('orders numeric field names numerically', () => {
      const doc = updated({ _id: 1, a: {} }, { $set: { 'a.10': 1, 'a.9': 1, 'a.b': 1 } });
      expect(Object.keys(doc.a)).to.have.members(['9', '10', 'b']);
      expectSameDoc(updated({ _id: 1, a: [] }, { $set: { 'a.1': 'x', 'a.0': 'y' } }), { _id: 1, a: ['y', 'x'] });
    });

    it('reports no modification for the same value, but does for a type change', () => {
      unchanged({ _id: 1, a: 1, b: { c: [1, 'x'] } }, { $set: { a: 1, b: { c: [1, 'x'] } } });
      const doc = updated({ _id: 1, a: 1 }, { $set: { a: new Double(1) } });
      expect(doc.a).to.be.instanceOf(Double);
      updated({ _id: 1, b: { x: 1, y: 2 } }, { $set: { b: { y: 2, x: 1 } } }); // field order counts
    });

    it('accepts an empty operator document as a no-op (MongoDB 5+)', () => {
      unchanged({ _id: 1, a: 1 }, { $set: {} });
      unchanged({ _id: 1, a: 1 }, { $set: {}, $unset: {} });
    });

    it('does not alias the update value into the result', () => {
      const value = { x: [1] };
      const doc = updated({ _id: 1 }, { $set: { a: value } });
      expect(doc.a).to.deep.equal(value);
      expect(doc.a).to.not.equal(value);
      expect(doc.a.x).to.not.equal(value.x);
    });

    it('allows $-prefixed names below the top level but not at it', () => {
      expectSameDoc(updated({ _id: 1 }, { $set: { a: { $b: 1 } } }), { _id: 1, a: { $b: 1 } });
      fails({ _id: 1 }, { $set: { $x: 1 } }, ErrorCodes.DollarPrefixedFieldName,
        "The dollar ($) prefixed field '$x' in '$x' is not allowed in the context of an update's replacement document. "
        + 'Consider using an aggregation pipeline with $replaceWith.');
    });
  });

  describe('$unset', () => {
    it('removes fields, including embedded ones', () => {
      const doc = updated({ _id: 1, sku: 'unknown', quantity: 2, instock: true, d: { a: 1, b: 2 } },
        { $unset: { quantity: '', instock: '', 'd.a': 1 } });
      expectSameDoc(doc, { _id: 1, sku: 'unknown', d: { b: 2 } });
    });

    it('sets an array element to null rather than removing it', () => {
      expectSameDoc(updated({ _id: 1, a: [1, 2, 3] }, { $unset: { 'a.1': 1 } }), { _id: 1, a: [1, null, 3] });
    });

    it('ignores missing and non-viable paths', () => {
      unchanged({ _id: 1, a: 5 }, { $unset: { b: 1, 'a.b': 1, 'c.d.e': 1 } });
    });
  });

  describe('$inc and $mul', () => {
    it('increments embedded fields by positive and negative amounts', () => {
      const doc = updated({ _id: 1, sku: 'abc123', quantity: 10, metrics: { orders: 2, ratings: 3.5 } },
        { $inc: { quantity: -2, 'metrics.orders': 1 } });
      expectSameDoc(doc, { _id: 1, sku: 'abc123', quantity: 8, metrics: { orders: 3, ratings: 3.5 } });
    });

    it('creates a missing field with the increment', () => {
      expectSameDoc(updated({ _id: 1 }, { $inc: { n: Long.fromNumber(5) } }), { _id: 1, n: Long.fromNumber(5) });
    });

    it('multiplies, keeping Decimal128 exact', () => {
      const doc = updated({ _id: 1, item: 'Hats', price: Decimal128.fromString('10.99'), quantity: 25 },
        { $mul: { price: Decimal128.fromString('1.25'), quantity: 2 } });
      expectSameDoc(doc, { _id: 1, item: 'Hats', price: Decimal128.fromString('13.7375'), quantity: 50 });
    });

    it('$mul on a missing field creates a zero of the multiplier type', () => {
      expectSameDoc(updated({ _id: 2, item: 'Unknown' }, { $mul: { price: Long.fromNumber(100) } }),
        { _id: 2, item: 'Unknown', price: Long.fromNumber(0) });
      expectSameDoc(updated({ _id: 2 }, { $mul: { a: 7, b: new Double(2), c: Decimal128.fromString('2.5') } }),
        { _id: 2, a: 0, b: new Double(0), c: Decimal128.fromString('0.0') });
    });

    it('$mul of mixed types widens to Long', () => {
      expectSameDoc(updated({ _id: 3, item: 'Scarf', price: Long.fromNumber(10) }, { $mul: { price: new Int32(5) } }),
        { _id: 3, item: 'Scarf', price: Long.fromNumber(50) });
    });

    it('rejects non-numeric targets and arguments', () => {
      fails({ _id: 1, x: 'a' }, { $inc: { x: 1 } }, ErrorCodes.TypeMismatch,
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'x' of non-numeric type string");
      fails({ _id: 'k', a: { x: null } }, { $mul: { 'a.x': 2 } }, ErrorCodes.TypeMismatch,
        "Cannot apply $mul to a value of non-numeric type. {_id: \"k\"} has the field 'x' of non-numeric type null");
      fails({ _id: 1 }, { $inc: { x: 'a' } }, ErrorCodes.TypeMismatch, 'Cannot increment with non-numeric argument: {x: "a"}');
      fails({ _id: 1 }, { $mul: { x: true } }, ErrorCodes.TypeMismatch, 'Cannot multiply with non-numeric argument: {x: true}');
    });

    it('reports no modification for $inc by zero', () => {
      unchanged({ _id: 1, a: 5 }, { $inc: { a: 0 } });
    });
  });

  describe('$min and $max', () => {
    it('replace only when the new value is lower / higher', () => {
      expectSameDoc(updated({ _id: 1, highScore: 800, lowScore: 200 }, { $min: { lowScore: 150 } }),
        { _id: 1, highScore: 800, lowScore: 150 });
      unchanged({ _id: 1, highScore: 800, lowScore: 200 }, { $min: { lowScore: 250 } });
      expectSameDoc(updated({ _id: 1, highScore: 800 }, { $max: { highScore: 950 } }), { _id: 1, highScore: 950 });
      unchanged({ _id: 1, highScore: 800 }, { $max: { highScore: 870 - 100 } });
    });

    it('compare dates and create missing fields', () => {
      const doc = updated({ _id: 1, dateExpired: new Date('2014-01-01') },
        { $max: { dateExpired: new Date('2014-09-01') }, $min: { created: new Date('2013-01-01') } });
      expect(doc.dateExpired).to.deep.equal(new Date('2014-09-01'));
      expect(doc.created).to.deep.equal(new Date('2013-01-01'));
    });

    it('compare across types in BSON order, keeping the stored value on a tie', () => {
      unchanged({ _id: 1, a: 5 }, { $max: { a: Long.fromNumber(5) } });
      expectSameDoc(updated({ _id: 1, a: 5 }, { $max: { a: 'x' } }), { _id: 1, a: 'x' });
      unchanged({ _id: 1, a: 5 }, { $min: { a: 'x' } });
    });
  });

  describe('$rename', () => {
    const person = () => ({
      _id: 1, alias: ['The American Cincinnatus', 'The American Fabius'], mobile: '555-555-5555',
      nmae: { first: 'george', last: 'washington' },
    });

    it('renames a field, moving it to the end', () => {
      expectSameDoc(updated(person(), { $rename: { nmae: 'name' } }), {
        _id: 1, alias: ['The American Cincinnatus', 'The American Fabius'], mobile: '555-555-5555',
        name: { first: 'george', last: 'washington' },
      });
    });

    it('renames embedded fields and moves values between documents', () => {
      const doc = updated(person(), { $rename: { 'nmae.first': 'nmae.fname', 'nmae.last': 'contact.lname' } });
      expect(doc.nmae).to.deep.equal({ fname: 'george' });
      expect(doc.contact).to.deep.equal({ lname: 'washington' });
    });

    it('does nothing when the source is missing', () => {
      unchanged(person(), { $rename: { wife: 'spouse' } });
    });

    it('overwrites an existing destination', () => {
      expectSameDoc(updated({ _id: 1, a: 1, b: 2 }, { $rename: { a: 'b' } }), { _id: 1, b: 1 });
    });

    it('refuses array elements as source or destination', () => {
      fails({ _id: 1, a: [{ b: 1 }] }, { $rename: { 'a.0.b': 'c' } }, ErrorCodes.BadValue,
        "The source field cannot be an array element, 'a.0.b' in doc with _id: 1 has an array field called 'a'");
      fails({ _id: 1, a: [1], x: 1 }, { $rename: { x: 'a.0.y' } }, ErrorCodes.BadValue,
        "The destination field cannot be an array element, 'a.0.y' in doc with _id: 1 has an array field called 'a'");
    });

    it('validates its argument', () => {
      fails({ _id: 1 }, { $rename: { a: 'a' } }, ErrorCodes.BadValue, 'The source and target field for $rename must differ: a: "a"');
      fails({ _id: 1 }, { $rename: { a: 'a.b' } }, ErrorCodes.BadValue,
        'The source and target field for $rename must not be on the same path: a: "a.b"');
      fails({ _id: 1 }, { $rename: { a: 1 } }, ErrorCodes.BadValue, "The 'to' field for $rename must be a string: a: 1");
      fails({ _id: 1 }, { $rename: { 'a.$': 'b' } }, ErrorCodes.BadValue, 'The source field for $rename may not be dynamic: a.$');
      fails({ _id: 1 }, { $rename: { a: 'b.$[]' } }, ErrorCodes.BadValue, 'The destination field for $rename may not be dynamic: b.$[]');
    });

    it('conflicts with other updates of its source or destination', () => {
      fails({ _id: 1 }, { $rename: { a: 'b' }, $set: { b: 1 } }, ErrorCodes.ConflictingUpdateOperators,
        "Updating the path 'b' would create a conflict at 'b'");
      fails({ _id: 1 }, { $rename: { a: 'b' }, $set: { 'a.x': 1 } }, ErrorCodes.ConflictingUpdateOperators,
        "Updating the path 'a.x' would create a conflict at 'a'");
    });

    it('cannot move _id or overwrite it', () => {
      fails({ _id: 1, a: 2 }, { $rename: { _id: 'x' } }, ErrorCodes.ImmutableField,
        "Unsetting the path '_id' using $rename would modify the immutable field '_id'");
      fails({ _id: 1, a: 2 }, { $rename: { a: '_id' } }, ErrorCodes.ImmutableField,
        "Performing an update on the path '_id' would modify the immutable field '_id'");
    });
  });

  describe('$currentDate', () => {
    const now = new Date('2024-05-06T07:08:09.123Z');

    it('sets dates and timestamps alongside other operators', () => {
      const doc = updated({ _id: 1, status: 'a', lastModified: new Date('2013-10-02T01:11:18.965Z') }, {
        $currentDate: { lastModified: true, 'cancellation.date': { $type: 'timestamp' } },
        $set: { 'cancellation.reason': 'user request', status: 'D' },
      }, { now: () => now });
      expect(Object.keys(doc)).to.deep.equal(['_id', 'status', 'lastModified', 'cancellation']);
      expect(doc.status).to.equal('D');
      expect(doc.lastModified).to.deep.equal(now);
      expect(Object.keys(doc.cancellation)).to.deep.equal(['date', 'reason']);
      expect(doc.cancellation.date).to.be.instanceOf(Timestamp);
      expect((doc.cancellation.date as Timestamp).t).to.equal(Math.floor(now.getTime() / 1000));
    });

    it('gives successive timestamps increasing increments', () => {
      const prepared = validateUpdate({ $currentDate: { t: { $type: 'timestamp' } } }, { now: () => now });
      const a = prepared.apply({ _id: 1 }).doc.t as Timestamp;
      const b = prepared.apply({ _id: 2 }).doc.t as Timestamp;
      expect(b.t === a.t && b.i > a.i).to.equal(true);
    });

    it('validates its argument', () => {
      fails({ _id: 1 }, { $currentDate: { a: 'x' } }, ErrorCodes.BadValue,
        "string is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).");
      fails({ _id: 1 }, { $currentDate: { a: { $type: 'x' } } }, ErrorCodes.BadValue,
        "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
      fails({ _id: 1 }, { $currentDate: { a: { type: 'date' } } }, ErrorCodes.BadValue, 'Unrecognized $currentDate option: type');
    });
  });

  describe('$setOnInsert', () => {
    it('applies only when inserting an upserted document', () => {
      unchanged({ _id: 1, item: 'apple' }, { $setOnInsert: { defaultQty: 100 } });
      expectSameDoc(updated({ _id: 1 }, { $set: { item: 'apple' }, $setOnInsert: { defaultQty: 100 } }, { isInsert: true }),
        { _id: 1, defaultQty: 100, item: 'apple' });
    });

    it('still takes part in conflict detection', () => {
      fails({ _id: 1 }, { $set: { a: 1 }, $setOnInsert: { a: 2 } }, ErrorCodes.ConflictingUpdateOperators);
    });
  });

  describe('$bit', () => {
    it('applies and, or, xor to int32 values', () => {
      expectSameDoc(updated({ _id: 1, expdata: 13 }, { $bit: { expdata: { and: 10 } } }), { _id: 1, expdata: 8 });
      expectSameDoc(updated({ _id: 2, expdata: 3 }, { $bit: { expdata: { or: 5 } } }), { _id: 2, expdata: 7 });
      expectSameDoc(updated({ _id: 3, expdata: 1 }, { $bit: { expdata: { xor: 5 } } }), { _id: 3, expdata: 4 });
    });

    it('widens to Long with a Long operand and creates missing fields from 0', () => {
      expectSameDoc(updated({ _id: 1, a: 13 }, { $bit: { a: { or: Long.fromString('4294967296') } } }),
        { _id: 1, a: Long.fromString('4294967309') });
      expectSameDoc(updated({ _id: 1 }, { $bit: { a: { or: 6, and: 3 } } }), { _id: 1, a: 2 });
    });

    it('rejects non-integral values and operands', () => {
      fails({ _id: 1, a: 1.5 }, { $bit: { a: { and: 1 } } }, ErrorCodes.BadValue,
        'Cannot apply $bit to a value of non-integral type._id: 1 has the field a of non-integer type double');
      fails({ _id: 1, a: 1 }, { $bit: { a: { and: 1.5 } } }, ErrorCodes.BadValue,
        "The $bit modifier field must be an Integer(32/64 bit); a 'double' is not supported here: {and: 1.5}");
      fails({ _id: 1, a: 1 }, { $bit: { a: { not: 1 } } }, ErrorCodes.BadValue,
        "The $bit modifier only supports 'and', 'or', and 'xor', not 'not' which is an unknown operator: {not: 1}");
      fails({ _id: 1, a: 1 }, { $bit: { a: 5 } }, ErrorCodes.BadValue, /not compatible with a int/);
    });
  });
});
