/**
 * Invoices and bank transfers over HTTP, and the money rules underneath:
 * partial payments add up, the payment that reaches the amount settles the
 * invoice, money beyond it is recorded as overpaid and shown to both
 * parties, settled invoices take no new payments, a declared transfer is
 * confirmed or disputed once, concurrent payments never over-credit, and
 * nobody but the two parties sees an invoice. Without a Stripe key the
 * invoice page offers bank transfer only and says so.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { Payment } from '../../models/payment.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { applyPayment } from '../../server/services/payments.js';
import { sendInvoiceReminders } from '../../server/services/invoice-reminders.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { expectNoInternals, mailBody, t, type Agent } from './helpers.js';
import { demoParties, makeInvoice, makeLicence, startBillingApp, tokenOn, USERS, type BillingApp, type Parties } from './payments-helpers.js';

const today = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

describe('invoices and bank transfers', function () {
  this.timeout(60_000);
  let h: AppHarness;
  let b: BillingApp;
  let p: Parties;
  let sme: Agent;
  let tto: Agent;
  let otherSme: Agent;
  let otherTto: Agent;

  before(async () => {
    h = await startApp();
    await loadDemo();
    p = await demoParties();
    b = await startBillingApp(h, null);
    [sme, tto, otherSme, otherTto] = await Promise.all([b.signedIn(USERS.sme), b.signedIn(USERS.tto), b.signedIn(USERS.otherSme), b.signedIn(USERS.otherTto)]);
  });
  after(async () => {
    await b.close();
    await h.stop();
  });

  async function declare(agent: Agent, invoiceId: string, form: Record<string, string>) {
    const _csrf = await tokenOn(agent, '/invoices');
    return agent.post(`/invoices/${invoiceId}/bank-transfers`).type('form').send({ _csrf, date: today(), ...form });
  }
  async function decide(agent: Agent, paymentId: string, action: 'confirm' | 'dispute', reason = '') {
    const _csrf = await tokenOn(agent, '/invoices');
    return agent.post(`/payments/${paymentId}/${action}`).type('form').send({ _csrf, reason });
  }
  async function declared(agent: Agent, invoiceId: string, amount: string, reference: string) {
    const res = await declare(agent, invoiceId, { amount, reference });
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    return String((await Payment.findOne({ invoice: invoiceId, providerRef: reference }).lean())!._id);
  }

  it('adds partial payments, settles on the last, and records an overpayment explicitly for both parties', async () => {
    const licence = await makeLicence(p, { state: 'notified', feeForm: 'lump_sum' });
    const invoice = await makeInvoice(licence, 100_000);
    const id = String(invoice._id);

    const first = await declared(sme, id, '300.00', 'BANK-0001');
    expect((await Payment.findById(first).lean())!.status).to.equal('declared');
    expect((await Invoice.findById(id).lean())!.paidFen, 'nothing credited before confirmation').to.equal(0);
    expect((await decide(tto, first, 'confirm')).status).to.equal(303);
    let inv = (await Invoice.findById(id).lean())!;
    expect(inv).to.include({ paidFen: 30_000, status: 'open', overpaidFen: 0 });

    const second = await declared(sme, id, '900', 'BANK-0002');
    expect((await decide(tto, second, 'confirm')).status).to.equal(303);
    inv = (await Invoice.findById(id).lean())!;
    expect(inv).to.include({ paidFen: 100_000, status: 'paid', overpaidFen: 20_000 });
    expect((await Payment.findById(second).lean())!.appliedFen).to.equal(70_000);
    expect(await LicensingEvent.countDocuments({ type: 'payment.received', invoice: invoice._id })).to.equal(2);
    expect((await Licence.findById(licence._id).lean())!.state, 'up-front invoice paid → active').to.equal('active');
    for (const agent of [sme, tto]) {
      const page = await agent.get(`/invoices/${id}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('id="overpaid"').and.include('¥200.00');
    }
    expect(await AuditEvent.countDocuments({ action: 'payment.transfer_confirmed' })).to.be.at.least(2);
  });

  it('refuses new payments of paid, void and written-off invoices and writes nothing', async () => {
    const licence = await makeLicence(p);
    const paid = await makeInvoice(licence, 5_000);
    await Invoice.updateOne({ _id: paid._id }, { $set: { status: 'paid', paidFen: 5_000 } });
    const voided = await makeInvoice(licence, 5_000);
    await Invoice.updateOne({ _id: voided._id }, { $set: { status: 'void' } });
    const writtenOff = await makeInvoice(licence, 5_000);
    await Invoice.updateOne({ _id: writtenOff._id }, { $set: { status: 'written_off' } });
    const before = await Payment.countDocuments();
    for (const inv of [paid, voided, writtenOff] as { _id: unknown }[]) {
      const res = await declare(sme, String(inv._id), { amount: '10', reference: `LATE-${inv._id}` });
      expect(res.status).to.equal(409);
      expect(res.text).to.include(t('payment.invoice_settled', { status: String((await Invoice.findById(inv._id).lean())!.status) }).slice(0, 10));
    }
    expect(await Payment.countDocuments()).to.equal(before);
  });

  it('refuses bad transfer declarations with the reason and writes nothing', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 10_000);
    const before = await Payment.countDocuments();
    const cases: [Record<string, string>, string][] = [
      [{ amount: '-5', reference: 'REF-A1' }, 'amount'],
      [{ amount: '1.234', reference: 'REF-A2' }, 'amount'],
      [{ amount: '0', reference: 'REF-A3' }, 'amount'],
      [{ amount: '99999999999999', reference: 'REF-A4' }, 'amount'],
      [{ amount: '10', reference: '' }, 'reference'],
      [{ amount: '10', reference: 'REF-A5', date: '2999-01-01' }, 'date'],
      [{ amount: '10', reference: 'REF-A6', date: '2026-02-30' }, 'date'],
      [{ amount: '10', reference: 'REF-A7', date: '2001-01-01' }, 'date'],
    ];
    for (const [form, field] of cases) {
      const res = await declare(sme, String(invoice._id), form);
      expect(res.status, JSON.stringify(form)).to.equal(422);
      expect(res.text, JSON.stringify(form)).to.match(new RegExp(`id="${field}-error"`));
      expectNoInternals(res.text);
    }
    expect(await Payment.countDocuments()).to.equal(before);
  });

  it('confirms or disputes a declared transfer once, and tells the SME why it was disputed', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 10_000);
    const id = String(invoice._id);
    const a = await declared(sme, id, '50', 'DISPUTE-1');
    expect((await decide(tto, a, 'dispute', '')).status, 'reason required').to.equal(422);
    expect((await Payment.findById(a).lean())!.status).to.equal('declared');
    expect((await decide(tto, a, 'dispute', '查无此笔入账')).status).to.equal(303);
    expect((await Payment.findById(a).lean())).to.include({ status: 'disputed', reason: '查无此笔入账', appliedFen: 0 });
    expect((await decide(tto, a, 'confirm')).status, 'no confirm after dispute').to.equal(409);
    expect((await Invoice.findById(id).lean())!.paidFen).to.equal(0);
    expect(mailBody((await h.lastMailTo(USERS.sme))!)).to.include('查无此笔入账');

    const bId = await declared(sme, id, '50', 'CONFIRM-1');
    const [r1, r2] = await Promise.all([decide(tto, bId, 'confirm'), decide(tto, bId, 'confirm')]);
    expect([r1.status, r2.status].sort()).to.deep.equal([303, 409]);
    expect((await decide(tto, bId, 'dispute', 'changed my mind')).status).to.equal(409);
    expect((await Invoice.findById(id).lean())!.paidFen, 'credited once').to.equal(5_000);
    expect(await AuditEvent.countDocuments({ action: 'payment.transfer_disputed', targetId: a })).to.equal(1);

    const dup = await declare(sme, id, { amount: '50', reference: 'confirm-1' });
    expect(dup.status, 'same bank reference twice').to.equal(409);
  });

  it('never over-credits an invoice paid concurrently', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 10_000);
    const payments = await Payment.insertMany(Array.from({ length: 8 }, (_, i) => ({
      invoice: invoice._id, licence: invoice.licence, payer: invoice.licensee, payee: invoice.licensor, provider: 'bank_transfer' as const,
      amountFen: 3_000, status: 'confirmed' as const, idempotencyKey: `concurrent:${invoice._id}:${i}`, providerRef: `C${i}`,
    })));
    const ctx = { actor: null, meta: { requestId: 'test', ip: '' } };
    // Each payment twice, all at once: two transactions per payment race as well as eight payments per invoice.
    await Promise.all([...payments, ...payments].map((pay) => mongoose.connection.transaction((s) => applyPayment(ctx, pay._id, s))));
    const inv = (await Invoice.findById(invoice._id).lean())!;
    expect(inv).to.include({ paidFen: 10_000, status: 'paid', overpaidFen: 14_000 });
    const applied = (await Payment.find({ invoice: invoice._id }).lean()).reduce((s, x) => s + x.appliedFen, 0);
    expect(applied).to.equal(10_000);
    expect(await LicensingEvent.countDocuments({ type: 'payment.received', invoice: invoice._id })).to.equal(8);
  });

  it('shows each party only its own invoices: another SME or TTO gets 404 and changes nothing', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 7_700);
    const id = String(invoice._id);
    const mine = await sme.get('/invoices');
    expect(mine.status).to.equal(200);
    expect(mine.text).to.include(invoice.number);
    expect((await tto.get('/invoices')).text, 'TTO receivables').to.include(invoice.number);
    expect((await otherSme.get('/invoices')).text).to.not.include(invoice.number);
    expect((await otherTto.get('/invoices')).text).to.not.include(invoice.number);
    expect((await otherSme.get(`/invoices/${id}`)).status).to.equal(404);
    expect((await otherTto.get(`/invoices/${id}`)).status).to.equal(404);
    expect((await declare(otherSme, id, { amount: '10', reference: 'INTRUDER-1' })).status).to.equal(404);
    const payId = await declared(sme, id, '10', 'REAL-0001');
    expect((await decide(otherTto, payId, 'confirm')).status).to.equal(404);
    expect((await decide(sme, payId, 'confirm')).status, 'the payer cannot confirm its own transfer').to.equal(403);
    expect((await Payment.findById(payId).lean())!.status).to.equal('declared');
    expect((await Invoice.findById(id).lean())!.paidFen).to.equal(0);
    expect((await sme.get('/invoices/not-an-id')).status).to.equal(404);
  });

  it('without a Stripe key offers bank transfer only and says so', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 1_000);
    const page = await sme.get(`/invoices/${invoice._id}`);
    expect(page.text).to.include('id="bank-only"').and.include('id="transfer-form"').and.not.include('id="checkout-form"');
    const _csrf = await tokenOn(sme, '/invoices');
    const res = await sme.post(`/invoices/${invoice._id}/checkout`).type('form').send({ _csrf });
    expect(res.status).to.equal(409);
    expect(await Payment.countDocuments({ invoice: invoice._id })).to.equal(0);
  });

  it('reminds before the due date and when overdue, once each', async () => {
    const licence = await makeLicence(p);
    const now = new Date();
    const soon = await makeInvoice(licence, 2_000, { issuedAt: new Date(now.getTime() - 27 * 86_400_000), dueInDays: 30 });
    const late = await makeInvoice(licence, 3_000, { issuedAt: new Date(now.getTime() - 40 * 86_400_000), dueInDays: 30 });
    const first = await sendInvoiceReminders(now, h.mailer);
    expect(first.dueSoon).to.be.at.least(1);
    expect(first.overdue).to.be.at.least(1);
    expect((await Invoice.findById(soon._id).lean())!.remindersSent).to.deep.equal(['due_soon']);
    expect((await Invoice.findById(late._id).lean())!.remindersSent).to.deep.equal(['overdue']);
    const again = await sendInvoiceReminders(now, h.mailer);
    expect(again).to.deep.equal({ dueSoon: 0, overdue: 0 });
    const outbox = await h.mailer.listOutbox();
    expect(outbox.filter((m) => m.to === USERS.sme && m.subject.includes(late.number))).to.have.length(1);
  });
});
