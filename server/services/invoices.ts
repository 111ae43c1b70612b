/**
 * Who may see which invoice, and the invoice lists and detail pages' data.
 * An invoice belongs to two organisations: the licensee's SME users pay it,
 * the licensor's TTO users receive it. Anyone else is told it does not exist
 * (404, not 403), so ids of other parties' invoices reveal nothing.
 */
import { Types, type ClientSession } from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { Payment } from '../../models/payment.js';
import type { InvoiceStatus } from '../domain/licence-states.js';
import { NotFoundError } from '../errors.js';
import { requireRole, type Actor, type Ctx } from './context.js';

type InvoiceDoc = InstanceType<typeof Invoice>;

/** Statuses in which an invoice still takes money towards its amount. */
export const PAYABLE_STATUSES: readonly InvoiceStatus[] = ['open', 'overdue', 'defaulted'];

export type InvoiceSide = 'payer' | 'payee';

/** The actor's side of the invoice, or null when it is none of their business. */
export function sideOf(actor: Actor, invoice: { licensee: Types.ObjectId; licensor: Types.ObjectId }): InvoiceSide | null {
  if (actor.role === 'sme' && invoice.licensee.equals(actor.orgId)) return 'payer';
  if (actor.role === 'tto' && invoice.licensor.equals(actor.orgId)) return 'payee';
  return null;
}

/** What is still owed: nothing once the invoice is settled, voided or written off. */
export function outstandingFen(invoice: { status: string; amountFen: number; paidFen: number }): number {
  return PAYABLE_STATUSES.includes(invoice.status as InvoiceStatus) ? Math.max(0, invoice.amountFen - invoice.paidFen) : 0;
}

/** The invoice if the actor is on `side` of it (either side when omitted); 404 otherwise. */
export async function visibleInvoice(actor: Actor, id: string, side?: InvoiceSide, session?: ClientSession): Promise<InvoiceDoc> {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('invoice.not_found');
  const invoice = await Invoice.findById(id).session(session ?? null);
  const actual = invoice ? sideOf(actor, invoice) : null;
  if (!invoice || !actual || (side && side !== actual)) throw new NotFoundError('invoice.not_found');
  return invoice;
}

export interface InvoiceListQuery {
  status?: InvoiceStatus;
}

/** SME: the invoices it owes; TTO: its institution's receivables. Newest due first, with each licence's number and patent. */
export async function listInvoices(ctx: Ctx, q: InvoiceListQuery = {}) {
  const actor = requireRole(ctx, 'sme', 'tto');
  const filter: Record<string, unknown> = actor.role === 'sme' ? { licensee: actor.orgId } : { licensor: actor.orgId };
  if (q.status) filter.status = { $eq: q.status };
  const invoices = await Invoice.find(filter).sort({ dueAt: -1 }).limit(500).lean();
  const licences = await Licence.find({ _id: { $in: invoices.map((i) => i.licence) } }).select('number snapshot').lean();
  const byId = new Map(licences.map((l) => [String(l._id), l]));
  const rows = invoices.map((i) => ({ ...i, outstandingFen: outstandingFen(i), licenceInfo: byId.get(String(i.licence)) ?? null }));
  const totals = {
    outstandingFen: rows.reduce((s, r) => s + r.outstandingFen, 0),
    paidFen: rows.reduce((s, r) => s + r.paidFen, 0),
    overpaidFen: rows.reduce((s, r) => s + r.overpaidFen, 0),
  };
  return { side: actor.role === 'sme' ? 'payer' : 'payee', invoices: rows, totals };
}

/** One invoice with its licence and payments, for either party. */
export async function invoiceDetail(ctx: Ctx, id: string) {
  const actor = requireRole(ctx, 'sme', 'tto');
  const invoice = await visibleInvoice(actor, id);
  const [licence, payments] = await Promise.all([
    Licence.findById(invoice.licence).select('number snapshot state kind').lean(),
    Payment.find({ invoice: invoice._id }).sort({ createdAt: -1 }).lean(),
  ]);
  return {
    side: sideOf(actor, invoice)!,
    invoice: invoice.toObject(),
    licence,
    payments,
    outstandingFen: outstandingFen(invoice),
  };
}
