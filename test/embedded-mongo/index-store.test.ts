/**
 * Secondary indexes built in bulk at start-up (IndexStore.rebuild: sorted
 * entries, tree built bottom-up) must answer exactly as indexes kept up to
 * date one write at a time, for every kind of key.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Double, ObjectId } from 'bson';
import type { Document } from '../../server/embedded-mongo/bson-values.js';
import { idKeyOf } from '../../server/embedded-mongo/engine/collection-store.js';
import { IndexStore, type IndexSpec } from '../../server/embedded-mongo/engine/index-store.js';

const specs: IndexSpec[] = [
  { v: 2, key: { k: 1 }, name: 'k_1' },
  { v: 2, key: { k: 1, g: -1 }, name: 'k_1_g_-1' },
  { v: 2, key: { 'sub.x': 1 }, name: 'sub.x_1' },
  { v: 2, key: { tags: 1 }, name: 'tags_1' },
  { v: 2, key: { k: 1 }, name: 'k_sparse', sparse: true },
  { v: 2, key: { g: 1 }, name: 'g_partial', partialFilterExpression: { k: { $gt: 2 } } },
];

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 6 }),
  fc.constantFrom(1.5, 'a', 'b', '', null, true),
  fc.constant(new Double(2)),
  fc.constant(new Date(0)),
);
const docArb = fc.record({
  k: fc.option(scalar, { nil: undefined }),
  g: fc.option(scalar, { nil: undefined }),
  sub: fc.option(fc.record({ x: scalar }), { nil: undefined }),
  tags: fc.option(fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { nil: undefined }),
}, { requiredKeys: [] });

function withIds(raw: Document[]): [string, Document][] {
  return raw.map((d) => {
    const doc: Document = { _id: new ObjectId() };
    for (const [f, v] of Object.entries(d)) if (v !== undefined) doc[f] = v;
    return [idKeyOf(doc._id), doc];
  });
}

/** What an index answers: everything in order, and each distinct key's look-up and prefix scan. */
function answers(index: IndexStore, docs: [string, Document][]): unknown[] {
  const out: unknown[] = [[...index.all()], index.size, index.multikey];
  for (const [, doc] of docs) {
    for (const values of index.keysFor(doc)) {
      out.push([...index.lookup(values)]);
      out.push([...index.scan(values.slice(0, 1))]);
      out.push([...index.scan([], { low: values[0], inRange: () => true, pastEnd: () => false })].length);
    }
  }
  return out;
}

describe('engine: index built in bulk', () => {
  for (const spec of specs) {
    it(`${spec.name}: answers as an index built write by write`, () => {
      fc.assert(fc.property(fc.array(docArb, { maxLength: 60 }), (raw) => {
        const docs = withIds(raw);
        const incremental = new IndexStore(spec);
        for (const [idKey, doc] of docs) incremental.add(idKey, incremental.keysFor(doc));
        const bulk = new IndexStore(spec);
        bulk.rebuild(new Map(docs));
        expect(answers(bulk, docs)).to.deep.equal(answers(incremental, docs));
      }), { numRuns: 60 });
    });
  }

  it('stays a working tree after the bulk build: adds and removes keep its order', () => {
    const docs = withIds(Array.from({ length: 5000 }, (_, i) => ({ k: i % 97, g: i })));
    const index = new IndexStore(specs[1]);
    index.rebuild(new Map(docs));
    for (const [idKey, doc] of docs.slice(0, 2500)) index.remove(idKey, index.keysFor(doc));
    const extra = withIds(Array.from({ length: 1000 }, (_, i) => ({ k: i % 13, g: -i })));
    for (const [idKey, doc] of extra) index.add(idKey, index.keysFor(doc));
    // Keys are kept in ascending order of every field (direction is applied by sorting, not by the tree).
    const expected = [...docs.slice(2500), ...extra]
      .map(([idKey, doc]) => ({ idKey, k: doc.k as number, g: doc.g as number }))
      .sort((a, b) => a.k - b.k || a.g - b.g || (a.idKey < b.idKey ? -1 : 1))
      .map((e) => e.idKey);
    expect([...index.all()]).to.deep.equal(expected);
    expect(index.size).to.equal(3500);
    expect([...index.lookup([5, -5])]).to.have.length(1);
  });

  it('builds an empty index from no documents', () => {
    const index = new IndexStore(specs[0]);
    index.rebuild(new Map());
    expect(index.size).to.equal(0);
    index.add('x', [[1]]);
    expect([...index.lookup([1])]).to.deep.equal(['x']);
  });
});
