/**
 * Paying an invoice through Stripe Checkout, and Stripe's webhook.
 *
 * - Checkout: a `pending` Payment is written first and its id travels in the
 *   session's metadata and as the request's idempotency key, so a retried
 *   request never opens a second session for the same attempt.
 * - Webhook: the signature is verified by the SDK over the raw body. Each
 *   event id is handled exactly once: the StripeEvent record (unique `_id`,
 *   with the outcome) is inserted in the same transaction as what the event
 *   does, so a redelivery's transaction fails on the key and changes
 *   nothing, and a failure leaves no record for Stripe's retry to trip over. Deliveries may come in any order: a payment that succeeded
 *   stays succeeded whatever arrives later; a failure followed by a
 *   completion still credits the money Stripe says it collected.
 */
import mongoose, { Types, type ClientSession } from 'mongoose';
import Stripe from 'stripe';
import { Payment } from '../../models/payment.js';
import { StripeEvent } from '../../models/stripe-event.js';
import type { StripeConfig } from '../config.js';
import { AppError } from '../errors.js';
import { auditRow, recordAudit, recordAudits, type AuditRow } from './audit.js';
import { requireRole, type Ctx, type RequestMeta } from './context.js';
import { assertPayable, applyPayment } from './payments.js';
import { visibleInvoice } from './invoices.js';

/** The SDK client for the configured account and endpoint (tests point it at a fake on loopback). */
export function stripeClient(config: StripeConfig): Stripe {
  return new Stripe(config.secretKey, { host: config.host, port: config.port, protocol: config.protocol, maxNetworkRetries: 2, timeout: 20_000 });
}

const clients = new WeakMap<StripeConfig, Stripe>();
function clientFor(config: StripeConfig): Stripe {
  let c = clients.get(config);
  if (!c) clients.set(config, (c = stripeClient(config)));
  return c;
}

/**
 * Opens a Checkout Session for what the invoice still owes and returns the
 * address to send the SME to.
 */
export async function startCheckout(ctx: Ctx, invoiceId: string, deps: { stripe: StripeConfig; publicUrl: string }): Promise<string> {
  const actor = requireRole(ctx, 'sme');
  const invoice = await visibleInvoice(actor, invoiceId, 'payer');
  const owed = assertPayable(invoice);
  const paymentId = new Types.ObjectId();
  const idempotencyKey = `checkout:${paymentId}`;
  await mongoose.connection.transaction(async (session) => {
    await Payment.create([{
      _id: paymentId, invoice: invoice._id, licence: invoice.licence, payer: invoice.licensee, payee: invoice.licensor,
      provider: 'stripe', amountFen: owed, status: 'pending', idempotencyKey, createdBy: actor.userId,
    }], { session });
    await recordAudit(ctx, 'payment.checkout_started', { type: 'Payment', id: paymentId }, { invoice: String(invoice._id), amountFen: owed }, session);
  });
  const metadata = { invoiceId: String(invoice._id), paymentId: String(paymentId), invoiceNumber: invoice.number };
  const methods = [...deps.stripe.paymentMethods] as Stripe.Checkout.SessionCreateParams.AllowedPaymentMethodType[];
  let session: Stripe.Checkout.Session;
  try {
    session = await clientFor(deps.stripe).checkout.sessions.create({
      mode: 'payment',
      // The account's enabled methods, filtered to those configured (the API no longer takes a fixed list).
      allowed_payment_method_types: methods,
      // WeChat Pay in Checkout needs the client named; on a web page it is `web`.
      ...(methods.includes('wechat_pay') && { payment_method_options: { wechat_pay: { client: 'web' } } }),
      line_items: [{ quantity: 1, price_data: { currency: 'cny', unit_amount: owed, product_data: { name: `Invoice ${invoice.number}` } } }],
      client_reference_id: String(paymentId),
      metadata,
      payment_intent_data: { metadata },
      success_url: `${deps.publicUrl}/payments/stripe/return?result=success&invoice=${invoice._id}`,
      cancel_url: `${deps.publicUrl}/payments/stripe/return?result=cancel&invoice=${invoice._id}`,
    }, { idempotencyKey });
  } catch (err) {
    await Payment.updateOne({ _id: paymentId, status: 'pending' }, { $set: { status: 'failed', reason: `checkout not created: ${(err as Error).message}`.slice(0, 500) } });
    throw new AppError(502, 'payment.stripe.unavailable');
  }
  await Payment.updateOne({ _id: paymentId }, { $set: { providerRef: session.id } });
  if (!session.url) throw new AppError(502, 'payment.stripe.unavailable');
  return session.url;
}

/** A bad or missing signature, or a body that is not the one signed. */
export class WebhookSignatureError extends AppError {
  constructor() {
    super(400, 'payment.webhook.bad_signature');
  }
}

