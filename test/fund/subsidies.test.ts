/**
 * Subsidies to micro and small enterprises: the computation (pure); the
 * basis read from the ledger (payments and recoveries credited in the
 * quarter, reversals subtracted, nothing else); the eligible list; the
 * two-phase, four-eyes path to a payment run with subsidy_payable back at
 * zero; the annual cap across quarters and the pool binding; and the pages.
 */
import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { FundSubsidy } from '../../models/fund-subsidy.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { Organization } from '../../models/organization.js';
import { acct, postedBalance } from '../../server/domain/ledger-chart.js';
import { parseQuarter } from '../../server/domain/quarters.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../server/errors.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import type { Ctx } from '../../server/services/context.js';
import { ensureInitialRules } from '../../server/services/fund/fund-rules.js';
import { post } from '../../server/services/fund/ledger.js';
import { runPayments } from '../../server/services/fund/payment-runs.js';
import { computeSubsidy, decideSubsidy, eligibleSmes, parseSubsidyQuarter, royaltiesPaid, submitSubsidy } from '../../server/services/fund/subsidies.js';
import { csrfFrom, startApp, type AppHarness } from '../helpers/app-harness.js';
import { appropriate, FUND_EMAILS, fundCtx, orgOfEmail, paidRoyalty } from '../integration/authorization-fund.js';
import { DEMO, expectShows, rejects, signedIn, t, type Agent } from '../integration/helpers.js';

/** Two ended quarters of one year, under the initial rules (in force from 2025-01-01). */
const Q2 = { label: '2025-Q2', inside: new Date('2025-05-15T04:00:00Z'), after: new Date('2025-07-01T02:00:00Z') };
const Q3 = { label: '2025-Q3', inside: new Date('2025-08-15T04:00:00Z') };

const KEEP = new Set(['users', 'organizations', 'sessions']);
async function resetFundState(): Promise<void> {
  for (const c of await mongoose.connection.db!.collections()) if (!KEEP.has(c.collectionName)) await c.deleteMany({});
}

describe('fund subsidies: computation (pure)', () => {
  const rules = { version: 1, subsidyMicroBps: 1_000, subsidySmallBps: 500, subsidyCapPerLicenseePerYearFen: 10_000_000 };
  const base = { quarter: '2025-Q2', basisFen: 1_234_567, sizeClass: 'micro' as const, year: 2025, usedInYearFen: 0, poolAvailableFen: 1e9, rules };

  it('is the size class\'s share of royalties paid, half up; capped by the year and the pool, naming the limit', () => {
    expect(computeSubsidy(base)).to.include({ ratioBps: 1_000, rawFen: 123_457, amountFen: 123_457, limitedBy: 'ratio' });
    expect(computeSubsidy({ ...base, sizeClass: 'small' })).to.include({ ratioBps: 500, rawFen: 61_728, amountFen: 61_728 });
    expect(computeSubsidy({ ...base, usedInYearFen: 9_950_000 })).to.include({ remainingFen: 50_000, amountFen: 50_000, limitedBy: 'per_licensee_year' });
    expect(computeSubsidy({ ...base, poolAvailableFen: 7 })).to.include({ amountFen: 7, limitedBy: 'pool' });
    expect(computeSubsidy({ ...base, basisFen: 0 })).to.include({ amountFen: 0, limitedBy: 'ratio' });
  });

  it('reads quarters as YYYY-Qn (or YYYYQn) and nothing else', () => {
    expect(parseSubsidyQuarter('2025-Q3')).to.include({ label: '2025-Q3', period: '2025Q3' });
    expect(parseSubsidyQuarter(' 2025q1 ')).to.include({ label: '2025-Q1' });
    for (const bad of ['2025-Q5', '2025-3', 'Q3-2025', '', 42]) expect(parseSubsidyQuarter(bad), String(bad)).to.equal(null);
  });
});

