/**
 * The fund manager's pages over HTTP, checking responses and the database:
 * appropriations (posted to the ledger once per form however often it is
 * sent, every bad field named, only the fund manager may record) and rule
 * changes (a complete new version from today or later, with shares adding
 * up to 100 %, appended and audited while the old ones stay; regulators
 * read only). Also what the demo loader adds to a fresh install.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { FundRules } from '../../models/fund-rules.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { User } from '../../models/user.js';
import { acct } from '../../server/domain/ledger-chart.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { loadDemoFund } from '../../server/seed/load-demo-fund.js';
import { loadDemoLicences } from '../../server/seed/load-demo-licences.js';
import { ensureInitialRules, rulesInForce } from '../../server/services/fund/fund-rules.js';
import { daysOverdueBeforeDefault } from '../../server/services/fund/fund-rules-admin.js';
import { cstDay } from '../../server/services/fund/ledger-post.js';
import { startApp, csrfFrom, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, fieldError, signedIn, t, type Agent } from '../integration/helpers.js';

const DAY = 86_400_000;
const keyIn = (html: string) => /name="key" value="([^"]+)"/.exec(html)?.[1] ?? null;

/** The appropriation form as the page renders it (CSRF token and idempotency key), ready to fill in. */
async function appropriationPage(agent: Agent) {
  const res = await agent.get('/fund/appropriations');
  expect(res.status).to.equal(200);
  return { _csrf: csrfFrom(res.text), key: keyIn(res.text)! };
}

function rulesForm(over: Record<string, string> = {}): Record<string, string> {
  return {
    effectiveFrom: cstDay(new Date(Date.now() + 10 * DAY)), compensation: '60', capPerLicence: '1500000', capPerLicensee: '3000000', capPerYear: '50000000',
    daysOverdue: '60', lossRateCap: '4.5', subsidyMicro: '10', subsidySmall: '5', subsidyCap: '100000', reason: 'Provincial budget review 2026',
    funderName0: '上海市财政局', funderShare0: '40', funderName1: '江苏省财政厅', funderShare1: '30', funderName2: '浙江省财政厅', funderShare2: '20', funderName3: '安徽省财政厅', funderShare3: '10',
    ...over,
  };
}

