/**
 * Licence-offer terms (models/offer.ts OfferTerms): what a TTO may publish,
 * and the CNIPA fee-guidance warnings it must confirm before publishing.
 * The SME-facing worked example lives in offer-example.ts and is
 * re-exported here, so callers import the offer rules from one place.
 *
 * Decisions the rules encode (DESIGN.md "Offer", reference/domain.md §1–2):
 * - Each fee form uses its own fields and no others; every unused amount
 *   must be 0, so the immutable snapshot a licence copies cannot carry a
 *   stale instalment plan under a lump-sum offer. The entry fee belongs to
 *   `entry_plus_royalty` only: a lump sum or instalments already say what is
 *   paid when, and "entry fee + royalty" is the form for "some now, the
 *   rest on sales".
 * - Open licences may use every fee form. Patent Law Art. 50 requires the
 *   declaration to state the payment method and standard, not a particular
 *   one; instalments and royalties are stated as precisely as a lump sum.
 * - Pay-later (deferred) offers need a free period of 1–60 months that ends
 *   before the term does (else nothing is ever paid), a trigger, and a
 *   paying fee form (`free` is an open licence, not a pay-later one).
 * - Negotiated offers are an asking price: the term is required and the
 *   amounts are optional, but what is given must be well-formed.
 * - No term may outlast the patent: a licence of an expired right is void
 *   and royalties for it are unenforceable. Open terms are also ≥ 12 months.
 */
import { FEE_FORMS, PAYMENT_TRIGGERS, type FeeForm } from '../../models/offer.js';
import { OFFER_KINDS, type OfferKind } from '../../models/patent.js';
import type { FieldError } from '../errors.js';
import { formatYuan } from './money.js';
import {
  AMOUNT_FIELDS,
  COUNT_FIELDS,
  FEE_FORM_FIELDS,
  fixedFeeFen,
  percentFromBps,
  valueOf as num,
  type NumericField,
  type OfferTermsInput,
} from './offer-fee-forms.js';
import { MIN_OPEN_TERM_MONTHS } from './open-licence-eligibility.js';
import { formatCalendarDate, latestTermMonths } from './patent-term.js';

export { FEE_FORM_FIELDS, fixedFeeFen, percentFromBps, type OfferTermsInput } from './offer-fee-forms.js';
export { DEFAULT_FREE_MONTHS, OFFER_EXAMPLE_KEYS, workedExample, type ExampleLine, type WorkedExample } from './offer-example.js';

/** Largest amount in any one field: RMB 100 billion, far above any licence and far below 2^53. */
export const MAX_FEN = 10 ** 13;
export const INSTALMENT_COUNT = { min: 2, max: 120 } as const;
export const INSTALMENT_INTERVAL_MONTHS = { min: 1, max: 24 } as const;
/** 1 bp (0.01 %) to 100 % of net sales. */
export const ROYALTY_BPS = { min: 1, max: 10_000 } as const;
export const FREE_MONTHS = { min: 1, max: 60 } as const;
/** CNIPA July 2024 guidance ("一般"): royalty ≤ 20 % of net sales, fixed fee ≤ RMB 20 million. */
export const GUIDANCE_ROYALTY_BPS = 2_000;
export const GUIDANCE_FIXED_FEE_FEN = 2_000_000_000;
const DEFERRED_FEE_FORMS: readonly FeeForm[] = ['lump_sum', 'instalments', 'royalty', 'entry_plus_royalty'];

