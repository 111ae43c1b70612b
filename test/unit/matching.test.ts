/**
 * Matching both ways, on a small hand-made catalogue: the right patent comes
 * first, the boosts order otherwise equal candidates the way the programme
 * wants (pay-later first for micro firms), and every result explains itself
 * in words a person reads.
 */
import { expect } from 'chai';
import {
  MATCH_WEIGHTS, NeedBoard, PatentCatalogue, rankNeedsForPatent, rankPatentsForNeed,
  type NeedForMatching, type PatentForMatching,
} from '../../server/search/matching.js';
import { kindFit, sharedIpcSubclasses, withinBudget } from '../../server/search/boosts.js';

const battery: PatentForMatching = {
  id: 'battery',
  titleZh: '一种抑制高温产气的锂电池正极材料及其制备方法',
  titleEn: 'Lithium battery cathode material suppressing gas generation',
  abstractZh: '本发明公开了一种锂电池正极材料，采用氧化铝表面包覆，解决了现有正极材料高温产气导致电池鼓包的问题。',
  summary: { problem: '电池用一段时间就鼓包、容量衰减', application: '适用于电动自行车电池', advantage: '循环寿命提高30%' },
  fields: ['new_energy', 'new_materials'],
  ipc: ['H01M4/525'],
  region: 'JS',
  listing: { kinds: ['deferred'], minEntryFeeFen: 0 },
};
const tea: PatentForMatching = {
  id: 'tea',
  titleZh: '一种名优绿茶连续化杀青装置',
  abstractZh: '本实用新型公开了一种茶叶杀青装置，解决了人工炒茶品质不稳定的问题。',
  summary: { problem: '炒茶全靠老师傅', application: '适用于茶叶合作社', advantage: '品质一致' },
  fields: ['modern_agriculture'],
  ipc: ['A23F3/06'],
  region: 'ZJ',
  listing: { kinds: ['open'], minEntryFeeFen: 3_000_000 },
};

const need: Omit<NeedForMatching, 'id'> = {
  title: '电池鼓包',
  problem: '我们厂的锂电池用一段时间就鼓包，冬天续航掉得厉害，想找能改进的技术',
  fields: ['new_energy'],
  region: 'JS',
  budgetFen: 5_000_000,
  sizeClass: 'micro',
};

function catalogueOf(...patents: PatentForMatching[]): PatentCatalogue {
  const c = new PatentCatalogue();
  for (const p of patents) c.upsert(p);
  return c;
}

