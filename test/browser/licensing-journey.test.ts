/**
 * The licensing and payment journeys in Chromium, as one ordered story:
 * an SME takes an open licence with an up-front fee by written notice on the
 * listing, pays its invoice through (a fake) Stripe Checkout and comes back
 * to a paid invoice and an active licence; another SME applies for a
 * pay-later licence, the holder's TTO approves it, the SME's first revenue
 * report ends the free period with a royalty invoice, the SME declares a
 * bank transfer and the TTO confirms it.
 */
import { expect } from 'chai';
import type { Types } from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { Offer } from '../../models/offer.js';
import { Patent } from '../../models/patent.js';
import { Payment } from '../../models/payment.js';
import { User } from '../../models/user.js';
import { fenTimesRatio, formatYuan } from '../../server/domain/money.js';
import { lastEndedQuarter } from '../../server/domain/quarters.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import type { BrowserPage } from '../helpers/browser.js';
import { startJourney, type Journey } from '../helpers/browser-journey.js';
import { startFakeStripe, type FakeStripe } from '../helpers/fake-stripe.js';

const SME = 'sme.micro@demo.yrd-exchange.cn';
const OTHER_SME = 'sme.small@demo.yrd-exchange.cn';
const DAY_MS = 86_400_000;
/** Net sales the pay-later licensee reports for its first quarter: ¥1,234,567.89. */
const NET_SALES = '1234567.89';

interface Listing {
  offerId: string;
  patentId: string;
  titleZh: string;
  holder: Types.ObjectId;
}

/** The first published offer (demo catalogue order) of `kind` matching `terms`, with its patent. */
async function listing(kind: 'open' | 'deferred', terms: Record<string, unknown>): Promise<Listing> {
  const offer = await Offer.findOne({ kind, status: 'published', ...terms }).sort({ _id: 1 }).lean();
  expect(offer, `the demo catalogue has a published ${kind} offer with ${JSON.stringify(terms)}`).to.not.equal(null);
  const patent = (await Patent.findById(offer!.patent).lean())!;
  return { offerId: String(offer!._id), patentId: String(patent._id), titleZh: patent.titleZh, holder: offer!.holder };
}

/** Today's date in Beijing, as a date input takes it. */
const beijingToday = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

