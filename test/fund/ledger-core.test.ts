/**
 * The ledger core against the embedded store: balanced postings only, the
 * pool never over-committed, receivables never over-settled, idempotency
 * keys (replay returns the original; a changed payload is refused), pending
 * transfers resolved at most once (partial posts too), reversals once, and a
 * contiguous hash chain — with every refusal leaving nothing written.
 */
import { expect } from 'chai';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { acct } from '../../server/domain/ledger-chart.js';
import { canonical, chainHash, GENESIS_HASH } from '../../server/domain/ledger-record.js';
import { post } from '../../server/services/fund/ledger.js';
import { journalRecordOf } from '../../server/services/fund/ledger-post.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';

const UNIV = '64b000000000000000000001';
const LIC = '64b0000000000000000000a1';
const at = new Date('2026-03-01T02:00:00Z');

const appropriate = (key: string, amountFen: number) => post({
  kind: 'transfer', key, code: 'APPROPRIATION', phase: 'posted', maker: null, effectiveAt: at,
  entries: [{ account: acct.bank(), side: 'debit', amountFen }, { account: acct.pool(), side: 'credit', amountFen }],
});
const reserve = (key: string, amountFen: number) => post({
  kind: 'transfer', key, code: 'COMPENSATION', phase: 'pending', maker: 'm', effectiveAt: at,
  entries: [{ account: acct.pool(), side: 'debit', amountFen }, { account: acct.compPayable(UNIV), side: 'credit', amountFen }],
});

async function refusal(p: Promise<unknown>): Promise<{ status: number; key: string; params: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  throw new Error('expected a refusal');
}

async function account(key: string) {
  return LedgerAccount.findOne({ key }).lean();
}

