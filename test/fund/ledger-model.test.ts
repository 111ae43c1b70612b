/**
 * Model-based test of the fund ledger (../shared/reference/ledger.md §4 T1):
 * fast-check generates runs of business steps — appropriate, accrue, pay
 * (sometimes more than owed), default, submit a claim, approve it (perhaps in
 * part) or reject it, subsidise, recover, pay out, write off, reverse an
 * earlier transfer, replay an earlier key, reuse a key with another payload,
 * and bursts of several of these at once — and runs each against the real
 * post()/postInTransaction() on the embedded store and against the in-memory
 * model of ledger-model-helpers.ts. The model predicts every acceptance and
 * every refusal (by its error key); after each step the stored journal and
 * accounts are audited against the model.
 *
 * Concurrent bursts cannot be predicted one by one, so they are checked for
 * linearisability instead: the accepted commands, taken in seq order, must
 * each be accepted by the model in that order, and each refusal must be one
 * the model gives at some point of that order.
 *
 * A failure prints fast-check's seed and path and the steps that failed;
 * pass { seed, path } to fc.assert to replay it. Shrinking is off (each step
 * is a durable database round trip, so shrinking would outlast mocha's
 * timeout); replay without endOnFailure to shrink.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import mongoose from 'mongoose';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { acct, type TransferCode } from '../../server/domain/ledger-chart.js';
import { AppError } from '../../server/errors.js';
import { post, postInTransaction, type LedgerCommand, type PostedRecord } from '../../server/services/fund/ledger.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { auditLedger, LedgerModel, shapeOf } from './ledger-model-helpers.js';

type Real = Record<string, never>;
/** What the generated runs exercised, so a generator that stopped producing refusals (or acceptances) is noticed. */
const seen = new Map<string, number>();
const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

const UNIVS = ['64b000000000000000000001', '64b000000000000000000002'];
const SMES = ['64b0000000000000000000e1', '64b0000000000000000000e2'];
const LICENCES = [
  { id: '64b0000000000000000000a1', univ: UNIVS[0]!, sme: SMES[0]!, province: 'SH' },
  { id: '64b0000000000000000000a2', univ: UNIVS[0]!, sme: SMES[1]!, province: 'JS' },
  { id: '64b0000000000000000000a3', univ: UNIVS[1]!, sme: SMES[0]!, province: 'ZJ' },
];
type Lic = (typeof LICENCES)[number];
const MAKER = '64b0000000000000000000f1';
const CHECKER = '64b0000000000000000000f2';
const START = Date.parse('2026-01-05T01:00:00Z');

interface Claim { id: string; lic: Lic }
/** The model of a run: the ledger, plus what the steps need to pick from (claims, accepted commands) and a counter for keys. */
interface World { ledger: LedgerModel; claims: Claim[]; accepted: { command: LedgerCommand; record: PostedRecord }[]; n: number }
/** Commands that land together (one transaction when txn or several), and the claim they open. */
interface Group { label: string; cmds: LedgerCommand[]; txn: boolean; claim?: Claim }
type Outcome = { ok: true; records: PostedRecord[] } | { ok: false; error: AppError };

type Op =
  | { t: 'appropriate' | 'accrue'; who: number; amount: number; txn: boolean }
  | { t: 'pay' | 'default' | 'claim' | 'subsidise' | 'payout' | 'recover' | 'writeOff'; who: number; pct: number; over: boolean; txn: boolean }
  /** fresh: pick among the unresolved pendings (approve, reject) or the reversible transfers (reverse); else among all. */
  | { t: 'approve' | 'reject' | 'reverse'; pick: number; fresh: boolean; partialPct: number | null; txn: boolean }
  | { t: 'replay'; pick: number; txn: boolean }
  | { t: 'reuse'; pick: number; variant: number }
  | { t: 'burst'; ops: Op[] };

