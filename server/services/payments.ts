/**
 * Money in: crediting an invoice with a received payment (the one path every
 * provider ends in), and bank transfers — declared by the paying SME with
 * its bank reference, confirmed or disputed by the receiving TTO.
 *
 * Rules:
 * - A payment is credited exactly once: the `payment.received:<paymentId>`
 *   licensing event is written in the same transaction as the credit, and
 *   its unique key is what "already credited" means.
 * - Concurrent payments of one invoice each update the invoice document in
 *   their own transaction; the store lets the first writer win and the
 *   other retries on the new state, so `paidFen` never exceeds `amountFen`.
 * - Money beyond what is owed (two checkouts both paid, a transfer larger
 *   than the bill, a payment that lands after the invoice was settled) is
 *   never absorbed: the payment's `appliedFen` is what went to the invoice
 *   and the rest is added to `invoice.overpaidFen`, which both parties see.
 *   Starting a new payment of a settled invoice is refused instead.
 */
import mongoose, { Types, type ClientSession } from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Payment, type PAYMENT_STATUSES } from '../../models/payment.js';
import { assertInvoiceTransition, type InvoiceStatus } from '../domain/licence-states.js';
import { parseYuanToFen } from '../domain/money.js';
import { beijingDate } from '../domain/patent-term.js';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../errors.js';
import { auditRow, recordAudit, recordAudits, type AuditRow } from './audit.js';
import { mailOrganisation } from './billing-mail.js';
import { requireRole, type Ctx } from './context.js';
import { MAX_INVOICE_FEN } from './invoice-issue.js';
import { outstandingFen, visibleInvoice } from './invoices.js';
import { afterInvoiceSettled } from './licence-transitions.js';
import { recordLicensingEvent } from './licensing-events.js';
import type { Mailer } from './mail.js';

export interface AppliedPayment {
  /** False when this payment had been credited before (nothing changed now). */
  applied: boolean;
  appliedFen: number;
  overpaidFen: number;
  /** This payment settled the invoice. */
  settled: boolean;
}

type PaymentDoc = InstanceType<typeof Payment>;
type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * A received payment as read with `.lean()`, with the changes its caller
 * made (e.g. `pending → succeeded`), to be written with the credit in one
 * conditional update: `from` is the status the stored payment must still
 * have, so a change decided on a stale read can never be saved.
 */
export interface ReceivedPayment {
  _id: Types.ObjectId;
  invoice: Types.ObjectId;
  provider: string;
  amountFen: number;
  status: string;
  appliedFen: number;
  from: PaymentStatus;
  set: Record<string, unknown>;
}

/** The payment's fields and how to save it (with `appliedFen` when credited), whatever form the caller has it in. */
async function received(input: Types.ObjectId | PaymentDoc | ReceivedPayment, session: ClientSession) {
  if (input instanceof Types.ObjectId) {
    const doc = await Payment.findById(input).session(session);
    if (!doc) throw new NotFoundError('payment.not_found');
    input = doc;
  }
  if (input instanceof Payment) {
    const doc = input;
    return {
      payment: doc as { _id: Types.ObjectId; invoice: Types.ObjectId; provider: string; amountFen: number; status: string; appliedFen: number },
      save: async (appliedFen?: number) => {
        if (appliedFen !== undefined) doc.appliedFen = appliedFen;
        if (doc.isModified()) await doc.save({ session });
      },
    };
  }
  const p = input as ReceivedPayment;
  return {
    payment: p,
    save: async (appliedFen?: number) => {
      const set = { ...p.set, ...(appliedFen !== undefined && { appliedFen }) };
      if (!Object.keys(set).length) return;
      const r = await Payment.updateOne({ _id: p._id, status: p.from }, { $set: set }, { session });
      if (r.matchedCount !== 1) throw new ConflictError('payment.changed_meanwhile');
    },
  };
}

/**
 * Credits a received payment (status `succeeded` or `confirmed`) to its
 * invoice inside the caller's transaction, exactly once. A caller that has
 * just changed the payment passes the document (or a ReceivedPayment): it
 * is saved here, with the credit, in one write. A caller that gathers the
 * transaction's audit rows passes `audit`, and writes them itself.
 */
