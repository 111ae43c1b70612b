import { expect } from 'chai';
import { Double, Long } from 'bson';
import { ErrorCodes } from '../../server/embedded-mongo/errors.js';
import { expectSameDoc, fails, unchanged, updated } from './query-update-helpers.js';

// Examples follow the MongoDB manual's page for each operator.

describe('update engine: array operators', () => {
  describe('$push', () => {
    it('appends a value, or creates the array', () => {
      expectSameDoc(updated({ _id: 1, scores: [44, 78, 38, 80] }, { $push: { scores: 89 } }), { _id: 1, scores: [44, 78, 38, 80, 89] });
      expectSameDoc(updated({ _id: 1 }, { $push: { scores: 89 } }), { _id: 1, scores: [89] });
      expectSameDoc(updated({ _id: 1, a: [1] }, { $push: { a: [2, 3] } }), { _id: 1, a: [1, [2, 3]] });
    });

    it('appends each of $each', () => {
      expectSameDoc(updated({ _id: 1, scores: [44] }, { $push: { scores: { $each: [90, 92, 85] } } }), { _id: 1, scores: [44, 90, 92, 85] });
    });

    it('combines $each, $sort and $slice', () => {
      const doc = updated({
        _id: 5,
        quizzes: [{ wk: 1, score: 10 }, { wk: 2, score: 8 }, { wk: 3, score: 5 }, { wk: 4, score: 6 }],
      }, {
        $push: { quizzes: { $each: [{ wk: 5, score: 8 }, { wk: 6, score: 7 }, { wk: 7, score: 6 }], $sort: { score: -1 }, $slice: 3 } },
      });
      expectSameDoc(doc, { _id: 5, quizzes: [{ wk: 1, score: 10 }, { wk: 2, score: 8 }, { wk: 5, score: 8 }] });
    });

    it('inserts at $position, counting negative positions from the end', () => {
      expectSameDoc(updated({ _id: 1, scores: [100] }, { $push: { scores: { $each: [50, 60, 70], $position: 0 } } }),
        { _id: 1, scores: [50, 60, 70, 100] });
      expectSameDoc(updated({ _id: 1, scores: [50, 60, 70, 100] }, { $push: { scores: { $each: [20, 30], $position: 2 } } }),
        { _id: 1, scores: [50, 60, 20, 30, 70, 100] });
      expectSameDoc(updated({ _id: 1, scores: [50, 60, 20, 30, 70, 100] }, { $push: { scores: { $each: [90, 80], $position: -2 } } }),
        { _id: 1, scores: [50, 60, 20, 30, 90, 80, 70, 100] });
      expectSameDoc(updated({ _id: 1, s: [1, 2] }, { $push: { s: { $each: [0], $position: -10 } } }), { _id: 1, s: [0, 1, 2] });
      expectSameDoc(updated({ _id: 1, s: [1, 2] }, { $push: { s: { $each: [3], $position: 10 } } }), { _id: 1, s: [1, 2, 3] });
    });

    it('sorts documents by a field, keeping equal elements in order', () => {
      const doc = updated({ _id: 1, quizzes: [{ id: 1, score: 6 }, { id: 2, score: 9 }] }, {
        $push: { quizzes: { $each: [{ id: 3, score: 8 }, { id: 4, score: 7 }, { id: 5, score: 6 }], $sort: { score: 1 } } },
      });
      expect(doc.quizzes.map((q: { id: number }) => q.id)).to.deep.equal([1, 5, 4, 3, 2]);
    });

    it('sorts by a subfield of embedded documents, missing sorting as null', () => {
      const doc = updated({ _id: 1, items: [{ n: 'b', g: { s: 2 } }, { n: 'none' }] }, {
        $push: { items: { $each: [{ n: 'a', g: { s: 3 } }, { n: 'c', g: { s: 1 } }], $sort: { 'g.s': 1 } } },
      });
      expect(doc.items.map((i: { n: string }) => i.n)).to.deep.equal(['none', 'c', 'b', 'a']);
    });

    it('sorts whole values in BSON order, and can sort without adding', () => {
      expectSameDoc(updated({ _id: 2, tests: [89, 70, 89, 50] }, { $push: { tests: { $each: [40, 60], $sort: 1 } } }),
        { _id: 2, tests: [40, 50, 60, 70, 89, 89] });
      expectSameDoc(updated({ _id: 3, tests: [89, 70, 100, 20] }, { $push: { tests: { $each: [], $sort: -1 } } }),
        { _id: 3, tests: [100, 89, 70, 20] });
      const mixed = updated({ _id: 1, a: ['x', 2, null, { b: 1 }] }, { $push: { a: { $each: [Long.fromNumber(1)], $sort: 1 } } });
      expectSameDoc(mixed.a, [null, Long.fromNumber(1), 2, 'x', { b: 1 }]);
    });

    it('trims with $slice from the front or the back', () => {
      expectSameDoc(updated({ _id: 1, scores: [40, 50, 60] }, { $push: { scores: { $each: [80, 78, 86], $slice: -5 } } }),
        { _id: 1, scores: [50, 60, 80, 78, 86] });
      expectSameDoc(updated({ _id: 2, scores: [89, 90] }, { $push: { scores: { $each: [100, 20], $slice: 3 } } }),
        { _id: 2, scores: [89, 90, 100] });
      expectSameDoc(updated({ _id: 3, scores: [89, 70, 100, 20] }, { $push: { scores: { $each: [], $slice: -3 } } }),
        { _id: 3, scores: [70, 100, 20] });
      expectSameDoc(updated({ _id: 3, s: [1] }, { $push: { s: { $each: [2], $slice: 0 } } }), { _id: 3, s: [] });
    });

    it('pushes a document with modifier-like fields as a value when it has no $each', () => {
      expectSameDoc(updated({ _id: 1, a: [] }, { $push: { a: { $slice: 1 } } }), { _id: 1, a: [{ $slice: 1 }] });
    });

    it('validates its modifiers and target', () => {
      fails({ _id: 1, a: 1 }, { $push: { a: 2 } }, ErrorCodes.BadValue, "The field 'a' must be an array but is of type int in document {_id: 1}");
      fails({ _id: 1 }, { $push: { a: { $each: 1 } } }, ErrorCodes.BadValue,
        'The argument to $each in $push must be an array but it was of type: int');
      fails({ _id: 1 }, { $push: { a: { $each: [], $foo: 1 } } }, ErrorCodes.BadValue, 'Unrecognized clause in $push: $foo');
      fails({ _id: 1 }, { $push: { a: { $each: [], $slice: 1.5 } } }, ErrorCodes.BadValue,
        'The value for $slice must be an integer value but was given type: double');
      fails({ _id: 1 }, { $push: { a: { $each: [], $position: 'x' } } }, ErrorCodes.BadValue,
        'The value for $position must be an integer value, not of type: string');
      fails({ _id: 1 }, { $push: { a: { $each: [], $sort: 2 } } }, ErrorCodes.BadValue, 'The $sort element value must be either 1 or -1');
      fails({ _id: 1 }, { $push: { a: { $each: [], $sort: {} } } }, ErrorCodes.BadValue,
        'The $sort pattern is empty when it should be a set of fields.');
      fails({ _id: 1 }, { $push: { a: { $each: [], $sort: 'x' } } }, ErrorCodes.BadValue,
        'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
    });
  });

  describe('$addToSet', () => {
    it('adds values that are not present, an array as one element', () => {
      expectSameDoc(updated({ _id: 1, letters: ['a', 'b'] }, { $addToSet: { letters: ['c', 'd'] } }),
        { _id: 1, letters: ['a', 'b', ['c', 'd']] });
      expectSameDoc(updated({ _id: 1, tags: ['electronics', 'camera'] }, { $addToSet: { tags: 'accessories' } }),
        { _id: 1, tags: ['electronics', 'camera', 'accessories'] });
      unchanged({ _id: 1, tags: ['electronics', 'camera'] }, { $addToSet: { tags: 'camera' } });
    });

    it('adds each new value of $each once', () => {
      expectSameDoc(updated({ _id: 2, tags: ['electronics', 'supplies'] },
        { $addToSet: { tags: { $each: ['camera', 'electronics', 'accessories', 'camera'] } } }),
      { _id: 2, tags: ['electronics', 'supplies', 'camera', 'accessories'] });
      expectSameDoc(updated({ _id: 2 }, { $addToSet: { tags: { $each: [1, 1, 2] } } }), { _id: 2, tags: [1, 2] });
    });

    it('compares numbers by value and documents exactly', () => {
      unchanged({ _id: 1, a: [1, { x: 1, y: 2 }] }, { $addToSet: { a: { $each: [new Double(1), Long.fromNumber(1), { x: 1, y: 2 }] } } });
      expectSameDoc(updated({ _id: 1, a: [{ x: 1, y: 2 }] }, { $addToSet: { a: { y: 2, x: 1 } } }), { _id: 1, a: [{ x: 1, y: 2 }, { y: 2, x: 1 }] });
    });

    it('validates its argument and target', () => {
      fails({ _id: 1, a: 'x' }, { $addToSet: { a: 1 } }, ErrorCodes.BadValue,
        "Cannot apply $addToSet to non-array field. Field named 'a' has non-array type string");
      fails({ _id: 1 }, { $addToSet: { a: { $each: 1 } } }, ErrorCodes.TypeMismatch,
        'The argument to $each in $addToSet must be an array but it was of type int');
      fails({ _id: 1 }, { $addToSet: { a: { $each: [], x: 1 } } }, ErrorCodes.BadValue,
        'Found unexpected fields after $each in $addToSet: { $each: [], x: 1 }');
    });
  });

  describe('$pull and $pullAll', () => {
    it('removes values equal to, or matching a condition on, the element', () => {
      const doc = updated({
        _id: 1, fruits: ['apples', 'pears', 'oranges', 'grapes', 'bananas'], vegetables: ['carrots', 'celery', 'squash', 'carrots'],
      }, { $pull: { fruits: { $in: ['apples', 'oranges'] }, vegetables: 'carrots' } });
      expectSameDoc(doc, { _id: 1, fruits: ['pears', 'grapes', 'bananas'], vegetables: ['celery', 'squash'] });
      expectSameDoc(updated({ _id: 1, votes: [3, 5, 6, 7, 7, 8] }, { $pull: { votes: { $gte: 6 } } }), { _id: 1, votes: [3, 5] });
    });

    it('treats a document condition as a query on document elements', () => {
      const results = [{ item: 'A', score: 5 }, { item: 'B', score: 8, comment: 'x' }, 8];
      expectSameDoc(updated({ _id: 1, results }, { $pull: { results: { score: 8, item: 'B' } } }),
        { _id: 1, results: [{ item: 'A', score: 5 }, 8] });
    });

    it('matches nested arrays with $elemMatch', () => {
      const doc = updated({
        _id: 1,
        results: [
          { item: 'A', score: 5, answers: [{ q: 1, a: 4 }, { q: 2, a: 6 }] },
          { item: 'B', score: 8, answers: [{ q: 1, a: 8 }, { q: 2, a: 9 }] },
        ],
      }, { $pull: { results: { answers: { $elemMatch: { q: 2, a: { $gte: 8 } } } } } });
      expect(doc.results.map((r: { item: string }) => r.item)).to.deep.equal(['A']);
    });

    it('compares numbers across types', () => {
      expectSameDoc(updated({ _id: 1, a: [1, 2, Long.fromNumber(1), new Double(1)] }, { $pull: { a: 1 } }), { _id: 1, a: [2] });
    });

    it('$pullAll removes every listed value', () => {
      expectSameDoc(updated({ _id: 1, scores: [0, 2, 5, 5, 1, 0] }, { $pullAll: { scores: [0, 5] } }), { _id: 1, scores: [2, 1] });
      fails({ _id: 1 }, { $pullAll: { a: 1 } }, ErrorCodes.BadValue, '$pullAll requires an array argument but was given a int');
    });

    it('ignore missing fields but reject non-arrays', () => {
      unchanged({ _id: 1 }, { $pull: { a: 1 }, $pullAll: { 'b.c': [1] } });
      unchanged({ _id: 1, a: [2] }, { $pull: { a: 1 } });
      fails({ _id: 1, a: 1 }, { $pull: { a: 1 } }, ErrorCodes.BadValue, 'Cannot apply $pull to a non-array value');
    });
  });

  describe('$pop', () => {
    it('removes the first or last element', () => {
      expectSameDoc(updated({ _id: 1, scores: [8, 9, 10] }, { $pop: { scores: -1 } }), { _id: 1, scores: [9, 10] });
      expectSameDoc(updated({ _id: 10, scores: [9, 10] }, { $pop: { scores: 1 } }), { _id: 10, scores: [9] });
      unchanged({ _id: 1, scores: [] }, { $pop: { scores: 1 } });
      unchanged({ _id: 1 }, { $pop: { scores: 1 } });
    });

    it('validates its argument and target', () => {
      fails({ _id: 1 }, { $pop: { a: 2 } }, ErrorCodes.FailedToParse, '$pop expects 1 or -1, found: 2');
      fails({ _id: 1 }, { $pop: { a: 'x' } }, ErrorCodes.FailedToParse, 'Expected a number in: a: "x"');
      fails({ _id: 1, a: 1 }, { $pop: { a: 1 } }, ErrorCodes.TypeMismatch, "Path 'a' contains an element of non-array type 'int'");
    });
  });
});
