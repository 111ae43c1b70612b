/**
 * The ledger under contention (../shared/reference/ledger.md §4 T2, T3): many
 * callers at once against one pool, one pending transfer and one idempotency
 * key, through post() (group-committed in this process) and through
 * postInTransaction() in concurrent transactions (which the store's
 * first-writer-wins conflicts make retry). Whatever the interleaving, each
 * command lands whole or not at all, the pool is never over-committed, seqs
 * stay contiguous and the chain and totals audit clean.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import mongoose from 'mongoose';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { acct, LEDGER } from '../../server/domain/ledger-chart.js';
import { AppError } from '../../server/errors.js';
import { post, postInTransaction, type LedgerCommand, type PostedRecord } from '../../server/services/fund/ledger.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { auditLedger, headroom } from './ledger-model-helpers.js';

const UNIV = '64b000000000000000000001';
const MAKER = '64b0000000000000000000f1';
const CHECKER = '64b0000000000000000000f2';
const at = new Date('2026-03-02T02:00:00Z');

type Via = 'post' | 'transaction';
const VIAS: Via[] = ['post', 'transaction'];

const appropriation = (key: string, amountFen: number): LedgerCommand => ({
  kind: 'transfer', key, code: 'APPROPRIATION', phase: 'posted', maker: MAKER, checker: CHECKER, effectiveAt: at,
  entries: [{ account: acct.bank(), side: 'debit', amountFen }, { account: acct.pool(), side: 'credit', amountFen }],
});
const reservation = (key: string, amountFen: number): LedgerCommand => ({
  kind: 'transfer', key, code: 'COMPENSATION', phase: 'pending', maker: MAKER, effectiveAt: at,
  entries: [{ account: acct.pool(), side: 'debit', amountFen }, { account: acct.compPayable(UNIV), side: 'credit', amountFen }],
});

/** One command through post(), or alone in its own transaction through postInTransaction(). */
function send(c: LedgerCommand, via: Via): Promise<PostedRecord> {
  if (via === 'post') return post(c);
  return mongoose.connection.transaction(async (session) => (await postInTransaction([c], session))[0]!);
}

/** Fulfilled records and the refusals' keys; anything but a refusal (a 500) fails the test. */
function split(results: PromiseSettledResult<PostedRecord>[]): { records: PostedRecord[]; refusals: string[] } {
  const records: PostedRecord[] = [];
  const refusals: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') records.push(r.value);
    else if (r.reason instanceof AppError) refusals.push(`${r.reason.status} ${r.reason.key}`);
    else throw r.reason;
  }
  return { records, refusals };
}

