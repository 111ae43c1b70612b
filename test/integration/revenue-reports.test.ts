/**
 * Quarterly revenue reports over HTTP: what is refused (periods not yet
 * ended, before the licence's royalties start, malformed, reported twice;
 * negative, fractional-fen and absurd amounts) with the reason and nothing
 * written; the royalty billed exactly (round half up) and due 30 days
 * later; nil reports billing nothing; the first sales under a pay-later
 * licence ending its free period; who may read and file; and the chase of
 * late reports, once per licence and quarter.
 */
import { expect } from 'chai';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { ReportChase } from '../../models/report-chase.js';
import { RevenueReport } from '../../models/revenue-report.js';
import { lastEndedQuarter, quarterOf } from '../../server/domain/quarters.js';
import { beijingDate } from '../../server/domain/patent-term.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { chaseLateReports } from '../../server/services/revenue-reports.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { expectNoInternals, t, type Agent } from './helpers.js';
import { demoParties, makeLicence, startBillingApp, tokenOn, USERS, type BillingApp, type Parties } from './payments-helpers.js';

const DAY_MS = 86_400_000;

describe('revenue reports and royalty invoices', function () {
  this.timeout(60_000);
  let h: AppHarness;
  let b: BillingApp;
  let p: Parties;
  let sme: Agent;
  let tto: Agent;
  let otherSme: Agent;

  before(async () => {
    h = await startApp();
    await loadDemo();
    p = await demoParties();
    b = await startBillingApp(h, null);
    [sme, tto, otherSme] = await Promise.all([b.signedIn(USERS.sme), b.signedIn(USERS.tto), b.signedIn(USERS.otherSme)]);
  });
  after(async () => {
    await b.close();
    await h.stop();
  });

  async function report(agent: Agent, licenceId: string, period: string, netSales: string) {
    const _csrf = await tokenOn(agent, '/invoices');
    return agent.post(`/licences/${licenceId}/reports`).type('form').send({ _csrf, period, netSales });
  }

  it('refuses bad periods and amounts with the reason and writes nothing', async () => {
    const licence = await makeLicence(p, { effectiveAt: new Date('2025-02-10T02:00:00Z'), royaltyBps: 500 });
    const id = String(licence._id);
    const current = quarterOf(beijingDate(new Date())).period;
    const cases: [string, string, string, string][] = [
      [current, '100', 'period', t('report.period.not_ended', { period: current })],
      ['2024Q4', '100', 'period', t('report.period.before_licence', { period: '2024Q4' })],
      ['2025Q5', '100', 'period', t('report.period.invalid')],
      ['Q1-2025', '100', 'period', t('report.period.invalid')],
      ['2025Q2', '-100', 'netSales', t('report.net_sales.invalid')],
      ['2025Q2', '100.001', 'netSales', t('report.net_sales.invalid')],
      ['2025Q2', '1e9', 'netSales', t('report.net_sales.invalid')],
      ['2025Q2', '200000000000', 'netSales', t('report.net_sales.too_large', { max: '¥100,000,000,000.00' })],
    ];
    for (const [period, netSales, field, message] of cases) {
      const res = await report(sme, id, period, netSales);
      expect(res.status, `${period} ${netSales}`).to.equal(422);
      expect(res.text, `${period} ${netSales}`).to.include(`id="${field}-error"`).and.include(message.slice(0, 8));
      expectNoInternals(res.text);
    }
    expect(await RevenueReport.countDocuments({ licence: licence._id })).to.equal(0);
    expect(await Invoice.countDocuments({ licence: licence._id })).to.equal(0);
  });

  it('bills the royalty exactly (half up), due 30 days after the report, once per period', async () => {
    const licence = await makeLicence(p, { effectiveAt: new Date('2025-01-10T02:00:00Z'), royaltyBps: 1234 });
    const id = String(licence._id);
    const before = Date.now();
    const res = await report(sme, id, '2025Q1', '1,000,000.05');
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    const r = (await RevenueReport.findOne({ licence: licence._id, period: '2025Q1' }).lean())!;
    expect(r.netSalesFen).to.equal(100_000_005);
    expect(r.periodStart.toISOString().slice(0, 10)).to.equal('2025-01-01');
    expect(r.periodEnd.toISOString().slice(0, 10)).to.equal('2025-03-31');
    const inv = (await Invoice.findOne({ revenueReport: r._id }).lean())!;
    // 100,000,005 fen × 12.34 % = 12,340,000.617 fen → 12,340,001.
    expect(inv).to.include({ kind: 'royalty', amountFen: 12_340_001, status: 'open', paidFen: 0 });
    expect(inv.key).to.equal(`${licence._id}:royalty:${r._id}`);
    expect(inv.dueAt.getTime() - inv.issuedAt.getTime()).to.equal(30 * DAY_MS);
    expect(inv.issuedAt.getTime()).to.be.at.least(before - 1000);

    const dup = await report(sme, id, '2025Q1', '5');
    expect(dup.status).to.equal(422);
    expect(dup.text).to.include(t('report.period.duplicate', { period: '2025Q1' }).slice(0, 8));
    expect(await RevenueReport.countDocuments({ licence: licence._id })).to.equal(1);

    expect((await report(sme, id, '2025Q2', '0')).status, 'nil report').to.equal(303);
    expect(await RevenueReport.countDocuments({ licence: licence._id })).to.equal(2);
    expect(await Invoice.countDocuments({ licence: licence._id }), 'no invoice for zero sales').to.equal(1);

    const small = await makeLicence(p, { royaltyBps: 100 });
    expect((await report(sme, String(small._id), '2025Q2', '0.50')).status).to.equal(303);
    expect((await Invoice.findOne({ licence: small._id }).lean())!.amountFen, '0.5 fen rounds up to 1').to.equal(1);
    const tiny = await makeLicence(p, { royaltyBps: 100 });
    expect((await report(sme, String(tiny._id), '2025Q2', '0.49')).status).to.equal(303);
    expect(await Invoice.countDocuments({ licence: tiny._id }), '0.49 fen rounds to nothing').to.equal(0);
  });

  it('starts a time-triggered pay-later licence\'s royalties at the end of its free period', async () => {
    const licence = await makeLicence(p, { kind: 'deferred', state: 'payment_due', trigger: 'time', effectiveAt: new Date('2025-01-10T02:00:00Z'), freePeriodEndsAt: new Date('2025-10-05T00:00:00Z') });
    expect((await report(sme, String(licence._id), '2025Q2', '10')).status).to.equal(422);
    expect((await report(sme, String(licence._id), '2025Q4', '10')).status).to.equal(303);
  });

  it('the first sales under a first-revenue pay-later licence end its free period', async () => {
    const licence = await makeLicence(p, { kind: 'deferred', state: 'active_free', trigger: 'first_revenue', effectiveAt: new Date('2025-01-10T02:00:00Z'), freePeriodEndsAt: new Date('2030-01-10T00:00:00Z') });
    expect((await report(sme, String(licence._id), '2025Q1', '0')).status).to.equal(303);
    expect((await Licence.findById(licence._id).lean())!.state, 'a nil report changes nothing').to.equal('active_free');
    expect((await report(sme, String(licence._id), '2025Q2', '20000')).status).to.equal(303);
    const after = (await Licence.findById(licence._id).lean())!;
    expect(after.state).to.equal('payment_due');
    expect(after.firstRevenueAt).to.be.instanceOf(Date);
    expect((await Invoice.findOne({ licence: licence._id, kind: 'royalty' }).lean())!.amountFen).to.equal(100_000);
    const timeOnly = await makeLicence(p, { kind: 'deferred', state: 'active_free', trigger: 'time', freePeriodEndsAt: new Date('2030-01-10T00:00:00Z') });
    expect((await report(sme, String(timeOnly._id), '2025Q2', '1')).status, 'free by time: no reports yet').to.equal(409);
  });

  it('lets only the licensee file and the two parties read; refuses non-royalty licences', async () => {
    const licence = await makeLicence(p);
    const id = String(licence._id);
    expect((await sme.get(`/licences/${id}/reports`)).status).to.equal(200);
    const page = await tto.get(`/licences/${id}/reports`);
    expect(page.status).to.equal(200);
    expect(page.text).to.not.include('id="report-form"');
    expect((await otherSme.get(`/licences/${id}/reports`)).status).to.equal(404);
    expect((await report(otherSme, id, '2025Q1', '10')).status).to.equal(404);
    expect((await report(tto, id, '2025Q1', '10')).status).to.equal(403);
    const lump = await makeLicence(p, { feeForm: 'lump_sum' });
    expect((await report(sme, String(lump._id), '2025Q1', '10')).status).to.equal(409);
    expect(await RevenueReport.countDocuments({ licence: { $in: [licence._id, lump._id] } })).to.equal(0);
  });

  it('chases a missing report 15 days after the quarter, once per licence and quarter', async () => {
    const licence = await makeLicence(p, { effectiveAt: new Date('2024-01-10T02:00:00Z') });
    const q = lastEndedQuarter(new Date());
    const early = new Date(q.end.getTime() + 10 * DAY_MS);
    const due = new Date(q.end.getTime() + 17 * DAY_MS);
    expect((await chaseLateReports(early, h.mailer)).chased).to.equal(0);
    const first = await chaseLateReports(due, h.mailer);
    expect(first.period).to.equal(q.period);
    expect(await ReportChase.countDocuments({ licence: licence._id, period: q.period })).to.equal(1);
    const outbox = await h.mailer.listOutbox();
    expect(outbox.some((m) => m.to === USERS.sme && m.subject.includes(q.period))).to.equal(true);
    expect((await chaseLateReports(due, h.mailer)).chased, 'second run sends nothing').to.equal(0);
    const reported = await makeLicence(p, { effectiveAt: new Date('2024-01-10T02:00:00Z') });
    await RevenueReport.create({ licence: reported._id, licensee: reported.licensee, licensor: reported.licensor, period: q.period, periodStart: q.start, periodEnd: q.end, netSalesFen: 0, reportedAt: new Date(), reportedBy: reported._id });
    await chaseLateReports(new Date(due.getTime() + DAY_MS), h.mailer);
    expect(await ReportChase.countDocuments({ licence: reported._id })).to.equal(0);
  });
});