const newWorld = (): World => ({ ledger: new LedgerModel(), claims: [], accepted: [], n: 0 });
const leg = (account: string, side: 'debit' | 'credit', amountFen: number) => ({ account, side, amountFen });
/** Some of what there is room for, or (over) more than there is. */
const portion = (room: number, pct: number, over: boolean) => (over ? room + 1 + pct * 7 : Math.max(1, Math.floor((room * pct) / 100)));
const refsOf = (l: Lic, claim: string | null = null) => ({ licence: l.id, institution: l.univ, licensee: l.sme, province: l.province, field: 'biomed', claim });

function ready(w: Readonly<World>, op: Op): boolean {
  if (op.t === 'approve' || op.t === 'reject') return w.ledger.records.some((r) => r.phase === 'pending');
  if (op.t === 'reverse') return w.ledger.records.length > 0;
  if (op.t === 'recover' || op.t === 'writeOff') return w.claims.length > 0;
  if (op.t === 'replay' || op.t === 'reuse') return w.accepted.length > 0;
  return true;
}

/** The ledger commands a business step sends, sized from the model's balances; null when it has nothing to act on. */
function buildOp(w: World, op: Op): Group | null {
  if (!ready(w, op) || op.t === 'burst' || op.t === 'replay' || op.t === 'reuse') return null;
  const n = ++w.n;
  const key = `${op.t}-${n}`;
  const base = { key, effectiveAt: new Date(START + n * 3_600_000) };
  const m = w.ledger;
  const one = (code: TransferCode, phase: 'posted' | 'pending', entries: ReturnType<typeof leg>[], refs: object, maker: string | null = null): Group => ({
    label: `${key} ${code} ${phase} ${entries[0]!.amountFen}`, txn: op.txn,
    cmds: [{ kind: 'transfer', ...base, code, phase, entries, refs, maker, ...(maker ? { checker: CHECKER } : {}) }],
  });
  const at = 'who' in op ? op.who : 0;
  // Mostly act where there is something to act on (a licence that owes, a claim with rights left), so refusals stay the minority.
  const choose = <T>(list: T[], useful: (x: T) => boolean): T => {
    const some = list.filter(useful);
    const from = some.length && at !== 3 ? some : list;
    return from[at % from.length]!;
  };
  const owing = (kind: 'receivable' | 'overdue') => choose(LICENCES, (l) => m.room(acct[kind](l.id)) > 0);
  const recoverable = (c: Claim) => Math.min(m.room(acct.overdue(c.lic.id)), m.room(acct.recoveryRights(c.id)));
  switch (op.t) {
    case 'appropriate':
      return one('APPROPRIATION', 'posted', [leg(acct.bank(), 'debit', op.amount), leg(acct.pool(), 'credit', op.amount)], {}, MAKER);
    case 'accrue': {
      const lic = LICENCES[at % LICENCES.length]!;
      return one('ACCRUAL', 'posted', [leg(acct.receivable(lic.id), 'debit', op.amount), leg(acct.revenue(lic.univ), 'credit', op.amount)], refsOf(lic));
    }
    case 'pay': {
      const lic = owing('receivable');
      const a = portion(m.room(acct.receivable(lic.id)), op.pct, op.over);
      return one('PAYMENT', 'posted', [leg(acct.clearing(), 'debit', a), leg(acct.receivable(lic.id), 'credit', a)], refsOf(lic));
    }
    case 'default': {
      const lic = owing('receivable');
      const a = portion(m.room(acct.receivable(lic.id)), op.pct, op.over);
      return one('DEFAULT', 'posted', [leg(acct.overdue(lic.id), 'debit', a), leg(acct.receivable(lic.id), 'credit', a)], refsOf(lic));
    }
    case 'claim': {
      const lic = owing('overdue');
      const claim = { id: `64c0${String(n).padStart(20, '0')}`, lic };
      const a = portion(m.room(acct.pool()), op.pct, op.over);
      const g = one('COMPENSATION', 'pending', [leg(acct.pool(), 'debit', a), leg(acct.compPayable(lic.univ), 'credit', a),
        leg(acct.recoveryRights(claim.id), 'debit', a), leg(acct.recoveryOffset(), 'credit', a)], refsOf(lic, claim.id), MAKER);
      return { ...g, claim };
    }
    case 'subsidise': {
      const lic = LICENCES[at % LICENCES.length]!;
      const a = portion(m.room(acct.pool()), op.pct, op.over);
      return one('SUBSIDY', 'pending', [leg(acct.pool(), 'debit', a), leg(acct.subsidyPayable(lic.sme), 'credit', a)], { licensee: lic.sme }, MAKER);
    }
    case 'payout': {
      const lic = choose(LICENCES, (l) => m.room(acct.compPayable(l.univ)) > 0);
      const a = portion(m.room(acct.compPayable(lic.univ)), op.pct, op.over);
      return one('PAYOUT', 'posted', [leg(acct.compPayable(lic.univ), 'debit', a), leg(acct.bank(), 'credit', a)], { institution: lic.univ }, MAKER);
    }
    case 'writeOff': {
      const c = choose(w.claims, (x) => m.room(acct.recoveryRights(x.id)) > 0);
      const a = portion(m.room(acct.recoveryRights(c.id)), op.pct, op.over);
      return one('WRITE_OFF', 'pending', [leg(acct.recoveryOffset(), 'debit', a), leg(acct.recoveryRights(c.id), 'credit', a)], refsOf(c.lic, c.id), MAKER);
    }
    case 'recover': {
      // Cash from the licensee settles the overdue amount, and the fund's share returns to the pool: one transaction.
      const c = choose(w.claims, (x) => recoverable(x) > 0);
      const a = portion(recoverable(c), op.pct, op.over);
      const t = (suffix: string, entries: ReturnType<typeof leg>[]): LedgerCommand => ({ kind: 'transfer', ...base, key: `${key}:${suffix}`, code: 'RECOVERY', phase: 'posted', entries, refs: refsOf(c.lic, c.id), maker: null });
      return { label: `${key} RECOVERY ${a}`, txn: true, cmds: [
        t('cash', [leg(acct.clearing(), 'debit', a), leg(acct.overdue(c.lic.id), 'credit', a)]),
        t('fund', [leg(acct.bank(), 'debit', a), leg(acct.pool(), 'credit', a), leg(acct.recoveryOffset(), 'debit', a), leg(acct.recoveryRights(c.id), 'credit', a)]),
      ] };
    }
    case 'approve':
    case 'reject': {
      const all = m.records.filter((r) => r.phase === 'pending');
      const open = all.filter((r) => !m.resolved.has(r.seq));
      const from = op.fresh && open.length ? open : all;
      const p = from[op.pick % from.length]!;
      const held = p.entries[0]!.amountFen;
      const partial = op.t === 'approve' && op.partialPct !== null ? { amountFen: Math.max(1, Math.floor((held * op.partialPct) / 100)) } : {};
      return { label: `${key} ${op.t} #${p.seq} ${JSON.stringify(partial)}`, txn: op.txn, cmds: [{ kind: 'resolve', ...base, pendingSeq: p.seq, action: op.t === 'approve' ? 'post' : 'void', ...partial, maker: MAKER, checker: CHECKER }] };
    }
    case 'reverse': {
      const reversible = m.records.filter((r) => (r.phase === 'posted' || r.phase === 'post') && r.code !== 'REVERSAL' && !m.reversed.has(r.seq));
      const from = op.fresh && reversible.length ? reversible : m.records;
      const r = from[op.pick % from.length]!;
      return { label: `${key} reverse #${r.seq} (${r.code}/${r.phase})`, txn: op.txn, cmds: [{ kind: 'reverse', ...base, reverses: r.seq, maker: MAKER, checker: CHECKER }] };
    }
  }
}