/** Reads the pool over and over while `work` runs: its constraint must hold at every observation, not just at the end. */
async function watchingThePool<T>(work: Promise<T>): Promise<T> {
  let done = false;
  const broken: string[] = [];
  let reads = 0;
  const watcher = (async () => {
    while (!done) {
      const pool = await LedgerAccount.findOne({ key: acct.pool() }).lean();
      if (pool && headroom(acct.pool(), pool) < 0) broken.push(JSON.stringify(pool));
      reads++;
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await watcher;
    expect(broken, 'pool over-committed as read').to.deep.equal([]);
    expect(reads).to.be.above(0);
  }
}

describe('fund ledger under concurrency', function () {
  this.timeout(120_000);
  let h: AppHarness;
  before(async () => {
    h = await startApp();
  });
  beforeEach(() => h.reset());
  after(() => h.stop());

  for (const via of VIAS) {
    it(`20 simultaneous reservations against a pool that covers 10: exactly 10 land (${via})`, async () => {
      await post(appropriation('ap-1', 10_000));
      const results = await watchingThePool(Promise.allSettled(Array.from({ length: 20 }, (_, i) => send(reservation(`claim-${i}`, 1_000), via))));
      const { records, refusals } = split(results);
      expect(records).to.have.length(10);
      expect(refusals).to.deep.equal(Array(10).fill('409 ledger.exceeds_available'));
      expect(await LedgerAccount.findOne({ key: acct.pool() }).lean()).to.include({ creditsPosted: 10_000, debitsPending: 10_000, debitsPosted: 0 });
      expect(records.map((r) => r.seq).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i + 2));
      await auditLedger(null);
    });

    it(`20 simultaneous resolutions of one pending transfer: exactly one (${via})`, async () => {
      await post(appropriation('ap-1', 10_000));
      const pending = await post(reservation('claim-1', 4_000));
      const resolutions = Array.from({ length: 20 }, (_, i): LedgerCommand => ({
        kind: 'resolve', key: `claim-1:decision-${i}`, pendingSeq: pending.seq, action: i % 3 === 0 ? 'void' : 'post',
        ...(i % 3 === 2 ? { amountFen: 1_000 + i } : {}), maker: MAKER, checker: CHECKER, effectiveAt: at,
      }));
      const { records, refusals } = split(await watchingThePool(Promise.allSettled(resolutions.map((c) => send(c, via)))));
      expect(records).to.have.length(1);
      expect(refusals).to.deep.equal(Array(19).fill('409 ledger.pending_resolved'));
      const winner = records[0]!;
      const posted = winner.phase === 'post' ? winner.entries[0]!.amountFen : 0;
      expect(await LedgerAccount.findOne({ key: acct.pool() }).lean()).to.include({ debitsPending: 0, debitsPosted: posted });
      expect(await LedgerTransfer.countDocuments({ pendingSeq: pending.seq })).to.equal(1);
      await auditLedger(null);
    });

    it(`one key sent 50 times at once: one transfer, the same record to every caller (${via})`, async () => {
      await post(appropriation('ap-1', 10_000));
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => send(reservation('claim-1', 2_500), via)));
      const { records, refusals } = split(results);
      expect(refusals).to.deep.equal([]);
      expect(records.filter((r) => !r.replayed), 'exactly one caller created it').to.have.length(1);
      const strip = ({ replayed: _r, ...rest }: PostedRecord) => rest;
      for (const r of records) expect(strip(r)).to.deep.equal(strip(records[0]!));
      expect(await LedgerTransfer.countDocuments({ key: 'claim-1' })).to.equal(1);
      expect(await LedgerAccount.findOne({ key: acct.pool() }).lean()).to.include({ debitsPending: 2_500 });
      await auditLedger(null);
    });

    it(`one key with two payloads at once: one payload wins, every send of the other is refused (${via})`, async () => {
      await post(appropriation('ap-1', 10_000));
      const sends = Array.from({ length: 20 }, (_, i) => send(reservation('claim-1', i % 2 ? 2_000 : 3_000), via));
      const { records, refusals } = split(await Promise.allSettled(sends));
      const amounts = new Set(records.map((r) => r.entries[0]!.amountFen));
      expect(amounts.size, 'a single payload is stored').to.equal(1);
      expect(records).to.have.length(10);
      expect(refusals).to.deep.equal(Array(10).fill('409 ledger.key_reused'));
      // And later, one by one: the stored payload replays, the other is still refused.
      const stored = [...amounts][0]!;
      expect((await post(reservation('claim-1', stored))).replayed).to.equal(true);
      const err = await post(reservation('claim-1', stored === 2_000 ? 3_000 : 2_000)).catch((e: unknown) => e);
      expect(err).to.include({ status: 409, key: 'ledger.key_reused' });
      expect(await LedgerTransfer.countDocuments()).to.equal(2);
      await auditLedger(null);
    });
  }

  it('two transactions that post to the pool at once both land, one after the other, after a write conflict and retry', async () => {
    await post(appropriation('ap-1', 10_000));
    const attempts = [0, 0];
    let arrived = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const run = (i: number) => mongoose.connection.transaction(async (session) => {
      attempts[i]! += 1;
      if (attempts[i] === 1) {
        // Both first attempts take their snapshot (the same head) before either writes: one of them must conflict.
        await LedgerHead.findById(LEDGER).session(session).lean();
        if (++arrived === 2) bothRead();
        await barrier;
      }
      return postInTransaction([reservation(`claim-${i}`, 3_000), appropriation(`ap-top-up-${i}`, 100)], session);
    });
    const [a, b] = await Promise.all([run(0), run(1)]);
    expect(attempts[0]! + attempts[1]!, 'the loser was retried').to.be.at.least(3);
    const seqs = [...a, ...b].map((r) => r.seq).sort((x, y) => x - y);
    expect(seqs).to.deep.equal([2, 3, 4, 5]);
    // Each transaction's two transfers are adjacent: nothing interleaves inside one.
    expect(a[1]!.seq - a[0]!.seq).to.equal(1);
    expect(b[1]!.seq - b[0]!.seq).to.equal(1);
    expect(await LedgerAccount.findOne({ key: acct.pool() }).lean()).to.include({ creditsPosted: 10_200, debitsPending: 6_000, version: 3 });
    await auditLedger(null);
  });

  it('a transaction that fails after postInTransaction leaves no transfer, no account change and no seq used', async () => {
    await post(appropriation('ap-1', 10_000));
    const snapshot = async () => ({
      accounts: await LedgerAccount.find().sort({ key: 1 }).lean(),
      transfers: await LedgerTransfer.countDocuments(),
      head: await LedgerHead.findById(LEDGER).lean(),
    });
    const before = await snapshot();
    const failing = mongoose.connection.transaction(async (session) => {
      await postInTransaction([reservation('claim-1', 4_000), appropriation('ap-2', 50)], session);
      throw new Error('the business change failed after the ledger posting');
    });
    await failing.then(() => expect.fail('the transaction should have failed'), (e: Error) => expect(e.message).to.match(/business change failed/));
    // A refusal of the second command takes the first one with it too.
    const refused = await mongoose.connection.transaction((session) => postInTransaction([reservation('claim-2', 4_000), reservation('claim-3', 7_000)], session))
      .catch((e: unknown) => e);
    expect(refused).to.include({ status: 409, key: 'ledger.exceeds_available' });
    expect(await snapshot()).to.deep.equal(before);
    // The keys were never used, so they post normally, and the next seq is the one the failures did not take.
    const next = await post(reservation('claim-1', 4_000));
    expect(next).to.include({ seq: 2, replayed: false });
    expect(next.prevHash).to.equal(before.head!.hash);
    await auditLedger(null);
  });

  it('any interleaving of reservations and top-ups keeps Σ reserved ≤ capital, and refuses only what did not fit (fast-check scheduler)', async () => {
    const amounts = fc.array(fc.record({ amount: fc.integer({ min: 1, max: 4_000 }), via: fc.constantFrom<Via>(...VIAS) }), { minLength: 4, maxLength: 10 });
    await fc.assert(fc.asyncProperty(fc.scheduler(), amounts, fc.integer({ min: 0, max: 9_000 }), async (s, asks, capital) => {
      await h.reset();
      if (capital) await post(appropriation('ap-0', capital));
      // The scheduler picks the order in which the calls start; the store and the group commit do the rest.
      const calls = asks.map(({ amount, via }, i) => s.schedule(Promise.resolve(), `${via} ${amount}`).then(() => send(reservation(`claim-${i}`, amount), via)));
      await s.waitAll();
      const results = await Promise.allSettled(calls);
      const { refusals } = split(results);
      const reserved = results.reduce((sum, r, i) => sum + (r.status === 'fulfilled' ? asks[i]!.amount : 0), 0);
      expect(reserved).to.be.at.most(capital);
      // Free balance only shrinks, so a refused reservation must exceed even what was left at the end.
      results.forEach((r, i) => {
        if (r.status === 'rejected') expect(asks[i]!.amount, `refused ${asks[i]!.amount} with ${capital - reserved} left`).to.be.above(capital - reserved);
      });
      expect(new Set(refusals)).to.satisfy((set: Set<string>) => [...set].every((k) => k === '409 ledger.exceeds_available'));
      await auditLedger(null);
    }), { numRuns: 12 });
  });
});
