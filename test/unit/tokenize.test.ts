/**
 * The tokeniser on what users actually type: mixed Chinese, English and
 * model numbers, full-width characters from Chinese input methods, pasted
 * essays, and strings that look like query operators.
 */
import { expect } from 'chai';
import { MAX_TOKENS, analyze, queryTerms, stem, tokenize } from '../../server/search/tokenize.js';

describe('search tokenizer', () => {
  it('tokenises mixed Chinese, English and numbers', () => {
    const terms = tokenize('一种锂离子电池正极材料及其制备方法 for Li-ion batteries: 5G, H01L21/02, PM2.5, 18650, 3.5mm');
    expect(terms).to.include.members(['锂离', '离子', '电池', '正极', '材料', '制备', 'battery', 'ion', '5g', 'h01l21', 'pm2.5', '18650', '3.5', 'mm']);
    // Patent boilerplate and English function words are not terms.
    expect(terms).not.to.include.members(['一种', '及其', '其制', 'for']);
  });

  it('folds full-width input to the same terms as half-width', () => {
    expect(tokenize('ＰＭ２．５传感器　Ｈ０１Ｌ　５Ｇ')).to.deep.equal(tokenize('PM2.5传感器 H01L 5G'));
    expect(tokenize('ＬＥＤ灯')).to.include('led');
  });

  it('lets a stopword split a Han run only where ICU sees it as a word of its own', () => {
    const terms = tokenize('废水的氨氮');
    expect(terms).to.include.members(['废水', '氨氮']);
    expect(terms).not.to.include.members(['水的', '的氨', '水氨']);
    // 在 is a stopword, but 在线 must survive.
    expect(tokenize('在线监测')).to.include('在线');
  });

  it('emits a single character for a one-character run and keeps ICU compounds of three or more', () => {
    expect(tokenize('氢，')).to.deep.equal(['氢']);
    expect(tokenize('碳化硅器件')).to.include.members(['碳化硅', '碳化', '化硅', '器件']);
  });

  it('stems English lightly', () => {
    expect(stem('batteries')).to.equal('battery');
    expect(stem('coating')).to.equal(stem('coated'));
    expect(stem('charging')).to.equal(stem('charge'));
    expect(stem('boxes')).to.equal('box');
    expect(stem('analysis')).to.equal('analysis');
    expect(stem('glass')).to.equal('glass');
  });

  it('treats operator-like input as plain text', () => {
    expect(tokenize('.*')).to.deep.equal([]);
    expect(tokenize('{"$gt":""}')).to.deep.equal(['gt']);
    expect(tokenize('$where: function() { return true }')).to.deep.equal(['function', 'return', 'true']);
    expect(tokenize('^(a+)+$ [\\s\\S]*')).to.deep.equal([]);
    for (const t of tokenize('{"$ne":null} || 1==1; db.dropDatabase()')) expect(t).to.match(/^[a-z0-9.]+$/);
  });

  it('caps huge input in length and tokens, quickly', () => {
    const huge = '锂电池正极材料鼓包问题'.repeat(10_000); // 110,000 characters
    const t0 = performance.now();
    const terms = tokenize(huge);
    expect(performance.now() - t0).to.be.below(5_000);
    expect(terms.length).to.be.at.most(MAX_TOKENS);
    expect(terms.length).to.be.above(1_000);
    expect(tokenize('word '.repeat(50_000)).length).to.be.at.most(MAX_TOKENS);
  });

  it('tolerates empty and non-string input', () => {
    expect(tokenize('')).to.deep.equal([]);
    expect(tokenize(undefined as unknown as string)).to.deep.equal([]);
    expect(tokenize('，。！？……')).to.deep.equal([]);
  });

  it('gives unique query terms in first-seen order', () => {
    expect(queryTerms('电池 电池 battery batteries')).to.deep.equal(['电池', 'battery']);
  });

  it('keeps the surface forms and ICU words for explanations', () => {
    const a = analyze('Batteries 锂电池鼓包');
    expect(a.words).to.deep.include({ term: 'battery', surface: 'batteries' });
    expect(a.runs.map((r) => r.text)).to.deep.equal(['锂电池鼓包']);
    expect(a.runs[0]!.words.join('')).to.equal('锂电池鼓包');
  });
});