describe('licensing journeys (Chromium)', function () {
  this.timeout(120_000);
  let fake: FakeStripe;
  let j: Journey;
  let sme: BrowserPage;
  let otherSme: BrowserPage;
  let tto: BrowserPage;
  let open: Listing;
  let deferred: Listing;
  let openLicenceId: string;
  let deferredLicenceId: string;
  let royaltyInvoiceId: string;

  before(async () => {
    fake = await startFakeStripe();
    j = await startJourney({ stripe: fake.config });
    fake.webhookUrl = `${j.baseURL}/webhooks/stripe`;
    await loadDemoCatalogue({ patents: 40 });
    open = await listing('open', { 'terms.feeForm': 'lump_sum', 'terms.lumpSumFen': { $gt: 0 } });
    // A royalty licence whose free period ends at first revenue, so a report reaches the payment phase at once.
    deferred = await listing('deferred', { 'terms.feeForm': 'royalty', 'terms.trigger': { $in: ['first_revenue', 'either'] } });
  });
  after(async () => {
    await j?.stop();
    await fake?.close();
  });

  it('1. an SME finds an open offer and takes the licence by written notice', async () => {
    sme = await j.open();
    await j.login(sme, SME);
    const { page } = sme;
    await j.clickAndLoad(page, page.locator('nav').getByRole('link', { name: j.zh('nav.catalogue') }));
    await page.locator('#q').fill(open.titleZh);
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('catalogue.search.submit') }));
    await j.checkPage(sme, 'sme-catalogue-search');
    await j.clickAndLoad(page, page.locator(`main a[href="/catalogue/${open.patentId}"]`).first());
    await j.checkPage(sme, 'sme-open-listing');
    const card = page.locator(`#offer-${open.offerId}`);
    await card.getByLabel(j.zh('licence.open.confirm')).check();
    await j.clickAndLoad(page, card.getByRole('button', { name: j.zh('licence.open.submit') }));
    await j.checkPage(sme, 'sme-open-licence');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('licence.open.taken'));
    expect(await page.locator('main .badge').first().innerText()).to.equal(j.zh('licence.state.notified'));
    const licence = (await Licence.findOne({ offer: open.offerId }).lean())!;
    expect(licence).to.include({ kind: 'open', state: 'notified' });
    openLicenceId = String(licence._id);
    expect(new URL(page.url()).pathname).to.equal(`/licences/${openLicenceId}`);
  });

  it('2. the SME sees the invoice and pays it through Stripe Checkout', async () => {
    const { page } = sme;
    const invoice = (await Invoice.findOne({ licence: openLicenceId }).lean())!;
    const lumpSum = (await Offer.findById(open.offerId).lean())!.terms.lumpSumFen;
    expect(invoice).to.include({ status: 'open', amountFen: lumpSum, paidFen: 0 });
    const row = page.locator('#invoices-title + .table-wrap tbody tr', { hasText: invoice.number });
    expect(await row.innerText()).to.include(formatYuan(lumpSum)).and.include(j.zh('licence.invoice_status.open'));
    await j.clickAndLoad(page, row.getByRole('link', { name: invoice.number }));
    await j.checkPage(sme, 'sme-invoice-open');
    expect(await page.locator('#outstanding').innerText()).to.equal(formatYuan(lumpSum));

    // To the hosted checkout page (the fake Stripe on its own port) …
    await j.clickAndLoad(page, page.locator('#checkout-form').getByRole('button', { name: j.zh('payment.stripe.pay') }));
    expect(page.url()).to.match(/^http:\/\/127\.0\.0\.1:\d+\/pay\/cs_\w+$/).and.not.include(j.baseURL);
    expect(await page.locator('h1').innerText()).to.include((lumpSum / 100).toFixed(2));
    const session = fake.sessions.get(page.url().split('/pay/')[1]!)!;
    expect(session).to.include({ amount_total: lumpSum, currency: 'cny' });
    // … which pays (delivering the signed webhook to the app) and sends the payer back.
    await j.clickAndLoad(page, '#pay');
    expect(page.url()).to.equal(`${j.baseURL}/payments/stripe/return?result=success&invoice=${invoice._id}`);
    await j.checkPage(sme, 'sme-stripe-return');
    expect(await j.h1(page)).to.equal(j.zh('payment.return.success.title'));

    await j.clickAndLoad(page, page.getByRole('link', { name: j.zh('payment.return.back') }));
    await j.checkPage(sme, 'sme-invoice-paid');
    expect(await page.locator('#invoice-status').innerText()).to.equal(j.zh('invoice.status.paid'));
    expect(await page.locator('#outstanding').innerText()).to.equal(formatYuan(0));
    expect(await page.locator('#checkout-form').count(), 'nothing left to pay').to.equal(0);

    expect(await Invoice.findById(invoice._id).lean()).to.include({ status: 'paid', paidFen: lumpSum, overpaidFen: 0 });
    expect(await Payment.findOne({ invoice: invoice._id }).lean()).to.include({ provider: 'stripe', status: 'succeeded', amountFen: lumpSum, providerRef: session.id });
    expect((await Licence.findById(openLicenceId).lean())!.state).to.equal('active');
    await page.goto(`/licences/${openLicenceId}`);
    expect(await page.locator('main .badge').first().innerText()).to.equal(j.zh('licence.state.active'));
  });

  it('3. another SME applies for a pay-later licence', async () => {
    otherSme = await j.open();
    await j.login(otherSme, OTHER_SME);
    const { page } = otherSme;
    await page.goto(`/catalogue/${deferred.patentId}`);
    await j.checkPage(otherSme, 'sme-deferred-listing');
    const card = page.locator(`#offer-${deferred.offerId}`);
    await card.getByLabel(j.zh('licence.deferred.message')).fill('我们计划用于微纳传感器产线，先试用再按销售额付提成。');
    await j.clickAndLoad(page, card.getByRole('button', { name: j.zh('licence.deferred.submit') }));
    await j.checkPage(otherSme, 'sme-deferred-applied');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('licence.deferred.applied'));
    const licence = (await Licence.findOne({ offer: deferred.offerId }).lean())!;
    expect(licence).to.include({ kind: 'deferred', state: 'applied' });
    deferredLicenceId = String(licence._id);
  });

  it("4. the holder's TTO approves the application", async () => {
    const user = await User.findOne({ organization: deferred.holder, role: 'tto', orgAdmin: true }).lean();
    expect(user, 'the holder has a TTO user').to.not.equal(null);
    tto = await j.open();
    await j.login(tto, user!.email);
    const { page } = tto;
    await j.clickAndLoad(page, page.locator('nav').getByRole('link', { name: j.zh('nav.licences') }));
    await j.checkPage(tto, 'tto-licences');
    const number = (await Licence.findById(deferredLicenceId).lean())!.number;
    await j.clickAndLoad(page, page.locator('#awaiting-title').locator('..').getByRole('link', { name: number }));
    await j.checkPage(tto, 'tto-application');
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('licence.decision.approve'), exact: true }));
    await j.checkPage(tto, 'tto-application-approved');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('licence.decision.approved'));
    expect((await Licence.findById(deferredLicenceId).lean())!.state).to.equal('active_free');
  });

  it('5. the SME reports revenue for the last ended quarter, which ends the free period with a royalty invoice', async () => {
    // Royalties run from the effective date, and only ended quarters are reported: as if approved 120 days ago.
    const backdate = (d: Date | null | undefined) => (d ? new Date(d.getTime() - 120 * DAY_MS) : d);
    const l = (await Licence.findById(deferredLicenceId).lean())!;
    await Licence.updateOne({ _id: l._id }, { $set: { effectiveAt: backdate(l.effectiveAt), freePeriodEndsAt: backdate(l.freePeriodEndsAt) } });
    const { page } = otherSme;
    await page.goto(`/licences/${deferredLicenceId}/reports`);
    await j.checkPage(otherSme, 'sme-reports-form');
    const period = lastEndedQuarter(new Date()).period;
    expect(await page.locator('#period').inputValue(), 'the last ended quarter is suggested').to.equal(period);
    await page.locator('#netSales').fill(NET_SALES);
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('report.submit') }));
    await j.checkPage(otherSme, 'sme-report-submitted');
    const bps = (await Offer.findById(deferred.offerId).lean())!.terms.royaltyBps;
    const royaltyFen = fenTimesRatio(123_456_789, bps, 10_000);
    const invoice = (await Invoice.findOne({ licence: deferredLicenceId, kind: 'royalty' }).lean())!;
    expect(invoice).to.include({ status: 'open', amountFen: royaltyFen });
    royaltyInvoiceId = String(invoice._id);
    expect(await page.locator('.flash').innerText()).to.include(j.zh('report.submitted_invoiced', { number: invoice.number }));
    expect(await page.locator('#reports').innerText()).to.include(period).and.include(formatYuan(123_456_789));
    expect((await Licence.findById(deferredLicenceId).lean())!.state).to.equal('payment_due');
  });

  it('6. the SME declares a bank transfer for the royalty invoice', async () => {
    const { page } = otherSme;
    await j.clickAndLoad(page, page.locator('nav').getByRole('link', { name: j.zh('nav.invoices') }));
    await j.checkPage(otherSme, 'sme-invoices');
    await j.clickAndLoad(page, page.locator(`main a[href="/invoices/${royaltyInvoiceId}"]`));
    await j.checkPage(otherSme, 'sme-royalty-invoice');
    const invoice = (await Invoice.findById(royaltyInvoiceId).lean())!;
    expect(await page.locator('#amount').inputValue(), 'the outstanding amount is prefilled').to.equal((invoice.amountFen / 100).toFixed(2));
    await page.locator('#reference').fill('CMB20261126-0042');
    await page.locator('#date').fill(beijingToday());
    await j.clickAndLoad(page, page.locator('#transfer-form').getByRole('button', { name: j.zh('payment.transfer.declare') }));
    await j.checkPage(otherSme, 'sme-transfer-declared');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('payment.transfer.declared'));
    expect(await page.locator('#payments').innerText()).to.include('CMB20261126-0042');
    expect(await Payment.findOne({ invoice: royaltyInvoiceId }).lean()).to.include({ provider: 'bank_transfer', status: 'declared', amountFen: invoice.amountFen });
    expect((await Invoice.findById(royaltyInvoiceId).lean())!.status, 'unpaid until the TTO confirms').to.equal('open');
  });

  it('7. the TTO confirms the transfer: the invoice is paid and the licence is paying', async () => {
    const { page } = tto;
    await page.goto(`/invoices/${royaltyInvoiceId}`);
    await j.checkPage(tto, 'tto-royalty-invoice');
    await j.clickAndLoad(page, page.locator('#payments').getByRole('button', { name: j.zh('payment.transfer.confirm') }));
    await j.checkPage(tto, 'tto-transfer-confirmed');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('payment.transfer.confirmed'));
    expect(await page.locator('#invoice-status').innerText()).to.equal(j.zh('invoice.status.paid'));
    const invoice = (await Invoice.findById(royaltyInvoiceId).lean())!;
    expect(invoice).to.include({ status: 'paid', paidFen: invoice.amountFen, overpaidFen: 0 });
    expect((await Payment.findOne({ invoice: royaltyInvoiceId }).lean())!.status).to.equal('confirmed');
    expect((await Licence.findById(deferredLicenceId).lean())!.state).to.equal('paying');

    await otherSme.page.goto(`/licences/${deferredLicenceId}`);
    await j.checkPage(otherSme, 'sme-deferred-licence-paying');
    expect(await otherSme.page.locator('main .badge').first().innerText()).to.equal(j.zh('licence.state.paying'));
  });
});
