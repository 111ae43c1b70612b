/**
 * Stripe Checkout and the webhook against a fake Stripe on loopback: the
 * session request the app sends (checked field by field), the hosted page
 * paying and the signed event settling the invoice, signatures and tampered
 * bodies refused with 400 and no change, each event id handled once (an
 * idempotency storm of 100 concurrent deliveries), out-of-order deliveries,
 * and other SMEs kept away from the checkout.
 */
import { expect } from 'chai';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { Payment } from '../../models/payment.js';
import { StripeEvent } from '../../models/stripe-event.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { startFakeStripe, type FakeStripe } from '../helpers/fake-stripe.js';
import type { Agent } from './helpers.js';
import { demoParties, makeInvoice, makeLicence, startBillingApp, tokenOn, USERS, type BillingApp, type Parties } from './payments-helpers.js';

describe('Stripe Checkout and webhook (fake Stripe on loopback)', function () {
  this.timeout(90_000);
  let h: AppHarness;
  let b: BillingApp;
  let fake: FakeStripe;
  let p: Parties;
  let sme: Agent;
  let otherSme: Agent;

  before(async () => {
    h = await startApp();
    await loadDemo();
    p = await demoParties();
    fake = await startFakeStripe({ paymentMethods: ['card', 'alipay', 'wechat_pay'] });
    b = await startBillingApp(h, fake.config);
    fake.webhookUrl = `${b.url}/webhooks/stripe`;
    [sme, otherSme] = await Promise.all([b.signedIn(USERS.sme), b.signedIn(USERS.otherSme)]);
  });
  after(async () => {
    await b.close();
    await fake.close();
    await h.stop();
  });

  /** Starts a checkout as `agent`; returns the response and, on success, the session. */
  async function checkout(agent: Agent, invoiceId: string) {
    const _csrf = await tokenOn(agent, '/invoices');
    const res = await agent.post(`/invoices/${invoiceId}/checkout`).type('form').send({ _csrf });
    const sessionId = /\/pay\/(cs_\w+)$/.exec(String(res.headers.location ?? ''))?.[1];
    return { res, session: sessionId ? fake.sessions.get(sessionId)! : null };
  }

  it('opens a Checkout Session for what is owed and settles the invoice when the fake page is paid', async () => {
    const licence = await makeLicence(p, { state: 'notified', feeForm: 'lump_sum' });
    const invoice = await makeInvoice(licence, 123_456);
    await Invoice.updateOne({ _id: invoice._id }, { $set: { paidFen: 23_456 } });
    const page = await sme.get(`/invoices/${invoice._id}`);
    expect(page.text).to.include('id="checkout-form"').and.not.include('id="bank-only"');

    const { res, session } = await checkout(sme, String(invoice._id));
    expect(res.status).to.equal(303);
    expect(session, 'redirected to the fake checkout page').to.not.equal(null);
    const sent = fake.requests.at(-1)!;
    const payment = (await Payment.findOne({ invoice: invoice._id }).lean())!;
    expect(sent).to.include({ method: 'POST', path: '/v1/checkout/sessions', authorization: `Bearer ${fake.config.secretKey}`, idempotencyKey: `checkout:${payment._id}` });
    expect(sent.params).to.include({
      mode: 'payment',
      'line_items[0][price_data][currency]': 'cny',
      'line_items[0][price_data][unit_amount]': '100000',
      'line_items[0][quantity]': '1',
      'metadata[invoiceId]': String(invoice._id),
      'metadata[paymentId]': String(payment._id),
      'allowed_payment_method_types[0]': 'card',
      'allowed_payment_method_types[1]': 'alipay',
      'allowed_payment_method_types[2]': 'wechat_pay',
      'payment_method_options[wechat_pay][client]': 'web',
    });
    expect(sent.params.success_url).to.match(/^http:\/\/localhost:3000\/payments\/stripe\/return\?result=success/);
    expect(sent.params.cancel_url).to.match(/^http:\/\/localhost:3000\/payments\/stripe\/return\?result=cancel/);
    expect(payment).to.include({ status: 'pending', provider: 'stripe', amountFen: 100_000, providerRef: session!.id });

    // The customer's browser on the hosted page.
    expect((await fetch(session!.url)).status).to.equal(200);
    const paid = await fetch(session!.url, { method: 'POST', redirect: 'manual' });
    expect(paid.status).to.equal(303);
    expect(paid.headers.get('location')).to.equal(sent.params.success_url);

    expect((await Payment.findById(payment._id).lean())).to.include({ status: 'succeeded', appliedFen: 100_000 });
    expect((await Invoice.findById(invoice._id).lean())).to.include({ status: 'paid', paidFen: 123_456, overpaidFen: 0 });
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('active');
    expect(await LicensingEvent.countDocuments({ key: `payment.received:${payment._id}` })).to.equal(1);
    const back = await sme.get(`/payments/stripe/return?result=success&invoice=${invoice._id}`);
    expect(back.status).to.equal(200);
  });

  it('answers 400 to a bad, missing or stale signature and to a tampered body, and changes nothing', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 5_000);
    const { session } = await checkout(sme, String(invoice._id));
    const s = { ...session!, status: 'complete', payment_status: 'paid' };
    const { body, signature } = fake.signedEvent('checkout.session.completed', s);
    const tampered = body.replace('"amount_total":5000', '"amount_total":1');
    expect(tampered).to.not.equal(body);
    const events = await StripeEvent.countDocuments();
    for (const [b2, sig] of [[body, null], [body, 't=1,v1=deadbeef'], [body, signature.replace(/v1=[0-9a-f]{4}/, 'v1=0000')], [tampered, signature], ['not json', signature]] as const) {
      const res = await fake.deliver(b2, sig);
      expect(res.status, `${sig} ${b2.slice(0, 20)}`).to.equal(400);
    }
    expect(await StripeEvent.countDocuments()).to.equal(events);
    expect((await Payment.findOne({ invoice: invoice._id }).lean())!.status).to.equal('pending');
    expect((await Invoice.findById(invoice._id).lean())!.paidFen).to.equal(0);
    // The genuine delivery still works afterwards.
    expect((await fake.deliver(body, signature)).status).to.equal(200);
    expect((await Invoice.findById(invoice._id).lean())!.status).to.equal('paid');
  });

  it('handles an event once however many times it is delivered at once (100 concurrent deliveries)', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 8_888);
    const { session } = await checkout(sme, String(invoice._id));
    const { body, signature } = fake.signedEvent('checkout.session.completed', { ...session!, status: 'complete', payment_status: 'paid' });
    const results = await Promise.all(Array.from({ length: 100 }, () => fake.deliver(body, signature)));
    expect(results.map((r) => r.status).filter((s) => s !== 200), 'every delivery answered 2xx').to.deep.equal([]);
    expect(results.filter((r) => JSON.parse(r.text).duplicate === false)).to.have.length(1);
    const eventId = JSON.parse(body).id as string;
    expect(await StripeEvent.countDocuments({ _id: eventId })).to.equal(1);
    const payment = (await Payment.findOne({ invoice: invoice._id }).lean())!;
    expect(await LicensingEvent.countDocuments({ key: `payment.received:${payment._id}` })).to.equal(1);
    expect((await Invoice.findById(invoice._id).lean())).to.include({ paidFen: 8_888, overpaidFen: 0, status: 'paid' });
  });

  it('copes with out-of-order deliveries: late failures never undo a success; a completion after a failure credits', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 4_000);
    const { session } = await checkout(sme, String(invoice._id));
    const paymentId = session!.metadata.paymentId!;
    const failed = fake.signedEvent('payment_intent.payment_failed', { id: 'pi_test_1', object: 'payment_intent', metadata: { paymentId }, last_payment_error: { message: 'card declined' } });
    expect((await fake.deliver(failed.body, failed.signature)).status).to.equal(200);
    expect((await Payment.findById(paymentId).lean())!.status).to.equal('failed');
    expect((await fake.pay(session!.id))).to.equal(200);
    expect((await Payment.findById(paymentId).lean())!.status).to.equal('succeeded');
    for (const type of ['checkout.session.expired', 'payment_intent.payment_failed', 'checkout.session.async_payment_failed']) {
      const late = fake.signedEvent(type, { ...session!, metadata: { paymentId } });
      expect((await fake.deliver(late.body, late.signature)).status).to.equal(200);
    }
    expect((await Payment.findById(paymentId).lean())!.status).to.equal('succeeded');
    expect((await Invoice.findById(invoice._id).lean())).to.include({ status: 'paid', paidFen: 4_000 });
    const unknown = fake.signedEvent('customer.created', { id: 'cus_test_1', object: 'customer' });
    expect((await fake.deliver(unknown.body, unknown.signature)).status, 'unknown types are acknowledged').to.equal(200);
  });

  it('records a second paid checkout of the same invoice as overpaid, and refuses a checkout once it is settled', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 3_000);
    const first = await checkout(sme, String(invoice._id));
    const second = await checkout(sme, String(invoice._id));
    expect(await fake.pay(first.session!.id)).to.equal(200);
    expect(await fake.pay(second.session!.id)).to.equal(200);
    expect((await Invoice.findById(invoice._id).lean())).to.include({ status: 'paid', paidFen: 3_000, overpaidFen: 3_000 });
    const requests = fake.requests.length;
    const third = await checkout(sme, String(invoice._id));
    expect(third.res.status).to.equal(409);
    expect(fake.requests.length, 'Stripe not called').to.equal(requests);
  });

  it('another SME cannot open a checkout for the invoice (404, Stripe not called)', async () => {
    const invoice = await makeInvoice(await makeLicence(p), 2_500);
    const requests = fake.requests.length;
    const { res } = await checkout(otherSme, String(invoice._id));
    expect(res.status).to.equal(404);
    expect(fake.requests.length).to.equal(requests);
    expect(await Payment.countDocuments({ invoice: invoice._id })).to.equal(0);
  });
});
