/**
 * Licence-offer terms as a TTO types them (yuan, percent, years) turned into
 * the stored shape (fen, basis points, months). Parsing problems are field
 * errors; the legal and consistency rules are in domain/offer-terms.ts.
 */
import { FEE_FORMS, PAYMENT_TRIGGERS, type FeeForm, type PaymentTrigger } from '../../models/offer.js';
import type { OfferKind } from '../../models/patent.js';
import { parseYuanToFen } from '../domain/money.js';
import type { FieldError } from '../errors.js';

export interface OfferTermsValues {
  feeForm: FeeForm;
  entryFeeFen: number;
  lumpSumFen: number;
  instalmentCount: number;
  instalmentFen: number;
  instalmentIntervalMonths: number;
  royaltyBps: number;
  termMonths: number;
  freeMonths: number | null;
  trigger: PaymentTrigger | null;
  notes: string;
}

export type OfferForm = Partial<Record<'feeForm' | 'entryFee' | 'lumpSum' | 'instalmentCount' | 'instalmentAmount' | 'instalmentIntervalMonths' | 'royaltyPercent' | 'termMonths' | 'freeMonths' | 'trigger' | 'notes', string>>;

/** The default free period of a pay-later offer (DESIGN.md: 12 months, configurable per offer). */
export const DEFAULT_FREE_MONTHS = 12;

/** A percentage with at most two decimals as basis points ('5' → 500, '12.5' → 1250), by string arithmetic. */
export function percentToBps(raw: string): number | null {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(raw.trim().replace(/[%％]$/, ''));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export function parseOfferForm(kind: OfferKind, form: OfferForm): { ok: true; terms: OfferTermsValues } | { ok: false; errors: Record<string, FieldError> } {
  const errors: Record<string, FieldError> = {};
  const s = (k: keyof OfferForm) => (form[k] ?? '').trim();
  const feeForm = s('feeForm') as FeeForm;
  if (!(FEE_FORMS as readonly string[]).includes(feeForm)) errors.feeForm = { key: 'offer.fee_form.invalid' };
  const money = (k: keyof OfferForm): number => {
    if (!s(k)) return 0;
    const fen = parseYuanToFen(s(k));
    if (fen === null) errors[k] = { key: 'offer.money.invalid', params: { value: s(k) } };
    return fen ?? 0;
  };
  const int = (k: keyof OfferForm, fallback: number): number => {
    if (!s(k)) return fallback;
    const n = Number(s(k));
    if (!Number.isInteger(n) || n < 0 || n > 1200) errors[k] = { key: 'offer.integer.invalid', params: { value: s(k) } };
    return Number.isInteger(n) ? n : fallback;
  };
  let royaltyBps = 0;
  if (s('royaltyPercent')) {
    const bps = percentToBps(s('royaltyPercent'));
    if (bps === null) errors.royaltyPercent = { key: 'offer.percent.invalid', params: { value: s('royaltyPercent') } };
    else royaltyBps = bps;
  }
  const trigger = kind === 'deferred' ? (s('trigger') as PaymentTrigger) : null;
  if (kind === 'deferred' && !(PAYMENT_TRIGGERS as readonly string[]).includes(s('trigger'))) errors.trigger = { key: 'offer.trigger.invalid' };
  if (s('notes').length > 2000) errors.notes = { key: 'form.too_long' };
  if (/[<>]/.test(s('notes'))) errors.notes = { key: 'form.no_markup' };
  const terms: OfferTermsValues = {
    feeForm,
    entryFeeFen: money('entryFee'),
    lumpSumFen: money('lumpSum'),
    instalmentCount: int('instalmentCount', 0),
    instalmentFen: money('instalmentAmount'),
    instalmentIntervalMonths: int('instalmentIntervalMonths', 0),
    royaltyBps,
    termMonths: int('termMonths', 0),
    freeMonths: kind === 'deferred' ? int('freeMonths', DEFAULT_FREE_MONTHS) : null,
    trigger,
    notes: s('notes'),
  };
  if (!s('termMonths')) errors.termMonths = { key: 'form.required' };
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, terms };
}

/** The form values for stored terms (the inverse of parseOfferForm). */
export function termsToForm(t: OfferTermsValues): Record<string, string> {
  // Integer arithmetic: the form shows exactly the stored fen.
  const yuan = (fen: number) => (fen ? `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, '0')}`.replace(/\.00$/, '') : '');
  return {
    feeForm: t.feeForm, entryFee: yuan(t.entryFeeFen), lumpSum: yuan(t.lumpSumFen), instalmentCount: t.instalmentCount ? String(t.instalmentCount) : '',
    instalmentAmount: yuan(t.instalmentFen), instalmentIntervalMonths: t.instalmentIntervalMonths ? String(t.instalmentIntervalMonths) : '',
    royaltyPercent: t.royaltyBps ? `${Math.trunc(t.royaltyBps / 100)}.${String(t.royaltyBps % 100).padStart(2, '0')}`.replace(/\.?0+$/, '') : '', termMonths: String(t.termMonths), freeMonths: t.freeMonths ? String(t.freeMonths) : '',
    trigger: t.trigger ?? '', notes: t.notes,
  };
}
