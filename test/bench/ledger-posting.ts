/**
 * Part (a) of bench:ledger: transfers per second posted through the ledger
 * service's post(), durably (the store fsyncs before it replies), by P
 * concurrent posters that each await their own post() in a loop — what P
 * request handlers or subscriber workers do.
 *
 * The mix is the ledger's real one: mostly royalty accruals and payments
 * (the four-leg PAYMENT of subscriber-postings.ts) across many licences,
 * and a few pool transfers (appropriations, compensation reservations and
 * their approvals). Each poster owns its licences, so it knows what is owed
 * and every payment is valid; a refusal is counted and reported, never
 * expected.
 */
import mongoose from 'mongoose';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { acct, LEDGER } from '../../server/domain/ledger-chart.js';
import { post, type LedgerCommand } from '../../server/services/fund/ledger.js';
import { rollupCursor } from '../../server/services/fund/ledger-rollups.js';

export interface PostingRun {
  transfers: number;
  seconds: number;
  perSec: number;
  refused: number;
  p50Ms: number;
  p99Ms: number;
  /** Transactions the group commit used (distinct recordedAt), and transfers per transaction. */
  transactions: number;
  perTransaction: number;
  /** This process's CPU (app, and the store when in process), as a fraction of one core. */
  cpu: number;
  /** The store's CPU when it runs in its own process, as a fraction of one core (null: in process, counted in cpu). */
  storeCpu: number | null;
  /** CPU time (both processes) per transfer: the figure that stays put on a shared machine; 1e6 / it ≈ transfers/s one free core allows. */
  cpuUsPerTransfer: number;
  /** Transfers the day rollups had been projected through when the run ended (the projection runs in the background while posting), of the head. */
  projected: number;
  head: number;
}