describe('fund ledger core', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
  });
  beforeEach(() => h.reset());
  after(() => h.stop());

  it('posts a balanced appropriation, creating the accounts from the chart', async () => {
    const r = await appropriate('ap-1', 1_000_000);
    expect(r.seq).to.equal(1);
    expect(r.prevHash).to.equal(GENESIS_HASH);
    const pool = await account('fund:pool');
    expect(pool).to.include({ kind: 'fund_pool', normal: 'credit', creditsPosted: 1_000_000, debitsPosted: 0, version: 1 });
  });

  it('refuses unbalanced, fractional, negative and unknown-account postings and writes nothing', async () => {
    const bad = [
      [{ account: acct.bank(), side: 'debit', amountFen: 100 }, { account: acct.pool(), side: 'credit', amountFen: 99 }],
      [{ account: acct.bank(), side: 'debit', amountFen: 10.5 }, { account: acct.pool(), side: 'credit', amountFen: 10.5 }],
      [{ account: acct.bank(), side: 'debit', amountFen: -5 }, { account: acct.pool(), side: 'credit', amountFen: -5 }],
      [{ account: 'fund:piggy_bank', side: 'debit', amountFen: 5 }, { account: acct.pool(), side: 'credit', amountFen: 5 }],
    ] as const;
    const keys = [];
    for (const [i, entries] of bad.entries()) {
      const e = await refusal(post({ kind: 'transfer', key: `bad-${i}`, code: 'APPROPRIATION', phase: 'posted', maker: null, effectiveAt: at, entries: entries.map((x) => ({ ...x })) }));
      expect(e.status).to.equal(422);
      keys.push(e.key);
    }
    expect(keys).to.deep.equal(['ledger.unbalanced', 'ledger.invalid_amount', 'ledger.invalid_amount', 'ledger.unknown_account']);
    expect(await LedgerTransfer.countDocuments()).to.equal(0);
    expect(await LedgerAccount.countDocuments()).to.equal(0);
  });

  it('a replayed key returns the original; the same key with another payload is refused', async () => {
    const a = await appropriate('ap-1', 500);
    const b = await appropriate('ap-1', 500);
    expect(b.replayed).to.equal(true);
    expect(b.seq).to.equal(a.seq);
    const e = await refusal(appropriate('ap-1', 600));
    expect(e).to.include({ status: 409, key: 'ledger.key_reused' });
    expect(await LedgerTransfer.countDocuments()).to.equal(1);
  });

  it('never commits the pool beyond its balance, counting pending reservations', async () => {
    await appropriate('ap-1', 1_000);
    await reserve('c-1', 700);
    const e = await refusal(reserve('c-2', 301));
    expect(e).to.include({ status: 409, key: 'ledger.exceeds_available' });
    expect(e.params.availableFen).to.equal(300);
    await reserve('c-3', 300);
    const pool = await account('fund:pool');
    expect(pool).to.include({ creditsPosted: 1_000, debitsPending: 1_000, debitsPosted: 0 });
  });

  it('posts a pending transfer partly, once; a second resolution is refused', async () => {
    await appropriate('ap-1', 1_000);
    const p = await reserve('c-1', 800);
    const posted = await post({ kind: 'resolve', key: 'c-1:post', pendingSeq: p.seq, action: 'post', amountFen: 500, maker: 'm', checker: 'r', effectiveAt: at });
    expect(posted.entries.map((x) => x.amountFen)).to.deep.equal([500, 500]);
    const again = await refusal(post({ kind: 'resolve', key: 'c-1:void', pendingSeq: p.seq, action: 'void', maker: 'm', checker: 'r', effectiveAt: at }));
    expect(again).to.include({ status: 409, key: 'ledger.pending_resolved' });
    const pool = await account('fund:pool');
    expect(pool).to.include({ debitsPosted: 500, debitsPending: 0 });
    expect(await account(acct.compPayable(UNIV))).to.include({ creditsPosted: 500, creditsPending: 0 });
  });

  it('never settles a receivable beyond what is owed; a reversal mirrors once', async () => {
    const accrual = await post({ kind: 'transfer', key: 'acc-1', code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt: at, entries: [
      { account: acct.receivable(LIC), side: 'debit', amountFen: 1_000 }, { account: acct.revenue(UNIV), side: 'credit', amountFen: 1_000 }] });
    const over = await refusal(post({ kind: 'transfer', key: 'pay-1', code: 'PAYMENT', phase: 'posted', maker: null, effectiveAt: at, entries: [
      { account: acct.clearing(), side: 'debit', amountFen: 1_001 }, { account: acct.receivable(LIC), side: 'credit', amountFen: 1_001 }] }));
    expect(over).to.include({ status: 409, key: 'ledger.exceeds_owed' });
    const rev = await post({ kind: 'reverse', key: 'acc-1:rev', reverses: accrual.seq, maker: 'm', checker: 'r', effectiveAt: at });
    expect(rev).to.include({ code: 'REVERSAL', reverses: accrual.seq });
    expect(await account(acct.receivable(LIC))).to.include({ debitsPosted: 1_000, creditsPosted: 1_000 });
    const twice = await refusal(post({ kind: 'reverse', key: 'acc-1:rev2', reverses: accrual.seq, maker: 'm', checker: 'r', effectiveAt: at }));
    expect(twice).to.include({ status: 409, key: 'ledger.already_reversed' });
  });

  it('concurrent posters get contiguous seqs and one unbroken chain; the pool never goes negative', async () => {
    await appropriate('ap-1', 10_000);
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => reserve(`c-${i}`, 500)));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(20);
    const docs = await LedgerTransfer.find().sort({ seq: 1 }).lean();
    expect(docs.map((d) => d.seq)).to.deep.equal(docs.map((_, i) => i + 1));
    let prev = GENESIS_HASH;
    for (const d of docs) {
      const r = journalRecordOf(d);
      expect(r.prevHash).to.equal(prev);
      const { prevHash: _p, hash: _h, ...body } = r;
      expect(chainHash(prev, canonical(body))).to.equal(r.hash);
      prev = r.hash;
    }
    expect(await account('fund:pool')).to.include({ debitsPending: 10_000, creditsPosted: 10_000 });
  });
});
