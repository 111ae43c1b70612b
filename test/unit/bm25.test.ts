/**
 * The BM25F index: field weights rank as intended, filters and limits hold,
 * and — the property the catalogue sync relies on — any sequence of upserts
 * and removals leaves an index that answers exactly like one built fresh
 * from the surviving documents (same ids, same scores, same matched terms).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Bm25Index, type Bm25Fields } from '../../server/search/bm25.js';

const doc = (title: string, summary = '', abstract = ''): Bm25Fields => ({ title, summary, abstract });

describe('BM25F index', () => {
  it('ranks a title match above the same words deep in an abstract', () => {
    const idx = new Bm25Index();
    idx.upsert('abstract', doc('一种材料', '', '本发明涉及碳化硅功率器件的封装，以及其他很多内容和说明文字'), undefined);
    idx.upsert('title', doc('碳化硅功率器件', '', '一种材料的说明'), undefined);
    idx.upsert('other', doc('茶叶杀青机'), undefined);
    const hits = idx.search('碳化硅功率器件', { limit: 10 });
    expect(hits.map((h) => h.id)).to.deep.equal(['title', 'abstract']);
    expect(hits[0]!.matched).to.include.members(['碳化硅', '功率', '器件']);
  });

  it('only scores documents that share a term, honours limit and filter, and stores meta', () => {
    const idx = new Bm25Index<{ region: string }>();
    for (let i = 0; i < 30; i++) idx.upsert(`d${i}`, doc(`battery cell ${i % 3 === 0 ? 'swelling' : 'capacity'}`), { region: i % 2 ? 'SH' : 'JS' });
    const seen: string[] = [];
    // A limit above the number of candidates returns them all, best first.
    const all = idx.search('battery swelling', { limit: 1_000 });
    expect(all).to.have.length(30);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.score).to.be.at.least(all[i]!.score);
    const hits = idx.search('swelling', {
      limit: 3,
      filter: (id, meta) => {
        seen.push(id);
        return meta.region === 'SH';
      },
    });
    expect(hits).to.have.length(3);
    for (const h of hits) expect(idx.meta(h.id)!.region).to.equal('SH');
    // The filter sees candidates only (documents containing "swelling").
    for (const id of seen) expect(Number(id.slice(1)) % 3).to.equal(0);
    expect(idx.search('nothing here', { limit: 5 })).to.deep.equal([]);
    expect(idx.search('battery', { limit: 0 })).to.deep.equal([]);
  });

  it('forgets removed documents and their terms', () => {
    const idx = new Bm25Index();
    idx.upsert('a', doc('钙钛矿太阳能电池'), undefined);
    idx.upsert('b', doc('茶叶加工'), undefined);
    expect(idx.remove('a')).to.equal(true);
    expect(idx.remove('a')).to.equal(false);
    expect(idx.size).to.equal(1);
    expect(idx.idf('钙钛')).to.equal(0);
    expect(idx.search('钙钛矿', { limit: 5 })).to.deep.equal([]);
    idx.upsert('b', doc('钙钛矿'), undefined); // replace: b no longer about tea
    expect(idx.search('茶叶', { limit: 5 })).to.deep.equal([]);
    expect(idx.search('钙钛矿', { limit: 5 }).map((h) => h.id)).to.deep.equal(['b']);
  });

  it('answers like a fresh index after any sequence of upserts and removals (model-based)', () => {
    const vocab = ['电池', '鼓包', '正极', '材料', 'battery', 'cathode', '5g', '茶叶', '杀青', '氨氮', '废水', 'h01m', '传感器'];
    const text = fc.array(fc.constantFrom(...vocab), { maxLength: 8 }).map((ws) => ws.join(' '));
    const fields = fc.record({ title: text, summary: text, abstract: text, extra: text });
    const id = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), id, fields }),
      fc.record({ kind: fc.constant('remove' as const), id }),
    );
    const query = fc.array(fc.constantFrom(...vocab), { minLength: 1, maxLength: 5 }).map((ws) => ws.join(' '));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(query, { minLength: 1, maxLength: 4 }), (ops, queries) => {
        const live = new Bm25Index();
        const model = new Map<string, Bm25Fields>();
        for (const o of ops) {
          if (o.kind === 'upsert') {
            live.upsert(o.id, o.fields, undefined);
            model.set(o.id, o.fields);
          } else {
            expect(live.remove(o.id)).to.equal(model.delete(o.id));
          }
        }
        const fresh = new Bm25Index();
        for (const [k, f] of model) fresh.upsert(k, f, undefined);
        expect(live.size).to.equal(model.size);
        for (const q of queries) {
          expect(live.search(q, { limit: 10 })).to.deep.equal(fresh.search(q, { limit: 10 }));
          expect(live.search(q, { limit: 2 })).to.deep.equal(fresh.search(q, { limit: 10 }).slice(0, 2));
          for (const t of q.split(' ')) expect(live.idf(t)).to.equal(fresh.idf(t));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps only the rarest terms of a very long query', () => {
    const idx = new Bm25Index();
    idx.upsert('rare', doc('zeolite'), undefined);
    for (let i = 0; i < 20; i++) idx.upsert(`c${i}`, doc('common words everywhere'), undefined);
    const hits = idx.search('common words everywhere zeolite', { limit: 5, maxTerms: 1 });
    expect(hits.map((h) => h.id)).to.deep.equal(['rare']);
  });

  it('answers a 10-term query over 20,000 documents in a few milliseconds', function () {
    // Latin words keep the build fast; postings are as long as in a Chinese catalogue of that size.
    const words = Array.from({ length: 3_000 }, (_, i) => `w${i.toString(36)}x`);
    let seed = 7;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    // Squaring skews towards frequent words, roughly like natural text.
    const word = (): string => words[Math.floor(rand() ** 2 * words.length)]!;
    const idx = new Bm25Index();
    for (let i = 0; i < 20_000; i++) {
      const text = (n: number): string => Array.from({ length: n }, word).join(' ');
      idx.upsert(`d${i}`, { title: text(8), summary: text(15), abstract: text(40) }, undefined);
    }
    const queries = Array.from({ length: 30 }, () => Array.from({ length: 10 }, word).join(' '));
    for (const q of queries.slice(0, 5)) idx.search(q, { limit: 10 }); // warm up the JIT
    const times = queries.map((q) => {
      const t0 = performance.now();
      idx.search(q, { limit: 10 });
      return performance.now() - t0;
    });
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    // A few ms on an idle machine; the bound leaves room for a loaded CI runner.
    expect(median).to.be.below(25);
  });
});