const hex = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(24 - prefix.length, '0')}`;
const MAKER = hex('64d3', 1);
const CHECKER = hex('64d3', 2);

/** A small deterministic PRNG (mulberry32): the same mix on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;

/** One poster's loop until `deadline`: its own licences, its own pending claims. */
async function poster(id: number, run: number, licencesPerPoster: number, deadline: number, latencies: number[]): Promise<{ done: number; refused: number }> {
  const next = rng(run * 1000 + id + 1);
  const licences = Array.from({ length: licencesPerPoster }, (_, i) => {
    const n = id * licencesPerPoster + i;
    return { id: hex('64d0', n), univ: hex('64d1', n % 120), owed: 0 };
  });
  const pending: { seq: number; amount: number }[] = [];
  let done = 0;
  let refused = 0;
  let n = 0;
  while (performance.now() < deadline) {
    n++;
    const key = `bench:${run}:${id}:${n}`;
    const effectiveAt = new Date();
    const l = licences[Math.floor(next() * licences.length)]!;
    const dice = next();
    let c: LedgerCommand;
    const refs = { licence: l.id, institution: l.univ, province: ['SH', 'JS', 'ZJ', 'AH'][l.univ.charCodeAt(23) % 4]!, field: 'biomed' };
    if (dice < 0.01) {
      c = { kind: 'transfer', key, code: 'APPROPRIATION', phase: 'posted', maker: MAKER, effectiveAt, entries: [
        { account: acct.bank(), side: 'debit', amountFen: 50_000_000 }, { account: acct.pool(), side: 'credit', amountFen: 50_000_000 }] };
    } else if (dice < 0.03 && pending.length) {
      const p = pending.shift()!;
      c = { kind: 'resolve', key, pendingSeq: p.seq, action: next() < 0.8 ? 'post' : 'void', maker: MAKER, checker: CHECKER, effectiveAt };
    } else if (dice < 0.05) {
      const amountFen = 10_000 + Math.floor(next() * 200_000);
      const claim = hex('64d2', id * 1_000_000 + n);
      c = { kind: 'transfer', key, code: 'COMPENSATION', phase: 'pending', maker: MAKER, effectiveAt, refs: { ...refs, claim }, entries: [
        { account: acct.pool(), side: 'debit', amountFen }, { account: acct.compPayable(l.univ), side: 'credit', amountFen },
        { account: acct.recoveryRights(claim), side: 'debit', amountFen }, { account: acct.recoveryOffset(), side: 'credit', amountFen }] };
    } else if (dice < 0.5 && l.owed > 0) {
      const x = next() < 0.7 ? l.owed : 1 + Math.floor(next() * l.owed);
      l.owed -= x;
      c = { kind: 'transfer', key, code: 'PAYMENT', phase: 'posted', maker: null, effectiveAt, refs, entries: [
        { account: acct.clearing(), side: 'debit', amountFen: x }, { account: acct.receivable(l.id), side: 'credit', amountFen: x },
        { account: acct.settled(l.univ), side: 'debit', amountFen: x }, { account: acct.clearing(), side: 'credit', amountFen: x }] };
    } else {
      const x = 1_000 + Math.floor(next() * 5_000_000);
      l.owed += x;
      c = { kind: 'transfer', key, code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt, refs, entries: [
        { account: acct.receivable(l.id), side: 'debit', amountFen: x }, { account: acct.revenue(l.univ), side: 'credit', amountFen: x }] };
    }
    const t0 = performance.now();
    try {
      const r = await post(c);
      if (r.phase === 'pending') pending.push({ seq: r.seq, amount: r.entries[0]!.amountFen });
      done++;
    } catch {
      // A refused payment leaves the poster's idea of what is owed wrong: undo it.
      if (c.kind === 'transfer' && c.code === 'PAYMENT') l.owed += c.entries[0]!.amountFen;
      if (c.kind === 'transfer' && c.code === 'ACCRUAL') l.owed -= c.entries[0]!.amountFen;
      refused++;
    }
    latencies.push(performance.now() - t0);
  }
  return { done, refused };
}

/** One timed run on an empty ledger (the ledger collections are emptied first; the pool starts funded). */
export async function postingRun(run: number, opts: { posters: number; seconds: number; licencesPerPoster: number; storeCpuSeconds?: () => number }): Promise<PostingRun> {
  for (const name of ['ledgertransfers', 'ledgeraccounts', 'ledgerheads', 'ledgerrollups']) await mongoose.connection.db!.collection(name).deleteMany({});
  await post({ kind: 'transfer', key: `bench:${run}:seed`, code: 'APPROPRIATION', phase: 'posted', maker: MAKER, effectiveAt: new Date(), entries: [
    { account: acct.bank(), side: 'debit', amountFen: 10_000_000_000 }, { account: acct.pool(), side: 'credit', amountFen: 10_000_000_000 }] });
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const storeCpu0 = opts.storeCpuSeconds?.() ?? 0;
  const t0 = performance.now();
  const deadline = t0 + opts.seconds * 1000;
  const results = await Promise.all(Array.from({ length: opts.posters }, (_, id) => poster(id, run, opts.licencesPerPoster, deadline, latencies)));
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  const [cursor, head] = [await rollupCursor(), await LedgerHead.findById(LEDGER).lean()];
  const storeSeconds = opts.storeCpuSeconds ? opts.storeCpuSeconds() - storeCpu0 : 0;
  const cpuSeconds = (used.user + used.system) / 1e6;
  const transfers = results.reduce((s, r) => s + r.done, 0);
  const refused = results.reduce((s, r) => s + r.refused, 0);
  const batches = await LedgerTransfer.aggregate<{ n: number }>([{ $match: { key: { $regex: `^bench:${run}:\\d` } } }, { $group: { _id: '$recordedAt' } }, { $count: 'n' }]);
  const transactions = batches[0]?.n ?? 0;
  latencies.sort((a, b) => a - b);
  return {
    transfers, seconds: +seconds.toFixed(2), perSec: Math.round(transfers / seconds), refused,
    p50Ms: +pct(latencies, 50).toFixed(1), p99Ms: +pct(latencies, 99).toFixed(1),
    transactions, perTransaction: transactions ? +(transfers / transactions).toFixed(1) : 0,
    cpu: +(cpuSeconds / seconds).toFixed(2), storeCpu: opts.storeCpuSeconds ? +(storeSeconds / seconds).toFixed(2) : null,
    cpuUsPerTransfer: transfers ? Math.round(((cpuSeconds + storeSeconds) * 1e6) / transfers) : 0,
    projected: cursor.seq, head: head?.seq ?? 0,
  };
}
