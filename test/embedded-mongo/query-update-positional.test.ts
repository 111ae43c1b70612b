import { expect } from 'chai';
import { ErrorCodes } from '../../server/embedded-mongo/errors.js';
import { validateUpdate } from '../../server/embedded-mongo/query/update.js';
import { expectSameDoc, fails, unchanged, updated } from './query-update-helpers.js';

describe('update engine: positional paths', () => {
  describe('$ (first match of the query)', () => {
    it('updates the array element the query matched', () => {
      expectSameDoc(updated({ _id: 1, grades: [85, 80, 80] }, { $set: { 'grades.$': 82 } }, { query: { _id: 1, grades: 80 } }),
        { _id: 1, grades: [85, 82, 80] });
    });

    it('updates a field of the matched embedded document', () => {
      const doc = {
        _id: 4,
        grades: [{ grade: 80, mean: 75, std: 8 }, { grade: 85, mean: 90, std: 5 }, { grade: 85, mean: 85, std: 8 }],
      };
      const out = updated(doc, { $set: { 'grades.$.std': 6 } }, { query: { _id: 4, 'grades.grade': 85 } });
      expect(out.grades.map((g: { std: number }) => g.std)).to.deep.equal([8, 6, 8]);
    });

    it('works with $elemMatch on several fields', () => {
      const doc = {
        _id: 5,
        grades: [{ grade: 80, mean: 75, std: 8 }, { grade: 85, mean: 90, std: 5 }, { grade: 90, mean: 85, std: 3 }],
      };
      const out = updated(doc, { $set: { 'grades.$.std': 6 } },
        { query: { _id: 5, grades: { $elemMatch: { grade: { $lte: 90 }, mean: { $gt: 80 } } } } });
      expect(out.grades.map((g: { std: number }) => g.std)).to.deep.equal([8, 6, 3]);
    });

    it('uses each document\'s own match position when one prepared update is applied to many', () => {
      const prepared = validateUpdate({ $set: { 'a.$': 0 } }, { query: { a: 5 } });
      expect(prepared.apply({ _id: 1, a: [5, 6] }).doc.a).to.deep.equal([0, 6]);
      expect(prepared.apply({ _id: 2, a: [6, 6, 5] }).doc.a).to.deep.equal([6, 6, 0]);
    });

    it('fails without a matching array position in the query', () => {
      const message = 'The positional operator did not find the match needed from the query.';
      fails({ _id: 1, a: [1, 2] }, { $set: { 'a.$': 3 } }, ErrorCodes.BadValue, message, { query: { _id: 1 } });
      fails({ _id: 1, a: [1, 2] }, { $set: { 'a.$': 3 } }, ErrorCodes.BadValue, message);
      fails({ _id: 1, a: [1, 2] }, { $set: { 'a.$': 3 } }, ErrorCodes.BadValue, message, { query: { a: 1 }, isInsert: true });
    });

    it('conflicts with an explicit index naming the same element', () => {
      fails({ _id: 1, a: [1, 2] }, { $set: { 'a.$': 3, 'a.1': 4 } }, ErrorCodes.ConflictingUpdateOperators,
        "Update created a conflict at 'a.1'", { query: { a: 2 } });
      expectSameDoc(updated({ _id: 1, a: [1, 2] }, { $set: { 'a.$': 3, 'a.0': 4 } }, { query: { a: 2 } }), { _id: 1, a: [4, 3] });
    });
  });

  describe('$[] (all elements)', () => {
    it('updates every element', () => {
      expectSameDoc(updated({ _id: 1, grades: [85, 82, 80] }, { $inc: { 'grades.$[]': 10 } }), { _id: 1, grades: [95, 92, 90] });
      const out = updated({ _id: 1, g: [{ a: 1 }, { a: 2, b: 0 }] }, { $set: { 'g.$[].b': 7 } });
      expectSameDoc(out, { _id: 1, g: [{ a: 1, b: 7 }, { a: 2, b: 7 }] });
    });

    it('requires the array to exist', () => {
      fails({ _id: 1 }, { $set: { 'grades.$[]': 1 } }, ErrorCodes.BadValue,
        "The path 'grades' must exist in the document in order to apply array updates.");
      fails({ _id: 1, grades: 5 }, { $set: { 'grades.$[]': 1 } }, ErrorCodes.BadValue,
        'Cannot apply array updates to non-array element grades: 5');
      fails({ _id: 1 }, { $set: { '$[].a': 1 } }, ErrorCodes.BadValue,
        "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '$[].a'");
    });

    it('nests with filtered positionals', () => {
      const doc = {
        _id: 1,
        grades: [
          { type: 'quiz', questions: [10, 8, 5] }, { type: 'quiz', questions: [8, 9, 6] },
          { type: 'hw', questions: [5, 4, 3] }, { type: 'exam', questions: [25, 10, 23, 0] },
        ],
      };
      const out = updated(doc, { $inc: { 'grades.$[].questions.$[score]': 2 } }, { arrayFilters: [{ score: { $gte: 8 } }] });
      expect(out.grades.map((g: { questions: number[] }) => g.questions)).to.deep.equal([[12, 10, 5], [10, 11, 6], [5, 4, 3], [27, 12, 25, 0]]);
    });
  });

  describe('$[<identifier>] with arrayFilters', () => {
    it('updates the elements the filter matches', () => {
      const options = { arrayFilters: [{ element: { $gte: 100 } }] };
      expectSameDoc(updated({ _id: 2, grades: [98, 100, 102] }, { $set: { 'grades.$[element]': 100 } }, options), { _id: 2, grades: [98, 100, 100] });
      unchanged({ _id: 1, grades: [95, 92, 90] }, { $set: { 'grades.$[element]': 100 } }, options);
    });

    it('filters embedded documents on one or several fields', () => {
      const doc = () => ({
        _id: 1,
        grades: [{ grade: 80, mean: 75, std: 6 }, { grade: 85, mean: 90, std: 4 }, { grade: 85, mean: 85, std: 6 }],
      });
      const means = updated(doc(), { $set: { 'grades.$[elem].mean': 100 } }, { arrayFilters: [{ 'elem.grade': { $gte: 85 } }] });
      expect(means.grades.map((g: { mean: number }) => g.mean)).to.deep.equal([75, 100, 100]);
      const stds = updated(doc(), { $inc: { 'grades.$[elem].std': -1 } },
        { arrayFilters: [{ 'elem.grade': { $gte: 80 }, 'elem.std': { $gt: 5 } }] });
      expect(stds.grades.map((g: { std: number }) => g.std)).to.deep.equal([5, 4, 5]);
      const either = updated(doc(), { $set: { 'grades.$[e].flag': true } },
        { arrayFilters: [{ $or: [{ 'e.mean': 75 }, { 'e.std': 4 }] }] });
      expect(either.grades.map((g: { flag?: boolean }) => g.flag === true)).to.deep.equal([true, true, false]);
    });

    it('updates nested arrays through several identifiers', () => {
      const doc = { _id: 0, a: [{ x: 0, b: [{ y: 0, c: 0 }] }, { x: 1, b: [{ y: 0, c: 0 }] }] };
      const out = updated(doc, { $set: { 'a.$[i].b.$[k].c': 1, 'a.$[j].b.$[k].c': 2 } },
        { arrayFilters: [{ 'i.x': 0 }, { 'j.x': 1 }, { 'k.y': 0 }] });
      expectSameDoc(out, { _id: 0, a: [{ x: 0, b: [{ y: 0, c: 1 }] }, { x: 1, b: [{ y: 0, c: 2 }] }] });
      fails(doc, { $set: { 'a.$[i].b.$[k].c': 1, 'a.$[j].b.$[k].c': 2 } }, ErrorCodes.ConflictingUpdateOperators,
        "Update created a conflict at 'a.0.b.$[k].c'", { arrayFilters: [{ 'i.x': 0 }, { 'j.x': 0 }, { 'k.y': 0 }] });
    });

    it('merges non-conflicting updates that reach the same element', () => {
      const out = updated({ _id: 1, a: [{ p: 1 }, { p: 2 }] }, { $set: { 'a.$[].q': 1, 'a.$[i].r': 2 } }, { arrayFilters: [{ 'i.p': 2 }] });
      expectSameDoc(out, { _id: 1, a: [{ p: 1, q: 1 }, { p: 2, q: 1, r: 2 }] });
      fails({ _id: 1, a: [0] }, { $set: { 'a.$[i]': 2, 'a.$[j]': 3 } }, ErrorCodes.ConflictingUpdateOperators,
        "Update created a conflict at 'a.0'", { arrayFilters: [{ i: 0 }, { j: 0 }] });
    });

    it('validates identifiers and filters', () => {
      fails({ _id: 1, a: [1] }, { $set: { 'a.$[x]': 1 } }, ErrorCodes.BadValue, "No array filter found for identifier 'x' in path 'a.$[x]'");
      fails({ _id: 1, a: [1] }, { $set: { 'a.$[x]': 1 } }, ErrorCodes.BadValue, "No array filter found for identifier 'x' in path 'a.$[x]'",
        { arrayFilters: [{ y: 1 }] });
      fails({ _id: 1, a: [1] }, { $set: { a: 1 } }, ErrorCodes.FailedToParse,
        "The array filter for identifier 'y' was not used in the update { $set: { a: 1 } }", { arrayFilters: [{ y: 1 }] });
      fails({ _id: 1, a: [1] }, { $set: { 'a.$[X]': 1 } }, ErrorCodes.BadValue,
        "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found 'X'",
        { arrayFilters: [{ X: 1 }] });
      fails({ _id: 1, a: [1] }, { $set: { 'a.$[i]': 1 } }, ErrorCodes.FailedToParse,
        "Error parsing array filter :: caused by :: Expected a single top-level field name, found 'i' and 'j'",
        { arrayFilters: [{ i: 1, j: 1 }] });
      fails({ _id: 1, a: [1] }, { $set: { 'a.$[i]': 1 } }, ErrorCodes.FailedToParse,
        'Found multiple array filters with the same top-level field name i', { arrayFilters: [{ i: 1 }, { i: 2 }] });
      fails({ _id: 1, a: [1] }, { $set: { a: 1 } }, ErrorCodes.FailedToParse,
        'Cannot use an expression without a top-level field name in arrayFilters', { arrayFilters: [{}] });
    });
  });
});