export async function applyPayment(
  ctx: Ctx, paymentOrId: Types.ObjectId | PaymentDoc | ReceivedPayment, session: ClientSession, at = new Date(), audit?: AuditRow[],
): Promise<AppliedPayment> {
  const { payment, save } = await received(paymentOrId, session);
  if (payment.status !== 'succeeded' && payment.status !== 'confirmed') throw new ConflictError('payment.not_received');
  const invoice = await Invoice.findById(payment.invoice).session(session).lean();
  if (!invoice) throw new NotFoundError('invoice.not_found');

  const appliedFen = Math.min(payment.amountFen, outstandingFen(invoice));
  const overpaidFen = payment.amountFen - appliedFen;
  // The event is the "already credited" mark: recorded first, so a second call stops here having written nothing.
  const recorded = await recordLicensingEvent({
    type: 'payment.received', key: `payment.received:${payment._id}`, occurredAt: at, licence: invoice.licence, licensor: invoice.licensor,
    licensee: invoice.licensee, invoice: invoice._id, payment: payment._id, amountFen: payment.amountFen,
    data: { provider: payment.provider, appliedFen, overpaidFen, invoiceNumber: invoice.number },
  }, session);
  if (!recorded) {
    await save();
    return { applied: false, appliedFen: payment.appliedFen, overpaidFen: 0, settled: false };
  }
  const from = invoice.status as InvoiceStatus;
  const paidFen = invoice.paidFen + appliedFen;
  const settled = appliedFen > 0 && paidFen === invoice.amountFen;
  if (settled) assertInvoiceTransition(from, 'paid');
  // Conditional on what was read: the credit is computed from these figures.
  const r = await Invoice.updateOne(
    { _id: invoice._id, status: from, paidFen: invoice.paidFen, overpaidFen: invoice.overpaidFen },
    { $inc: { paidFen: appliedFen, overpaidFen }, ...(settled && { $set: { status: 'paid', paidAt: at } }) },
    { session },
  );
  if (r.matchedCount !== 1) throw new ConflictError('payment.changed_meanwhile');
  await save(appliedFen);
  const row = auditRow(ctx, 'invoice.payment_applied', { type: 'Invoice', id: invoice._id }, {
    payment: String(payment._id), provider: payment.provider, amountFen: payment.amountFen, appliedFen, overpaidFen, paidFen,
    ...(settled && { from, to: 'paid' }),
  });
  if (audit) audit.push(row);
  else await recordAudits([row], session);
  if (settled) await afterInvoiceSettled(ctx, invoice.licence, at, session);
  return { applied: true, appliedFen, overpaidFen, settled };
}

/** Refuses to start a payment of an invoice that owes nothing (paid, void, written off). */
export function assertPayable(invoice: { status: string; amountFen: number; paidFen: number }): number {
  const owed = outstandingFen(invoice);
  if (owed <= 0) throw new ConflictError('payment.invoice_settled', { status: invoice.status });
  return owed;
}

export interface TransferForm {
  amount?: string;
  reference?: string;
  date?: string;
}

/** Amount, reference and date of a declared transfer, or every problem with them. */
function parseTransfer(form: TransferForm, issuedAt: Date, now: Date) {
  const errors: Record<string, FieldError> = {};
  const amountFen = parseYuanToFen(form.amount ?? '');
  if (amountFen === null || amountFen < 1) errors.amount = { key: 'payment.amount.invalid' };
  else if (amountFen > MAX_INVOICE_FEN) errors.amount = { key: 'payment.amount.too_large' };
  const reference = (form.reference ?? '').normalize('NFKC').trim();
  if (reference.length < 4 || reference.length > 64) errors.reference = { key: 'payment.transfer.reference_invalid' };
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec((form.date ?? '').trim());
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== form.date?.trim()) errors.date = { key: 'payment.transfer.date_invalid' };
  else if (date > beijingDate(now)) errors.date = { key: 'payment.transfer.date_future' };
  else if (date < beijingDate(issuedAt)) errors.date = { key: 'payment.transfer.date_before_invoice' };
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return { amountFen: amountFen!, reference, date: date! };
}

