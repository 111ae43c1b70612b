import { expect } from 'chai';
import fc from 'fast-check';
import { Decimal128, Double, Long } from 'bson';
import { encodeDocument, isPlainObject, type Document } from '../../server/embedded-mongo/bson-values.js';
import { ErrorCodes, MongoError } from '../../server/embedded-mongo/errors.js';
import { applyUpdate } from '../../server/embedded-mongo/query/update.js';
import { deepFreeze, ejson } from './query-update-helpers.js';

// Field names include digits so that paths also address (and pad) arrays.
const name = fc.constantFrom('a', 'b', 'c', '0', '1', '3');
const scalar = fc.oneof(
  fc.integer(), fc.double({ noNaN: true }), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null),
  fc.integer().map((n) => new Double(n)), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.integer().map((n) => Decimal128.fromString(`${n}E-2`)),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(name, tie('value'), { maxKeys: 3, noNullPrototype: true })),
}));
const doc = fc.dictionary(name, value, { maxKeys: 4, noNullPrototype: true }).map((d) => ({ _id: 1, ...d }) as Document);
const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));

/** Paths where none is equal to or a prefix of another, as one update may hold them. */
function independent(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const clash = out.some((q) => p === q || p.startsWith(`${q}.`) || q.startsWith(`${p}.`));
    if (!clash && p !== '_id' && !p.startsWith('_id.')) out.push(p);
  }
  return out;
}

function read(root: unknown, dotted: string): unknown {
  let current = root;
  for (const part of dotted.split('.')) {
    if (isPlainObject(current)) current = current[part];
    else if (Array.isArray(current)) current = current[Number(part)];
    else return undefined;
  }
  return current;
}

describe('update engine: properties', () => {
  it('$set of independent paths reads back the values set, and never mutates its input', () => {
    fc.assert(fc.property(doc, fc.array(fc.tuple(path, value), { maxLength: 5 }), (input, sets) => {
      const paths = independent(sets.map(([p]) => p));
      const spec: Document = {};
      for (const p of paths) spec[p] = sets.find(([q]) => q === p)![1];
      const before = ejson(input);
      const bytes = Buffer.from(encodeDocument(input));
      deepFreeze(input);
      let result;
      try {
        result = applyUpdate(input, { $set: spec });
      } catch (error) {
        // The only acceptable failure: a path runs through a scalar, or names a field of an array.
        expect(error).to.be.instanceOf(MongoError);
        expect((error as MongoError).code, (error as Error).message).to.equal(ErrorCodes.PathNotViable);
        expect(ejson(input)).to.equal(before);
        return;
      }
      expect(ejson(input)).to.equal(before);
      for (const p of paths) expect(ejson({ v: read(result.doc, p) })).to.equal(ejson({ v: spec[p] }));
      // Top-level fields no path touches are unchanged.
      for (const key of Object.keys(input)) {
        if (!paths.some((p) => p.split('.')[0] === key)) expect(ejson({ v: result.doc[key] })).to.equal(ejson({ v: input[key] }));
      }
      expect(result.modified).to.equal(Buffer.compare(bytes, Buffer.from(encodeDocument(result.doc))) !== 0);
      if (!result.modified) expect(result.doc).to.equal(input);
    }), { numRuns: 300 });
  });

  it('$unset after $set of a new top-level field restores the document', () => {
    fc.assert(fc.property(doc, value, (input, v) => {
      deepFreeze(input);
      const added = applyUpdate(input, { $set: { zz: v } }).doc;
      const removed = applyUpdate(added, { $unset: { zz: 1 } });
      expect(ejson(removed.doc)).to.equal(ejson(input));
    }), { numRuns: 200 });
  });
});
