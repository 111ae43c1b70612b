/**
 * The catalogue rules speak only in dictionary keys. Every key they declare
 * has a text in both languages (views/locales/<locale>/patent-rules.json,
 * nothing else in those files), and every key, as actually returned with its
 * parameters, translates with no {placeholder} left unfilled.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { MessageParams } from '../../server/errors.js';
import { loadDictionaries, translator } from '../../server/http/i18n.js';
import { ELIGIBILITY_KEYS, openLicenceBlockers, type EligibilityPatent } from '../../server/domain/open-licence-eligibility.js';
import {
  feeWarnings,
  OFFER_EXAMPLE_KEYS,
  OFFER_TERMS_KEYS,
  OFFER_WARNING_KEYS,
  validateOfferTerms,
  workedExample,
  type OfferTermsInput,
} from '../../server/domain/offer-terms.js';
import { PATENT_NUMBER_KEYS, parseApplicationNumber } from '../../server/domain/patent-number.js';

const DECLARED: readonly string[] = [...PATENT_NUMBER_KEYS, ...ELIGIBILITY_KEYS, ...OFFER_TERMS_KEYS, ...OFFER_WARNING_KEYS, ...OFFER_EXAMPLE_KEYS];
const NOW = new Date('2026-03-01T02:00:00Z');
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

/** One call per situation, chosen so that together they return every declared key. */
function everyMessage(): { key: string; params?: MessageParams }[] {
  const out: { key: string; params?: MessageParams }[] = [];
  for (const input of ['', '2021-1', '2021.1.1', '20211', '202110123456.77', '202710123456.X', '198410123456', '199810123456',
    '50100001', '202150123456', '202110123456', '202110123456.8']) {
    const r = parseApplicationNumber(input, NOW);
    if (!r.ok) out.push(r);
  }

  const patent: EligibilityPatent = { type: 'design', legalStatus: 'granted', expiryDate: new Date('2026-12-31'), annualFeePaidThrough: null,
    exclusiveLicence: 'sole', pledged: true, suspended: true, coOwners: [{ name: 'A' }] };
  out.push(...openLicenceBlockers(patent, NOW));
  out.push(...openLicenceBlockers({ ...patent, annualFeePaidThrough: new Date('2025-01-01'), exclusiveLicence: 'exclusive' }, NOW));
  for (const legalStatus of ['pending', 'lapsed', 'invalidated', 'expired'] as const) out.push(...openLicenceBlockers({ ...patent, legalStatus }, NOW));

  const expiry = { expiryDate: new Date('2030-01-01') };
  const bad: ['open' | 'deferred' | 'negotiated', OfferTermsInput][] = [
    ['open', { feeForm: 'nope', termMonths: 0, entryFeeFen: -1, royaltyBps: 0.5 }],
    ['open', { feeForm: 'free', royaltyBps: 1, termMonths: 6 }],
    ['open', { feeForm: 'lump_sum', royaltyBps: 1, termMonths: 600, freeMonths: 1 }],
    ['open', { feeForm: 'instalments', instalmentCount: 1, termMonths: 12 }],
    ['open', { feeForm: 'entry_plus_royalty', termMonths: 12 }],
    ['deferred', { feeForm: 'free', termMonths: 12, freeMonths: 0 }],
    ['deferred', { feeForm: 'royalty', royaltyBps: 1, termMonths: 12, freeMonths: 12, trigger: 'time' }],
  ];
  for (const [kind, terms] of bad) out.push(...Object.values(validateOfferTerms(kind, terms, expiry, NOW)));
  out.push(...Object.values(validateOfferTerms('x' as never, { feeForm: 'free', termMonths: 12 }, expiry, NOW)));
  out.push(...feeWarnings({ feeForm: 'entry_plus_royalty', entryFeeFen: 3_000_000_000, royaltyBps: 2500, termMonths: 12 }));

  const opts = { annualNetSalesFen: 100_000_000 };
  const d = { termMonths: 60, freeMonths: 12 };
  out.push(...workedExample('open', { feeForm: 'free', termMonths: 12 }, opts).lines);
  out.push(...workedExample('open', { feeForm: 'lump_sum', lumpSumFen: 1, termMonths: 12 }, opts).lines);
  out.push(...workedExample('deferred', { feeForm: 'instalments', instalmentCount: 9, instalmentFen: 1, instalmentIntervalMonths: 12, ...d, trigger: 'time' }, opts).lines);
  out.push(...workedExample('deferred', { feeForm: 'entry_plus_royalty', entryFeeFen: 1, royaltyBps: 1, ...d, trigger: 'first_revenue' }, opts).lines);
  out.push(...workedExample('deferred', { feeForm: 'lump_sum', lumpSumFen: 1, termMonths: 60, freeMonths: 48, trigger: 'either' }, opts).lines);
  out.push(...workedExample('deferred', { feeForm: 'lump_sum', lumpSumFen: 1, termMonths: 60, freeMonths: 48, trigger: 'time' }, opts).lines);
  out.push(...workedExample('negotiated', { feeForm: 'royalty', termMonths: 12 }, opts).lines);
  return out;
}

describe('catalogue rule messages (patent-rules.json)', () => {
  const dicts = loadDictionaries(path.resolve('views/locales'));
  const files = Object.fromEntries((['zh-CN', 'en'] as const).map((l) => [l,
    JSON.parse(fs.readFileSync(path.resolve(`views/locales/${l}/patent-rules.json`), 'utf8')) as Record<string, string>]));

  it('has a text for every declared key in both languages', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      expect(DECLARED.filter((k) => !(k in dicts[locale])), locale).to.deep.equal([]);
    }
  });

  it('holds exactly the declared keys, with the same placeholders in both languages', () => {
    expect(Object.keys(files['zh-CN']!).sort()).to.deep.equal([...DECLARED].sort());
    expect(Object.keys(files.en!).sort()).to.deep.equal([...DECLARED].sort());
    for (const k of DECLARED) expect(placeholders(files.en![k]!), k).to.deep.equal(placeholders(files['zh-CN']![k]!));
  });

  it('fills every placeholder from the parameters the rules return', () => {
    const messages = everyMessage();
    // Every declared key is exercised, so none can drift from its parameters unnoticed.
    expect(DECLARED.filter((k) => !messages.some((m) => m.key === k))).to.deep.equal([]);
    for (const locale of ['zh-CN', 'en'] as const) {
      const t = translator(dicts, locale);
      for (const m of messages) {
        const text = t(m.key, m.params);
        expect(text, `${locale} ${m.key}`).to.not.match(/\{\w+\}/);
        expect(text, `${locale} ${m.key}`).to.not.equal(m.key);
      }
    }
  });
});
