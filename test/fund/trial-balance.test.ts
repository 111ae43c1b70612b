/**
 * The trial balance against the journal it summarises: by account kind and
 * by account, as of several dates, equal to the same sums recomputed here
 * from every transfer — before and after further postings (back-dated ones
 * included) reach the console's in-process summary; Σ debits = Σ credits;
 * reservations for today only; account pages by cursor; CSV and JSON
 * exports byte for byte reproducible; bad dates refused with a message.
 */
import { expect } from 'chai';
import { Types } from 'mongoose';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerRollup } from '../../models/ledger-rollup.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { accountSpec, acct } from '../../server/domain/ledger-chart.js';
import { formatYuan } from '../../server/domain/money.js';
import { buildLedgerSummary, ledgerSummary } from '../../server/services/fund/console-summary.js';
import { post } from '../../server/services/fund/ledger.js';
import { cstDay } from '../../server/services/fund/ledger-post.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, escapeHtml, signedIn, t, type Agent } from '../integration/helpers.js';

const DAY = 86_400_000;
const UNIV = new Types.ObjectId().toHexString();
const LICENCES = Array.from({ length: 6 }, () => new Types.ObjectId().toHexString());
const at = (day: string, hour = 10) => new Date(`${day}T${String(hour).padStart(2, '0')}:00:00+08:00`);
const today = cstDay(new Date());

let n = 0;
const transfer = (code: string, effectiveAt: Date, legs: [string, 'debit' | 'credit', number][], phase: 'posted' | 'pending' = 'posted') => post({
  kind: 'transfer', key: `tb-${++n}`, code: code as never, phase, maker: null, effectiveAt, refs: { institution: UNIV },
  entries: legs.map(([account, side, amountFen]) => ({ account, side, amountFen })),
});

/** Posted debits and credits by kind and by account up to the end of `asOf` (China time), from every transfer. */
async function fromJournal(asOf: string) {
  const end = Date.parse(`${asOf}T00:00:00+08:00`) + DAY;
  const kinds = new Map<string, [number, number]>();
  const accounts = new Map<string, [number, number]>();
  for (const d of await LedgerTransfer.find().lean()) {
    if ((d.phase !== 'posted' && d.phase !== 'post') || d.effectiveAt.getTime() >= end) continue;
    for (const e of d.entries) {
      for (const [map, key] of [[kinds, accountSpec(e.account)!.kind], [accounts, e.account]] as const) {
        const x = map.get(key) ?? [0, 0];
        x[e.side === 'debit' ? 0 : 1] += e.amountFen;
        map.set(key, x);
      }
    }
  }
  return { kinds, accounts };
}

const rowsOf = (json: { rows: Record<string, string | number>[] }, by: 'kind' | 'account') => new Map(json.rows.map((r) => [r[by] as string, [r.debitsFen as number, r.creditsFen as number]]));