/** Sends a group the way the services do: post() for one command alone, postInTransaction() in a transaction otherwise. */
async function execute(g: Group): Promise<Outcome> {
  try {
    const records = g.txn || g.cmds.length > 1
      ? await mongoose.connection.transaction((session) => postInTransaction(g.cmds, session))
      : [await post(g.cmds[0]!)];
    return { ok: true, records };
  } catch (error) {
    // Anything but a refusal with a dictionary key (a crash, a 500) fails the run.
    if (error instanceof AppError) return { ok: false, error };
    throw error;
  }
}

function remember(w: World, g: Group, records: PostedRecord[]): void {
  records.forEach((record, i) => w.accepted.push({ command: g.cmds[i]!, record }));
  if (g.claim) w.claims.push(g.claim);
}

const pct = fc.integer({ min: 1, max: 100 });
const over = fc.integer({ min: 0, max: 4 }).map((x) => x === 0);
const txn = fc.boolean();
const who = fc.nat(5);
const money = <T extends 'pay' | 'default' | 'claim' | 'subsidise' | 'payout' | 'recover' | 'writeOff'>(t: T) => fc.record({ t: fc.constant(t), who, pct, over, txn });
const pick = <T extends 'approve' | 'reject' | 'reverse'>(t: T) => fc.record({ t: fc.constant(t), pick: fc.nat(40), fresh: fc.integer({ min: 0, max: 3 }).map((x) => x > 0), partialPct: fc.option(pct, { freq: 2 }), txn });
const basicOp: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('appropriate' as const), who, amount: fc.integer({ min: 1, max: 3_000_000 }), txn }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('accrue' as const), who, amount: fc.integer({ min: 1, max: 2_000_000 }), txn }), weight: 3 },
  { arbitrary: money('pay'), weight: 3 }, { arbitrary: money('default'), weight: 3 }, { arbitrary: money('claim'), weight: 3 },
  { arbitrary: money('subsidise'), weight: 1 }, { arbitrary: money('payout'), weight: 1 }, { arbitrary: money('recover'), weight: 3 },
  { arbitrary: money('writeOff'), weight: 1 }, { arbitrary: pick('approve'), weight: 4 }, { arbitrary: pick('reject'), weight: 1 },
  { arbitrary: pick('reverse'), weight: 2 },
);
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: basicOp, weight: 12 },
  { arbitrary: fc.record({ t: fc.constant('replay' as const), pick: fc.nat(40), txn }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('reuse' as const), pick: fc.nat(40), variant: fc.nat(2) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('burst' as const), ops: fc.array(basicOp, { minLength: 3, maxLength: 5 }) }), weight: 2 },
);

