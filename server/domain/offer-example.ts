/**
 * "What would we pay?" — an offer's terms worked through for an example
 * business, in plain steps, so an SME can compare offers of different fee
 * forms before taking one. Every line is a dictionary key with parameters;
 * amounts are already formatted ('¥12,345.67'), identical in both languages.
 *
 * Assumptions, stated to the reader in the first lines:
 * - Net sales are steady at `annualNetSalesFen` a year from month 1. The
 *   sales of a run of months are annual × months / 12, rounded to the fen,
 *   and the royalty is computed from that shown figure (half up), so the
 *   reader can redo each line with a calculator.
 * - The example covers the licence term or `years` (default 3), whichever is
 *   shorter; payments falling after it are mentioned but not totalled.
 * - Month 1 is the first month of the licence. The entry fee, an open
 *   licence's lump sum and first instalment are paid in month 1.
 * - Pay-later: the free period is free; payment starts per trigger. Because
 *   the example business has revenue from month 1, `first_revenue` (pay once
 *   the free period is over and revenue has started) starts paying right
 *   after the free period, and `either` (whichever comes first) ends the free
 *   period at once, in month 1. Royalties accrue from the month payment
 *   starts; `firstPaymentMonth` is that month, not an invoice date.
 * Terms are assumed valid (validateOfferTerms); a negotiated offer with an
 * amount left open is shown as "price on request" rather than computed.
 */
import type { OfferKind } from '../../models/patent.js';
import type { MessageParams } from '../errors.js';
import { fenTimesRatio, formatYuan } from './money.js';
import { FEE_FORM_FIELDS, percentFromBps, valueOf as num, type OfferTermsInput } from './offer-fee-forms.js';

/** The free period when an offer leaves it unset (DESIGN.md "Offer": default 12 months). */
export const DEFAULT_FREE_MONTHS = 12;
export const DEFAULT_EXAMPLE_YEARS = 3;

/** Every key workedExample can return (texts in views/locales/<locale>/patent-rules.json). */
export const OFFER_EXAMPLE_KEYS = [
  'offer.example.assumption',
  'offer.example.free',
  'offer.example.free_period',
  'offer.example.trigger_time',
  'offer.example.trigger_first_revenue',
  'offer.example.trigger_either',
  'offer.example.entry_fee',
  'offer.example.lump_sum',
  'offer.example.instalments',
  'offer.example.instalments_after',
  'offer.example.royalty',
  'offer.example.no_payment_in_period',
  'offer.example.price_on_request',
  'offer.example.negotiated',
  'offer.example.total_paid',
] as const;
export type OfferExampleKey = (typeof OFFER_EXAMPLE_KEYS)[number];

export interface ExampleLine {
  key: OfferExampleKey;
  params: MessageParams;
}

export interface WorkedExample {
  lines: ExampleLine[];
  /** Everything paid within the example period, in fen. */
  totalFen: number;
  /** First month (1-based) in which anything is paid or starts to accrue; null if nothing within the period. */
  firstPaymentMonth: number | null;
  /** Length of the example period in months. */
  months: number;
}

/** The month licence fees (other than the entry fee) start, and the lines that explain why. */
function paymentStart(kind: OfferKind, terms: OfferTermsInput, lines: ExampleLine[]): number {
  if (kind !== 'deferred') return 1;
  const freeMonths = terms.freeMonths ?? DEFAULT_FREE_MONTHS;
  const revenueMonth = 1; // the example business sells from month 1
  lines.push({ key: 'offer.example.free_period', params: { months: freeMonths } });
  switch (terms.trigger) {
    case 'first_revenue': {
      const month = Math.max(freeMonths + 1, revenueMonth);
      lines.push({ key: 'offer.example.trigger_first_revenue', params: { month } });
      return month;
    }
    case 'either': {
      const month = Math.min(freeMonths + 1, revenueMonth);
      lines.push({ key: 'offer.example.trigger_either', params: { month } });
      return month;
    }
    default: {
      const month = freeMonths + 1;
      lines.push({ key: 'offer.example.trigger_time', params: { month } });
      return month;
    }
  }
}