/** Every key validateOfferTerms can return (texts in views/locales/<locale>/patent-rules.json). */
export const OFFER_TERMS_KEYS = [
  'offer.terms.kind_unknown',
  'offer.terms.fee_form_unknown',
  'offer.terms.amount',
  'offer.terms.whole_number',
  'offer.terms.free_must_be_zero',
  'offer.terms.not_used',
  'offer.terms.lump_sum_required',
  'offer.terms.instalment_count',
  'offer.terms.instalment_amount',
  'offer.terms.instalment_interval',
  'offer.terms.royalty_range',
  'offer.terms.entry_fee_required',
  'offer.terms.term_months',
  'offer.terms.open_term_min',
  'offer.terms.term_beyond_expiry',
  'offer.terms.free_months',
  'offer.terms.free_months_vs_term',
  'offer.terms.trigger_required',
  'offer.terms.deferred_fee_form',
  'offer.terms.pay_later_only',
] as const;
export const OFFER_WARNING_KEYS = ['offer.warning.royalty_above_guidance', 'offer.warning.fixed_fee_above_guidance'] as const;
export type OfferTermsKey = (typeof OFFER_TERMS_KEYS)[number];
export type OfferWarningKey = (typeof OFFER_WARNING_KEYS)[number];

export interface TermsProblem extends FieldError {
  key: OfferTermsKey;
}
export interface FeeWarning extends FieldError {
  key: OfferWarningKey;
}

const isWhole = (v: number, max: number) => Number.isSafeInteger(v) && v >= 0 && v <= max;
const inRange = (v: number, r: { min: number; max: number }) => Number.isInteger(v) && v >= r.min && v <= r.max;
const royaltyRange = { min: percentFromBps(ROYALTY_BPS.min), max: percentFromBps(ROYALTY_BPS.max) };

/**
 * Problems with an offer's terms, by field name of OfferTerms (plus `kind`);
 * an empty object means the terms may be saved. `patent.expiryDate` and
 * `now` bound the term: it starts today (Beijing) and must end by expiry.
 */
export function validateOfferTerms(
  kind: OfferKind,
  terms: OfferTermsInput,
  patent: { expiryDate: Date },
  now: Date,
): Record<string, TermsProblem> {
  const errors: Record<string, TermsProblem> = {};
  const fail = (field: string, problem: TermsProblem) => {
    errors[field] ??= problem; // the first problem per field is the one to fix first
  };
  if (!(OFFER_KINDS as readonly string[]).includes(kind)) fail('kind', { key: 'offer.terms.kind_unknown' });

  // Shape first: a NaN or a fraction of a fen makes every later rule meaningless for that field.
  for (const f of AMOUNT_FIELDS) {
    if (!isWhole(num(terms[f]), MAX_FEN)) fail(f, { key: 'offer.terms.amount', params: { max: formatYuan(MAX_FEN) } });
  }
  for (const f of COUNT_FIELDS) {
    if (!isWhole(num(terms[f]), Number.MAX_SAFE_INTEGER)) fail(f, { key: 'offer.terms.whole_number' });
  }

  const form = (FEE_FORMS as readonly string[]).includes(terms.feeForm) ? (terms.feeForm as FeeForm) : null;
  if (!form) fail('feeForm', { key: 'offer.terms.fee_form_unknown' });
  else checkFeeForm(kind, form, terms, fail);

  checkTerm(kind, terms, patent, now, fail);
  checkPayLater(kind, form, terms, fail);
  return errors;
}

type Fail = (field: string, problem: TermsProblem) => void;

function checkFeeForm(kind: OfferKind, form: FeeForm, terms: OfferTermsInput, fail: Fail): void {
  for (const f of [...AMOUNT_FIELDS, ...COUNT_FIELDS]) {
    if (num(terms[f]) !== 0 && !FEE_FORM_FIELDS[form].includes(f)) {
      fail(f, { key: form === 'free' ? 'offer.terms.free_must_be_zero' : 'offer.terms.not_used' });
    }
  }
  // An asking price may leave amounts open (价格面议); what is filled in must still make sense.
  const required = kind !== 'negotiated';
  const need = (f: NumericField, ok: (v: number) => boolean, problem: TermsProblem) => {
    const v = num(terms[f]);
    if ((required || v !== 0) && !ok(v)) fail(f, problem);
  };
  const positive = (v: number) => v > 0;
  if (form === 'lump_sum') need('lumpSumFen', positive, { key: 'offer.terms.lump_sum_required' });
  if (form === 'instalments') {
    need('instalmentCount', (v) => inRange(v, INSTALMENT_COUNT), { key: 'offer.terms.instalment_count', params: { ...INSTALMENT_COUNT } });
    need('instalmentFen', positive, { key: 'offer.terms.instalment_amount' });
    need('instalmentIntervalMonths', (v) => inRange(v, INSTALMENT_INTERVAL_MONTHS), {
      key: 'offer.terms.instalment_interval',
      params: { ...INSTALMENT_INTERVAL_MONTHS },
    });
  }
  if (form === 'royalty' || form === 'entry_plus_royalty') {
    need('royaltyBps', (v) => inRange(v, ROYALTY_BPS), { key: 'offer.terms.royalty_range', params: royaltyRange });
  }
  if (form === 'entry_plus_royalty') need('entryFeeFen', positive, { key: 'offer.terms.entry_fee_required' });
}

