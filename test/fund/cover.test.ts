/**
 * Cover and recovery against the embedded store. Cover: decided once per
 * licence when the subscriber posts `licence.granted` — pay-later licences
 * to SMEs are covered while the loss rate over covered licences is within
 * the rules' cap (exactly at the cap still covered), suspended above it with
 * both parties told once in their own language, and refused without rules
 * in force at the licence's start. Recovery: a payment on a defaulted
 * invoice is a RECOVERY; with a paid claim the fund takes back its share of
 * it (rounded half up, never more than its remaining rights), and the
 * licence moves compensated/defaulted → recovering → recovered.
 */
import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { FundClaim } from '../../models/fund-claim.js';
import { FundCover } from '../../models/fund-cover.js';
import { FundRules } from '../../models/fund-rules.js';
import { Invoice } from '../../models/invoice.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { User } from '../../models/user.js';
import { acct, postedBalance } from '../../server/domain/ledger-chart.js';
import { runDefaultSweep } from '../../server/jobs/default-sweep.js';
import { coverOf, currentLossRate } from '../../server/services/fund/cover.js';
import { ensureInitialRules } from '../../server/services/fund/fund-rules.js';
import { post } from '../../server/services/fund/ledger.js';
import { cstDay } from '../../server/services/fund/ledger-post.js';
import { runFundLedgerSync } from '../../server/services/fund/subscriber.js';
import { recordGranted } from '../../server/services/licensing-common.js';
import { confirmBankTransfer, declareBankTransfer } from '../../server/services/payments.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DAY, makeInvoice, makeLicence } from '../helpers/licensing-fixtures.js';
import { ctxOfUser as ctxOf, DEMO, mailBody, orgOf, resetToDemo } from '../integration/helpers.js';

const SME_SMALL = 'sme.small@demo.yrd-exchange.cn';


async function balance(key: string): Promise<number> {
  const a = await LedgerAccount.findOne({ key }).lean();
  return a ? postedBalance(a.normal as 'debit' | 'credit', a) : 0;
}

/** A licence granted the way the licensing services record it (the `licence.granted` event). */
async function granted(licensor: Types.ObjectId, licensee: Types.ObjectId, kind: 'open' | 'deferred', at = new Date(), effectiveAt = at) {
  const licence = await makeLicence(licensor, licensee, kind === 'deferred' ? 'active_free' : 'active', { kind, effectiveAt });
  const doc = (await Licence.findById(licence._id))!;
  await mongoose.connection.transaction((s) => recordGranted(doc, at, s));
  return doc;
}

async function payByTransfer(payerEmail: string, invoiceId: Types.ObjectId, amountFen: number, ref: string) {
  const payment = await declareBankTransfer(await ctxOf(payerEmail), String(invoiceId), { amount: (amountFen / 100).toFixed(2), reference: ref, date: cstDay(new Date()) });
  await confirmBankTransfer(await ctxOf(DEMO.tto), String(payment._id));
  return payment;
}

const silent = { error() {} };