/** Net posted balance (debits − credits) of each account, as stored. */
async function netPosted(accounts: string[]): Promise<Map<string, number>> {
  const docs = await LedgerAccount.find({ key: { $in: accounts } }).lean();
  return new Map(accounts.map((k) => {
    const d = docs.find((x) => x.key === k);
    return [k, d ? d.debitsPosted - d.creditsPosted : 0];
  }));
}

/** One generated step, run against the service and the model. */
class Step implements fc.AsyncCommand<World, Real> {
  constructor(readonly op: Op) {}

  check(w: Readonly<World>): boolean {
    return ready(w, this.op);
  }

  async run(w: World): Promise<void> {
    if (this.op.t === 'burst') await this.burst(w, this.op.ops);
    else if (this.op.t === 'replay') await this.replay(w, this.op.pick, this.op.txn);
    else if (this.op.t === 'reuse') await this.reuse(w, this.op.pick, this.op.variant);
    else await this.single(w, this.op);
    await auditLedger(w.ledger);
    count(this.op.t);
  }

  private async single(w: World, op: Op): Promise<void> {
    const g = buildOp(w, op)!;
    const sim = w.ledger.simulate(g.cmds);
    // A reversal must give back what the transfer it mirrors took: measured on the stored accounts.
    const reversed = g.cmds[0]!.kind === 'reverse' ? w.ledger.records[g.cmds[0]!.reverses - 1]! : null;
    const touched = reversed ? [...new Set(reversed.entries.map((e) => e.account))] : [];
    const before = await netPosted(touched);
    const out = await execute(g);
    if (sim.ok) {
      expect(out.ok, `${g.label} refused with ${out.ok ? '' : out.error.key}; the model accepts it`).to.equal(true);
      if (!out.ok) return;
      expect(out.records.map(shapeOf)).to.deep.equal(sim.records);
      expect(out.records.every((r) => !r.replayed)).to.equal(true);
      w.ledger.assign(sim.next);
      remember(w, g, out.records);
      if (reversed) {
        const after = await netPosted(touched);
        for (const e of reversed.entries) before.set(e.account, before.get(e.account)! - (e.side === 'debit' ? e.amountFen : -e.amountFen));
        expect(after, `reversal of #${reversed.seq} restores the balances it touched`).to.deep.equal(before);
      }
    } else {
      expect(out.ok, `${g.label} accepted; the model refuses it with ${sim.key}`).to.equal(false);
      if (!out.ok) expect(out.error.key, g.label).to.equal(sim.key);
    }
    count(`${op.t}:${sim.ok ? 'accepted' : 'refused'}`);
  }