describe('fund administration: appropriations and rule changes', function () {
  let h: AppHarness;

  before(async () => {
    h = await startApp();
  });
  beforeEach(async () => {
    await h.reset();
    await loadDemo();
    await ensureInitialRules();
  });
  after(() => h.stop());

  it('records an appropriation from a funder: Dr bank / Cr pool, maker and funder in the transfer, audited', async () => {
    const agent = await signedIn(h, DEMO.fund_manager);
    const form = await appropriationPage(agent);
    const res = await agent.post('/fund/appropriations').type('form').send({ ...form, funder: '1', amount: '5,000,000', reference: 'CNAPS-20260105-0001', date: '2026-01-05' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/fund/appropriations');
    const manager = (await User.findOne({ email: DEMO.fund_manager }).lean())!;
    const transfer = (await LedgerTransfer.findOne({ code: 'APPROPRIATION' }).lean())!;
    expect(transfer).to.include({ key: `appropriation:${form.key}`, maker: String(manager._id), phase: 'posted' });
    expect(transfer.entries).to.deep.equal([{ account: acct.bank(), side: 'debit', amountFen: 500_000_000 }, { account: acct.pool(), side: 'credit', amountFen: 500_000_000 }]);
    expect(transfer.refs.funder).to.equal('1');
    expect(transfer.effectiveAt.toISOString()).to.equal('2026-01-04T16:00:00.000Z');
    expect(await AuditEvent.countDocuments({ action: 'fund.appropriation_recorded', targetId: String(transfer.seq) })).to.equal(1);
    const page = await agent.get('/fund/appropriations');
    expect(page.text).to.include(t('fund.appropriation.recorded', { seq: transfer.seq })).and.include('CNAPS-20260105-0001').and.include('¥5,000,000.00');
    expect(keyIn(page.text)).to.not.equal(form.key);
  });

  it('names each bad field and records nothing: "12.345", an unknown funder, a future date, a missing key', async () => {
    const agent = await signedIn(h, DEMO.fund_manager);
    const form = await appropriationPage(agent);
    const audit = await AuditEvent.countDocuments();
    const res = await agent.post('/fund/appropriations').type('form').send({ ...form, funder: '9', amount: '12.345', reference: 'REF-1', date: cstDay(new Date(Date.now() + 2 * DAY)) });
    expect(res.status).to.equal(422);
    expect(fieldError(res.text, 'amount')).to.equal(t('fund.appropriation.amount_invalid'));
    expect(fieldError(res.text, 'funder')).to.equal(t('fund.appropriation.funder_invalid'));
    expect(fieldError(res.text, 'date')).to.equal(t('fund.appropriation.date_future'));
    expect(keyIn(res.text), 'the corrected form keeps its key').to.equal(form.key);
    const noKey = await agent.post('/fund/appropriations').type('form').send({ _csrf: form._csrf, funder: '0', amount: '100', reference: 'REF-2', date: '2026-01-05' });
    expect(noKey.status).to.equal(422);
    expect(await LedgerTransfer.countDocuments()).to.equal(0);
    expect(await AuditEvent.countDocuments()).to.equal(audit);
  });

  it('records a form once however often it is sent; the same key with other figures is refused', async () => {
    const agent = await signedIn(h, DEMO.fund_manager);
    const form = { ...(await appropriationPage(agent)), funder: '0', amount: '1000', reference: 'DUP-0001', date: '2026-02-01' };
    const [a, b] = await Promise.all([agent.post('/fund/appropriations').type('form').send(form), agent.post('/fund/appropriations').type('form').send(form)]);
    expect([a.status, b.status]).to.deep.equal([303, 303]);
    const c = await agent.post('/fund/appropriations').type('form').send(form);
    expect(c.status).to.equal(303);
    expect(await LedgerTransfer.countDocuments({ code: 'APPROPRIATION' })).to.equal(1);
    expect(await AuditEvent.countDocuments({ action: 'fund.appropriation_recorded' })).to.equal(1);
    const changed = await agent.post('/fund/appropriations').type('form').send({ ...form, amount: '2000' });
    expect(changed.status).to.equal(409);
    expect(changed.text).to.include(t('fund.appropriation.already_submitted'));
    expect(await LedgerTransfer.countDocuments()).to.equal(1);
  });

  it('lets only the fund manager record; regulators read the list; others are refused', async () => {
    const manager = await signedIn(h, DEMO.fund_manager);
    const form = { ...(await appropriationPage(manager)), funder: '0', amount: '1000', reference: 'ROLE-0001', date: '2026-02-01' };
    for (const email of [DEMO.tto, DEMO.regulator, DEMO.admin]) {
      const agent = await signedIn(h, email);
      const res = await agent.post('/fund/appropriations').type('form').send({ ...form, _csrf: csrfFrom((await agent.get('/account')).text) });
      expect(res.status, email).to.equal(403);
    }
    expect(await LedgerTransfer.countDocuments()).to.equal(0);
    const regulator = await signedIn(h, DEMO.regulator);
    const list = await regulator.get('/fund/appropriations');
    expect(list.status).to.equal(200);
    expect(keyIn(list.text), 'no form for the regulator').to.equal(null);
    expect((await (await signedIn(h, DEMO.sme)).get('/fund/appropriations')).status).to.equal(403);
    expect((await h.agent().get('/fund/appropriations')).status).to.equal(302);
  });

  it('refuses a rule change field by field: bad numbers, a past date, no reason, shares not adding up to 100 %', async () => {
    const agent = await signedIn(h, DEMO.fund_manager);
    const page = await agent.get('/fund/rules/new');
    expect(page.status).to.equal(200);
    expect(page.text).to.include('value="70"');
    const _csrf = csrfFrom(page.text);
    const yesterday = cstDay(new Date(Date.now() - DAY));
    const bad = await agent.post('/fund/rules/new').type('form').send({ _csrf, ...rulesForm({ compensation: '101', daysOverdue: '0', capPerYear: '1.234', effectiveFrom: yesterday, reason: '' }) });
    expect(bad.status).to.equal(422);
    expect(fieldError(bad.text, 'compensation')).to.equal(t('fund.rules.error.compensation'));
    expect(fieldError(bad.text, 'daysOverdue')).to.equal(t('fund.rules.error.daysOverdue'));
    expect(fieldError(bad.text, 'capPerYear')).to.equal(t('fund.rules.error.capPerYear'));
    expect(fieldError(bad.text, 'effectiveFrom')).to.equal(t('fund.rules.error.effectiveFrom_past', { today: cstDay(new Date()) }));
    expect(fieldError(bad.text, 'reason')).to.equal(t('fund.rules.error.reason'));
    expect(bad.text, 'sticky values').to.include('value="101"');
    const shares = await agent.post('/fund/rules/new').type('form').send({ _csrf, ...rulesForm({ funderShare3: '5' }) });
    expect(shares.status).to.equal(422);
    expect(fieldError(shares.text, 'funders')).to.equal(t('fund.rules.error.funders_sum', { sum: '95' }));
    const row = await agent.post('/fund/rules/new').type('form').send({ _csrf, ...rulesForm({ funderName2: '' }) });
    expect(fieldError(row.text, 'funderName2')).to.equal(t('fund.rules.error.funderName', { row: 3 }));
    expect(await FundRules.countDocuments()).to.equal(1);
    expect(await daysOverdueBeforeDefault(45)).to.equal(90);
    await FundRules.deleteMany({});
    expect(await daysOverdueBeforeDefault(45), 'no rules yet: the configured value').to.equal(45);
  });

  it('appends a new version from a later day, keeps the old one, audits it; rulesInForce picks by date; regulators only read', async () => {
    const before = (await FundRules.findOne({ version: 1 }).lean())!;
    const agent = await signedIn(h, DEMO.fund_manager);
    const _csrf = csrfFrom((await agent.get('/fund/rules/new')).text);
    const form = rulesForm();
    const res = await agent.post('/fund/rules/new').type('form').send({ _csrf, ...form });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/fund/rules');
    const v2 = (await FundRules.findOne({ version: 2 }).lean())!;
    const from = new Date(`${form.effectiveFrom}T00:00:00+08:00`);
    expect(v2).to.include({ compensationBps: 6_000, capPerLicenceFen: 150_000_000, daysOverdueBeforeDefault: 60, lossRateCapBps: 450, subsidyCapPerLicenseePerYearFen: 10_000_000, reason: form.reason });
    expect(v2.effectiveFrom.getTime()).to.equal(from.getTime());
    expect(v2.funders.map((f) => f.shareBps)).to.deep.equal([4_000, 3_000, 2_000, 1_000]);
    expect(await FundRules.findOne({ version: 1 }).lean()).to.deep.equal(before);
    expect(await AuditEvent.countDocuments({ action: 'fund.rules_version_created', 'summary.version': 2 })).to.equal(1);
    expect((await rulesInForce(new Date()))!.version).to.equal(1);
    expect((await rulesInForce(new Date(from.getTime() - 1)))!.version).to.equal(1);
    expect((await rulesInForce(from))!.version).to.equal(2);
    // Today is allowed too, and is then the version in force.
    const today = await agent.post('/fund/rules/new').type('form').send({ _csrf, ...rulesForm({ effectiveFrom: cstDay(new Date()), compensation: '65' }) });
    expect(today.status).to.equal(303);
    expect((await rulesInForce(new Date()))!).to.include({ version: 3, compensationBps: 6_500 });
    // The default sweep now declares defaults after the new version's 60 days, not the configured 90.
    expect(await daysOverdueBeforeDefault(90)).to.equal(60);

    const regulator = await signedIn(h, DEMO.regulator);
    const list = await regulator.get('/fund/rules');
    expect(list.status).to.equal(200);
    expect(list.text).to.include(t('fund.rules.version', { version: 3 })).and.not.include('href="/fund/rules/new"');
    expect((await regulator.get('/fund/rules/new')).status).to.equal(403);
    const refused = await regulator.post('/fund/rules/new').type('form').send({ _csrf: csrfFrom(list.text), ...form });
    expect(refused.status).to.equal(403);
    expect(await FundRules.countDocuments()).to.equal(3);
    expect((await (await signedIn(h, DEMO.tto)).get('/fund/rules')).status).to.equal(403);
  });

  it('the demo loader appropriates RMB 20 m from the four funders and posts the demo licences’ events, idempotently', async () => {
    await loadDemoCatalogue({ patents: 30 });
    await loadDemoLicences();
    const first = await loadDemoFund();
    expect(first.appropriations).to.equal(4);
    expect(await LicensingEvent.countDocuments({ postedAt: null })).to.equal(0);
    const again = await loadDemoFund();
    expect(again).to.include({ appropriations: 0, events: 0, transfers: 0 });
    const appropriations = await LedgerTransfer.find({ code: 'APPROPRIATION' }).lean();
    expect(appropriations.map((a) => a.entries[0]!.amountFen)).to.deep.equal([500_000_000, 500_000_000, 500_000_000, 500_000_000]);
    // Every demo invoice accrued, its payment and its default posted.
    for (const [type, code] of [['invoice.issued', 'ACCRUAL'], ['payment.received', 'PAYMENT'], ['invoice.defaulted', 'DEFAULT']] as const) {
      expect(await LedgerTransfer.countDocuments({ code }), code).to.equal(await LicensingEvent.countDocuments({ type }));
    }
    expect(await LedgerTransfer.countDocuments({ code: 'ACCRUAL' })).to.be.greaterThan(0);
    const fund = await signedIn(h, DEMO.fund_manager);
    expect((await fund.get('/fund/appropriations')).text).to.include('¥20,000,000.00');
  });
});
