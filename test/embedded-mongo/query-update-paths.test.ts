import { expect } from 'chai';
import { Double } from 'bson';
import { ErrorCodes } from '../../server/embedded-mongo/errors.js';
import { classifyUpdate, validateUpdate } from '../../server/embedded-mongo/query/update.js';
import { expectError, expectSameDoc, fails, run, unchanged, updated } from './query-update-helpers.js';

describe('update engine: update documents and paths', () => {
  it('classifies updates as MongoDB does', () => {
    expect(classifyUpdate([])).to.equal('pipeline');
    expect(classifyUpdate({ $set: { a: 1 } })).to.equal('operators');
    expect(classifyUpdate({ a: 1, $set: { b: 1 } })).to.equal('replacement');
    expect(classifyUpdate({})).to.equal('replacement');
    expectError(() => classifyUpdate(5), ErrorCodes.FailedToParse, 'Update argument must be either an object or an array');
    expectError(() => classifyUpdate(null), ErrorCodes.FailedToParse);
    expectError(() => classifyUpdate({ $set: { a: 1 }, b: 2 }), ErrorCodes.FailedToParse,
      'Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array');
  });

  it('rejects unknown modifiers and non-document arguments', () => {
    fails({ _id: 1 }, { $foo: { a: 1 } }, ErrorCodes.FailedToParse,
      'Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array');
    fails({ _id: 1 }, { $set: 5 }, ErrorCodes.FailedToParse,
      'Modifiers operate on fields but we found type int instead. For example: {$mod: {<field>: ...}} not {$set: 5}');
  });

  it('detects conflicting paths', () => {
    fails({ _id: 1 }, { $set: { a: 1 }, $inc: { a: 1 } }, ErrorCodes.ConflictingUpdateOperators,
      "Updating the path 'a' would create a conflict at 'a'");
    fails({ _id: 1 }, { $set: { 'a.b': 1 }, $unset: { a: 1 } }, ErrorCodes.ConflictingUpdateOperators,
      "Updating the path 'a' would create a conflict at 'a'");
    fails({ _id: 1 }, { $unset: { a: 1 }, $set: { 'a.b.c': 1 } }, ErrorCodes.ConflictingUpdateOperators,
      "Updating the path 'a.b.c' would create a conflict at 'a'");
    fails({ _id: 1 }, { $set: { 'a.$[]': 1, 'a.0': 2 } }, ErrorCodes.ConflictingUpdateOperators,
      "Updating the path 'a.0' would create a conflict at 'a'");
    // Siblings are fine.
    expectSameDoc(updated({ _id: 1 }, { $set: { 'a.b': 1 }, $inc: { 'a.c': 1 } }), { _id: 1, a: { b: 1, c: 1 } });
  });

  it('rejects empty path components and misplaced positionals', () => {
    fails({ _id: 1 }, { $set: { '': 1 } }, 56, 'An empty update path is not valid.');
    fails({ _id: 1 }, { $set: { 'a..b': 1 } }, 56, "The update path 'a..b' contains an empty field name, which is not allowed.");
    fails({ _id: 1 }, { $set: { '$.a': 1 } }, ErrorCodes.BadValue,
      "Cannot have positional (i.e. '$') element in the first position in path '$.a'");
    fails({ _id: 1 }, { $set: { 'a.$.b.$': 1 } }, ErrorCodes.BadValue, "Too many positional (i.e. '$') elements found in path 'a.$.b.$'");
    const error = fails({ _id: 1 }, { $set: { '': 1 } }, 56);
    expect(error.codeName).to.equal('EmptyFieldName');
  });

  it('refuses to create a field inside a scalar or an array of documents', () => {
    fails({ _id: 1, a: 5 }, { $set: { 'a.b': 1 } }, ErrorCodes.PathNotViable, "Cannot create field 'b' in element {a: 5}");
    fails({ _id: 1, a: { b: 'x' } }, { $inc: { 'a.b.c': 1 } }, ErrorCodes.PathNotViable,
      "Cannot create field 'c' in element {b: \"x\"}");
    fails({ _id: 1, a: [1, 2] }, { $set: { 'a.b': 1 } }, ErrorCodes.PathNotViable, "Cannot create field 'b' in element {a: [ 1, 2 ]}");
    fails({ _id: 1, a: 5 }, { $pull: { 'a.b': 1 } }, ErrorCodes.PathNotViable,
      'Cannot use the part (b) of (a.b) to traverse the element ({a: 5})');
  });

  describe('_id', () => {
    it('cannot be changed by operators', () => {
      const message = "Performing an update on the path '_id' would modify the immutable field '_id'";
      fails({ _id: 1, a: 1 }, { $set: { _id: 2 } }, ErrorCodes.ImmutableField, message);
      fails({ _id: 1, a: 1 }, { $set: { _id: new Double(1) } }, ErrorCodes.ImmutableField, message);
      fails({ _id: 1, a: 1 }, { $inc: { _id: 1 } }, ErrorCodes.ImmutableField, message);
      fails({ _id: 1, a: 1 }, { $unset: { _id: 1 } }, ErrorCodes.ImmutableField, message);
      fails({ _id: { x: 1 } }, { $set: { '_id.x': 2 } }, ErrorCodes.ImmutableField,
        "Performing an update on the path '_id.x' would modify the immutable field '_id'");
      fails({ _id: { x: 1 } }, { $set: { '_id.y': 2 } }, ErrorCodes.ImmutableField, /immutable field '_id'/);
    });

    it('may be set to its current value', () => {
      unchanged({ _id: 1, a: 1 }, { $set: { _id: 1 } });
    });

    it('may be created when the document has none (an upsert without _id in the query)', () => {
      expectSameDoc(updated({ a: 1 }, { $set: { _id: 5 } }, { isInsert: true }), { _id: 5, a: 1 });
      fails({ a: 1 }, { $set: { _id: [1] } }, ErrorCodes.InvalidIdField, "The '_id' value cannot be of type array");
    });
  });

  it('validates once and applies to many documents', () => {
    const prepared = validateUpdate({ $inc: { n: 1 } });
    expect(prepared.kind).to.equal('operators');
    expect(prepared.apply({ _id: 1, n: 1 }).doc.n).to.equal(2);
    expect(prepared.apply({ _id: 2 }).doc.n).to.equal(1);
    expectError(() => validateUpdate({ $inc: { n: 'x' } }), ErrorCodes.TypeMismatch);
  });

  it('returns a document that shares no containers with the input', () => {
    const big = { list: [1, 2, 3] };
    const result = run({ _id: 1, big, n: 1 }, { $inc: { n: 1 } });
    expect(result.doc.big).to.deep.equal(big);
    expect(result.doc.big).to.not.equal(big);
    expect(result.doc.big.list).to.not.equal(big.list);
  });
});