/**
 * What the example business pays under these terms. Throws RangeError for
 * sales that are not a whole number of fen ≥ 0 or years that are not a
 * whole number ≥ 1.
 */
export function workedExample(
  kind: OfferKind,
  terms: OfferTermsInput,
  opts: { annualNetSalesFen: number; years?: number },
): WorkedExample {
  const sales = opts.annualNetSalesFen;
  const years = opts.years ?? DEFAULT_EXAMPLE_YEARS;
  if (!Number.isSafeInteger(sales) || sales < 0) throw new RangeError(`annualNetSalesFen must be whole fen ≥ 0 (got ${sales})`);
  if (!Number.isInteger(years) || years < 1) throw new RangeError(`years must be a whole number ≥ 1 (got ${years})`);

  const months = Math.min(terms.termMonths, years * 12);
  const lines: ExampleLine[] = [{ key: 'offer.example.assumption', params: { sales: formatYuan(sales), months, years } }];
  const payments: { month: number; fen: number }[] = [];
  const form = terms.feeForm as keyof typeof FEE_FORM_FIELDS;
  const fields = FEE_FORM_FIELDS[form] ?? [];

  if (kind === 'negotiated' && fields.some((f) => num(terms[f]) === 0)) {
    lines.push({ key: 'offer.example.price_on_request', params: {} });
  } else if (form === 'free') {
    lines.push({ key: 'offer.example.free', params: {} });
  } else {
    const start = paymentStart(kind, terms, lines);
    const notInPeriod = () => lines.push({ key: 'offer.example.no_payment_in_period', params: { month: start, months } });

    if (form === 'entry_plus_royalty') {
      const fee = num(terms.entryFeeFen);
      payments.push({ month: 1, fen: fee });
      lines.push({ key: 'offer.example.entry_fee', params: { amount: formatYuan(fee) } });
    }
    if (form === 'lump_sum') {
      const fee = num(terms.lumpSumFen);
      if (start > months) notInPeriod();
      else {
        payments.push({ month: start, fen: fee });
        lines.push({ key: 'offer.example.lump_sum', params: { amount: formatYuan(fee), month: start } });
      }
    }
    if (form === 'instalments') {
      const count = num(terms.instalmentCount);
      const each = num(terms.instalmentFen);
      const interval = num(terms.instalmentIntervalMonths);
      // Instalment i (0-based) falls in month start + i × interval.
      const inPeriod = start > months ? 0 : Math.min(count, Math.floor((months - start) / interval) + 1);
      if (inPeriod === 0) notInPeriod();
      else {
        for (let i = 0; i < inPeriod; i++) payments.push({ month: start + i * interval, fen: each });
        lines.push({
          key: 'offer.example.instalments',
          params: { count: inPeriod, amount: formatYuan(each), interval, firstMonth: start, total: formatYuan(inPeriod * each) },
        });
      }
      if (count > inPeriod) {
        lines.push({ key: 'offer.example.instalments_after', params: { remaining: count - inPeriod, amount: formatYuan(each) } });
      }
    }
    if (form === 'royalty' || form === 'entry_plus_royalty') {
      const bps = num(terms.royaltyBps);
      if (start > months) notInPeriod();
      else {
        const royaltyMonths = months - start + 1;
        const periodSales = fenTimesRatio(sales, royaltyMonths, 12);
        const royalty = fenTimesRatio(periodSales, bps, 10_000);
        payments.push({ month: start, fen: royalty });
        lines.push({
          key: 'offer.example.royalty',
          params: {
            percent: percentFromBps(bps),
            months: royaltyMonths,
            fromMonth: start,
            toMonth: months,
            sales: formatYuan(periodSales),
            amount: formatYuan(royalty),
          },
        });
      }
    }
  }

  const paid = payments.filter((p) => p.fen > 0);
  const totalFen = paid.reduce((sum, p) => sum + p.fen, 0);
  if (kind === 'negotiated') lines.push({ key: 'offer.example.negotiated', params: {} });
  lines.push({ key: 'offer.example.total_paid', params: { amount: formatYuan(totalFen), months } });
  const firstPaymentMonth = paid.length > 0 ? Math.min(...paid.map((p) => p.month)) : null;
  return { lines, totalFen, firstPaymentMonth, months };
}