describe('matching', () => {
  it('ranks the patent that answers the need first and explains why', () => {
    const [first, ...rest] = rankPatentsForNeed(need, catalogueOf(battery, tea));
    expect(first!.id).to.equal('battery');
    expect(rest.map((m) => m.id)).not.to.include('battery');
    const why = first!.explanation;
    expect(why.sharedTerms).to.include('锂电池');
    expect(why.sharedTerms.some((t) => t.includes('鼓包'))).to.equal(true);
    // Readable words, not bigram soup: every phrase occurs in both texts.
    for (const t of why.sharedTerms) {
      expect(need.problem + need.title).to.include(t);
      expect(`${battery.titleZh}${battery.abstractZh}${battery.summary!.problem}`).to.include(t);
    }
    expect(why.sharedFields).to.deep.equal(['new_energy']);
    expect(why).to.include({ sameRegion: true, kindFit: 'deferred', withinBudget: true });
    expect(first!.textScore).to.equal(1);
  });

  it('puts pay-later offers first for a micro enterprise and open licences first for a larger firm', () => {
    const base = { ...battery, listing: undefined };
    const deferred: PatentForMatching = { ...base, id: 'deferred', listing: { kinds: ['deferred'], minEntryFeeFen: 0 } };
    const open: PatentForMatching = { ...base, id: 'open', listing: { kinds: ['open'], minEntryFeeFen: 0 } };
    const negotiated: PatentForMatching = { ...base, id: 'negotiated', listing: { kinds: ['negotiated'], minEntryFeeFen: null } };
    const c = catalogueOf(negotiated, open, deferred);
    expect(rankPatentsForNeed(need, c).map((m) => m.id)).to.deep.equal(['deferred', 'open', 'negotiated']);
    const big = rankPatentsForNeed({ ...need, sizeClass: 'not_sme' }, c);
    expect(big.map((m) => m.id)).to.deep.equal(['open', 'negotiated', 'deferred']);
    // A firm that is not an SME cannot take a pay-later licence: no kind fits.
    expect(big.find((m) => m.id === 'deferred')!.explanation.kindFit).to.equal(null);
  });

  it('boosts by field, IPC, region and budget only among text matches', () => {
    const far = { ...battery, id: 'far', region: 'AH' as const, fields: [], ipc: ['C01G53/00'], listing: { kinds: ['deferred' as const], minEntryFeeFen: 9_000_000 } };
    const near = { ...battery, id: 'near' };
    const ranked = rankPatentsForNeed({ ...need, ipc: ['H01M10/0525'] }, catalogueOf(far, near, tea));
    expect(ranked.map((m) => m.id).slice(0, 2)).to.deep.equal(['near', 'far']);
    const [n, f] = ranked;
    expect(n!.explanation).to.deep.include({ sharedIpc: ['H01M'], sameRegion: true, withinBudget: true });
    expect(f!.explanation).to.deep.include({ sharedIpc: [], sharedFields: [], sameRegion: false, withinBudget: false });
    const boostSum = MATCH_WEIGHTS.fields + MATCH_WEIGHTS.ipc + MATCH_WEIGHTS.region + MATCH_WEIGHTS.budget;
    expect(n!.score - f!.score).to.be.closeTo(boostSum, 1e-9);
    // Tea shares no words with the need: a boost alone never makes a match.
    expect(ranked.map((m) => m.id)).not.to.include('tea');
  });

  it('honours filter and limit, and can switch the boosts off', () => {
    const c = catalogueOf(battery, { ...battery, id: 'battery2', region: 'SH' }, tea);
    expect(rankPatentsForNeed(need, c, { filter: (id) => id !== 'battery' }).map((m) => m.id)).to.deep.equal(['battery2']);
    expect(rankPatentsForNeed(need, c, { limit: 1 })).to.have.length(1);
    const textOnly = rankPatentsForNeed(need, c, { weights: { fields: 0, ipc: 0, region: 0, kind: 0, budget: 0 } });
    expect(textOnly[0]!.score).to.equal(1);
  });

  it('finds the needs a patent answers (the TTO direction)', () => {
    const board = new NeedBoard();
    board.upsert({ id: 'swelling', ...need });
    board.upsert({ id: 'teaneed', title: '茶叶品质不稳', problem: '我们茶厂炒茶全靠师傅，每批茶味道不一样', fields: [], region: 'ZJ', budgetFen: null, sizeClass: 'small' });
    board.upsert({ id: 'other', title: '网站开发', problem: '想做一个小程序', fields: [], region: 'SH', budgetFen: null, sizeClass: null });
    const ranked = rankNeedsForPatent(battery, board);
    expect(ranked[0]!.id).to.equal('swelling');
    expect(ranked[0]!.explanation.kindFit).to.equal('deferred');
    expect(ranked.map((m) => m.id)).not.to.include('other');
    expect(rankNeedsForPatent(tea, board)[0]!.id).to.equal('teaneed');
    expect(board.remove('swelling')).to.equal(true);
    expect(rankNeedsForPatent(battery, board).map((m) => m.id)).not.to.include('swelling');
  });

  it('treats an operator-like or empty need as text', () => {
    const c = catalogueOf(battery, tea);
    expect(rankPatentsForNeed({ ...need, title: '{"$gt":""}', problem: '.* $where' }, c)).to.deep.equal([]);
    expect(rankPatentsForNeed({ ...need, title: '', problem: '' }, c)).to.deep.equal([]);
  });

  it('scores kind fit, budget and IPC overlap by the documented rules', () => {
    expect(kindFit('small', ['open', 'deferred'])).to.deep.equal({ kind: 'deferred', fit: 1 });
    expect(kindFit('medium', ['open', 'deferred'])).to.deep.equal({ kind: 'open', fit: 1 });
    expect(kindFit(null, [])).to.deep.equal({ kind: null, fit: 0 });
    expect(withinBudget(null, 0)).to.equal(null);
    expect(withinBudget(100, null)).to.equal(null);
    expect(withinBudget(100, 100)).to.equal(true);
    expect(withinBudget(99, 100)).to.equal(false);
    expect(sharedIpcSubclasses(['H01M 4/525', 'G06T7/00'], ['h01m10/0525'])).to.deep.equal(['H01M']);
  });
});
