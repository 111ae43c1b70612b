/**
 * Invoices, payments and revenue reports over HTTP: the SME's bills and the
 * TTO's receivables, paying by Stripe Checkout or declaring a bank transfer,
 * the TTO's confirmation or dispute of a transfer, quarterly revenue reports,
 * the page Stripe sends the payer back to, and Stripe's webhook (mounted by
 * app.ts ahead of the body parsers, since it needs the raw body).
 * Each handler parses its input, calls one service, and renders or redirects.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import type { StripeConfig } from '../server/config.js';
import { INVOICE_STATUSES } from '../server/domain/licence-states.js';
import { ConflictError, ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, sticky } from '../server/http/forms.js';
import { invoiceDetail, listInvoices } from '../server/services/invoices.js';
import { confirmBankTransfer, declareBankTransfer, disputeBankTransfer } from '../server/services/payments.js';
import { handleStripeWebhook, startCheckout, WebhookSignatureError } from '../server/services/payments-stripe.js';
import { listRevenueReports, submitRevenueReport } from '../server/services/revenue-reports.js';
import { invoiceRow, paymentRow, type Translate } from './payment-view.js';

const listQuery = z.object({ status: z.enum(INVOICE_STATUSES).optional().catch(undefined) });
const returnQuery = z.object({ result: z.enum(['success', 'cancel']).catch('cancel'), invoice: z.string().regex(/^[0-9a-f]{24}$/).optional().catch(undefined) });
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** POST /webhooks/stripe — 400 for anything not signed by Stripe with our secret; 2xx once handled (or already handled). */
export function stripeWebhookHandler(stripe: StripeConfig | null): RequestHandler {
  return async (req, res) => {
    if (!stripe) {
      res.status(404).json({ error: 'stripe_not_configured' });
      return;
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const r = await handleStripeWebhook(raw, req.get('stripe-signature'), stripe, { requestId: req.requestId, ip: req.ip ?? '' });
      res.json({ received: true, duplicate: r.duplicate });
    } catch (err) {
      if (!(err instanceof WebhookSignatureError)) throw err;
      res.status(400).json({ error: 'invalid_signature' });
    }
  };
}

export function createPaymentsRouter(deps: RouteDeps): Router {
  const router = Router();
  const parties = requireLogin('sme', 'tto');
  const sme = requireLogin('sme');
  const tto = requireLogin('tto');

  const renderInvoice = async (req: Request, res: Response, status = 200, form?: { values: Record<string, string>; errors: Record<string, string> }) => {
    const t = res.locals.t as Translate;
    const d = await invoiceDetail(ctxOf(req), String(req.params.id));
    const payable = d.side === 'payer' && d.outstandingFen > 0;
    res.status(status).render('invoices/show', {
      title: `${t('invoice.title')} ${d.invoice.number}`,
      ...d,
      invoice: invoiceRow(d.invoice, t),
      payments: d.payments.map((p) => paymentRow(p, t, d.side)),
      payable,
      stripeEnabled: payable && deps.stripe !== null,
      bankOnly: payable && deps.stripe === null,
      today: new Date().toISOString().slice(0, 10),
      values: form?.values ?? { amount: (d.outstandingFen / 100).toFixed(2) },
      errors: form?.errors,
    });
  };

  /** GET /invoices */
  router.get('/invoices', parties, async (req, res) => {
    const t = res.locals.t as Translate;
    const q = listQuery.parse(req.query);
    const data = await listInvoices(ctxOf(req), q);
    res.render('invoices/index', {
      title: t(data.side === 'payer' ? 'invoice.list.title.payer' : 'invoice.list.title.payee'),
      ...data,
      invoices: data.invoices.map((i) => invoiceRow(i, t)),
      statuses: INVOICE_STATUSES.map((s) => ({ value: s, label: invoiceRow({ status: s }, t).statusLabel, selected: q.status === s })),
    });
  });

  /** GET /invoices/:id */
  router.get('/invoices/:id', parties, (req, res) => renderInvoice(req, res));

  /** POST /invoices/:id/checkout — to Stripe's hosted page. */
  router.post('/invoices/:id/checkout', sme, async (req, res) => {
    if (!deps.stripe) throw new ConflictError('payment.stripe.not_configured');
    const url = await startCheckout(ctxOf(req), String(req.params.id), { stripe: deps.stripe, publicUrl: deps.publicUrl });
    res.redirect(303, url);
  });

  /** POST /invoices/:id/bank-transfers */
  router.post('/invoices/:id/bank-transfers', sme, async (req, res) => {
    try {
      await declareBankTransfer(ctxOf(req), String(req.params.id), { amount: str(req.body?.amount), reference: str(req.body?.reference), date: str(req.body?.date) });
      flash(req, 'success', 'payment.transfer.declared');
      res.redirect(303, `/invoices/${req.params.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderInvoice(req, res, 422, { values: sticky(req.body), errors: fieldMessages(err, res.locals.t) });
    }
  });

  /** POST /payments/:id/confirm */
  router.post('/payments/:id/confirm', tto, async (req, res) => {
    const { payment, result } = await confirmBankTransfer(ctxOf(req), String(req.params.id));
    flash(req, 'success', result.overpaidFen > 0 ? 'payment.transfer.confirmed_overpaid' : 'payment.transfer.confirmed');
    res.redirect(303, `/invoices/${payment.invoice}`);
  });

  /** POST /payments/:id/dispute */
  router.post('/payments/:id/dispute', tto, async (req, res) => {
    const payment = await disputeBankTransfer(ctxOf(req), String(req.params.id), str(req.body?.reason) ?? '', deps.mailer);
    flash(req, 'info', 'payment.transfer.disputed');
    res.redirect(303, `/invoices/${payment.invoice}`);
  });

  const renderReports = async (req: Request, res: Response, status = 200, form?: { values: Record<string, string>; errors: Record<string, string> }) => {
    const t = res.locals.t as Translate;
    const d = await listRevenueReports(ctxOf(req), String(req.params.id));
    res.status(status).render('reports/index', {
      title: `${t('report.title')} ${d.licence.number}`,
      ...d,
      royaltyPercent: (d.royaltyBps / 100).toString(),
      values: form?.values ?? { period: d.suggestedPeriod },
      errors: form?.errors,
    });
  };

  /** GET /licences/:id/reports */
  router.get('/licences/:id/reports', parties, (req, res) => renderReports(req, res));

  /** POST /licences/:id/reports */
  router.post('/licences/:id/reports', sme, async (req, res) => {
    try {
      const { invoice } = await submitRevenueReport(ctxOf(req), String(req.params.id), { period: str(req.body?.period), netSales: str(req.body?.netSales) });
      if (invoice) flash(req, 'success', 'report.submitted_invoiced', { number: invoice.number });
      else flash(req, 'success', 'report.submitted_nil');
      res.redirect(303, `/licences/${req.params.id}/reports`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderReports(req, res, 422, { values: sticky(req.body), errors: fieldMessages(err, res.locals.t) });
    }
  });

  /** GET /payments/stripe/return — where Checkout sends the payer back; the webhook, not this page, records the payment. */
  router.get('/payments/stripe/return', sme, (req, res) => {
    const q = returnQuery.parse(req.query);
    const t = res.locals.t as Translate;
    res.render('invoices/return', { title: t(q.result === 'success' ? 'payment.return.success.title' : 'payment.return.cancel.title'), success: q.result === 'success', invoice: q.invoice });
  });

  return router;
}