describe('fund subsidies (embedded store)', function () {
  let h: AppHarness;
  let univ: Types.ObjectId;
  let micro: Types.ObjectId;
  let small: Types.ObjectId;
  let medium: Types.ObjectId;
  let fm: Ctx;
  let reg: Ctx;
  let agents: Record<'fm' | 'reg' | 'sme', Agent>;

  before(async () => {
    h = await startApp();
    await loadDemo();
    univ = await orgOfEmail(FUND_EMAILS.tto);
    [micro, small, medium] = await Promise.all(['sme.micro', 'sme.small', 'sme.medium'].map((u) => orgOfEmail(`${u}@demo.yrd-exchange.cn`)));
    [fm, reg] = [await fundCtx(FUND_EMAILS.fund_manager), await fundCtx(FUND_EMAILS.regulator)];
    const [a, b, c] = await Promise.all([DEMO.fund_manager, DEMO.regulator, DEMO.sme].map((e) => signedIn(h, e)));
    agents = { fm: a!, reg: b!, sme: c! };
  });
  beforeEach(async () => {
    await resetFundState();
    await ensureInitialRules();
  });
  after(() => h.stop());

  it('the demo\'s enterprises have the size classes the tests rely on', async () => {
    const classes = await Promise.all([micro, small, medium].map(async (id) => (await Organization.findById(id).lean())!.enterprise!.sizeClass));
    expect(classes).to.deep.equal(['micro', 'small', 'medium']);
  });

  it('basis: payments and recoveries credited in the quarter, less reversed ones; not accruals, overpayments or other quarters', async () => {
    const licence = new Types.ObjectId();
    const refs = { licence: String(licence), licensee: String(micro), institution: String(univ) };
    const at = Q2.inside;
    const tx = (key: string, code: 'ACCRUAL' | 'DEFAULT' | 'RECOVERY' | 'PAYMENT', entries: [string, 'debit' | 'credit', number][], effectiveAt = at) =>
      post({ kind: 'transfer', key, code, phase: 'posted', maker: null, effectiveAt, refs, entries: entries.map(([account, side, amountFen]) => ({ account, side, amountFen })) });
    await tx('a1', 'ACCRUAL', [[acct.receivable(licence), 'debit', 900_000], [acct.revenue(univ), 'credit', 900_000]]);
    await tx('d1', 'DEFAULT', [[acct.overdue(licence), 'debit', 300_000], [acct.receivable(licence), 'credit', 300_000]]);
    const pay = await tx('p1', 'PAYMENT', [[acct.clearing(), 'debit', 250_000], [acct.receivable(licence), 'credit', 200_000], [acct.licenseeCredit(micro), 'credit', 50_000],
      [acct.settled(univ), 'debit', 250_000], [acct.clearing(), 'credit', 250_000]]);
    await tx('r1', 'RECOVERY', [[acct.clearing(), 'debit', 100_000], [acct.overdue(licence), 'credit', 100_000], [acct.settled(univ), 'debit', 100_000], [acct.clearing(), 'credit', 100_000]]);
    await tx('p2', 'PAYMENT', [[acct.clearing(), 'debit', 40_000], [acct.receivable(licence), 'credit', 40_000], [acct.settled(univ), 'debit', 40_000], [acct.clearing(), 'credit', 40_000]]);
    await tx('p-next', 'PAYMENT', [[acct.clearing(), 'debit', 70_000], [acct.receivable(licence), 'credit', 70_000], [acct.settled(univ), 'debit', 70_000], [acct.clearing(), 'credit', 70_000]], Q2.after);
    await paidRoyalty(small, univ, 500_000, at);
    const q = parseQuarter('2025Q2')!;
    expect((await royaltiesPaid(q)).get(String(micro))).to.equal(200_000 + 100_000 + 40_000);
    await post({ kind: 'reverse', key: 'p1:rev', reverses: pay.seq, maker: 'fm', checker: 'reg', effectiveAt: at });
    const paid = await royaltiesPaid(q);
    expect(paid.get(String(micro))).to.equal(100_000 + 40_000);
    expect(paid.get(String(small))).to.equal(500_000);
    expect((await royaltiesPaid(q, micro)).size).to.equal(1);
  });

  it('eligible list, submission (pending), four eyes, partial approval once, payment run: subsidy_payable back to zero', async () => {
    await appropriate(50_000_000);
    await paidRoyalty(micro, univ, 2_000_000, Q2.inside);
    await paidRoyalty(small, univ, 1_000_000, Q2.inside);
    await paidRoyalty(medium, univ, 9_000_000, Q2.inside);
    const list = await eligibleSmes(fm, Q2.label);
    expect(list.rows.map((r) => [String(r.org._id), r.sizeClass, r.basisFen])).to.deep.equal([[String(micro), 'micro', 2_000_000], [String(small), 'small', 1_000_000]]);
    await rejects(eligibleSmes(await fundCtx(DEMO.sme), Q2.label), ForbiddenError);

    const s = await submitSubsidy(fm, { licensee: String(micro), quarter: Q2.label });
    expect(s).to.include({ state: 'submitted', quarter: '2025-Q2', sizeClass: 'micro', basisFen: 2_000_000, ratioBps: 1_000, amountFen: 200_000, rulesVersion: 1 });
    expect(s.number).to.match(/^SB-\d{4}-000001$/);
    const pending = (await LedgerTransfer.findOne({ seq: s.pendingSeq }).lean())!;
    expect(pending).to.include({ code: 'SUBSIDY', phase: 'pending' });
    expect(pending.entries.map((e) => [e.account, e.side, e.amountFen])).to.deep.equal([[acct.pool(), 'debit', 200_000], [acct.subsidyPayable(micro), 'credit', 200_000]]);
    expect((await rejects(submitSubsidy(fm, { licensee: String(micro), quarter: Q2.label }), ConflictError)).key).to.equal('fund.subsidy.exists');

    const makerAsRegulator: Ctx = { ...fm, actor: { ...fm.actor!, role: 'regulator' } };
    expect((await rejects(decideSubsidy(makerAsRegulator, String(s._id), { decision: 'approve', reason: '同意' }), ForbiddenError)).key).to.equal('fund.decision.four_eyes');
    await rejects(decideSubsidy(fm, String(s._id), { decision: 'approve', reason: '同意' }), ForbiddenError);
    const ok = await decideSubsidy(reg, String(s._id), { decision: 'approve', amount: '1500', reason: '按核实金额批准。' });
    expect(ok).to.include({ state: 'approved', approvedFen: 150_000 });
    expect((await rejects(decideSubsidy(reg, String(s._id), { decision: 'reject', reason: '再审' }), ConflictError)).key).to.equal('fund.subsidy.already_decided');
    expect(await LedgerAccount.findOne({ key: acct.pool() }).lean()).to.include({ debitsPosted: 150_000, debitsPending: 0 });

    const run = await runPayments(fm);
    expect(run.paid.map((p) => [p.kind, p.amountFen])).to.deep.equal([['subsidy', 150_000]]);
    expect((await FundSubsidy.findById(s._id).lean())!).to.include({ state: 'paid' });
    expect(postedBalance('credit', (await LedgerAccount.findOne({ key: acct.subsidyPayable(micro) }).lean())!)).to.equal(0);
    expect((await runPayments(fm)).paid).to.have.length(0);
  });

  it('refuses what is not a subsidy: an open quarter (422), a medium enterprise (409), the year\'s cap used up, an empty pool', async () => {
    await appropriate(50_000_000);
    const open = await rejects(submitSubsidy(fm, { licensee: String(micro), quarter: '2099-Q1' }), ValidationError);
    expect(open.fields.quarter!.key).to.equal('fund.subsidy.quarter_not_ended');
    expect((await rejects(submitSubsidy(fm, { licensee: String(micro), quarter: 'soon' }), ValidationError)).fields.quarter!.key).to.equal('fund.subsidy.quarter_invalid');
    expect((await rejects(submitSubsidy(fm, { licensee: String(medium), quarter: Q2.label }), ConflictError)).key).to.equal('fund.subsidy.not_eligible');
    expect((await rejects(submitSubsidy(fm, { licensee: String(micro), quarter: Q2.label }), ConflictError)).key).to.equal('fund.subsidy.zero.basis');
    // The annual cap (RMB 100,000) spans the year's quarters: Q2 takes 95,000, Q3 gets the 5,000 left.
    await paidRoyalty(micro, univ, 950_000_00, Q2.inside);
    await paidRoyalty(micro, univ, 100_000_00, Q3.inside);
    const a = await submitSubsidy(fm, { licensee: String(micro), quarter: Q2.label });
    expect(a.amountFen).to.equal(9_500_000);
    const b = await submitSubsidy(fm, { licensee: String(micro), quarter: Q3.label });
    expect(b.computation).to.include({ rawFen: 1_000_000, usedInYearFen: 9_500_000, amountFen: 500_000, limitedBy: 'per_licensee_year' });
    await decideSubsidy(reg, String(b._id), { decision: 'reject', reason: '重复申报' });
    // Rejected, it no longer counts; but the pool now binds.
    const poolBefore = (await LedgerAccount.findOne({ key: acct.pool() }).lean())!;
    expect(poolBefore.debitsPending).to.equal(9_500_000);
    await paidRoyalty(small, univ, 20_000_000_00, Q2.inside);
    const c = await submitSubsidy(fm, { licensee: String(small), quarter: Q2.label });
    expect(c.computation).to.include({ limitedBy: 'per_licensee_year', amountFen: 10_000_000 });
    await paidRoyalty(small, univ, 20_000_000_00, Q3.inside);
    expect((await rejects(submitSubsidy(fm, { licensee: String(small), quarter: Q3.label }), ConflictError)).key).to.equal('fund.subsidy.zero.cap');
  });

  it('the pool binds a subsidy, and an empty pool refuses with the pool\'s message', async () => {
    await appropriate(30_000);
    await paidRoyalty(micro, univ, 1_000_000, Q2.inside);
    await paidRoyalty(small, univ, 1_000_000, Q2.inside);
    const a = await submitSubsidy(fm, { licensee: String(micro), quarter: Q2.label });
    expect(a.computation).to.include({ rawFen: 100_000, amountFen: 30_000, limitedBy: 'pool' });
    expect((await rejects(submitSubsidy(fm, { licensee: String(small), quarter: Q2.label }), ConflictError)).key).to.equal('fund.subsidy.zero.pool');
  });

  it('pages: the fund manager computes and submits, the regulator decides, the run pays; others are refused', async () => {
    await appropriate(50_000_000);
    await paidRoyalty(micro, univ, 3_000_000, Q2.inside);
    const list = await agents.fm.get(`/fund/subsidies?quarter=${Q2.label}`);
    expect(list.status).to.equal(200);
    expect(list.text).to.include(`/fund/subsidies/new?licensee=${micro}&amp;quarter=${Q2.label}`);
    const bad = await agents.fm.get('/fund/subsidies?quarter=2025-Q9');
    expect(bad.status).to.equal(422);
    expectShows(bad.text, t('fund.subsidy.quarter_invalid'));
    const page = await agents.fm.get(`/fund/subsidies/new?licensee=${micro}&quarter=${Q2.label}`);
    expect(page.status).to.equal(200);
    expectShows(page.text, t('fund.subsidy.new.submit', { amount: '¥3,000.00' }));
    const posted = await agents.fm.post('/fund/subsidies').type('form').send({ _csrf: csrfFrom(page.text), licensee: String(micro), quarter: Q2.label });
    expect(posted.status).to.equal(303);
    const s = (await FundSubsidy.findOne({ licensee: micro }).lean())!;
    expect(posted.headers.location).to.equal(`/fund/subsidies/${s._id}`);
    const again = await agents.fm.post('/fund/subsidies').type('form').send({ _csrf: csrfFrom(page.text), licensee: String(micro), quarter: Q2.label });
    expect(again.status).to.equal(409);
    const regPage = await agents.reg.get(`/fund/subsidies/${s._id}`);
    expectShows(regPage.text, t('fund.subsidy.decide.title'));
    const noReason = await agents.reg.post(`/fund/subsidies/${s._id}/decision`).type('form').send({ _csrf: csrfFrom(regPage.text), decision: 'approve', reason: '' });
    expect(noReason.status).to.equal(422);
    const dec = await agents.reg.post(`/fund/subsidies/${s._id}/decision`).type('form').send({ _csrf: csrfFrom(regPage.text), decision: 'approve', reason: '同意' });
    expect(dec.status).to.equal(303);
    const runs = await agents.fm.get('/fund/payment-runs');
    expectShows(runs.text, s.number);
    await agents.fm.post('/fund/payment-runs').type('form').send({ _csrf: csrfFrom(runs.text) });
    expect((await FundSubsidy.findById(s._id).lean())!.state).to.equal('paid');
    expect((await agents.sme.get('/fund/subsidies')).status).to.equal(403);
    expect((await agents.reg.get(`/fund/subsidies/new?licensee=${micro}&quarter=${Q2.label}`)).status).to.equal(403);
  });
});