/** The SME says it has paid by bank transfer: recorded as `declared`, nothing is credited until the TTO confirms. */
export async function declareBankTransfer(ctx: Ctx, invoiceId: string, form: TransferForm, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  const invoice = await visibleInvoice(actor, invoiceId, 'payer');
  assertPayable(invoice);
  const t = parseTransfer(form, invoice.issuedAt, now);
  try {
    return await mongoose.connection.transaction(async (session) => {
      const fresh = await visibleInvoice(actor, invoiceId, 'payer', session);
      assertPayable(fresh);
      const [payment] = await Payment.create([{
        invoice: fresh._id, licence: fresh.licence, payer: fresh.licensee, payee: fresh.licensor, provider: 'bank_transfer',
        amountFen: t.amountFen, status: 'declared', providerRef: t.reference, transferredAt: t.date,
        // One declaration per bank reference and invoice: the same transfer declared twice is a mistake.
        idempotencyKey: `bank_transfer:${fresh._id}:${t.reference.toUpperCase()}`, createdBy: actor.userId,
      }], { session });
      await recordAudit(ctx, 'payment.transfer_declared', { type: 'Payment', id: payment._id }, {
        invoice: String(fresh._id), amountFen: t.amountFen, reference: t.reference, date: t.date.toISOString().slice(0, 10),
      }, session);
      return payment;
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError('payment.transfer.duplicate_reference', { reference: t.reference });
    throw err;
  }
}

/** A declared transfer of the TTO's institution, for deciding it (404 for anyone else's). */
async function declaredTransfer(ctx: Ctx, paymentId: string, session: ClientSession) {
  const actor = requireRole(ctx, 'tto');
  if (!Types.ObjectId.isValid(paymentId)) throw new NotFoundError('payment.not_found');
  const payment = await Payment.findById(paymentId).session(session);
  if (!payment || payment.provider !== 'bank_transfer' || !payment.payee.equals(actor.orgId)) throw new NotFoundError('payment.not_found');
  if (payment.status !== 'declared') throw new ConflictError('payment.already_decided', { status: payment.status });
  return { actor, payment };
}

/**
 * The receiving TTO found the money on its statement: the transfer is
 * confirmed and credited. If the invoice was settled meanwhile, the money
 * still arrived, so it is recorded as overpaid rather than refused.
 */
export async function confirmBankTransfer(ctx: Ctx, paymentId: string, now = new Date()) {
  return mongoose.connection.transaction(async (session) => {
    const { actor, payment } = await declaredTransfer(ctx, paymentId, session);
    payment.status = 'confirmed';
    payment.decidedBy = actor.userId;
    payment.decidedAt = now;
    await recordAudit(ctx, 'payment.transfer_confirmed', { type: 'Payment', id: payment._id }, { invoice: String(payment.invoice), amountFen: payment.amountFen, reference: payment.providerRef }, session);
    return { payment, result: await applyPayment(ctx, payment, session, now) };
  });
}

/** The TTO cannot find the transfer: disputed with the reason, nothing credited; the SME is told why. */
export async function disputeBankTransfer(ctx: Ctx, paymentId: string, reason: string, mailer: Mailer, now = new Date()) {
  const why = reason.trim();
  if (why.length < 4 || why.length > 500) throw new ValidationError({ reason: { key: 'payment.dispute.reason_required' } }, 'payment.dispute.reason_required');
  const payment = await mongoose.connection.transaction(async (session) => {
    const { actor, payment } = await declaredTransfer(ctx, paymentId, session);
    payment.status = 'disputed';
    payment.decidedBy = actor.userId;
    payment.decidedAt = now;
    payment.reason = why;
    await payment.save({ session });
    await recordAudit(ctx, 'payment.transfer_disputed', { type: 'Payment', id: payment._id }, { invoice: String(payment.invoice), amountFen: payment.amountFen, reference: payment.providerRef, reason: why }, session);
    return payment;
  });
  const invoice = await Invoice.findById(payment.invoice).select('number').lean();
  await mailOrganisation(mailer, payment.payer, `银行转账未获确认 / Bank transfer disputed (${invoice?.number ?? ''})`,
    `贵单位申报的银行转账（参考号 ${payment.providerRef}）未被收款方确认，原因：${why}\n\nThe bank transfer you declared (reference ${payment.providerRef}) was disputed by the payee: ${why}`);
  return payment;
}