describe('fund cover and recoveries', function () {
  let h: AppHarness;
  let univ: Types.ObjectId;
  let sme: Types.ObjectId;
  let small: Types.ObjectId;
  const sync = () => runFundLedgerSync({ mailer: h.mailer, publicUrl: 'http://localhost:3000', logger: silent });

  before(async () => {
    h = await startApp();
  });
  beforeEach(async () => {
    await resetToDemo(h);
    [univ, sme, small] = [await orgOf(DEMO.tto), await orgOf(DEMO.sme), await orgOf(SME_SMALL)];
  });
  after(() => h.stop());

  it('covers a pay-later licence to an SME under the rules in force at its start; not an open one; none without rules', async () => {
    const early = await granted(univ, sme, 'deferred', new Date(), new Date('2024-06-01T00:00:00+08:00'));
    await ensureInitialRules();
    const deferred = await granted(univ, small, 'deferred');
    const open = await granted(univ, sme, 'open');
    const r = await sync();
    expect(r).to.include({ covers: 3, transfers: 0, blocked: null });
    expect(await coverOf(deferred._id)).to.include({ covered: true, reason: 'covered', rulesVersion: 1, lossRateBps: 0 });
    expect(await coverOf(open._id)).to.include({ covered: false, reason: 'not_pay_later' });
    // Version 1 takes effect on 2025-01-01: a licence that started before it had no rules.
    expect(await coverOf(early._id)).to.include({ covered: false, reason: 'no_rules', rulesVersion: null });
    expect(await AuditEvent.countDocuments({ action: 'fund.cover_decided', targetId: String(deferred._id), 'summary.reason': 'covered' })).to.equal(1);
    // Decided once: the grant event delivered again (unposted) finds the decision made and changes nothing.
    await FundCover.updateOne({ licence: deferred._id }, { $set: { lossRateBps: 1 } });
    await LicensingEvent.updateOne({ key: `licence.granted:${deferred._id}` }, { $set: { postedAt: null } });
    expect(await sync()).to.include({ events: 1, covers: 0 });
    expect(await FundCover.countDocuments()).to.equal(3);
    expect(await AuditEvent.countDocuments({ action: 'fund.cover_decided' })).to.equal(3);
    expect((await coverOf(deferred._id))!.lossRateBps).to.equal(1);
  });

  it('suspends new pay-later cover above the loss-rate cap (at the cap still covered) and tells both parties once, each in their language', async () => {
    await ensureInitialRules(); // cap 5 %
    const t0 = Date.now();
    const first = await granted(univ, sme, 'deferred', new Date(t0 - 300 * DAY));
    await makeInvoice(first, { amountFen: 950_000, issuedAt: new Date(t0 - 250 * DAY), dueAt: new Date(t0 + 20 * DAY) });
    await makeInvoice(first, { amountFen: 50_000, issuedAt: new Date(t0 - 250 * DAY), dueAt: new Date(t0 - 200 * DAY) });
    // Defaults on an uncovered (open) licence do not count.
    const open = await granted(univ, small, 'open', new Date(t0 - 300 * DAY));
    await makeInvoice(open, { amountFen: 500_000, issuedAt: new Date(t0 - 250 * DAY), dueAt: new Date(t0 - 200 * DAY) });
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    const atCap = await granted(univ, small, 'deferred', new Date(Date.now() + 1_000));
    await sync();
    // 50,000 ÷ 1,000,000 = 500 bps, exactly the cap.
    expect(await coverOf(atCap._id)).to.include({ covered: true, lossRateBps: 500 });

    await makeInvoice(first, { amountFen: 1_000, issuedAt: new Date(t0 - 250 * DAY), dueAt: new Date(t0 - 200 * DAY) });
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    const before = (await h.mailer.listOutbox(10_000)).length;
    const refused = await granted(univ, sme, 'deferred', new Date(Date.now() + 2_000));
    const r = await sync();
    expect(r.blocked).to.equal(null);
    const cover = (await coverOf(refused._id))!;
    expect(cover).to.include({ covered: false, reason: 'suspended_loss_rate', rulesVersion: 1 });
    expect(cover.lossRateBps).to.equal(Math.round(51_000 * 10_000 / 1_001_000));
    expect(cover.notifiedAt).to.be.instanceOf(Date);
    expect(await currentLossRate()).to.include({ accruedFen: 1_001_000, defaultedFen: 51_000 });
    const recipients = await User.find({ organization: { $in: [univ, sme] }, active: true }).lean();
    const mails = (await h.mailer.listOutbox(10_000)).slice(0, -before || undefined);
    expect(mails.map((m) => m.to).sort()).to.deep.equal(recipients.map((u) => u.email).sort());
    expect(mailBody((await h.lastMailTo(DEMO.sme))!)).to.include(refused.number).and.include('暂停承保').and.include('5.09%').and.include('5.00%');
    expect(mailBody((await h.lastMailTo(DEMO.ttoMember))!)).to.include(refused.number).and.include('not covering new pay-later licences');
    await sync();
    expect((await h.mailer.listOutbox(10_000)).length, 'told once').to.equal(before + recipients.length);
  });

  it('a payment on a defaulted invoice without a claim is a RECOVERY; the licence goes defaulted → recovering → recovered', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 100_000, dueAt: new Date(Date.now() - 200 * DAY) });
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    await sync();
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('defaulted');
    const p1 = await payByTransfer(DEMO.sme, invoice._id, 40_000, 'REC-0001');
    await sync();
    const t1 = (await LedgerTransfer.findOne({ key: `event:payment.received:${p1._id}` }).lean())!;
    expect(t1.code).to.equal('RECOVERY');
    expect(await LedgerTransfer.countDocuments({ key: `event:payment.received:${p1._id}#2` })).to.equal(0);
    expect(await balance(acct.overdue(licence._id))).to.equal(60_000);
    expect(await balance(acct.settled(univ))).to.equal(40_000);
    expect(await balance(acct.clearing())).to.equal(0);
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('recovering');
    await payByTransfer(DEMO.sme, invoice._id, 60_000, 'REC-0002');
    await sync();
    expect(await balance(acct.overdue(licence._id))).to.equal(0);
    const after = (await Licence.findById(licence._id).lean())!;
    expect(after.state).to.equal('recovered');
    expect(after.history.slice(-2).map((x) => x.to)).to.deep.equal(['recovering', 'recovered']);
  });

  it('with a paid claim the fund takes back its share (half up, capped at its remaining rights) and the licence recovers', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 100_000, dueAt: new Date(Date.now() - 200 * DAY) });
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    await sync();
    // The claim as the claims work leaves it: 70,000 of a 100,000 loss paid, the rights memo posted.
    const filer = (await User.findOne({ email: DEMO.tto }).lean())!;
    const [claim] = await FundClaim.create([{ number: 'CLM-T-1', licence: licence._id, licensor: univ, licensee: sme, invoices: [invoice._id], lossFen: 100_000, statement: 'defaulted',
      state: 'paid', filedBy: filer._id, filedAt: new Date(), compensationFen: 70_000, approvedFen: 70_000 }]);
    await post({ kind: 'transfer', key: 'ap', code: 'APPROPRIATION', phase: 'posted', maker: null, effectiveAt: new Date(), entries: [
      { account: acct.bank(), side: 'debit', amountFen: 1_000_000 }, { account: acct.pool(), side: 'credit', amountFen: 1_000_000 }] });
    await post({ kind: 'transfer', key: 'comp', code: 'COMPENSATION', phase: 'posted', maker: 'm', checker: 'r', effectiveAt: new Date(), refs: { claim: String(claim!._id) }, entries: [
      { account: acct.pool(), side: 'debit', amountFen: 70_000 }, { account: acct.compPayable(univ), side: 'credit', amountFen: 70_000 },
      { account: acct.recoveryRights(claim!._id), side: 'debit', amountFen: 70_000 }, { account: acct.recoveryOffset(), side: 'credit', amountFen: 70_000 }] });
    await Licence.updateOne({ _id: licence._id }, { $set: { state: 'compensated' } });

    const p1 = await payByTransfer(DEMO.sme, invoice._id, 33_333, 'REC-0003');
    await sync();
    const share = (await LedgerTransfer.findOne({ key: `event:payment.received:${p1._id}#2` }).lean())!;
    expect(share).to.include({ code: 'RECOVERY' });
    expect(share.refs.claim).to.equal(String(claim!._id));
    // 33,333 × 70,000 ÷ 100,000 = 23,333.1 → 23,333.
    expect(share.entries.map((e) => [e.account, e.side, e.amountFen])).to.deep.equal([
      [acct.bank(), 'debit', 23_333], [acct.pool(), 'credit', 23_333], [acct.recoveryOffset(), 'debit', 23_333], [acct.recoveryRights(claim!._id), 'credit', 23_333]]);
    expect((await FundClaim.findById(claim!._id).lean())!.recoveredFen).to.equal(23_333);
    expect(await balance(acct.pool())).to.equal(1_000_000 - 70_000 + 23_333);
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('recovering');

    // The rest: 66,667 × 0.7 = 46,666.9 → 46,667, exactly what is left of the rights.
    await payByTransfer(DEMO.sme, invoice._id, 66_667, 'REC-0004');
    await sync();
    expect((await FundClaim.findById(claim!._id).lean())!.recoveredFen).to.equal(70_000);
    expect(await balance(acct.recoveryRights(claim!._id))).to.equal(0);
    expect(await balance(acct.recoveryOffset())).to.equal(0);
    expect(await balance(acct.overdue(licence._id))).to.equal(0);
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('recovered');
    expect((await Invoice.findById(invoice._id).lean())!.status).to.equal('paid');
  });

  it('a payment while a write-off waits for its decision supersedes it: the reservation is voided and the recovery posts', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 50_000, dueAt: new Date(Date.now() - 200 * DAY) });
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    await sync();
    const filer = (await User.findOne({ email: DEMO.tto }).lean())!;
    const [claim] = await FundClaim.create([{ number: 'CLM-T-9', licence: licence._id, licensor: univ, licensee: sme, invoices: [invoice._id], lossFen: 50_000, statement: 'defaulted',
      state: 'paid', filedBy: filer._id, filedAt: new Date(), compensationFen: 0, approvedFen: 0 }]);
    // The write-off as the claims work proposes it: the overdue balance reserved, pending a regulator.
    const pending = await post({ kind: 'transfer', key: 'wo', code: 'WRITE_OFF', phase: 'pending', maker: String(filer._id), effectiveAt: new Date(), refs: { claim: String(claim!._id) }, entries: [
      { account: acct.badDebt(univ), side: 'debit', amountFen: 50_000 }, { account: acct.overdue(licence._id), side: 'credit', amountFen: 50_000 }] });
    await FundClaim.updateOne({ _id: claim!._id }, { $set: { writeOffAttempts: 1, writeOff: { state: 'proposed', proposedBy: filer._id, proposedAt: new Date(), reason: 'gone', overdueFen: 50_000, rightsFen: 0, pendingSeq: pending.seq } } });

    const p = await payByTransfer(DEMO.sme, invoice._id, 20_000, 'REC-0009');
    const result = await sync();
    expect(result.blocked).to.equal(null);
    const voided = (await LedgerTransfer.findOne({ pendingSeq: pending.seq }).lean())!;
    expect(voided).to.include({ phase: 'void', maker: null });
    const recovery = (await LedgerTransfer.findOne({ key: `event:payment.received:${p._id}` }).lean())!;
    expect(recovery.code).to.equal('RECOVERY');
    expect(voided.seq).to.be.below(recovery.seq);
    expect((await FundClaim.findById(claim!._id).lean())!.writeOff).to.include({ state: 'superseded' });
    const overdue = (await LedgerAccount.findOne({ key: acct.overdue(licence._id) }).lean())!;
    expect(overdue).to.include({ debitsPosted: 50_000, creditsPosted: 20_000, creditsPending: 0 });
    expect(await AuditEvent.countDocuments({ action: 'claim.write_off_superseded' })).to.equal(1);
  });

  it('the fund never takes back more than its remaining rights', async () => {
    const licence = await makeLicence(univ, sme, 'paying');
    const invoice = await makeInvoice(licence, { amountFen: 100_000, dueAt: new Date(Date.now() - 200 * DAY) });
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    await sync();
    const filer = (await User.findOne({ email: DEMO.tto }).lean())!;
    // 70,000 approved, of which 65,000 already recovered or written off: 5,000 of rights left.
    const [claim] = await FundClaim.create([{ number: 'CLM-T-2', licence: licence._id, licensor: univ, licensee: sme, lossFen: 100_000, statement: 'defaulted',
      state: 'paid', filedBy: filer._id, filedAt: new Date(), approvedFen: 70_000, recoveredFen: 40_000, writtenOffFen: 25_000 }]);
    await post({ kind: 'transfer', key: 'rights', code: 'COMPENSATION', phase: 'posted', maker: 'm', checker: 'r', effectiveAt: new Date(), entries: [
      { account: acct.recoveryRights(claim!._id), side: 'debit', amountFen: 5_000 }, { account: acct.recoveryOffset(), side: 'credit', amountFen: 5_000 }] });
    const p = await payByTransfer(DEMO.sme, invoice._id, 50_000, 'REC-0005');
    const r = await sync();
    expect(r.blocked).to.equal(null);
    const share = (await LedgerTransfer.findOne({ key: `event:payment.received:${p._id}#2` }).lean())!;
    expect(share.entries[0]!.amountFen).to.equal(5_000);
    expect((await FundClaim.findById(claim!._id).lean())!.recoveredFen).to.equal(45_000);
    expect(await balance(acct.recoveryRights(claim!._id))).to.equal(0);
  });

  it('has no cover decision without rules or before the grant is posted', async () => {
    const licence = await granted(univ, sme, 'deferred');
    expect(await coverOf(licence._id)).to.equal(null);
    expect(await FundRules.countDocuments()).to.equal(0);
    await sync();
    expect(await coverOf(licence._id)).to.include({ covered: false, reason: 'no_rules' });
  });
});
