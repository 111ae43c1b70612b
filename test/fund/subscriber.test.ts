/**
 * The fund ledger's subscriber against the embedded store, driven by the
 * licensing services themselves (issueInvoice, bank transfers declared and
 * confirmed, the default sweep, a patent lapse): each licensing event posts
 * what the mapping says and the accounts show it; a second run and two
 * racing runs post nothing twice; a refused posting stops the run at that
 * event, says why, and the books catch up once the cause is corrected.
 */
import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { FundSyncStatus } from '../../models/fund-sync-status.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { Payment } from '../../models/payment.js';
import { runDefaultSweep } from '../../server/jobs/default-sweep.js';
import { acct, postedBalance } from '../../server/domain/ledger-chart.js';
import { post } from '../../server/services/fund/ledger.js';
import { cstDay } from '../../server/services/fund/ledger-post.js';
import { fundSyncStatus, runFundLedgerSync } from '../../server/services/fund/subscriber.js';
import { endLicencesOnPatentLapse } from '../../server/services/patent-lapse.js';
import { applyPayment, confirmBankTransfer, declareBankTransfer } from '../../server/services/payments.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DAY, makeInvoice, makeLicence } from '../helpers/licensing-fixtures.js';
import { ctxOfUser as ctxOf, DEMO, orgOf, resetToDemo } from '../integration/helpers.js';


/** Posted balance of an account on its normal side (0 when it was never used). */
async function balance(key: string): Promise<number> {
  const a = await LedgerAccount.findOne({ key }).lean();
  return a ? postedBalance(a.normal as 'debit' | 'credit', a) : 0;
}

/** A bank transfer declared by the SME and confirmed by the TTO: the real path to `payment.received`. */
async function payByTransfer(invoiceId: Types.ObjectId, amountFen: number, ref: string) {
  const payment = await declareBankTransfer(await ctxOf(DEMO.sme), String(invoiceId), { amount: (amountFen / 100).toFixed(2), reference: ref, date: cstDay(new Date()) });
  await confirmBankTransfer(await ctxOf(DEMO.tto), String(payment._id));
  return payment;
}

const silent = { error() {} };
const sync = (over: Parameters<typeof runFundLedgerSync>[0] = {}) => runFundLedgerSync({ logger: silent, ...over });

