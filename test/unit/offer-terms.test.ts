/**
 * Offer-term validation and the CNIPA 2024 fee-guidance warnings.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { OfferTerms } from '../../models/offer.js';
import {
  feeWarnings,
  OFFER_TERMS_KEYS,
  percentFromBps,
  validateOfferTerms,
  type OfferTermsInput,
} from '../../server/domain/offer-terms.js';

// Compile-time: stored terms fit the rules' input type.
const fromModel = (t: OfferTerms): OfferTermsInput => t;
void fromModel;

const NOW = new Date('2026-03-01T02:00:00Z');
const PATENT = { expiryDate: new Date('2040-05-31') };

const base = { entryFeeFen: 0, lumpSumFen: 0, instalmentCount: 0, instalmentFen: 0, instalmentIntervalMonths: 0, royaltyBps: 0 };
const lumpSum = (over: Partial<OfferTermsInput> = {}): OfferTermsInput => ({ ...base, feeForm: 'lump_sum', lumpSumFen: 5_000_000, termMonths: 36, ...over });
const deferred = (over: Partial<OfferTermsInput> = {}): OfferTermsInput =>
  ({ ...base, feeForm: 'royalty', royaltyBps: 300, termMonths: 60, freeMonths: 12, trigger: 'time', ...over });

const check = (kind: 'open' | 'deferred' | 'negotiated', terms: OfferTermsInput, patent = PATENT) => validateOfferTerms(kind, terms, patent, NOW);

describe('offer terms', () => {
  describe('validateOfferTerms: valid offers', () => {
    it('accepts each fee form for an open licence', () => {
      const forms: OfferTermsInput[] = [
        { ...base, feeForm: 'free', termMonths: 12 },
        lumpSum(),
        { ...base, feeForm: 'instalments', instalmentCount: 4, instalmentFen: 1_000_000, instalmentIntervalMonths: 6, termMonths: 24 },
        { ...base, feeForm: 'royalty', royaltyBps: 500, termMonths: 48 },
        { ...base, feeForm: 'entry_plus_royalty', entryFeeFen: 2_000_000, royaltyBps: 300, termMonths: 48 },
      ];
      for (const t of forms) expect(check('open', t), t.feeForm).to.deep.equal({});
    });

    it('accepts a pay-later offer with each trigger and paying fee form', () => {
      for (const trigger of ['time', 'first_revenue', 'either']) expect(check('deferred', deferred({ trigger }))).to.deep.equal({});
      expect(check('deferred', deferred({ feeForm: 'lump_sum', royaltyBps: 0, lumpSumFen: 1 }))).to.deep.equal({});
      expect(check('deferred', deferred({ feeForm: 'entry_plus_royalty', entryFeeFen: 100 }))).to.deep.equal({});
    });

    it('accepts a negotiated offer with only a term (price on request)', () => {
      expect(check('negotiated', { ...base, feeForm: 'lump_sum', termMonths: 6 })).to.deep.equal({});
      expect(check('negotiated', { feeForm: 'royalty', termMonths: 6 })).to.deep.equal({});
    });
  });

  describe('validateOfferTerms: amounts and counts', () => {
    it('requires whole fen from 0 to 10^13 in every amount field', () => {
      const problem = { key: 'offer.terms.amount', params: { max: '¥100,000,000,000.00' } };
      expect(check('open', lumpSum({ lumpSumFen: 12.5 }))).to.deep.equal({ lumpSumFen: problem });
      expect(check('open', lumpSum({ lumpSumFen: 10 ** 13 + 1 }))).to.deep.equal({ lumpSumFen: problem });
      expect(check('open', lumpSum({ lumpSumFen: 10 ** 13 }))).to.deep.equal({});
      expect(check('open', lumpSum({ entryFeeFen: -1 }))).to.deep.equal({ entryFeeFen: problem });
      expect(check('open', lumpSum({ instalmentFen: Number.NaN }))).to.deep.equal({ instalmentFen: problem });
    });

    it('requires whole numbers for counts, months and basis points', () => {
      expect(check('open', { ...base, feeForm: 'royalty', royaltyBps: 2.5, termMonths: 12 })).to.deep.equal({ royaltyBps: { key: 'offer.terms.whole_number' } });
      expect(check('open', lumpSum({ instalmentCount: -2 }))).to.deep.equal({ instalmentCount: { key: 'offer.terms.whole_number' } });
    });
  });

  describe('validateOfferTerms: fee-form consistency', () => {
    it('free: everything zero', () => {
      expect(check('open', { ...base, feeForm: 'free', entryFeeFen: 100, royaltyBps: 1, termMonths: 12 })).to.deep.equal({
        entryFeeFen: { key: 'offer.terms.free_must_be_zero' },
        royaltyBps: { key: 'offer.terms.free_must_be_zero' },
      });
    });

    it('lump sum: an amount above zero, nothing else', () => {
      expect(check('open', lumpSum({ lumpSumFen: 0 }))).to.deep.equal({ lumpSumFen: { key: 'offer.terms.lump_sum_required' } });
      expect(check('open', lumpSum({ royaltyBps: 500, entryFeeFen: 1 }))).to.deep.equal({
        entryFeeFen: { key: 'offer.terms.not_used' },
        royaltyBps: { key: 'offer.terms.not_used' },
      });
    });

    it('instalments: 2–120 payments above zero, 1–24 months apart', () => {
      const inst = (count: number, fen: number, every: number) =>
        check('open', { ...base, feeForm: 'instalments', instalmentCount: count, instalmentFen: fen, instalmentIntervalMonths: every, termMonths: 120 });
      expect(inst(2, 1, 1)).to.deep.equal({});
      expect(inst(120, 1, 24)).to.deep.equal({});
      expect(inst(1, 0, 25)).to.deep.equal({
        instalmentCount: { key: 'offer.terms.instalment_count', params: { min: 2, max: 120 } },
        instalmentFen: { key: 'offer.terms.instalment_amount' },
        instalmentIntervalMonths: { key: 'offer.terms.instalment_interval', params: { min: 1, max: 24 } },
      });
      expect(inst(121, 1, 0)).to.have.keys('instalmentCount', 'instalmentIntervalMonths');
    });

    it('royalty: 0.01 %–100 % of net sales', () => {
      const problem = { key: 'offer.terms.royalty_range', params: { min: '0.01', max: '100' } };
      const royalty = (bps: number) => check('open', { ...base, feeForm: 'royalty', royaltyBps: bps, termMonths: 12 });
      expect(royalty(1)).to.deep.equal({});
      expect(royalty(10_000)).to.deep.equal({});
      expect(royalty(0)).to.deep.equal({ royaltyBps: problem });
      expect(royalty(10_001)).to.deep.equal({ royaltyBps: problem });
    });

    it('entry fee + royalty: both needed', () => {
      expect(check('open', { ...base, feeForm: 'entry_plus_royalty', royaltyBps: 0, termMonths: 12 })).to.deep.equal({
        royaltyBps: { key: 'offer.terms.royalty_range', params: { min: '0.01', max: '100' } },
        entryFeeFen: { key: 'offer.terms.entry_fee_required' },
      });
    });

    it('an unknown fee form', () => {
      expect(check('open', { ...base, feeForm: 'barter', termMonths: 12 })).to.deep.equal({ feeForm: { key: 'offer.terms.fee_form_unknown' } });
    });

    it('negotiated: amounts optional, but what is given must fit the form', () => {
      expect(check('negotiated', { ...base, feeForm: 'instalments', instalmentCount: 500, termMonths: 12 }))
        .to.deep.equal({ instalmentCount: { key: 'offer.terms.instalment_count', params: { min: 2, max: 120 } } });
      expect(check('negotiated', lumpSum({ royaltyBps: 5 }))).to.deep.equal({ royaltyBps: { key: 'offer.terms.not_used' } });
    });
  });

  describe('validateOfferTerms: term', () => {
    it('requires a term of at least one whole month', () => {
      expect(check('negotiated', lumpSum({ termMonths: 0 }))).to.deep.equal({ termMonths: { key: 'offer.terms.term_months' } });
      expect(check('negotiated', lumpSum({ termMonths: 1.5 }))).to.deep.equal({ termMonths: { key: 'offer.terms.term_months' } });
    });

    it('open: at least 12 months', () => {
      expect(check('open', lumpSum({ termMonths: 11 }))).to.deep.equal({ termMonths: { key: 'offer.terms.open_term_min', params: { minMonths: 12 } } });
      expect(check('open', lumpSum({ termMonths: 12 }))).to.deep.equal({});
    });

    it('no kind may outlast the patent; the message gives the longest possible term', () => {
      const patent = { expiryDate: new Date('2028-02-29') }; // from 2026-03-01: up to 2028-03-01 exclusive = 24 months
      expect(check('open', lumpSum({ termMonths: 24 }), patent)).to.deep.equal({});
      const tooLong = { termMonths: { key: 'offer.terms.term_beyond_expiry', params: { latestMonths: 24, expiryDate: '2028-02-29' } } };
      expect(check('open', lumpSum({ termMonths: 25 }), patent)).to.deep.equal(tooLong);
      expect(check('deferred', deferred({ termMonths: 25 }), patent)).to.deep.equal(tooLong);
      expect(check('negotiated', lumpSum({ termMonths: 25 }), patent)).to.deep.equal(tooLong);
    });
  });

  describe('validateOfferTerms: pay-later fields', () => {
    it('deferred: free period 1–60 months and shorter than the term', () => {
      const range = { freeMonths: { key: 'offer.terms.free_months', params: { min: 1, max: 60 } } };
      expect(check('deferred', deferred({ freeMonths: null }))).to.deep.equal(range);
      expect(check('deferred', deferred({ freeMonths: 0 }))).to.deep.equal(range);
      expect(check('deferred', deferred({ freeMonths: 61, termMonths: 120 }))).to.deep.equal(range);
      expect(check('deferred', deferred({ freeMonths: 60, termMonths: 120 }))).to.deep.equal({});
      expect(check('deferred', deferred({ freeMonths: 24, termMonths: 24 })))
        .to.deep.equal({ freeMonths: { key: 'offer.terms.free_months_vs_term', params: { termMonths: 24 } } });
    });

    it('deferred: a trigger and a paying fee form', () => {
      expect(check('deferred', deferred({ trigger: null }))).to.deep.equal({ trigger: { key: 'offer.terms.trigger_required' } });
      expect(check('deferred', deferred({ trigger: 'someday' }))).to.deep.equal({ trigger: { key: 'offer.terms.trigger_required' } });
      expect(check('deferred', deferred({ feeForm: 'free', royaltyBps: 0 }))).to.deep.equal({ feeForm: { key: 'offer.terms.deferred_fee_form' } });
    });

    it('other kinds: no free period or trigger', () => {
      expect(check('open', lumpSum({ freeMonths: 12, trigger: 'time' }))).to.deep.equal({
        freeMonths: { key: 'offer.terms.pay_later_only' },
        trigger: { key: 'offer.terms.pay_later_only' },
      });
    });

    it('an unknown kind', () => {
      expect(validateOfferTerms('auction' as never, lumpSum(), PATENT, NOW)).to.deep.equal({ kind: { key: 'offer.terms.kind_unknown' } });
    });

    it('only returns declared keys, one per field', () => {
      const n = fc.oneof(fc.integer({ min: -5, max: 200 }), fc.constant(Number.NaN), fc.double({ min: 0, max: 100 }));
      const terms = fc.record({
        feeForm: fc.constantFrom('free', 'lump_sum', 'instalments', 'royalty', 'entry_plus_royalty', 'x'),
        entryFeeFen: n, lumpSumFen: n, instalmentCount: n, instalmentFen: n, instalmentIntervalMonths: n, royaltyBps: n,
        termMonths: n, freeMonths: fc.option(n), trigger: fc.option(fc.constantFrom('time', 'first_revenue', 'either', 'x')),
      });
      fc.assert(fc.property(fc.constantFrom('open', 'deferred', 'negotiated' as const), terms, (kind, t) => {
        for (const p of Object.values(check(kind, t))) expect(OFFER_TERMS_KEYS).to.include(p.key);
      }));
    });
  });

  describe('feeWarnings (CNIPA July 2024 guidance)', () => {
    const royalty = (bps: number) => feeWarnings({ ...base, feeForm: 'royalty', royaltyBps: bps, termMonths: 12 });

    it('warns about a royalty above 20 % of net sales, not at 20 %', () => {
      expect(royalty(2000)).to.deep.equal([]);
      expect(royalty(2001)).to.deep.equal([{ key: 'offer.warning.royalty_above_guidance', params: { percent: '20.01', limit: '20' } }]);
      expect(feeWarnings({ ...base, feeForm: 'entry_plus_royalty', entryFeeFen: 1, royaltyBps: 2500, termMonths: 12 }))
        .to.deep.equal([{ key: 'offer.warning.royalty_above_guidance', params: { percent: '25', limit: '20' } }]);
    });

    it('warns about a fixed fee above RMB 20 million, not at it', () => {
      const limit = 2_000_000_000;
      const over = (amount: string) => [{ key: 'offer.warning.fixed_fee_above_guidance', params: { amount, limit: '¥20,000,000.00' } }];
      expect(feeWarnings(lumpSum({ lumpSumFen: limit }))).to.deep.equal([]);
      expect(feeWarnings(lumpSum({ lumpSumFen: limit + 1 }))).to.deep.equal(over('¥20,000,000.01'));
      expect(feeWarnings({ ...base, feeForm: 'entry_plus_royalty', entryFeeFen: limit + 1, royaltyBps: 100, termMonths: 12 }))
        .to.deep.equal(over('¥20,000,000.01'));
      // Instalments count as their total.
      const inst = (fen: number) => feeWarnings({ ...base, feeForm: 'instalments', instalmentCount: 10, instalmentFen: fen, instalmentIntervalMonths: 6, termMonths: 60 });
      expect(inst(200_000_000)).to.deep.equal([]);
      expect(inst(200_000_001)).to.deep.equal(over('¥20,000,000.10'));
    });

    it('gives both warnings together', () => {
      expect(feeWarnings({ ...base, feeForm: 'entry_plus_royalty', entryFeeFen: 3_000_000_000, royaltyBps: 3000, termMonths: 12 }).map((w) => w.key))
        .to.deep.equal(['offer.warning.royalty_above_guidance', 'offer.warning.fixed_fee_above_guidance']);
    });

    it('ignores fields the fee form does not use', () => {
      expect(feeWarnings({ ...base, feeForm: 'lump_sum', lumpSumFen: 1, royaltyBps: 9000, termMonths: 12 })).to.deep.equal([]);
    });
  });

  it('percentFromBps is exact', () => {
    expect([0, 1, 10, 100, 1250, 2000, 2001, 10_000].map(percentFromBps)).to.deep.equal(['0', '0.01', '0.1', '1', '12.5', '20', '20.01', '100']);
  });
});