describe('trial balance', function () {
  let h: AppHarness;
  let regulator: Agent;
  let manager: Agent;
  const dates = ['2026-01-04', '2026-01-05', '2026-02-14', '2026-03-31', '2026-06-30', today];

  before(async () => {
    h = await startApp();
    await loadDemo();
    [regulator, manager] = await Promise.all([signedIn(h, DEMO.regulator), signedIn(h, DEMO.fund_manager)]);
    await transfer('APPROPRIATION', at('2026-01-05', 9), [[acct.bank(), 'debit', 5_000_000], [acct.pool(), 'credit', 5_000_000]]);
    // Accruals, payments and defaults over six months; one accrual in the last hour of a China day (16:30 UTC).
    for (const [i, lic] of LICENCES.entries()) {
      const m = String(1 + i).padStart(2, '0');
      await transfer('ACCRUAL', new Date(`2026-${m}-14T23:30:00+08:00`), [[acct.receivable(lic), 'debit', 100_000 + i], [acct.revenue(UNIV), 'credit', 100_000 + i]]);
      await transfer('PAYMENT', at(`2026-${m}-20`), [[acct.clearing(), 'debit', 40_000], [acct.receivable(lic), 'credit', 40_000]]);
      if (i % 2) await transfer('DEFAULT', at(`2026-${m}-28`), [[acct.overdue(lic), 'debit', 60_000 + i], [acct.receivable(lic), 'credit', 60_000 + i]]);
    }
    const comp = await transfer('COMPENSATION', at('2026-03-01'), [[acct.pool(), 'debit', 90_000], [acct.compPayable(UNIV), 'credit', 90_000]], 'pending');
    await post({ kind: 'resolve', key: 'tb-post', pendingSeq: comp.seq, action: 'post', amountFen: 70_000, maker: null, checker: null, effectiveAt: at('2026-03-02') });
    const voided = await transfer('COMPENSATION', at('2026-03-03'), [[acct.pool(), 'debit', 10_000], [acct.compPayable(UNIV), 'credit', 10_000]], 'pending');
    await post({ kind: 'resolve', key: 'tb-void', pendingSeq: voided.seq, action: 'void', maker: null, checker: null, effectiveAt: at('2026-03-04') });
    const wrong = await transfer('ACCRUAL', at('2026-04-02'), [[acct.receivable(LICENCES[0]!), 'debit', 777], [acct.revenue(UNIV), 'credit', 777]]);
    await post({ kind: 'reverse', key: 'tb-rev', reverses: wrong.seq, maker: null, checker: null, effectiveAt: at('2026-04-03') });
    // Still reserved now: today's trial balance shows it apart.
    await transfer('COMPENSATION', at('2026-05-01'), [[acct.pool(), 'debit', 25_000], [acct.compPayable(UNIV), 'credit', 25_000]], 'pending');
  });
  after(() => h.stop());

  async function json(asOf: string, by: 'kind' | 'account', agent = regulator) {
    const res = await agent.get(`/fund/trial-balance.json?asOf=${asOf}&by=${by}`);
    expect(res.status, `${by} ${asOf}`).to.equal(200);
    return JSON.parse(res.text);
  }

  async function expectMatchesJournal(label: string) {
    for (const asOf of dates) {
      const expected = await fromJournal(asOf);
      const byKind = await json(asOf, 'kind');
      expect(rowsOf(byKind, 'kind'), `${label}: by kind ${asOf}`).to.deep.equal(expected.kinds);
      expect(byKind.totals.balanced).to.equal(true);
      expect(byKind.totals.debitsFen).to.equal(byKind.totals.creditsFen);
      const byAccount = await json(asOf, 'account');
      expect(rowsOf(byAccount, 'account'), `${label}: by account ${asOf}`).to.deep.equal(expected.accounts);
      expect(byAccount.totals.balanced).to.equal(true);
    }
  }

  it('by kind and by account, as of several dates, equals the journal summed again', async () => {
    await expectMatchesJournal('first build');
  });

  it('stays equal after more postings reach the summary, back-dated ones included', async () => {
    await transfer('APPROPRIATION', at('2026-01-04', 20), [[acct.bank(), 'debit', 123], [acct.pool(), 'credit', 123]]);
    await transfer('PAYMENT', at('2026-02-14', 23), [[acct.clearing(), 'debit', 1_000], [acct.receivable(LICENCES[0]!), 'credit', 1_000]]);
    await transfer('APPROPRIATION', new Date(), [[acct.bank(), 'debit', 5], [acct.pool(), 'credit', 5]]);
    await expectMatchesJournal('after folding in');
  });

  it('folds new transfers into the summary it has (reservations, partial posts, voids), agreeing with the account totals', async () => {
    const before = await ledgerSummary();
    const seq = before.seq;
    const held = await transfer('COMPENSATION', at('2026-06-01'), [[acct.pool(), 'debit', 4_000], [acct.compPayable(UNIV), 'credit', 4_000]], 'pending');
    await post({ kind: 'resolve', key: 'tb-fold-post', pendingSeq: held.seq, action: 'post', amountFen: 1_500, maker: null, checker: null, effectiveAt: at('2026-06-02') });
    const other = await transfer('COMPENSATION', at('2026-06-03'), [[acct.pool(), 'debit', 700], [acct.compPayable(UNIV), 'credit', 700]], 'pending');
    await post({ kind: 'resolve', key: 'tb-fold-void', pendingSeq: other.seq, action: 'void', maker: null, checker: null, effectiveAt: at('2026-06-04') });
    const after = await ledgerSummary();
    expect(after, 'the same summary, brought forward').to.equal(before);
    expect(after.seq).to.equal(seq + 4);
    for (const a of await LedgerAccount.find().lean()) {
      const s = after.accounts.get(a.key)!;
      expect([s.debitsPosted, s.creditsPosted, s.debitsPending, s.creditsPending], a.key).to.deep.equal([a.debitsPosted, a.creditsPosted, a.debitsPending, a.creditsPending]);
    }
    await expectMatchesJournal('after reservations');
    // What was folded in equals what a fresh build from the rollups and account totals gives.
    const fresh = await buildLedgerSummary();
    const flat = (x: typeof fresh) => ({
      seq: x.seq, hash: x.hash, dims: [...x.dims].filter(([, v]) => v).sort(),
      days: [...x.days].flatMap(([d, kinds]) => [...kinds].map(([k, v]) => [d, k, v.debits, v.credits, v.entries])).sort(),
      accounts: [...x.accounts].map(([k, a]) => [k, a.kind, a.debitsPosted, a.creditsPosted, a.debitsPending, a.creditsPending]).sort(),
    });
    expect(flat(after)).to.deep.equal(flat(fresh));
    expect(fresh.dims.size).to.be.above(0);
  });

  it('today by account equals the account totals', async () => {
    const accounts = await LedgerAccount.find().lean();
    const expected = new Map(accounts.filter((a) => a.debitsPosted || a.creditsPosted).map((a) => [a.key, [a.debitsPosted, a.creditsPosted]]));
    expect(rowsOf(await json(today, 'account'), 'account')).to.deep.equal(expected);
  });

  it('shows the page with both totals checked, and reservations only for today', async () => {
    const res = await manager.get('/fund/trial-balance');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('data-balanced="true"');
    const total = (name: string) => new RegExp(`data-total="${name}">([^<]*)<`).exec(res.text)![1];
    expect(total('debits')).to.equal(total('credits'));
    expect(res.text).to.contain(`<tr data-pending="fund_pool"><th scope="row">${escapeHtml(t('console.kind.fund_pool'))}</th><td class="num">${escapeHtml(formatYuan(25_000))}</td>`);
    const past = await manager.get('/fund/trial-balance?asOf=2026-06-30');
    expect(past.text).to.not.contain('data-pending=');
    const head = await LedgerHead.findOne().lean();
    expect(head!.seq).to.be.above(10);
  });

  it('pages accounts by key with a cursor and keeps the whole ledger’s totals', async () => {
    const all = [...rowsOf(await json('2026-06-30', 'account'), 'account').keys()];
    const first = await regulator.get('/fund/trial-balance?asOf=2026-06-30&by=account&kind=receivable');
    const keys = [...first.text.matchAll(/<tr data-row="(royalty:receivable:[0-9a-f]+)">/g)].map((m) => m[1]);
    expect(keys).to.deep.equal(all.filter((k) => k.startsWith('royalty:receivable:')));
    const after = await regulator.get(`/fund/trial-balance?asOf=2026-06-30&by=account&after=${encodeURIComponent(all[2]!)}`);
    expect([...after.text.matchAll(/<tr data-row="([^"]+)">/g)].map((m) => m[1])).to.deep.equal(all.slice(3));
    expect(after.text).to.contain(escapeHtml(t('console.tb.total_accounts', { count: all.length })));
  });

  it('exports the same bytes for the same date, whatever is posted later', async () => {
    const files = async () => Promise.all(['csv', 'json'].flatMap((f) => ['kind', 'account'].map((by) => regulator.get(`/fund/trial-balance.${f}?asOf=2026-03-31&by=${by}`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }))));
    const before = await files();
    await transfer('APPROPRIATION', at('2026-04-01'), [[acct.bank(), 'debit', 999], [acct.pool(), 'credit', 999]]);
    const again = await files();
    for (const [i, res] of before.entries()) {
      expect(res.status).to.equal(200);
      expect(Buffer.compare(res.body as Buffer, again[i]!.body as Buffer), res.headers['content-disposition']).to.equal(0);
    }
    const csv = (before[0]!.body as Buffer).toString('utf8');
    expect(csv.startsWith('\uFEFFkind,normal,debits_yuan,credits_yuan,debit_balance_yuan,credit_balance_yuan\r\n')).to.equal(true);
    expect(csv).to.match(/\r\nTOTAL,balanced,(\d+\.\d\d),\1,(\d+\.\d\d),\2\r\n$/);
    expect(before[0]!.headers['content-disposition']).to.contain('trial-balance-kind-2026-03-31.csv');
    // JSON: fixed key order, amounts in fen.
    const doc = JSON.parse((before[2]!.body as Buffer).toString('utf8'));
    expect(Object.keys(doc)).to.deep.equal(['ledger', 'asOf', 'by', 'unit', 'rows', 'totals']);
    expect(Object.keys(doc.rows[0])).to.deep.equal(['kind', 'normal', 'debitsFen', 'creditsFen', 'debitBalanceFen', 'creditBalanceFen']);
  });

  it('refuses a date that is not one, or in the future, with a message; ignores an unknown view', async () => {
    const tomorrow = cstDay(new Date(Date.now() + DAY));
    const cases: [string, string][] = [
      ['/fund/trial-balance?asOf=2026-13-45', t('console.error.bad_date', { value: '2026-13-45' })],
      ['/fund/trial-balance.csv?asOf=2026-02-30', t('console.error.bad_date', { value: '2026-02-30' })],
      ['/fund/trial-balance.json?asOf=yesterday', t('console.error.bad_date', { value: 'yesterday' })],
      [`/fund/trial-balance?asOf=${tomorrow}`, t('console.error.future_date', { value: tomorrow, today })],
    ];
    for (const [path, message] of cases) {
      const res = await regulator.get(path);
      expect(res.status, path).to.equal(400);
      expect(res.text, path).to.contain(escapeHtml(message));
    }
    const odd = await regulator.get('/fund/trial-balance?asOf=2026-03-31&by=everything&kind=nonsense');
    expect(odd.status).to.equal(200);
    expect(odd.text).to.contain('<tr data-row="fund_pool">');
    expect(await LedgerRollup.countDocuments()).to.be.above(0);
  });
});