  /** 3–5 commands at once: each lands whole or not at all, in an order the model agrees with. */
  private async burst(w: World, ops: Op[]): Promise<void> {
    const groups = ops.map((op) => buildOp(w, op)).filter((g) => g !== null);
    const outs = await Promise.all(groups.map(execute));
    const landed = groups.map((g, i) => ({ g, out: outs[i]! })).filter((x) => x.out.ok)
      .map((x) => ({ g: x.g, records: x.out.ok ? x.out.records : [] }))
      .sort((a, b) => a.records[0]!.seq - b.records[0]!.seq);
    let cur = w.ledger.clone();
    const prefixes = [cur];
    for (const { g, records } of landed) {
      const sim = cur.simulate(g.cmds);
      expect(sim.ok, `${g.label} landed as #${records[0]!.seq}, but the model refuses it there (${sim.ok ? '' : sim.key})`).to.equal(true);
      if (!sim.ok) return;
      expect(records.map(shapeOf), g.label).to.deep.equal(sim.records);
      remember(w, g, records);
      cur = sim.next;
      prefixes.push(cur);
    }
    w.ledger.assign(cur);
    groups.forEach((g, i) => {
      const out = outs[i]!;
      if (out.ok) return;
      const explained = prefixes.some((p) => {
        const sim = p.simulate(g.cmds);
        return !sim.ok && sim.key === out.error.key;
      });
      count('burst:refused');
      expect(explained, `${g.label} refused with ${out.error.key}, which no order of the burst explains`).to.equal(true);
    });
  }

  /** The same command again: the original record comes back, nothing is written. */
  private async replay(w: World, pick: number, txn: boolean): Promise<void> {
    const original = w.accepted[pick % w.accepted.length]!;
    const out = await execute({ label: `replay ${original.command.key}`, cmds: [original.command], txn });
    expect(out.ok, `replay of ${original.command.key}`).to.equal(true);
    if (!out.ok) return;
    expect(out.records[0]!.replayed).to.equal(true);
    const { replayed: _a, ...again } = out.records[0]!;
    const { replayed: _b, ...first } = original.record;
    expect(again).to.deep.equal(first);
  }

  /** The same key with another payload: refused with 409, nothing written. */
  private async reuse(w: World, pick: number, variant: number): Promise<void> {
    const { command } = w.accepted[pick % w.accepted.length]!;
    const changed = variant === 0 ? { ...command, memo: `${command.memo ?? ''} (changed)` }
      : variant === 1 ? { ...command, effectiveAt: new Date(command.effectiveAt.getTime() + 86_400_000) }
        : { ...command, maker: command.maker === null ? '64b0000000000000000000f9' : null };
    const err = await post(changed).then(() => null, (e: unknown) => e);
    expect(err, `reuse of ${command.key}`).to.be.instanceOf(AppError);
    expect(err).to.include({ status: 409, key: 'ledger.key_reused' });
  }

