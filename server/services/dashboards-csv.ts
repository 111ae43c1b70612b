/**
 * The dashboards' CSV exports: every row (the pages show the first hundred),
 * for the same organisation-scoped queries. The file opens correctly in
 * Excel (UTF-8 BOM, CRLF) and is safe to open there: a text cell starting
 * with = + - @ (or tab / CR) gets a leading apostrophe, so a licensee or
 * patent name can never run as a formula (OWASP CSV injection). Amounts are
 * yuan with two decimals, written from fen by integer arithmetic.
 */
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { Payment } from '../../models/payment.js';
import { NotFoundError } from '../errors.js';
import { requireRole, type Ctx } from './context.js';

export type Translate = (key: string) => string;
export const CSV_EXPORTS = { tto: ['licences', 'invoices'], sme: ['licences', 'invoices', 'payments'] } as const;
export type DashboardSide = keyof typeof CSV_EXPORTS;

/**
 * Dictionary keys for stored codes: the licensing and payment pages' own
 * (licensing.json, payments.json, patents.json), so every page and file
 * names a state the same way.
 */
export const labelKey = {
  licenceState: (s: string) => `licence.state.${s}`,
  invoiceStatus: (s: string) => `licence.invoice_status.${s}`,
  invoiceKind: (s: string) => `licence.invoice_kind.${s}`,
  paymentStatus: (s: string) => `payment.status.${s}`,
  paymentProvider: (s: string) => `payment.provider.${s}`,
  licenceKind: (s: string) => `offer.kind.${s}`,
};

type Cell = string | number | null | undefined;

/** '1234.50' for 123450 fen (no currency sign or separators, so spreadsheets read a number). */
export function fenToDecimal(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** One cell: formula-like text neutralised, then quoted when it holds a comma, quote or line break. */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(header: string[], rows: Cell[][]): Buffer {
  return Buffer.from(`\uFEFF${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`, 'utf8');
}

const day = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 10) : '');

/**
 * The CSV `what` of the actor's own dashboard. `side` is the dashboard
 * asked for; the role must match it, and the rows are the actor's
 * organisation's whatever else was asked.
 */
export async function dashboardCsv(ctx: Ctx, side: DashboardSide, what: string, t: Translate): Promise<{ filename: string; body: Buffer }> {
  const actor = requireRole(ctx, side === 'tto' ? 'tto' : 'sme');
  const own = side === 'tto' ? { licensor: actor.orgId } : { licensee: actor.orgId };
  const stamp = new Date().toISOString().slice(0, 10);
  if (what === 'licences') {
    const licences = await Licence.find(own).sort({ createdAt: -1 }).select('number kind state snapshot effectiveAt freePeriodEndsAt filingDueAt filedAt').lean();
    const header = ['dashboard.col.licence', 'dashboard.col.state', 'dashboard.col.kind', 'dashboard.col.application_number', 'dashboard.col.patent',
      side === 'tto' ? 'dashboard.col.licensee' : 'dashboard.col.licensor', 'dashboard.col.effective', 'dashboard.col.free_until', 'dashboard.col.filing_due', 'dashboard.col.filed'];
    const rows = licences.map((l) => [
      l.number, t(labelKey.licenceState(l.state)), t(labelKey.licenceKind(l.kind)), l.snapshot?.applicationNumber, l.snapshot?.patentTitleZh,
      side === 'tto' ? l.snapshot?.licenseeNameZh : l.snapshot?.licensorNameZh, day(l.effectiveAt), day(l.freePeriodEndsAt), day(l.filingDueAt), day(l.filedAt),
    ]);
    return { filename: `licences-${stamp}.csv`, body: toCsv(header.map(t), rows) };
  }
  if (what === 'invoices') {
    const invoices = await Invoice.find(own).sort({ dueAt: 1 }).lean();
    const licences = new Map((await Licence.find(own).select('number snapshot').lean()).map((l) => [String(l._id), l]));
    const header = ['dashboard.col.invoice', 'dashboard.col.licence', side === 'tto' ? 'dashboard.col.licensee' : 'dashboard.col.licensor', 'dashboard.col.kind',
      'dashboard.col.status', 'dashboard.col.issued', 'dashboard.col.due', 'dashboard.col.amount_yuan', 'dashboard.col.paid_yuan', 'dashboard.col.outstanding_yuan', 'dashboard.col.paid_at'];
    const rows = invoices.map((i) => {
      const l = licences.get(String(i.licence));
      return [
        i.number, l?.number, side === 'tto' ? l?.snapshot?.licenseeNameZh : l?.snapshot?.licensorNameZh, t(labelKey.invoiceKind(i.kind)), t(labelKey.invoiceStatus(i.status)),
        day(i.issuedAt), day(i.dueAt), fenToDecimal(i.amountFen), fenToDecimal(i.paidFen), fenToDecimal(i.amountFen - i.paidFen), day(i.paidAt),
      ];
    });
    return { filename: `invoices-${stamp}.csv`, body: toCsv(header.map(t), rows) };
  }
  if (what === 'payments' && side === 'sme') {
    const payments = await Payment.find({ payer: actor.orgId }).sort({ createdAt: -1 }).lean();
    const numbers = new Map((await Invoice.find({ licensee: actor.orgId, _id: { $in: payments.map((p) => p.invoice) } }).select('number').lean()).map((i) => [String(i._id), i.number]));
    const header = ['dashboard.col.date', 'dashboard.col.invoice', 'dashboard.col.provider', 'dashboard.col.status', 'dashboard.col.amount_yuan', 'dashboard.col.reference'];
    const rows = payments.map((p) => [
      day(p.createdAt), numbers.get(String(p.invoice)), t(labelKey.paymentProvider(p.provider)), t(labelKey.paymentStatus(p.status)), fenToDecimal(p.amountFen), p.providerRef,
    ]);
    return { filename: `payments-${stamp}.csv`, body: toCsv(header.map(t), rows) };
  }
  throw new NotFoundError('dashboard.csv.unknown');
}