describe('fund ledger subscriber', function () {
  let h: AppHarness;
  let univ: Types.ObjectId;
  let sme: Types.ObjectId;

  before(async () => {
    h = await startApp();
  });
  beforeEach(async () => {
    await resetToDemo(h);
    [univ, sme] = [await orgOf(DEMO.tto), await orgOf(DEMO.sme)];
  });
  after(() => h.stop());

  it('invoice issued → ACCRUAL with the licence, parties, event, province and field as refs; the event is stamped', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 123_456, dueAt: new Date(Date.now() + 20 * DAY) });
    const r = await sync();
    expect(r).to.include({ events: 1, transfers: 1, blocked: null });
    const event = (await LicensingEvent.findOne({ key: `invoice.issued:${invoice._id}` }).lean())!;
    expect(event.postedAt).to.be.instanceOf(Date);
    const t = (await LedgerTransfer.findOne({ key: `event:invoice.issued:${invoice._id}` }).lean())!;
    const [org, patent] = await Promise.all([Organization.findById(univ).lean(), Patent.findById(licence.patent).lean()]);
    expect(t).to.include({ code: 'ACCRUAL', phase: 'posted', maker: null });
    expect(t.effectiveAt.getTime()).to.equal(invoice.issuedAt.getTime());
    expect(t.refs).to.include({
      licence: String(licence._id), invoice: String(invoice._id), event: String(event._id), institution: String(univ), licensee: String(sme),
      province: org!.region, field: patent!.fields[0] ?? null, payment: null, claim: null,
    });
    expect(await balance(acct.receivable(licence._id))).to.equal(123_456);
    expect(await balance(acct.revenue(univ))).to.equal(123_456);
  });

  it('payments pass clearing to the licensor; an overpayment is the licensee’s credit; a zero-applied one posts only that', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 100_000, dueAt: new Date(Date.now() + 20 * DAY) });
    const p1 = await payByTransfer(invoice._id, 60_000, 'BANK-0001');
    await sync();
    const t1 = (await LedgerTransfer.findOne({ key: `event:payment.received:${p1._id}` }).lean())!;
    expect(t1.code).to.equal('PAYMENT');
    expect(t1.refs).to.include({ payment: String(p1._id), invoice: String(invoice._id) });
    expect(await balance(acct.receivable(licence._id))).to.equal(40_000);
    expect(await balance(acct.settled(univ))).to.equal(60_000);
    expect(await balance(acct.clearing())).to.equal(0);

    // 50,000 on 40,000 owed: 40,000 applied, 10,000 overpaid.
    await payByTransfer(invoice._id, 50_000, 'BANK-0002');
    // A Stripe-style payment landing on the settled invoice: nothing applied, all of it overpaid.
    const p3 = await mongoose.connection.transaction(async (session) => {
      const [p] = await Payment.create([{ invoice: invoice._id, licence: licence._id, payer: sme, payee: univ, provider: 'stripe', amountFen: 7_000, status: 'succeeded', idempotencyKey: 'late-checkout' }], { session });
      await applyPayment(await ctxOf(DEMO.tto), p!, session);
      return p!;
    });
    const r = await sync();
    expect(r).to.include({ events: 2, transfers: 2 });
    expect(await balance(acct.receivable(licence._id))).to.equal(0);
    expect(await balance(acct.licenseeCredit(sme))).to.equal(17_000);
    expect(await balance(acct.settled(univ))).to.equal(117_000);
    expect(await balance(acct.clearing())).to.equal(0);
    const t3 = (await LedgerTransfer.findOne({ key: `event:payment.received:${p3._id}` }).lean())!;
    expect(t3.code).to.equal('PAYMENT');
    expect(t3.entries.map((e) => e.account)).to.not.include(acct.receivable(licence._id));
    expect(t3.entries.filter((e) => e.side === 'credit').reduce((s, e) => s + e.amountFen, 0)).to.equal(14_000);
  });

  it('the default sweep’s events: DEFAULT moves the outstanding amount to overdue; overdue and arrears events post nothing', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 100_000, dueAt: new Date(Date.now() - 200 * DAY) });
    await payByTransfer(invoice._id, 30_000, 'BANK-0003');
    const swept = await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    expect(swept).to.include({ defaulted: 1 });
    const r = await sync();
    expect(r.blocked).to.equal(null);
    // issued, payment, overdue, in_arrears, defaulted (invoice and licence): 6 events, 3 transfers.
    expect(r).to.include({ events: 6, transfers: 3 });
    const d = (await LedgerTransfer.findOne({ code: 'DEFAULT', 'refs.invoice': String(invoice._id) }).lean())!;
    expect(d.entries).to.deep.equal([
      { account: acct.overdue(licence._id), side: 'debit', amountFen: 70_000 }, { account: acct.receivable(licence._id), side: 'credit', amountFen: 70_000 }]);
    expect(await balance(acct.receivable(licence._id))).to.equal(0);
    expect(await balance(acct.overdue(licence._id))).to.equal(70_000);
    expect(await LicensingEvent.countDocuments({ postedAt: null })).to.equal(0);
  });

  it('invoice voided (patent lapse) → REVERSAL of its accrual, posted after the accrual even when the void is dated earlier', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const issuedAt = new Date(Date.now() - 10 * DAY);
    const invoice = await makeInvoice(licence, { amountFen: 80_000, kind: 'instalment', issuedAt, dueAt: new Date(Date.now() + 60 * DAY) });
    // The lapse took effect before the instalment was billed: its void event is older than its issue event.
    const lapsedAt = new Date(Date.now() - 20 * DAY);
    const lapse = await mongoose.connection.transaction((s) => endLicencesOnPatentLapse({ actor: null, meta: { requestId: 't', ip: '' } }, licence.patent, lapsedAt, 'lapsed', s));
    expect(lapse.voided).to.equal(1);
    const r = await sync();
    expect(r).to.include({ events: 3, transfers: 2, blocked: null });
    const accrual = (await LedgerTransfer.findOne({ key: `event:invoice.issued:${invoice._id}` }).lean())!;
    const reversal = (await LedgerTransfer.findOne({ key: `event:invoice.voided:${invoice._id}` }).lean())!;
    expect(reversal).to.include({ code: 'REVERSAL', reverses: accrual.seq });
    expect(reversal.seq).to.be.greaterThan(accrual.seq);
    expect(reversal.memo).to.match(/voided/);
    expect(await balance(acct.receivable(licence._id))).to.equal(0);
    expect(await balance(acct.revenue(univ))).to.equal(0);
  });

  it('posts each event once: a second run finds nothing, and two racing runs post every event exactly once', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    for (let i = 0; i < 6; i++) await makeInvoice(licence, { amountFen: 10_000 + i, dueAt: new Date(Date.now() + (i + 1) * DAY) });
    const [a, b] = await Promise.all([sync({ batchSize: 4 }), sync({ batchSize: 4 })]);
    expect(a.blocked).to.equal(null);
    expect(b.blocked).to.equal(null);
    expect(a.events + b.events).to.equal(6);
    expect(a.transfers + b.transfers).to.equal(6);
    expect(await LedgerTransfer.countDocuments()).to.equal(6);
    expect(await balance(acct.receivable(licence._id))).to.equal(60_015);
    const again = await sync();
    expect(again).to.include({ events: 0, transfers: 0 });
    expect(await LedgerTransfer.countDocuments()).to.equal(6);
    const seqs = (await LedgerTransfer.find().sort({ seq: 1 }).lean()).map((t) => t.seq);
    expect(seqs).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('fails closed: a refused posting stops the run at its event, records why, and the books catch up once corrected', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 100_000, dueAt: new Date(Date.now() + 20 * DAY) });
    await sync();
    // Someone settled 80,000 of the receivable by hand; the SME's 50,000 would now settle more than is owed.
    const manual = await post({ kind: 'transfer', key: 'manual-1', code: 'PAYMENT', phase: 'posted', maker: 'someone', effectiveAt: new Date(), entries: [
      { account: acct.clearing(), side: 'debit', amountFen: 80_000 }, { account: acct.receivable(licence._id), side: 'credit', amountFen: 80_000 }] });
    const earlier = await makeInvoice(licence, { amountFen: 5_000, issuedAt: new Date(Date.now() - 5 * DAY), dueAt: new Date(Date.now() + 5 * DAY) });
    const payment = await payByTransfer(invoice._id, 50_000, 'BANK-0004');
    const later = await makeInvoice(licence, { amountFen: 7_000, issuedAt: new Date(Date.now() + 60_000), dueAt: new Date(Date.now() + 30 * DAY) });
    const errors: string[] = [];
    const logger = { error: (m: string) => errors.push(m) };

    const r = await sync({ logger });
    expect(r.events).to.equal(1);
    expect(r.blocked).to.include({ key: `payment.received:${payment._id}`, type: 'payment.received', reason: 'ledger.exceeds_owed' });
    expect(r.blocked!.params).to.include({ account: acct.receivable(licence._id), availableFen: 25_000 });
    expect((await LicensingEvent.findOne({ key: `invoice.issued:${earlier._id}` }).lean())!.postedAt).to.be.instanceOf(Date);
    expect((await LicensingEvent.findOne({ key: `payment.received:${payment._id}` }).lean())!.postedAt).to.equal(null);
    expect((await LicensingEvent.findOne({ key: `invoice.issued:${later._id}` }).lean())!.postedAt).to.equal(null);
    expect(await LedgerTransfer.countDocuments({ 'refs.payment': String(payment._id) })).to.equal(0);
    const status = await fundSyncStatus();
    expect(status.blocked).to.include({ key: `payment.received:${payment._id}`, reason: 'ledger.exceeds_owed' });
    expect(status.unposted).to.equal(2);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include(`payment.received:${payment._id}`).and.include('ledger.exceeds_owed');

    const again = await sync({ logger });
    expect(again.blocked!.since.getTime()).to.equal(r.blocked!.since.getTime());
    expect(errors, 'the same block is logged once').to.have.length(1);

    await post({ kind: 'reverse', key: 'manual-1:rev', reverses: manual.seq, maker: 'someone', checker: 'other', effectiveAt: new Date() });
    const fixed = await sync({ logger });
    expect(fixed).to.include({ events: 2, blocked: null });
    expect(await balance(acct.receivable(licence._id))).to.equal(100_000 + 5_000 + 7_000 - 50_000);
    expect((await FundSyncStatus.findById('fund-ledger-sync').lean())!.blocked).to.equal(null);
    expect((await fundSyncStatus()).unposted).to.equal(0);
  });
});
