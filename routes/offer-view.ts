/**
 * An offer as pages show it: its terms in plain words and a worked example
 * of what an SME would pay, translated for the reader. Shared by the TTO's
 * register pages and the public catalogue so both say the same thing.
 */
import type { OfferKind } from '../models/patent.js';
import { formatYuan } from '../server/domain/money.js';
import { feeWarnings, workedExample } from '../server/domain/offer-terms.js';
import type { MessageParams } from '../server/errors.js';
import type { OfferTermsValues } from '../server/services/offer-input.js';

type T = (key: string, params?: MessageParams) => string;

/** The example business the worked example assumes: RMB 1 million of net sales a year. */
export const EXAMPLE_ANNUAL_SALES_FEN = 100_000_000;

interface OfferLike {
  _id: unknown;
  kind: OfferKind;
  status: string;
  terms: unknown;
  announcementNo?: string | null;
  publishedAt?: Date | null;
  withdrawnAt?: Date | null;
  withdrawReason?: string;
  createdAt?: Date;
}

const pct = (bps: number) => `${Math.trunc(bps / 100)}${bps % 100 ? `.${String(bps % 100).padStart(2, '0').replace(/0$/, '')}` : ''}%`;

/** The terms, one plain sentence each. */
export function termLines(kind: OfferKind, t: OfferTermsValues, tr: T): string[] {
  const lines: string[] = [tr(`offer.explain.kind.${kind}`)];
  switch (t.feeForm) {
    case 'free': lines.push(tr('offer.explain.free')); break;
    case 'lump_sum': lines.push(tr(kind === 'deferred' ? 'offer.explain.lump_sum_deferred' : 'offer.explain.lump_sum', { amount: formatYuan(t.lumpSumFen) })); break;
    case 'instalments': lines.push(tr('offer.explain.instalments', { count: t.instalmentCount, amount: formatYuan(t.instalmentFen), months: t.instalmentIntervalMonths, total: formatYuan(t.instalmentCount * t.instalmentFen) })); break;
    case 'royalty': lines.push(tr('offer.explain.royalty', { rate: pct(t.royaltyBps) })); break;
    case 'entry_plus_royalty': lines.push(tr('offer.explain.entry_plus_royalty', { entry: formatYuan(t.entryFeeFen), rate: pct(t.royaltyBps) })); break;
  }
  if (t.entryFeeFen && t.feeForm !== 'entry_plus_royalty') lines.push(tr('offer.explain.entry', { amount: formatYuan(t.entryFeeFen) }));
  if (kind === 'deferred') lines.push(tr(`offer.explain.trigger.${t.trigger ?? 'either'}`, { months: t.freeMonths ?? 12 }));
  lines.push(tr('offer.explain.term', { months: t.termMonths }));
  return lines;
}

export function offerView(o: OfferLike, tr: T) {
  const terms = o.terms as OfferTermsValues;
  const example = workedExample(o.kind, terms, { annualNetSalesFen: EXAMPLE_ANNUAL_SALES_FEN });
  return {
    id: String(o._id),
    kind: o.kind,
    status: o.status,
    announcementNo: o.announcementNo ?? null,
    publishedAt: o.publishedAt ?? null,
    withdrawnAt: o.withdrawnAt ?? null,
    withdrawReason: o.withdrawReason ?? '',
    // Recomputed from the terms so the texts carry their figures (the offer stores only which warnings were confirmed).
    warnings: feeWarnings(terms).map((w) => tr(w.key, w.params)),
    isDraft: o.status === 'draft',
    isPublished: o.status === 'published',
    lines: termLines(o.kind, terms, tr),
    example: {
      sales: formatYuan(EXAMPLE_ANNUAL_SALES_FEN),
      lines: example.lines.map((l) => tr(l.key, l.params)),
      total: formatYuan(example.totalFen),
    },
    notes: terms.notes,
  };
}
