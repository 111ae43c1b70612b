/**
 * The two money-and-licences overviews. A TTO sees its own institution's
 * side (licences it granted by state, what it is owed, what is overdue or in
 * default, which contracts must still be filed with CNIPA); an SME sees its
 * own (its licences, what it owes and when, what it has paid). Every query
 * is filtered by the actor's organisation here, in the service, whatever
 * the route asked for: no parameter can widen it.
 */
import type { Types } from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { Payment } from '../../models/payment.js';
import { LICENCE_STATES, LIVE_LICENCE_STATES, type InvoiceStatus, type LicenceState } from '../domain/licence-states.js';
import { requireRole, type Ctx } from './context.js';

const DAY_MS = 86_400_000;
/** A filing shows as due from this many days before its deadline. */
export const FILING_WINDOW_DAYS = 30;
/** How many rows a page lists (the CSV export has them all). */
const PAGE_ROWS = 100;
/** Invoice statuses that still have money owed on them. */
export const UNPAID_STATUSES: readonly InvoiceStatus[] = ['open', 'overdue', 'defaulted'];
/** Payment statuses that mean the money arrived. */
export const RECEIVED_PAYMENT_STATUSES = ['succeeded', 'confirmed'] as const;
/** A contract exists (and must be filed) in these states; earlier ones are negotiations, later ones ended. */
export const FILING_STATES: readonly LicenceState[] = [...LIVE_LICENCE_STATES, 'defaulted', 'claimed', 'compensated', 'recovering'];

export interface MoneyByStatus {
  count: number;
  amountFen: number;
  paidFen: number;
  outstandingFen: number;
}

type InvoiceRow = { _id: Types.ObjectId; number: string; licence: Types.ObjectId; kind: string; amountFen: number; paidFen: number; dueAt: Date; status: string; issuedAt: Date; paidAt?: Date | null };

/** Sums per invoice status for one side of the licences (`licensor` or `licensee`). */
async function invoiceTotals(side: 'licensor' | 'licensee', org: Types.ObjectId): Promise<Record<InvoiceStatus, MoneyByStatus>> {
  const rows = await Invoice.aggregate<{ _id: InvoiceStatus; count: number; amountFen: number; paidFen: number }>([
    { $match: { [side]: org } },
    { $group: { _id: '$status', count: { $sum: 1 }, amountFen: { $sum: '$amountFen' }, paidFen: { $sum: '$paidFen' } } },
  ]);
  const out = {} as Record<InvoiceStatus, MoneyByStatus>;
  for (const s of ['open', 'paid', 'overdue', 'defaulted', 'written_off', 'void'] as const) out[s] = { count: 0, amountFen: 0, paidFen: 0, outstandingFen: 0 };
  for (const r of rows) out[r._id] = { count: r.count, amountFen: r.amountFen, paidFen: r.paidFen, outstandingFen: r.amountFen - r.paidFen };
  return out;
}

/** Licence numbers and counterparties for a list of invoices (one query). */
async function withLicences<T extends InvoiceRow>(invoices: T[]) {
  const licences = await Licence.find({ _id: { $in: [...new Set(invoices.map((i) => String(i.licence)))] } }).select('number snapshot').lean();
  const byId = new Map(licences.map((l) => [String(l._id), l]));
  return invoices.map((i) => {
    const l = byId.get(String(i.licence));
    return { ...i, outstandingFen: i.amountFen - i.paidFen, licenceNumber: l?.number ?? '', licensorName: l?.snapshot?.licensorNameZh ?? '', licenseeName: l?.snapshot?.licenseeNameZh ?? '', patentTitle: l?.snapshot?.patentTitleZh ?? '' };
  });
}

