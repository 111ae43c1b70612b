/**
 * What each fee form (models/offer.ts FEE_FORMS) is made of: the shared
 * vocabulary of offer-terms.ts (validation, warnings) and offer-example.ts
 * (the worked example), kept apart so neither imports the other.
 */
import type { FeeForm } from '../../models/offer.js';

/**
 * The fields of OfferTerms the rules read. Missing amounts count as 0 (the
 * schema's default), so stored terms, form values and test objects all fit.
 */
export interface OfferTermsInput {
  feeForm: string;
  entryFeeFen?: number | null;
  lumpSumFen?: number | null;
  instalmentCount?: number | null;
  instalmentFen?: number | null;
  instalmentIntervalMonths?: number | null;
  royaltyBps?: number | null;
  termMonths: number;
  freeMonths?: number | null;
  trigger?: string | null;
}

/** Fields holding fen. */
export const AMOUNT_FIELDS = ['entryFeeFen', 'lumpSumFen', 'instalmentFen'] as const;
/** Fields holding whole counts (instalments, months, basis points). */
export const COUNT_FIELDS = ['instalmentCount', 'instalmentIntervalMonths', 'royaltyBps'] as const;
export type NumericField = (typeof AMOUNT_FIELDS)[number] | (typeof COUNT_FIELDS)[number];

/** The numeric fields each fee form uses; all others must be 0. */
export const FEE_FORM_FIELDS: Readonly<Record<FeeForm, readonly NumericField[]>> = {
  free: [],
  lump_sum: ['lumpSumFen'],
  instalments: ['instalmentCount', 'instalmentFen', 'instalmentIntervalMonths'],
  royalty: ['royaltyBps'],
  entry_plus_royalty: ['entryFeeFen', 'royaltyBps'],
};

/** A field's value with the schema default (0) for a missing one. */
export const valueOf = (v: number | null | undefined): number => v ?? 0;

/** '20', '20.5', '0.01': exact percent from whole basis points, the same in both languages' texts. */
export function percentFromBps(bps: number): string {
  if (!Number.isSafeInteger(bps) || bps < 0) throw new RangeError(`percentFromBps needs whole basis points ≥ 0 (got ${bps})`);
  const digits = String(bps).padStart(3, '0');
  const fraction = digits.slice(-2).replace(/0+$/, '');
  return fraction ? `${digits.slice(0, -2)}.${fraction}` : digits.slice(0, -2);
}

/**
 * The fixed (non-royalty) amount a fee form commits the licensee to: the lump
 * sum, all instalments together, or the entry fee. Exact in plain numbers
 * for validated terms: ≤ 120 instalments of ≤ 10^13 fen stay below 2^53.
 */
export function fixedFeeFen(terms: OfferTermsInput): number {
  switch (terms.feeForm) {
    case 'lump_sum':
      return valueOf(terms.lumpSumFen);
    case 'instalments':
      return valueOf(terms.instalmentCount) * valueOf(terms.instalmentFen);
    case 'entry_plus_royalty':
      return valueOf(terms.entryFeeFen);
    default:
      return 0;
  }
}