  toString(): string {
    return JSON.stringify(this.op);
  }
}

describe('fund ledger against a model (fast-check)', function () {
  this.timeout(120_000);
  let h: AppHarness;
  before(async () => {
    h = await startApp();
  });
  after(() => h.stop());

  it('every step matches the model, and the journal, accounts, chain and constraints hold after each', async () => {
    const steps = fc.commands([opArbitrary.map((op) => new Step(op))], { maxCommands: 40, size: 'max' });
    const kinds = ['burst', 'burst:refused', 'replay', 'reuse', 'approve:accepted', 'approve:refused', 'reverse:accepted', 'claim:refused', 'pay:refused'];
    // Batches of 20 random runs until every kind of step has happened (a rare one can be missed by 20): at most 100 runs.
    for (let runs = 0; runs < 100 && (runs === 0 || kinds.some((what) => !seen.get(what))); runs += 20) {
      await fc.assert(
        fc.asyncProperty(steps, (cmds) => fc.asyncModelRun(async () => {
          await h.reset();
          return { model: newWorld(), real: {} };
        }, cmds)),
        { numRuns: 20, endOnFailure: true },
      );
    }
    for (const what of kinds) expect(seen.get(what) ?? 0, `runs with ${what}`).to.be.above(0);
  });

  it('is not vacuous: it predicts refusals, partial posts and bursts, and the audit catches tampering', async () => {
    await h.reset();
    const w = newWorld();
    const ops: Op[] = [
      { t: 'appropriate', who: 0, amount: 1_000_000, txn: false },
      { t: 'claim', who: 0, pct: 60, over: false, txn: true },
      { t: 'claim', who: 1, pct: 50, over: true, txn: false },
      { t: 'approve', pick: 0, fresh: true, partialPct: 50, txn: false },
      { t: 'reverse', pick: 0, fresh: true, partialPct: null, txn: false },
      { t: 'burst', ops: [{ t: 'subsidise', who: 0, pct: 100, over: false, txn: false }, { t: 'subsidise', who: 1, pct: 100, over: false, txn: true }, { t: 'appropriate', who: 0, amount: 5, txn: false }] },
    ];
    for (const op of ops) await new Step(op).run(w);
    // 600,000 reserved and half of it posted; the over-sized claim and the appropriation's reversal (the pool is committed) refused.
    expect(w.ledger.records.map((r) => `${r.code}/${r.phase}`).slice(0, 3)).to.deep.equal(['APPROPRIATION/posted', 'COMPENSATION/pending', 'COMPENSATION/post']);
    expect(w.ledger.total(acct.pool())).to.include({ debitsPosted: 300_000, debitsPending: 700_000 });
    // Each subsidy asked for all that was free: exactly one of the two could land.
    expect(w.ledger.records.filter((r) => r.code === 'SUBSIDY')).to.have.length(1);
    expect(w.ledger.records).to.have.length(5);

    await LedgerAccount.updateOne({ key: acct.pool() }, { $inc: { creditsPosted: 1 } });
    await auditLedger(w.ledger).then(() => expect.fail('a changed account total went unnoticed'), (e: Error) => expect(e.message).to.match(/stored account totals/));
    await LedgerAccount.updateOne({ key: acct.pool() }, { $inc: { creditsPosted: -1 } });
    await LedgerTransfer.updateOne({ seq: 2 }, { $set: { memo: 'edited' } });
    await auditLedger(w.ledger).then(() => expect.fail('an edited transfer went unnoticed'), (e: Error) => expect(e.message).to.match(/hash of #2/));
  });
});
