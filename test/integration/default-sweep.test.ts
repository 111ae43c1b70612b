/**
 * Defaults and lapses: the hourly sweep moves past-due invoices to overdue
 * (licence in arrears) and, after the configured days, to defaulted
 * (licence defaulted), records each fact once as a licensing event, tells
 * both parties once, and finds nothing to do when run again or alongside
 * itself. A patent that lapses (the register edit, or the daily expiry
 * sweep) ends its live licences and voids only what was billed for later.
 */
import { expect } from 'chai';
import { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { Patent } from '../../models/patent.js';
import { User } from '../../models/user.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { runDefaultSweep } from '../../server/jobs/default-sweep.js';
import { runPatentLapseSweep } from '../../server/jobs/patent-lapse-sweep.js';
import { patentToInput } from '../../server/services/patents.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DAY, makeInvoice, makeLicence } from '../helpers/licensing-fixtures.js';
import { csrfOf, DEMO, mailBody, orgOf, resetToDemo, signedIn } from './helpers.js';

describe('default sweep and patent lapse', function () {
  let h: AppHarness;
  let univ: Types.ObjectId;
  let smeOrg: Types.ObjectId;
  const publicUrl = 'http://localhost:3000';

  before(async () => {
    h = await startApp();
  });
  beforeEach(async () => {
    await resetToDemo(h);
    [univ, smeOrg] = [await orgOf(DEMO.tto), await orgOf(DEMO.sme)];
  });
  after(async () => {
    await h.stop();
  });

  const outboxCount = async () => (await h.mailer.listOutbox(10_000)).length;
  const events = (type: string, filter: Record<string, unknown> = {}) => LicensingEvent.countDocuments({ type, ...filter } as never);

  it('past due: invoice overdue, licence in arrears, one event each, both parties told once; a second run finds nothing', async () => {
    const now = new Date();
    const licence = await makeLicence(univ, smeOrg, 'paying');
    const late = await makeInvoice(licence, { amountFen: 1_234_500, dueAt: new Date(now.getTime() - 5 * DAY) });
    const paid = await makeInvoice(licence, { amountFen: 99_900, dueAt: new Date(now.getTime() - 40 * DAY), status: 'paid' });
    const future = await makeInvoice(licence, { amountFen: 50_000, dueAt: new Date(now.getTime() + 10 * DAY) });
    const before = await outboxCount();

    const r = await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90, now, publicUrl });
    expect(r).to.include({ overdue: 1, defaulted: 0, licencesInArrears: 1, licencesDefaulted: 0 });
    const inv = (await Invoice.findById(late._id).lean())!;
    expect(inv.status).to.equal('overdue');
    expect(inv.overdueAt!.getTime()).to.equal(now.getTime());
    expect((await Invoice.findById(paid._id).lean())!.status).to.equal('paid');
    expect((await Invoice.findById(future._id).lean())!.status).to.equal('open');
    const lic = (await Licence.findById(licence._id).lean())!;
    expect(lic.state).to.equal('in_arrears');
    expect(lic.history.at(-1)).to.include({ from: 'paying', to: 'in_arrears' });
    expect(await AuditEvent.countDocuments({ action: 'licence.state_changed', targetId: String(licence._id), 'summary.to': 'in_arrears' })).to.equal(1);
    expect(await AuditEvent.countDocuments({ action: 'invoice.overdue', 'summary.invoices': String(late._id) })).to.equal(1);
    const ev = (await LicensingEvent.findOne({ type: 'invoice.overdue', invoice: late._id }).lean())!;
    expect(ev).to.include({ amountFen: 1_234_500, key: `invoice.overdue:${late._id}` });
    expect(await events('licence.in_arrears', { licence: licence._id })).to.equal(1);

    const users = await User.find({ organization: { $in: [univ, smeOrg] }, active: true }).lean();
    expect(await outboxCount()).to.equal(before + users.length);
    const smeMail = mailBody((await h.lastMailTo(DEMO.sme))!);
    expect(smeMail).to.include(inv.number).and.include('¥12,345.00').and.include('/dashboard/sme');
    expect(mailBody((await h.lastMailTo(DEMO.tto))!)).to.include(inv.number).and.include('/dashboard/tto');

    const again = await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90, now: new Date(now.getTime() + 3_600_000), publicUrl });
    expect(again).to.include({ overdue: 0, defaulted: 0, licencesInArrears: 0, events: 0, mails: 0 });
    expect(await events('invoice.overdue')).to.equal(1);
    expect(await outboxCount()).to.equal(before + users.length);
  });

  it('after the configured days overdue: invoice and licence defaulted, once', async () => {
    const now = new Date();
    const licence = await makeLicence(univ, smeOrg, 'paying');
    const inv = await makeInvoice(licence, { amountFen: 300_000, paidFen: 100_000, dueAt: new Date(now.getTime() - 10 * DAY) });
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 30, now, publicUrl });
    expect((await Invoice.findById(inv._id).lean())!.status).to.equal('overdue');

    // 29 days past due: not yet; 30: in default.
    const early = await runDefaultSweep({ mailer: h.mailer, daysToDefault: 30, now: new Date(inv.dueAt.getTime() + 29 * DAY), publicUrl });
    expect(early.defaulted).to.equal(0);
    const at = new Date(inv.dueAt.getTime() + 30 * DAY);
    const r = await runDefaultSweep({ mailer: h.mailer, daysToDefault: 30, now: at, publicUrl });
    expect(r).to.include({ defaulted: 1, licencesDefaulted: 1 });
    const stored = (await Invoice.findById(inv._id).lean())!;
    expect(stored.status).to.equal('defaulted');
    expect(stored.defaultedAt!.getTime()).to.equal(at.getTime());
    const lic = (await Licence.findById(licence._id).lean())!;
    expect(lic.state).to.equal('defaulted');
    expect(lic.history.map((x) => x.to)).to.deep.equal(['paying', 'in_arrears', 'defaulted']);
    const ev = (await LicensingEvent.findOne({ type: 'invoice.defaulted' }).lean())!;
    expect(ev.amountFen, 'the unpaid part').to.equal(200_000);
    expect(await events('licence.defaulted', { licence: licence._id })).to.equal(1);
    expect(mailBody((await h.lastMailTo(DEMO.sme))!)).to.include(stored.number).and.include('30');

    const again = await runDefaultSweep({ mailer: h.mailer, daysToDefault: 30, now: new Date(at.getTime() + DAY), publicUrl });
    expect(again).to.include({ overdue: 0, defaulted: 0, events: 0, mails: 0 });
    // Each fact once: no two events share a key, and none is posted yet (the fund ledger does that).
    const all = await LicensingEvent.find().lean();
    expect(new Set(all.map((e) => e.key)).size).to.equal(all.length);
    expect(all.every((e) => e.postedAt === null)).to.equal(true);
  });

  it('an invoice overdue and defaulted in one run takes its licence through arrears to default', async () => {
    const now = new Date();
    const licence = await makeLicence(univ, smeOrg, 'active');
    await makeInvoice(licence, { amountFen: 80_000, dueAt: new Date(now.getTime() - 120 * DAY) });
    const r = await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90, now, publicUrl });
    expect(r).to.include({ overdue: 1, defaulted: 1, licencesInArrears: 1, licencesDefaulted: 1 });
    expect((await Licence.findById(licence._id).lean())!.history.map((x) => x.to)).to.deep.equal(['active', 'in_arrears', 'defaulted']);
  });

  it('concurrent runs move each invoice and licence exactly once', async () => {
    const now = new Date();
    const smeSmall = (await User.findOne({ email: 'sme.small@demo.yrd-exchange.cn' }).lean())!.organization;
    const ids: Types.ObjectId[] = [];
    for (let i = 0; i < 24; i++) {
      const licence = await makeLicence(univ, i % 2 ? smeOrg : smeSmall, 'paying');
      ids.push(licence._id);
      await makeInvoice(licence, { amountFen: 10_000 + i, dueAt: new Date(now.getTime() - (1 + i) * DAY) });
      await makeInvoice(licence, { amountFen: 20_000 + i, dueAt: new Date(now.getTime() - (95 + i) * DAY) });
    }
    const before = await outboxCount();
    const runs = await Promise.all([1, 2, 3].map(() => runDefaultSweep({ mailer: h.mailer, daysToDefault: 90, now, publicUrl, batchSize: 5 })));
    expect(runs.reduce((s, r) => s + r.overdue, 0)).to.equal(48);
    expect(runs.reduce((s, r) => s + r.defaulted, 0)).to.equal(24);
    expect(runs.reduce((s, r) => s + r.licencesDefaulted, 0)).to.equal(24);
    expect(await events('invoice.overdue')).to.equal(48);
    expect(await events('invoice.defaulted')).to.equal(24);
    expect(await events('licence.in_arrears')).to.equal(24);
    expect(await events('licence.defaulted')).to.equal(24);
    for (const id of ids) expect((await Licence.findById(id).lean())!.history.map((x) => x.to)).to.deep.equal(['paying', 'in_arrears', 'defaulted']);
    expect(await AuditEvent.countDocuments({ action: 'licence.state_changed', 'summary.to': 'defaulted' })).to.equal(24);
    // Each transition was notified once: the SME's mails together report 24 overdue and 12 defaulted invoices, none twice.
    const entries = (await h.mailer.listOutbox(10_000)).slice(0, (await outboxCount()) - before).filter((e) => e.to === DEMO.sme);
    const reported = entries.reduce((sum, e) => sum + Number(/（(\d+) 项）/.exec(e.subject)![1]), 0);
    expect(reported).to.equal(36);
    const text = entries.map((e) => e.text ?? '').join('\n');
    for (const inv of await Invoice.find({ licensee: smeOrg }).lean()) {
      expect(text.split(`账单 ${inv.number}（`).length - 1, inv.number).to.be.at.most(inv.status === 'defaulted' ? 2 : 1);
    }
  });

  it('a TTO marking its patent lapsed ends the live licences; only later instalments are voided', async () => {
    const tto = await signedIn(h, DEMO.tto);
    const patent = (await Patent.findOne({ holder: univ }).lean())!;
    const live = await makeLicence(univ, smeOrg, 'paying', { patentId: patent._id });
    const ended = await makeLicence(univ, smeOrg, 'completed', { patentId: patent._id });
    const now = Date.now();
    const laterInstalment = await makeInvoice(live, { kind: 'instalment', amountFen: 100_000, dueAt: new Date(now + 60 * DAY) });
    const overdueInstalment = await makeInvoice(live, { kind: 'instalment', amountFen: 100_000, dueAt: new Date(now - 10 * DAY), status: 'overdue' });
    const royalty = await makeInvoice(live, { kind: 'royalty', amountFen: 55_500, dueAt: new Date(now + 20 * DAY) });
    const partly = await makeInvoice(live, { kind: 'instalment', amountFen: 100_000, paidFen: 10_000, dueAt: new Date(now + 90 * DAY) });

    const _csrf = await csrfOf(tto, `/patents/${patent._id}/edit`);
    const res = await tto.post(`/patents/${patent._id}`).type('form').send({ _csrf, ...patentToInput(patent as never), legalStatus: 'lapsed' });
    expect(res.status, res.text.slice(0, 300)).to.equal(303);

    expect((await Licence.findById(live._id).lean())!.state).to.equal('ended_patent_lapsed');
    expect((await Licence.findById(ended._id).lean())!.state, 'a finished licence is left alone').to.equal('completed');
    expect(await events('licence.lapsed', { licence: live._id })).to.equal(1);
    expect((await Invoice.findById(laterInstalment._id).lean())!.status).to.equal('void');
    expect(await events('invoice.voided', { invoice: laterInstalment._id })).to.equal(1);
    for (const [inv, status] of [[overdueInstalment, 'overdue'], [royalty, 'open'], [partly, 'open']] as const) {
      expect((await Invoice.findById(inv._id).lean())!.status, inv.number).to.equal(status);
    }
    expect(await AuditEvent.countDocuments({ action: 'invoice.voided', targetId: String(laterInstalment._id) })).to.equal(1);
    // The daily sweep afterwards has nothing left to do.
    expect(await runPatentLapseSweep({ mailer: h.mailer, publicUrl })).to.include({ licences: 0, voided: 0 });
  });

  it('the daily sweep ends licences of a patent whose term ran out, as of its expiry, once', async () => {
    const patent = (await Patent.findOne({ holder: univ }).lean())!;
    const expiry = new Date(Date.now() - 2 * DAY);
    await Patent.updateOne({ _id: patent._id }, { $set: { expiryDate: expiry } });
    const licence = await makeLicence(univ, smeOrg, 'active_free', { patentId: patent._id });
    const other = await makeLicence(univ, smeOrg, 'paying', { patentId: (await Patent.findOne({ holder: univ, _id: { $ne: patent._id } }).lean())!._id });
    const r = await runPatentLapseSweep({ mailer: h.mailer, publicUrl });
    expect(r).to.include({ patents: 1, licences: 1 });
    const lic = (await Licence.findById(licence._id).lean())!;
    expect(lic.state).to.equal('ended_patent_lapsed');
    expect(lic.history.at(-1)!.at.getTime()).to.equal(expiry.getTime());
    expect((await Licence.findById(other._id).lean())!.state).to.equal('paying');
    expect(mailBody((await h.lastMailTo(DEMO.sme))!)).to.include(lic.number);
    expect(await runPatentLapseSweep({ mailer: h.mailer, publicUrl })).to.include({ patents: 0, licences: 0, mails: 0 });
    expect(await events('licence.lapsed')).to.equal(1);
  });

  it('DEFAULT_DAYS_OVERDUE defaults to 90 and is validated', () => {
    expect(loadConfig({}).defaultDaysOverdue).to.equal(90);
    expect(loadConfig({ DEFAULT_DAYS_OVERDUE: '60' }).defaultDaysOverdue).to.equal(60);
    for (const bad of ['0', '-5', '1.5', 'ninety', '99999']) expect(() => loadConfig({ DEFAULT_DAYS_OVERDUE: bad }), bad).to.throw(ConfigError, /DEFAULT_DAYS_OVERDUE/);
  });
});
