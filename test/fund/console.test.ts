/**
 * The regulators' console over HTTP against a journal posted here with
 * post(): the dashboard's figures (pool, exposure under cover, defaults and
 * compensation by province, field, institution and quarter, the default
 * rate, subsidies, claims by state, reservations) in its tables and the
 * SVG charts beside them; the ledger explorer's filters and seq cursor; one
 * transfer's page; who may see what; and bad query input answered with a
 * 4xx and a message, never a 500.
 */
import { expect } from 'chai';
import { Types } from 'mongoose';
import { FundClaim } from '../../models/fund-claim.js';
import { FundCover } from '../../models/fund-cover.js';
import { FundSubsidy } from '../../models/fund-subsidy.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerReversalRequest } from '../../models/ledger-reversal-request.js';
import { LedgerRollup } from '../../models/ledger-rollup.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { acct } from '../../server/domain/ledger-chart.js';
import type { TransferRefs } from '../../server/domain/ledger-record.js';
import { formatYuan } from '../../server/domain/money.js';
import type { Ctx } from '../../server/services/context.js';
import { parseExplorerQuery, exploreLedger } from '../../server/services/fund/console-explorer.js';
import { post, type PostedRecord } from '../../server/services/fund/ledger.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, escapeHtml, signedIn, t, type Agent } from '../integration/helpers.js';

const L1 = new Types.ObjectId().toHexString();
const L2 = new Types.ObjectId().toHexString();
const CLAIM = new Types.ObjectId().toHexString();
const SME = new Types.ObjectId().toHexString();
const at = (day: string) => new Date(`${day}T10:00:00+08:00`);

let n = 0;
const transfer = (code: string, day: string, legs: [string, 'debit' | 'credit', number][], refs: Partial<TransferRefs> = {}, phase: 'posted' | 'pending' = 'posted') => post({
  kind: 'transfer', key: `t-${++n}`, code: code as never, phase, maker: null, effectiveAt: at(day), refs,
  entries: legs.map(([account, side, amountFen]) => ({ account, side, amountFen })),
});

/** Empties the fund's collections (users and sessions stay, so the signed-in agents do too). */
async function clearFund(): Promise<void> {
  for (const m of [LedgerTransfer, LedgerAccount, LedgerHead, LedgerRollup, LedgerReversalRequest, FundClaim, FundCover, FundSubsidy]) await (m as typeof FundClaim).deleteMany({});
}

async function regulatorCtx(): Promise<Ctx> {
  const u = (await User.findOne({ email: DEMO.regulator }).lean())!;
  return { actor: { userId: u._id, email: u.email, role: u.role, orgId: u.organization, orgVerified: true, orgAdmin: false }, meta: { requestId: 'test', ip: '' } };
}

/** The text of a dashboard table's row: its header cell then its cells. */
function tableRow(html: string, chart: string, label: string): string[] {
  const table = new RegExp(`<table class="chart-table" data-chart="${chart}">([\\s\\S]*?)</table>`).exec(html)?.[1] ?? '';
  const row = new RegExp(`<tr><th scope="row">${escapeHtml(label)}</th>(.*?)</tr>`).exec(table)?.[1];
  if (row === undefined) return [];
  return [...row.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((m) => m[1]!);
}
const figure = (html: string, name: string) => /<dd data-figure="([^"]+)">(?:<strong>)?([^<]*)/.exec(html.slice(html.indexOf(`data-figure="${name}"`) - 10))?.[2]?.trim();