/** GET /dashboard/tto: the institution's licences, receivables and filings. */
export async function ttoDashboard(ctx: Ctx, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  const org = actor.orgId;
  const [states, totals, filings, late, recent] = await Promise.all([
    Licence.aggregate<{ _id: LicenceState; count: number }>([{ $match: { licensor: org } }, { $group: { _id: '$state', count: { $sum: 1 } } }]),
    invoiceTotals('licensor', org),
    Licence.find({ licensor: org, state: { $in: FILING_STATES }, filedAt: null, filingDueAt: { $ne: null, $lte: new Date(now.getTime() + FILING_WINDOW_DAYS * DAY_MS) } })
      .sort({ filingDueAt: 1 }).limit(PAGE_ROWS).select('number state snapshot effectiveAt filingDueAt').lean(),
    Invoice.find({ licensor: org, status: { $in: UNPAID_STATUSES } }).sort({ dueAt: 1 }).limit(PAGE_ROWS).lean<InvoiceRow[]>(),
    Licence.find({ licensor: org }).sort({ updatedAt: -1 }).limit(PAGE_ROWS).select('number kind state snapshot effectiveAt').lean(),
  ]);
  const counts = new Map(states.map((s) => [s._id, s.count]));
  const byState = LICENCE_STATES.filter((s) => counts.has(s)).map((state) => ({ state, count: counts.get(state)! }));
  const receivableFen = totals.open.outstandingFen + totals.overdue.outstandingFen + totals.defaulted.outstandingFen;
  return {
    byState,
    licenceCount: byState.reduce((s, x) => s + x.count, 0),
    money: { openFen: totals.open.outstandingFen, overdueFen: totals.overdue.outstandingFen, defaultedFen: totals.defaulted.outstandingFen, receivableFen, collectedFen: Object.values(totals).reduce((s, t) => s + t.paidFen, 0) },
    counts: { open: totals.open.count, overdue: totals.overdue.count, defaulted: totals.defaulted.count },
    filings: filings.map((l) => ({ ...l, late: l.filingDueAt! < now })),
    invoices: await withLicences(late),
    licences: recent,
  };
}

/** GET /dashboard/sme: the enterprise's licences, what it owes and when, what it has paid. */
export async function smeDashboard(ctx: Ctx, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  const org = actor.orgId;
  const [licences, owed, totals, payments, paidAgg] = await Promise.all([
    Licence.find({ licensee: org }).sort({ updatedAt: -1 }).limit(PAGE_ROWS).select('number kind state snapshot effectiveAt freePeriodEndsAt').lean(),
    Invoice.find({ licensee: org, status: { $in: UNPAID_STATUSES } }).sort({ dueAt: 1 }).limit(PAGE_ROWS).lean<InvoiceRow[]>(),
    invoiceTotals('licensee', org),
    Payment.find({ payer: org }).sort({ createdAt: -1 }).limit(PAGE_ROWS).select('invoice licence provider amountFen status providerRef createdAt decidedAt').lean(),
    Payment.aggregate<{ _id: null; fen: number; count: number }>([{ $match: { payer: org, status: { $in: RECEIVED_PAYMENT_STATUSES } } }, { $group: { _id: null, fen: { $sum: '$amountFen' }, count: { $sum: 1 } } }]),
  ]);
  const invoiceNumbers = new Map((await Invoice.find({ _id: { $in: payments.map((p) => p.invoice) }, licensee: org }).select('number').lean()).map((i) => [String(i._id), i.number]));
  const owedFen = totals.open.outstandingFen + totals.overdue.outstandingFen + totals.defaulted.outstandingFen;
  const rows = await withLicences(owed);
  return {
    licences,
    owed: rows.map((i) => ({ ...i, late: i.dueAt < now })),
    money: { owedFen, overdueFen: totals.overdue.outstandingFen + totals.defaulted.outstandingFen, paidFen: paidAgg[0]?.fen ?? 0, nextDueAt: rows.find((i) => i.status === 'open')?.dueAt ?? null },
    payments: payments.map((p) => ({ ...p, invoiceNumber: invoiceNumbers.get(String(p.invoice)) ?? '', received: (RECEIVED_PAYMENT_STATUSES as readonly string[]).includes(p.status) })),
  };
}