export interface WebhookResult {
  eventId: string;
  duplicate: boolean;
  outcome: string;
}

/**
 * Verifies and handles one webhook delivery; throws WebhookSignatureError for anything not signed by Stripe with our secret.
 *
 * Round trips per new `checkout.session.completed` (the common case): read the payment, read the invoice,
 * record the licensing event (one upsert), credit the invoice and save the payment (two conditional
 * updates), read the licence's state, write the audit rows (one insert), record the event (one insert,
 * outcome included), commit. Reads are lean; nothing is hydrated.
 */
export async function handleStripeWebhook(raw: Buffer, signature: string | undefined, config: StripeConfig, meta: RequestMeta): Promise<WebhookResult> {
  let event: Stripe.Event;
  try {
    event = Stripe.webhooks.constructEvent(raw, signature ?? '', config.webhookSecret);
  } catch {
    throw new WebhookSignatureError();
  }
  const ctx: Ctx = { actor: null, meta };
  try {
    return await mongoose.connection.transaction(async (session) => {
      const audit: AuditRow[] = [];
      const outcome = await dispatch(ctx, event, session, audit);
      await recordAudits(audit, session);
      // The exactly-once mark, with what was done: a duplicate (committed, or in flight and retried after it
      // commits) fails here with 11000 and its whole transaction is discarded.
      await StripeEvent.insertMany([{ _id: event.id, type: event.type, receivedAt: new Date(), outcome }], { session, lean: true });
      return { eventId: event.id, duplicate: false, outcome };
    });
  } catch (err) {
    if (isDuplicateKey(err)) return { eventId: event.id, duplicate: true, outcome: 'already handled' };
    throw err;
  }
}

/** 11000, thrown directly or (insertMany) wrapped in a bulk write error. */
function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code?: number }[] };
  return e.code === 11000 || (e.writeErrors ?? []).some((w) => w.code === 11000);
}

async function dispatch(ctx: Ctx, event: Stripe.Event, session: ClientSession, audit: AuditRow[]): Promise<string> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const s = event.data.object;
      // Bank-redirect style methods complete the session before the money arrives; the async event follows.
      if (s.payment_status !== 'paid') return `awaiting payment (${s.payment_status})`;
      return succeed(ctx, s, session, audit);
    }
    case 'checkout.session.expired':
    case 'checkout.session.async_payment_failed':
      return fail(ctx, event.data.object.metadata?.paymentId, event.type, session, audit);
    case 'payment_intent.payment_failed': {
      const pi = event.data.object;
      return fail(ctx, pi.metadata?.paymentId, pi.last_payment_error?.message ?? event.type, session, audit);
    }
    default:
      return `ignored (${event.type})`;
  }
}

async function ourPayment(paymentId: string | undefined, session: ClientSession) {
  if (!paymentId || !Types.ObjectId.isValid(paymentId)) return null;
  return Payment.findOne({ _id: paymentId, provider: 'stripe' }).session(session).lean();
}

async function succeed(ctx: Ctx, s: Stripe.Checkout.Session, session: ClientSession, audit: AuditRow[]): Promise<string> {
  const payment = await ourPayment(s.metadata?.paymentId, session);
  if (!payment) return 'unknown payment';
  if (payment.providerRef && payment.providerRef !== s.id) return 'session does not match the payment';
  if (s.currency !== 'cny' || !Number.isSafeInteger(s.amount_total) || (s.amount_total ?? 0) < 1) return 'unexpected amount or currency';
  if (payment.status === 'succeeded') return 'already succeeded';
  // What Stripe collected is what was paid, even if it differs from what was asked.
  const amountFen = s.amount_total!;
  const set = { status: 'succeeded', providerRef: s.id, amountFen, decidedAt: new Date() };
  audit.push(auditRow(ctx, 'payment.succeeded', { type: 'Payment', id: payment._id }, { from: payment.status, session: s.id, amountFen }));
  // Saved by applyPayment together with the credit, on condition the payment is still as read.
  const r = await applyPayment(ctx, { ...payment, ...set, from: payment.status, set }, session, new Date(), audit);
  return `payment ${payment._id} succeeded: applied ${r.appliedFen}, overpaid ${r.overpaidFen}`;
}

async function fail(ctx: Ctx, paymentId: string | undefined, why: string, session: ClientSession, audit: AuditRow[]): Promise<string> {
  const payment = await ourPayment(paymentId, session);
  if (!payment) return 'unknown payment';
  if (payment.status !== 'pending') return `no change (payment is ${payment.status})`;
  const reason = why.slice(0, 500);
  await Payment.updateOne({ _id: payment._id, status: 'pending' }, { $set: { status: 'failed', reason, decidedAt: new Date() } }, { session });
  audit.push(auditRow(ctx, 'payment.failed', { type: 'Payment', id: payment._id }, { reason }));
  return `payment ${payment._id} failed`;
}
