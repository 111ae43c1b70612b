/**
 * The worked example an SME reads next to an offer: one per fee form and
 * trigger, for a business selling RMB 1 million a year (the amounts below
 * are worked by hand).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { formatYuan } from '../../server/domain/money.js';
import { OFFER_EXAMPLE_KEYS, workedExample, type OfferTermsInput } from '../../server/domain/offer-terms.js';

const SALES = 100_000_000; // ¥1,000,000.00 a year
const base = { entryFeeFen: 0, lumpSumFen: 0, instalmentCount: 0, instalmentFen: 0, instalmentIntervalMonths: 0, royaltyBps: 0 };
const example = (kind: 'open' | 'deferred' | 'negotiated', terms: OfferTermsInput, annualNetSalesFen = SALES) =>
  workedExample(kind, terms, { annualNetSalesFen });
const assumption = (months: number) => ({ key: 'offer.example.assumption', params: { sales: '¥1,000,000.00', months, years: 3 } });
const total = (amount: string, months: number) => ({ key: 'offer.example.total_paid', params: { amount, months } });

describe('worked example', () => {
  describe('open licence, each fee form', () => {
    it('free', () => {
      expect(example('open', { ...base, feeForm: 'free', termMonths: 12 })).to.deep.equal({
        lines: [assumption(12), { key: 'offer.example.free', params: {} }, total('¥0.00', 12)],
        totalFen: 0,
        firstPaymentMonth: null,
        months: 12,
      });
    });

    it('lump sum, paid on taking the licence', () => {
      const r = example('open', { ...base, feeForm: 'lump_sum', lumpSumFen: 5_000_000, termMonths: 60 });
      expect(r.lines).to.deep.equal([assumption(36), { key: 'offer.example.lump_sum', params: { amount: '¥50,000.00', month: 1 } }, total('¥50,000.00', 36)]);
      expect(r).to.include({ totalFen: 5_000_000, firstPaymentMonth: 1, months: 36 });
    });

    it('instalments, all within the example', () => {
      const r = example('open', { ...base, feeForm: 'instalments', instalmentCount: 4, instalmentFen: 1_000_000, instalmentIntervalMonths: 6, termMonths: 24 });
      expect(r.lines[1]).to.deep.equal({
        key: 'offer.example.instalments',
        params: { count: 4, amount: '¥10,000.00', interval: 6, firstMonth: 1, total: '¥40,000.00' },
      });
      expect(r).to.include({ totalFen: 4_000_000, firstPaymentMonth: 1, months: 24 });
    });

    it('instalments running past the example are named but not totalled', () => {
      const r = example('open', { ...base, feeForm: 'instalments', instalmentCount: 10, instalmentFen: 1_000_000, instalmentIntervalMonths: 6, termMonths: 60 });
      // Months 1, 7, 13, 19, 25, 31 fall within 36 months.
      expect(r.lines.slice(1, 3)).to.deep.equal([
        { key: 'offer.example.instalments', params: { count: 6, amount: '¥10,000.00', interval: 6, firstMonth: 1, total: '¥60,000.00' } },
        { key: 'offer.example.instalments_after', params: { remaining: 4, amount: '¥10,000.00' } },
      ]);
      expect(r.totalFen).to.equal(6_000_000);
    });

    it('royalty on net sales', () => {
      const r = example('open', { ...base, feeForm: 'royalty', royaltyBps: 500, termMonths: 48 });
      expect(r.lines[1]).to.deep.equal({
        key: 'offer.example.royalty',
        params: { percent: '5', months: 36, fromMonth: 1, toMonth: 36, sales: '¥3,000,000.00', amount: '¥150,000.00' },
      });
      expect(r).to.include({ totalFen: 15_000_000, firstPaymentMonth: 1 });
    });

    it('entry fee + royalty', () => {
      const r = example('open', { ...base, feeForm: 'entry_plus_royalty', entryFeeFen: 2_000_000, royaltyBps: 300, termMonths: 48 });
      expect(r.lines.map((l) => l.key)).to.deep.equal(['offer.example.assumption', 'offer.example.entry_fee', 'offer.example.royalty', 'offer.example.total_paid']);
      expect(r.lines[1]!.params).to.deep.equal({ amount: '¥20,000.00' });
      expect(r).to.include({ totalFen: 2_000_000 + 9_000_000, firstPaymentMonth: 1 });
    });

    it('rounds sales to the fen, then the royalty, half up', () => {
      // ¥1.50 a year over 13 months = 162.5 fen → 163; 50 % of it = 81.5 → 82.
      const r = example('open', { ...base, feeForm: 'royalty', royaltyBps: 5000, termMonths: 13 }, 150);
      expect(r.lines[1]!.params).to.include({ sales: '¥1.63', amount: '¥0.82' });
      expect(r.totalFen).to.equal(82);
    });
  });

  describe('pay later', () => {
    const royalty = (trigger: string) =>
      example('deferred', { ...base, feeForm: 'royalty', royaltyBps: 300, termMonths: 60, freeMonths: 12, trigger });

    it('time: nothing in the free period, royalty from month 13', () => {
      const r = royalty('time');
      expect(r.lines).to.deep.equal([
        assumption(36),
        { key: 'offer.example.free_period', params: { months: 12 } },
        { key: 'offer.example.trigger_time', params: { month: 13 } },
        { key: 'offer.example.royalty', params: { percent: '3', months: 24, fromMonth: 13, toMonth: 36, sales: '¥2,000,000.00', amount: '¥60,000.00' } },
        total('¥60,000.00', 36),
      ]);
      expect(r).to.include({ totalFen: 6_000_000, firstPaymentMonth: 13 });
    });

    it('first revenue: revenue from month 1 still waits for the free period to end', () => {
      const r = royalty('first_revenue');
      expect(r.lines[2]).to.deep.equal({ key: 'offer.example.trigger_first_revenue', params: { month: 13 } });
      expect(r).to.include({ totalFen: 6_000_000, firstPaymentMonth: 13 });
    });

    it('either: revenue from month 1 ends the free period at once', () => {
      const r = royalty('either');
      expect(r.lines[2]).to.deep.equal({ key: 'offer.example.trigger_either', params: { month: 1 } });
      expect(r).to.include({ totalFen: 9_000_000, firstPaymentMonth: 1 });
    });

    it('deferred lump sum, due when the free period ends', () => {
      const r = example('deferred', { ...base, feeForm: 'lump_sum', lumpSumFen: 1_000_000, termMonths: 60, freeMonths: 12, trigger: 'time' });
      expect(r.lines[3]).to.deep.equal({ key: 'offer.example.lump_sum', params: { amount: '¥10,000.00', month: 13 } });
      expect(r).to.include({ totalFen: 1_000_000, firstPaymentMonth: 13 });
    });

    it('deferred lump sum falling after the example period', () => {
      const r = example('deferred', { ...base, feeForm: 'lump_sum', lumpSumFen: 1_000_000, termMonths: 48, freeMonths: 36, trigger: 'time' });
      expect(r.lines[3]).to.deep.equal({ key: 'offer.example.no_payment_in_period', params: { month: 37, months: 36 } });
      expect(r).to.include({ totalFen: 0, firstPaymentMonth: null });
    });

    it('deferred instalments', () => {
      const r = example('deferred', { ...base, feeForm: 'instalments', instalmentCount: 3, instalmentFen: 500_000, instalmentIntervalMonths: 12, termMonths: 60, freeMonths: 12, trigger: 'time' });
      // Months 13 and 25 fall within 36; month 37 does not.
      expect(r.lines.slice(3, 5)).to.deep.equal([
        { key: 'offer.example.instalments', params: { count: 2, amount: '¥5,000.00', interval: 12, firstMonth: 13, total: '¥10,000.00' } },
        { key: 'offer.example.instalments_after', params: { remaining: 1, amount: '¥5,000.00' } },
      ]);
      expect(r).to.include({ totalFen: 1_000_000, firstPaymentMonth: 13 });
    });

    it('entry fee up front, royalty after the free period', () => {
      const r = example('deferred', { ...base, feeForm: 'entry_plus_royalty', entryFeeFen: 100_000, royaltyBps: 200, termMonths: 24, freeMonths: 6, trigger: 'time' });
      expect(r.lines.map((l) => l.key)).to.deep.equal([
        'offer.example.assumption', 'offer.example.free_period', 'offer.example.trigger_time', 'offer.example.entry_fee', 'offer.example.royalty', 'offer.example.total_paid',
      ]);
      // 18 months of sales = ¥1,500,000.00; 2 % = ¥30,000.00; plus ¥1,000.00.
      expect(r).to.include({ totalFen: 3_100_000, firstPaymentMonth: 1, months: 24 });
    });
  });

  describe('negotiated', () => {
    it('shows the asking price as such', () => {
      const r = example('negotiated', { ...base, feeForm: 'lump_sum', lumpSumFen: 8_000_000, termMonths: 24 });
      expect(r.lines.map((l) => l.key)).to.deep.equal(['offer.example.assumption', 'offer.example.lump_sum', 'offer.example.negotiated', 'offer.example.total_paid']);
      expect(r.totalFen).to.equal(8_000_000);
    });

    it('says "price on request" when an amount is left open', () => {
      const r = example('negotiated', { ...base, feeForm: 'royalty', termMonths: 24 });
      expect(r.lines.map((l) => l.key)).to.deep.equal(['offer.example.assumption', 'offer.example.price_on_request', 'offer.example.negotiated', 'offer.example.total_paid']);
      expect(r).to.include({ totalFen: 0, firstPaymentMonth: null });
    });
  });

  it('refuses a bad example business', () => {
    const t = { ...base, feeForm: 'free', termMonths: 12 };
    expect(() => workedExample('open', t, { annualNetSalesFen: -1 })).to.throw(RangeError);
    expect(() => workedExample('open', t, { annualNetSalesFen: 1.5 })).to.throw(RangeError);
    expect(() => workedExample('open', t, { annualNetSalesFen: 1, years: 0 })).to.throw(RangeError);
  });

  it('totals its own lines and only uses declared keys', () => {
    const terms = fc.record({
      feeForm: fc.constantFrom('lump_sum', 'instalments', 'royalty', 'entry_plus_royalty'),
      entryFeeFen: fc.integer({ min: 1, max: 10 ** 9 }),
      lumpSumFen: fc.integer({ min: 1, max: 10 ** 9 }),
      instalmentCount: fc.integer({ min: 2, max: 120 }),
      instalmentFen: fc.integer({ min: 1, max: 10 ** 9 }),
      instalmentIntervalMonths: fc.integer({ min: 1, max: 24 }),
      royaltyBps: fc.integer({ min: 1, max: 10_000 }),
      termMonths: fc.integer({ min: 13, max: 240 }),
      freeMonths: fc.integer({ min: 1, max: 12 }),
      trigger: fc.constantFrom('time', 'first_revenue', 'either'),
    });
    fc.assert(fc.property(fc.constantFrom('open', 'deferred' as const), terms, fc.nat(10 ** 11), fc.integer({ min: 1, max: 10 }), (kind, t, sales, years) => {
      const r = workedExample(kind, kind === 'open' ? { ...t, freeMonths: null, trigger: null } : t, { annualNetSalesFen: sales, years });
      for (const l of r.lines) expect(OFFER_EXAMPLE_KEYS).to.include(l.key);
      expect(r.lines.at(-1)).to.deep.equal({ key: 'offer.example.total_paid', params: { amount: formatYuan(r.totalFen), months: r.months } });
      expect(r.months).to.equal(Math.min(t.termMonths, years * 12));
      expect(r.firstPaymentMonth === null).to.equal(r.totalFen === 0);
      if (r.firstPaymentMonth !== null) expect(r.firstPaymentMonth).to.be.within(1, r.months);
    }));
  });
});