function checkTerm(kind: OfferKind, terms: OfferTermsInput, patent: { expiryDate: Date }, now: Date, fail: Fail): void {
  const term = terms.termMonths;
  if (!Number.isInteger(term) || term < 1) return fail('termMonths', { key: 'offer.terms.term_months' });
  if (kind === 'open' && term < MIN_OPEN_TERM_MONTHS) {
    return fail('termMonths', { key: 'offer.terms.open_term_min', params: { minMonths: MIN_OPEN_TERM_MONTHS } });
  }
  const latestMonths = latestTermMonths(patent.expiryDate, now);
  if (term > latestMonths) {
    fail('termMonths', {
      key: 'offer.terms.term_beyond_expiry',
      params: { latestMonths: Math.max(latestMonths, 0), expiryDate: formatCalendarDate(patent.expiryDate) },
    });
  }
}

function checkPayLater(kind: OfferKind, form: FeeForm | null, terms: OfferTermsInput, fail: Fail): void {
  const free = terms.freeMonths ?? null;
  const trigger = terms.trigger ?? null;
  if (kind !== 'deferred') {
    if (free !== null) fail('freeMonths', { key: 'offer.terms.pay_later_only' });
    if (trigger !== null) fail('trigger', { key: 'offer.terms.pay_later_only' });
    return;
  }
  if (free === null || !inRange(free, FREE_MONTHS)) {
    fail('freeMonths', { key: 'offer.terms.free_months', params: { ...FREE_MONTHS } });
  } else if (Number.isInteger(terms.termMonths) && free >= terms.termMonths) {
    fail('freeMonths', { key: 'offer.terms.free_months_vs_term', params: { termMonths: terms.termMonths } });
  }
  if (trigger === null || !(PAYMENT_TRIGGERS as readonly string[]).includes(trigger)) {
    fail('trigger', { key: 'offer.terms.trigger_required' });
  }
  if (form && !DEFERRED_FEE_FORMS.includes(form)) fail('feeForm', { key: 'offer.terms.deferred_fee_form' });
}

/**
 * CNIPA July 2024 fee guidance: above these levels the TTO may still publish,
 * but must confirm it saw the warning (Offer.warnings). Exactly at a limit
 * is within the guidance ("不超过"). The guidance's alternative ceiling of
 * 40 % of profit cannot be checked: offers are priced on net sales.
 * Expects terms that passed validateOfferTerms.
 */
export function feeWarnings(terms: OfferTermsInput): FeeWarning[] {
  const warnings: FeeWarning[] = [];
  const usesRoyalty = terms.feeForm === 'royalty' || terms.feeForm === 'entry_plus_royalty';
  const bps = num(terms.royaltyBps);
  if (usesRoyalty && bps > GUIDANCE_ROYALTY_BPS) {
    warnings.push({
      key: 'offer.warning.royalty_above_guidance',
      params: { percent: percentFromBps(bps), limit: percentFromBps(GUIDANCE_ROYALTY_BPS) },
    });
  }
  const fixed = fixedFeeFen(terms);
  if (fixed > GUIDANCE_FIXED_FEE_FEN) {
    warnings.push({
      key: 'offer.warning.fixed_fee_above_guidance',
      params: { amount: formatYuan(fixed), limit: formatYuan(GUIDANCE_FIXED_FEE_FEN) },
    });
  }
  return warnings;
}