describe('regulators’ console', function () {
  let h: AppHarness;
  let regulator: Agent;
  let manager: Agent;
  let u1: string;
  let u2: string;

  before(async () => {
    h = await startApp();
    await loadDemo();
    [regulator, manager] = await Promise.all([signedIn(h, DEMO.regulator), signedIn(h, DEMO.fund_manager)]);
    const univs = await Organization.find({ kind: 'university' }).sort({ nameZh: 1 }).limit(2).lean();
    [u1, u2] = univs.map((o) => String(o._id)) as [string, string];
  });
  after(() => h.stop());

  describe('dashboard', () => {
    const r1 = () => ({ licence: L1, institution: u1, province: 'SH', field: 'biomedicine' });
    const r2 = () => ({ licence: L2, institution: u2, province: 'JS', field: 'new_energy' });
    let defaultL2: PostedRecord;

    before(async () => {
      await clearFund();
      await transfer('APPROPRIATION', '2026-01-10', [[acct.bank(), 'debit', 1_000_000], [acct.pool(), 'credit', 1_000_000]]);
      await transfer('ACCRUAL', '2026-01-15', [[acct.receivable(L1), 'debit', 300_000], [acct.revenue(u1), 'credit', 300_000]], r1());
      await transfer('ACCRUAL', '2026-02-10', [[acct.receivable(L2), 'debit', 200_000], [acct.revenue(u2), 'credit', 200_000]], r2());
      await transfer('PAYMENT', '2026-02-01', [[acct.clearing(), 'debit', 100_000], [acct.receivable(L1), 'credit', 100_000]], r1());
      defaultL2 = await transfer('DEFAULT', '2026-02-20', [[acct.overdue(L2), 'debit', 50_000], [acct.receivable(L2), 'credit', 50_000]], r2());
      await transfer('DEFAULT', '2026-04-05', [[acct.overdue(L1), 'debit', 150_000], [acct.receivable(L1), 'credit', 150_000]], r1());
      const comp = await transfer('COMPENSATION', '2026-04-18', [[acct.pool(), 'debit', 120_000], [acct.compPayable(u1), 'credit', 120_000]], { ...r1(), claim: CLAIM }, 'pending');
      await post({ kind: 'resolve', key: 'comp-post', pendingSeq: comp.seq, action: 'post', amountFen: 100_000, maker: null, checker: null, effectiveAt: at('2026-04-20') });
      const sub = await transfer('SUBSIDY', '2026-03-05', [[acct.pool(), 'debit', 30_000], [acct.subsidyPayable(SME), 'credit', 30_000]], { licensee: SME }, 'pending');
      await post({ kind: 'resolve', key: 'sub-post', pendingSeq: sub.seq, action: 'post', maker: null, checker: null, effectiveAt: at('2026-03-10') });
      await transfer('COMPENSATION', '2026-05-02', [[acct.pool(), 'debit', 50_000], [acct.compPayable(u2), 'credit', 50_000]], r2(), 'pending');
      const now = new Date();
      await FundCover.insertMany([
        { licence: L1, licensor: u1, licensee: SME, covered: true, reason: 'covered', decidedAt: now },
        { licence: L2, licensor: u2, licensee: SME, covered: false, reason: 'not_pay_later', decidedAt: now },
      ]);
      const filer = (await User.findOne({ email: DEMO.tto }).lean())!._id;
      const claim = (state: string, i: number) => ({ number: `CLM-T-${i}`, licence: new Types.ObjectId(), licensor: u1, licensee: SME, lossFen: 1_000, statement: 'x', state, filedBy: filer, filedAt: now });
      await FundClaim.insertMany(['filed', 'filed', 'submitted', 'paid'].map(claim));
    });

    it('shows the pool, the exposure under cover and the totals', async () => {
      const res = await regulator.get('/fund');
      expect(res.status).to.equal(200);
      expect(figure(res.text, 'pool-balance')).to.equal(formatYuan(870_000));
      expect(figure(res.text, 'pool-reserved')).to.equal(formatYuan(50_000));
      expect(figure(res.text, 'pool-available')).to.equal(formatYuan(820_000));
      // L1 is covered: 300,000 accrued − 100,000 paid − 150,000 defaulted still receivable, plus the 150,000 overdue. L2 is not covered.
      expect(figure(res.text, 'exposure')).to.equal(formatYuan(200_000));
      expect(figure(res.text, 'defaults')).to.equal(formatYuan(200_000));
      expect(figure(res.text, 'compensation')).to.equal(formatYuan(100_000));
      expect(figure(res.text, 'accrued')).to.equal(formatYuan(500_000));
      expect(figure(res.text, 'default-rate')).to.equal('40.00%');
      expect(figure(res.text, 'subsidies')).to.equal(formatYuan(30_000));
      expect(figure(res.text, 'reserved-pool')).to.equal(formatYuan(50_000));
    });

    it('tabulates defaults, compensation, accruals and the rate by province, field, institution and quarter', async () => {
      const res = await regulator.get('/fund');
      const [o1, o2] = await Promise.all([u1, u2].map((id) => Organization.findById(id).lean()));
      const y = formatYuan;
      expect(tableRow(res.text, 'chart-province', t('region.SH'))).to.deep.equal([y(150_000), y(100_000), y(300_000), '50.00%']);
      expect(tableRow(res.text, 'chart-province', t('region.JS'))).to.deep.equal([y(50_000), y(0), y(200_000), '25.00%']);
      expect(tableRow(res.text, 'chart-field', t('field.biomedicine'))).to.deep.equal([y(150_000), y(100_000), y(300_000), '50.00%']);
      expect(tableRow(res.text, 'chart-institution', o1!.nameZh)).to.deep.equal([y(150_000), y(100_000), y(300_000), '50.00%']);
      expect(tableRow(res.text, 'chart-institution', o2!.nameZh)).to.deep.equal([y(50_000), y(0), y(200_000), '25.00%']);
      expect(tableRow(res.text, 'chart-quarter', '2026Q1')).to.deep.equal([y(50_000), y(0), y(500_000), '10.00%']);
      expect(tableRow(res.text, 'chart-quarter', '2026Q2')).to.deep.equal([y(150_000), y(100_000), y(0), '—']);
      expect(tableRow(res.text, 'chart-subsidies', '2026Q1')).to.deep.equal([y(30_000)]);
    });

    it('draws each chart as an SVG labelled by its title and description', async () => {
      const res = await regulator.get('/fund');
      for (const id of ['chart-pool', 'chart-province', 'chart-field', 'chart-institution', 'chart-quarter', 'chart-subsidies']) {
        const svg = new RegExp(`<svg class="chart chart-(bar|line)" id="${id}" role="img" aria-labelledby="${id}-title ${id}-desc"[^>]*>([\\s\\S]*?)</svg>`).exec(res.text);
        expect(svg, id).to.not.equal(null);
        expect(svg![2]).to.match(new RegExp(`<title id="${id}-title">[^<]+</title>`));
        expect(svg![2]).to.match(new RegExp(`<desc id="${id}-desc">[^<]+</desc>`));
        expect(svg![2]).to.match(id === 'chart-pool' ? /<polyline class="chart-line/ : /<rect class="chart-bar/);
      }
      // The pool line ends at the balance now: its last point's tooltip is the posted balance.
      const pool = /id="chart-pool"[\s\S]*?<\/svg>/.exec(res.text)![0];
      expect([...pool.matchAll(/<circle[^>]*><title>([^<]*)<\/title>/g)].at(-1)![1]).to.contain(escapeHtml(formatYuan(870_000)));
    });

    it('counts claims by state and lists what is reserved', async () => {
      const res = await manager.get('/fund');
      expect(res.status).to.equal(200);
      const count = (state: string) => new RegExp(`<li data-state="${state}">.*?<strong>(\\d+)</strong>`).exec(res.text)?.[1];
      expect([count('filed'), count('submitted'), count('approved'), count('paid')]).to.deep.equal(['2', '1', '0', '1']);
    });

    it('nets a reversed default out of the figures once it is posted', async () => {
      await post({ kind: 'reverse', key: 'rev-default', reverses: defaultL2.seq, maker: null, checker: null, effectiveAt: at('2026-05-10') });
      const res = await regulator.get('/fund');
      expect(figure(res.text, 'defaults')).to.equal(formatYuan(150_000));
      expect(tableRow(res.text, 'chart-province', t('region.JS'))).to.deep.equal([formatYuan(0), formatYuan(0), formatYuan(200_000), '0.00%']);
      // The exposure under cover is only L1's, unchanged.
      expect(figure(res.text, 'exposure')).to.equal(formatYuan(200_000));
    });
  });

  describe('ledger explorer', () => {
    const records: PostedRecord[] = [];
    before(async () => {
      await clearFund();
      records.length = 0;
      // 120 transfers: every 10th an accrual on L1 (institution u1), the rest appropriations, over four days.
      for (let i = 1; i <= 120; i++) {
        const day = `2026-03-0${1 + (i % 4)}`;
        records.push(await (i % 10 === 0
          ? transfer('ACCRUAL', day, [[acct.receivable(L1), 'debit', i], [acct.revenue(u1), 'credit', i]], { licence: L1, institution: u1, claim: i === 60 ? CLAIM : null })
          : transfer('APPROPRIATION', day, [[acct.bank(), 'debit', i], [acct.pool(), 'credit', i]])));
      }
    });

    const seqsOf = (html: string) => [...html.matchAll(/<tr data-seq="(\d+)">/g)].map((m) => Number(m[1]));

    it('pages newest first with a seq cursor, without gaps or repeats', async () => {
      const seen: number[] = [];
      let path: string | null = '/fund/ledger';
      while (path) {
        const res = await regulator.get(path);
        expect(res.status).to.equal(200);
        const seqs = seqsOf(res.text);
        expect(seqs.length).to.be.at.most(50);
        seen.push(...seqs);
        path = /<a class="button button-secondary" rel="next" href="([^"]+)"/.exec(res.text)?.[1]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&') ?? null;
        expect(seen.length, 'pages end').to.be.below(200);
      }
      expect(seen).to.deep.equal(Array.from({ length: 120 }, (_, i) => 120 - i));
    });

    it('filters by code, account, account prefix, licence, claim, institution and dates', async () => {
      const expectSeqs = async (query: string, pred: (r: PostedRecord) => boolean) => {
        const res = await regulator.get(`/fund/ledger?${query}`);
        expect(res.status, query).to.equal(200);
        expect(seqsOf(res.text), query).to.deep.equal(records.filter(pred).map((r) => r.seq).reverse().slice(0, 50));
      };
      await expectSeqs('code=ACCRUAL', (r) => r.code === 'ACCRUAL');
      await expectSeqs('code=accrual', (r) => r.code === 'ACCRUAL');
      await expectSeqs(`account=${acct.revenue(u1)}`, (r) => r.code === 'ACCRUAL');
      await expectSeqs('account=royalty:receivable:', (r) => r.code === 'ACCRUAL');
      await expectSeqs('account=fund:', (r) => r.code === 'APPROPRIATION');
      await expectSeqs(`licence=${L1}`, (r) => r.refs.licence === L1);
      await expectSeqs(`claim=${CLAIM}`, (r) => r.refs.claim === CLAIM);
      await expectSeqs(`institution=${u1}&code=ACCRUAL`, (r) => r.refs.institution === u1);
      await expectSeqs('from=2026-03-02&to=2026-03-03', (r) => ['2026-03-02', '2026-03-03'].includes(r.effectiveAt.slice(0, 10)));
      await expectSeqs('code=ACCRUAL&from=2026-03-03&to=2026-03-03', (r) => r.code === 'ACCRUAL' && r.effectiveAt.startsWith('2026-03-03'));
      await expectSeqs('code=PAYOUT', () => false);
    });

    it('searches in growing seq windows, and within a budget offers to search further down', async () => {
      const ctx = await regulatorCtx();
      const sparse = parseExplorerQuery({ licence: L1 }).query;
      const indexed = await exploreLedger(ctx, sparse, { firstWindow: 4 });
      expect(indexed.rows.map((r) => r.seq)).to.deep.equal(records.filter((r) => r.refs.licence === L1).map((r) => r.seq).reverse());
      expect(indexed.older).to.equal(null);
      // A prefix is not served by an index: with a budget of 20 seqs a page stops and says where.
      const prefix = parseExplorerQuery({ account: 'royalty:' }).query;
      const first = await exploreLedger(ctx, prefix, { firstWindow: 4, scanBudget: 20 });
      // Windows of 4 then 16 seqs: 117–120 and 101–116, holding the accruals 120 and 110.
      expect(first.searchedDownTo).to.equal(101);
      expect(first.rows.map((r) => r.seq)).to.deep.equal([120, 110]);
      expect(first.older).to.equal(101);
      const next = await exploreLedger(ctx, { ...prefix, before: first.older! }, { firstWindow: 4, scanBudget: 20 });
      expect(next.rows.map((r) => r.seq)).to.deep.equal([100, 90]);
    });

    it('shows one transfer with its legs, references, hashes and what reversed it', async () => {
      const target = records.find((r) => r.refs.claim === CLAIM)!;
      const rev = await post({ kind: 'reverse', key: 'rev-1', reverses: target.seq, maker: null, checker: null, effectiveAt: at('2026-03-09') });
      const res = await regulator.get(`/fund/ledger/${target.seq}`);
      expect(res.status).to.equal(200);
      expect(res.text).to.contain(target.hash).and.to.contain(target.prevHash);
      expect(res.text).to.contain(`<a href="/fund/ledger/${rev.seq}" data-link="reversed-by">#${rev.seq}</a>`);
      expect(res.text).to.contain(`href="/licences/${L1}"`).and.to.contain(`href="/fund/claims/${CLAIM}"`);
      // Province and field named in the reader's language, their codes beside them.
      const named = await post({ kind: 'transfer', key: 'named-1', code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt: at('2026-03-09'),
        refs: { licence: L1, institution: u1, province: 'SH', field: 'biomedicine' },
        entries: [{ account: acct.receivable(L1), side: 'debit', amountFen: 5 }, { account: acct.revenue(u1), side: 'credit', amountFen: 5 }] });
      for (const page of [`/fund/ledger/${named.seq}`, `/fund/ledger?licence=${L1}`]) {
        const text = (await regulator.get(page)).text;
        expect(text, page).to.contain(`${t('region.SH')} <code class="id">SH</code>`).and.to.contain(`${t('field.biomedicine')} <code class="id">biomedicine</code>`);
      }
      const back = await regulator.get(`/fund/ledger/${rev.seq}`);
      expect(back.text).to.contain(`<a href="/fund/ledger/${target.seq}" data-link="reverses">#${target.seq}</a>`);
    });

    it('answers bad query input with a 4xx and a message, never a 500', async () => {
      const cases: [string, number, string][] = [
        ['/fund/ledger?code=FOO', 400, t('console.error.bad_code', { value: 'FOO' })],
        ['/fund/ledger?before=abc', 400, t('console.error.bad_seq', { value: 'abc' })],
        ['/fund/ledger?from=2026-13-45', 400, t('console.error.bad_date', { value: '2026-13-45' })],
        ['/fund/ledger?to=2026-02-30', 400, t('console.error.bad_date', { value: '2026-02-30' })],
        ['/fund/ledger?licence=xyz', 400, t('console.error.bad_id', { value: 'xyz' })],
        ['/fund/ledger?account=%24where', 400, t('console.error.bad_account', { value: '$where' })],
        ['/fund/ledger?from=2026-03-05&to=2026-03-01', 400, t('console.error.date_order', { from: '2026-03-05', to: '2026-03-01' })],
        ['/fund/ledger/abc', 400, t('console.error.bad_seq', { value: 'abc' })],
        ['/fund/ledger/99999', 404, t('ledger.transfer_not_found', { seq: 99999 })],
      ];
      for (const [path, status, message] of cases) {
        const res = await regulator.get(path);
        expect(res.status, path).to.equal(status);
        expect(res.text, path).to.contain(escapeHtml(message));
      }
      // An operator where a string belongs is not a string: ignored, not passed to the database.
      const res = await regulator.get('/fund/ledger?code[$ne]=x');
      expect(res.status).to.equal(200);
      expect(seqsOf(res.text).length).to.equal(50);
    });
  });

  describe('who may open the console', () => {
    it('lets regulators and fund managers in, refuses everyone else, sends visitors to log in', async () => {
      const [sme, tto, admin] = await Promise.all([signedIn(h, DEMO.sme), signedIn(h, DEMO.tto), signedIn(h, DEMO.admin)]);
      for (const path of ['/fund', '/fund/ledger', '/fund/ledger/1', '/fund/trial-balance', '/fund/trial-balance.csv', '/fund/reversals']) {
        for (const agent of [sme, tto, admin]) expect((await agent.get(path)).status, path).to.equal(403);
        const anon = await h.agent().get(path);
        expect(anon.status, path).to.equal(302);
        expect(anon.headers.location).to.equal('/login');
      }
      expect((await manager.get('/fund/reversals')).status).to.equal(200);
    });
  });
});
