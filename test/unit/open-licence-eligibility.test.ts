/**
 * Open-licence eligibility: each rule blocks on its own, with its own reason,
 * starting from a patent that passes every rule.
 */
import { expect } from 'chai';
import type { PatentAttrs } from '../../models/patent.js';
import { ELIGIBILITY_KEYS, openLicenceBlockers, type EligibilityPatent } from '../../server/domain/open-licence-eligibility.js';

// Compile-time: a stored patent (lean or hydrated) fits the rule's input type.
const fromModel = (p: PatentAttrs): EligibilityPatent => p;
void fromModel;

const NOW = new Date('2026-03-01T02:00:00Z'); // 10:00 on 1 March 2026, Beijing

function eligible(): EligibilityPatent {
  return {
    type: 'invention',
    legalStatus: 'granted',
    expiryDate: new Date('2040-05-31'),
    annualFeePaidThrough: new Date('2026-05-31'),
    exclusiveLicence: 'none',
    pledged: false,
    pledgeeConsent: false,
    suspended: false,
    coOwners: [],
    evaluationReport: false,
  };
}

const keys = (p: EligibilityPatent, now = NOW) => openLicenceBlockers(p, now).map((b) => b.key);

describe('open-licence eligibility', () => {
  it('a granted, paid-up, unencumbered invention with years left is eligible', () => {
    expect(openLicenceBlockers(eligible(), NOW)).to.deep.equal([]);
  });

  it('works with only the required fields (lean documents without defaults)', () => {
    const { type, legalStatus, expiryDate, annualFeePaidThrough } = eligible();
    expect(openLicenceBlockers({ type, legalStatus, expiryDate, annualFeePaidThrough }, NOW)).to.deep.equal([]);
  });

  it('blocks a patent not yet granted, without the follow-on fee and term reasons', () => {
    expect(openLicenceBlockers({ ...eligible(), legalStatus: 'pending', annualFeePaidThrough: null }, NOW))
      .to.deep.equal([{ key: 'patent.eligibility.not_granted' }]);
  });

  it('blocks a lapsed, invalidated or expired patent', () => {
    expect(keys({ ...eligible(), legalStatus: 'lapsed' })).to.deep.equal(['patent.eligibility.lapsed']);
    expect(keys({ ...eligible(), legalStatus: 'invalidated' })).to.deep.equal(['patent.eligibility.invalidated']);
    expect(openLicenceBlockers({ ...eligible(), legalStatus: 'expired' }, NOW))
      .to.deep.equal([{ key: 'patent.eligibility.expired', params: { expiryDate: '2040-05-31' } }]);
  });

  it('treats a granted patent past its expiry date as expired', () => {
    const p = { ...eligible(), expiryDate: new Date('2026-02-28') };
    expect(openLicenceBlockers(p, NOW)).to.deep.equal([{ key: 'patent.eligibility.expired', params: { expiryDate: '2026-02-28' } }]);
    // On the expiry day itself the patent is in force; only the one-year rule stops it.
    expect(keys({ ...eligible(), expiryDate: new Date('2026-03-01') })).to.deep.equal(['patent.eligibility.term_too_short']);
  });

  it('blocks when annual fees are not recorded or not paid through today', () => {
    expect(openLicenceBlockers({ ...eligible(), annualFeePaidThrough: null }, NOW))
      .to.deep.equal([{ key: 'patent.eligibility.annual_fee_unknown' }]);
    expect(openLicenceBlockers({ ...eligible(), annualFeePaidThrough: new Date('2026-02-28') }, NOW))
      .to.deep.equal([{ key: 'patent.eligibility.annual_fee_unpaid', params: { paidThrough: '2026-02-28' } }]);
    // Paid through today (Beijing) is paid.
    expect(keys({ ...eligible(), annualFeePaidThrough: new Date('2026-03-01') })).to.deep.equal([]);
    // 23:30 on 1 March UTC is already 2 March in Beijing.
    expect(keys({ ...eligible(), annualFeePaidThrough: new Date('2026-03-01') }, new Date('2026-03-01T16:30:00Z')))
      .to.deep.equal(['patent.eligibility.annual_fee_unpaid']);
  });

  it('blocks while an exclusive or a sole licence is in force', () => {
    expect(keys({ ...eligible(), exclusiveLicence: 'exclusive' })).to.deep.equal(['patent.eligibility.exclusive_licence']);
    expect(keys({ ...eligible(), exclusiveLicence: 'sole' })).to.deep.equal(['patent.eligibility.sole_licence']);
  });

  it('blocks a pledge without the pledgee\'s consent, not one with it', () => {
    expect(keys({ ...eligible(), pledged: true, pledgeeConsent: false })).to.deep.equal(['patent.eligibility.pledged']);
    expect(keys({ ...eligible(), pledged: true, pledgeeConsent: true })).to.deep.equal([]);
  });

  it('blocks a suspended patent', () => {
    expect(keys({ ...eligible(), suspended: true })).to.deep.equal(['patent.eligibility.suspended']);
  });

  it('names every co-owner who has not consented', () => {
    const coOwners = [
      { name: '上海某某科技有限公司', consentToOpenLicence: false },
      { name: 'Zhejiang University', consentToOpenLicence: true },
      { name: '合肥某研究院', consentToOpenLicence: false },
    ];
    expect(openLicenceBlockers({ ...eligible(), coOwners }, NOW)).to.deep.equal([
      { key: 'patent.eligibility.co_owner_consent', params: { name: '上海某某科技有限公司' } },
      { key: 'patent.eligibility.co_owner_consent', params: { name: '合肥某研究院' } },
    ]);
    expect(keys({ ...eligible(), coOwners: [{ name: 'A', consentToOpenLicence: true }] })).to.deep.equal([]);
  });

  it('requires an evaluation report for utility models and designs only', () => {
    const design = { ...eligible(), expiryDate: new Date('2031-05-30') };
    expect(keys({ ...design, type: 'utility_model' })).to.deep.equal(['patent.eligibility.evaluation_report']);
    expect(keys({ ...design, type: 'design' })).to.deep.equal(['patent.eligibility.evaluation_report']);
    expect(keys({ ...design, type: 'design', evaluationReport: true })).to.deep.equal([]);
    expect(keys({ ...eligible(), evaluationReport: false })).to.deep.equal([]);
  });

  it('blocks when less than 12 months of protection are left, saying how many are', () => {
    // Expiry 2027-02-28: from 2026-03-01 a term can reach 2027-03-01 exclusive = 12 months.
    expect(keys({ ...eligible(), expiryDate: new Date('2027-02-28') })).to.deep.equal([]);
    expect(openLicenceBlockers({ ...eligible(), expiryDate: new Date('2027-02-27') }, NOW)).to.deep.equal([
      { key: 'patent.eligibility.term_too_short', params: { expiryDate: '2027-02-27', monthsLeft: 11, minMonths: 12 } },
    ]);
  });

  it('lists every blocker at once so they can all be cleared', () => {
    const p: EligibilityPatent = {
      ...eligible(),
      type: 'design',
      annualFeePaidThrough: null,
      exclusiveLicence: 'sole',
      pledged: true,
      suspended: true,
      coOwners: [{ name: 'B' }],
      expiryDate: new Date('2026-12-31'),
    };
    expect(keys(p)).to.deep.equal([
      'patent.eligibility.annual_fee_unknown',
      'patent.eligibility.term_too_short',
      'patent.eligibility.sole_licence',
      'patent.eligibility.pledged',
      'patent.eligibility.suspended',
      'patent.eligibility.co_owner_consent',
      'patent.eligibility.evaluation_report',
    ]);
    for (const k of keys(p)) expect(ELIGIBILITY_KEYS).to.include(k);
  });
});
