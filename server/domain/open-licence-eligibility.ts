/**
 * May this patent be declared for open licensing (专利开放许可) today?
 *
 * Sources (reference/domain.md §1): Patent Law Arts. 50–52, Implementing
 * Regulations Arts. 85–88 (in force 2024-01-20), CNIPA FAQ 2024. Open
 * licensing is for granted, valid patents only; Art. 86 bars it while an
 * exclusive or sole licence is in force, while the patent is suspended
 * (中止, Arts. 103/104), while annual fees are unpaid, and while it is pledged
 * without the pledgee's consent; all co-owners must consent; a utility model
 * or design needs a patent-right evaluation report (专利权评价报告, Art. 50);
 * and the declared term must be at least one year within the patent's life.
 *
 * Every blocker is returned, not just the first, so the TTO can clear them
 * all in one go. Two follow-ons are left out on purpose: when the patent is
 * not granted and in force, "annual fee unpaid" and "less than a year left"
 * are consequences of that, not separate things to fix.
 */
import type { LegalStatus, PatentType } from '../../models/patent.js';
import type { FieldError } from '../errors.js';
import { beijingDate, formatCalendarDate, latestTermMonths } from './patent-term.js';

/** Shortest open-licence term (≥ 1 year, CNIPA pilot practice; see reference/domain.md §1). */
export const MIN_OPEN_TERM_MONTHS = 12;

/**
 * The fields of models/patent.ts the rules read. Optional where the schema
 * has a default, so a lean document, a hydrated one and a plain test object
 * all fit.
 */
export interface EligibilityPatent {
  type: PatentType;
  legalStatus: LegalStatus;
  /** Last day of protection (calendar date, UTC midnight). */
  expiryDate: Date;
  /** Annual fees paid for the protection year covering this day (inclusive); null = not recorded. */
  annualFeePaidThrough?: Date | null;
  exclusiveLicence?: 'none' | 'exclusive' | 'sole' | null;
  pledged?: boolean | null;
  pledgeeConsent?: boolean | null;
  suspended?: boolean | null;
  coOwners?: readonly { name: string; consentToOpenLicence?: boolean | null }[] | null;
  evaluationReport?: boolean | null;
}

/** Every key openLicenceBlockers can return (texts in views/locales/<locale>/patent-rules.json). */
export const ELIGIBILITY_KEYS = [
  'patent.eligibility.not_granted',
  'patent.eligibility.lapsed',
  'patent.eligibility.invalidated',
  'patent.eligibility.expired',
  'patent.eligibility.annual_fee_unknown',
  'patent.eligibility.annual_fee_unpaid',
  'patent.eligibility.exclusive_licence',
  'patent.eligibility.sole_licence',
  'patent.eligibility.pledged',
  'patent.eligibility.suspended',
  'patent.eligibility.co_owner_consent',
  'patent.eligibility.evaluation_report',
  'patent.eligibility.term_too_short',
] as const;
export type EligibilityKey = (typeof ELIGIBILITY_KEYS)[number];

export interface Blocker extends FieldError {
  key: EligibilityKey;
}

/**
 * Why the patent cannot be declared for open licensing at `now`; an empty
 * list means it can. Dates are compared as Beijing calendar dates: the
 * expiry date and the fee paid-through date are both still covered days.
 */
export function openLicenceBlockers(patent: EligibilityPatent, now: Date): Blocker[] {
  const today = beijingDate(now);
  const blockers: Blocker[] = [];
  const expiryDate = formatCalendarDate(patent.expiryDate);

  let inForce = false;
  switch (patent.legalStatus) {
    case 'pending':
      blockers.push({ key: 'patent.eligibility.not_granted' });
      break;
    case 'lapsed':
      blockers.push({ key: 'patent.eligibility.lapsed' });
      break;
    case 'invalidated':
      blockers.push({ key: 'patent.eligibility.invalidated' });
      break;
    case 'expired':
      blockers.push({ key: 'patent.eligibility.expired', params: { expiryDate } });
      break;
    case 'granted':
      // The status field may lag behind the calendar (it is updated by a job or by hand).
      if (patent.expiryDate < today) blockers.push({ key: 'patent.eligibility.expired', params: { expiryDate } });
      else inForce = true;
      break;
  }

  if (inForce) {
    const paid = patent.annualFeePaidThrough ?? null;
    if (paid === null) blockers.push({ key: 'patent.eligibility.annual_fee_unknown' });
    else if (paid < today) {
      blockers.push({ key: 'patent.eligibility.annual_fee_unpaid', params: { paidThrough: formatCalendarDate(paid) } });
    }
    const monthsLeft = latestTermMonths(patent.expiryDate, now);
    if (monthsLeft < MIN_OPEN_TERM_MONTHS) {
      blockers.push({ key: 'patent.eligibility.term_too_short', params: { expiryDate, monthsLeft, minMonths: MIN_OPEN_TERM_MONTHS } });
    }
  }

  if (patent.exclusiveLicence === 'exclusive') blockers.push({ key: 'patent.eligibility.exclusive_licence' });
  if (patent.exclusiveLicence === 'sole') blockers.push({ key: 'patent.eligibility.sole_licence' });
  if (patent.pledged && !patent.pledgeeConsent) blockers.push({ key: 'patent.eligibility.pledged' });
  if (patent.suspended) blockers.push({ key: 'patent.eligibility.suspended' });
  // One blocker per co-owner, so each name sits in its own sentence in either language.
  for (const owner of patent.coOwners ?? []) {
    if (!owner.consentToOpenLicence) blockers.push({ key: 'patent.eligibility.co_owner_consent', params: { name: owner.name } });
  }
  if (patent.type !== 'invention' && !patent.evaluationReport) {
    blockers.push({ key: 'patent.eligibility.evaluation_report' });
  }
  return blockers;
}
