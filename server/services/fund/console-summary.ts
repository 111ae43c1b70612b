/**
 * The in-process ledger summary the regulators' console (dashboard and
 * trial balance) reads instead of the journal.
 *
 * Why a summary: the day rollups are keyed by day × kind × code × province
 * × field × institution, so with many licences they grow with the journal
 * (about half a rollup per transfer in bench:ledger's journal), and summing
 * them on every page view would cost seconds, not the console's 200 ms. So
 * each process keeps one summary — posted totals by day and kind, every
 * account's four totals, and the measures by each dimension — built once
 * from the rollups (as of their cursor, ledger-rollups.ts) and the account
 * totals (as of the journal head), then brought forward by folding in only
 * the transfers after the seq it stands at (an indexed seq range; up to the
 * head, the rollups' share only). It is keyed by that seq *and* hash, so it
 * can never be mistaken for another history; when the chain does not
 * continue from it, it is rebuilt. The first build is the one slow step
 * (warmLedgerSummary() at start-up takes it before anyone waits).
 *
 * Readers take what they need from it synchronously, right after awaiting
 * it: a later fold changes it in place.
 */
import mongoose, { type ClientSession } from 'mongoose';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { LedgerHead } from '../../../models/ledger-head.js';
import { LedgerRollup } from '../../../models/ledger-rollup.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { accountSpec, LEDGER, type AccountKind, type Totals } from '../../domain/ledger-chart.js';
import { GENESIS_HASH, type JournalEntry } from '../../domain/ledger-record.js';
import { AppError } from '../../errors.js';
import { cstDay } from './ledger-post.js';
import { measure, projectRollups, quarterOfDay, rollupCursor, type Metric } from './ledger-rollups.js';

export type { Metric } from './ledger-rollups.js';
export { quarterOfDay } from './ledger-rollups.js';

export interface SummaryAccount extends Totals {
  kind: AccountKind;
  normal: 'debit' | 'credit';
}

export interface LedgerSummary {
  seq: number;
  hash: string;
  /** The seq the account totals stand at: the head when built, ahead of `seq` until the fold after the build catches up. */
  accountsSeq: number;
  /** Posted debits, credits and entry counts by China day of effectiveAt, then account kind (what the rollups hold). */
  days: Map<string, Map<AccountKind, { debits: number; credits: number; entries: number }>>;
  accounts: Map<string, SummaryAccount>;
  /** `${metric}|${dimension}|${value}` → fen, net of reversals; dimension is province, field, institution or quarter. */
  dims: Map<string, number>;
}

export const DIMENSIONS = ['province', 'field', 'institution', 'quarter'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Each dimension on its own (not their cross product): the dashboard never needs more, and it stays a few hundred entries. */
function addDim(s: LedgerSummary, metric: Metric, dim: Dimension, value: string, fen: number): void {
  if (!fen) return;
  const key = `${metric}|${dim}|${value}`;
  s.dims.set(key, (s.dims.get(key) ?? 0) + fen);
}

function addDay(s: LedgerSummary, day: string, kind: AccountKind, debits: number, credits: number, entries: number): void {
  let kinds = s.days.get(day);
  if (!kinds) s.days.set(day, (kinds = new Map()));
  const t = kinds.get(kind) ?? { debits: 0, credits: 0, entries: 0 };
  t.debits += debits;
  t.credits += credits;
  t.entries += entries;
  kinds.set(kind, t);
}

function accountOf(s: LedgerSummary, key: string): SummaryAccount {
  let a = s.accounts.get(key);
  if (!a) {
    const spec = accountSpec(key)!;
    s.accounts.set(key, (a = { kind: spec.kind, normal: spec.normal, debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 }));
  }
  return a;
}

/**
 * What a summary is built from: the rollups — days × kinds × codes, and the
 * measures by quarter along each dimension on its own, a few thousand
 * documents however long the journal — and the account totals.
 */
async function readSources(session: ClientSession | null) {
  const rollups = await LedgerRollup.find({}).select('type day kind debitsPosted creditsPosted count quarter metric dim value fen').session(session).lean();
  const accounts = await LedgerAccount.find({}).select('-_id key kind normal debitsPosted creditsPosted debitsPending creditsPending').session(session).lean();
  return { rollups, accounts };
}

type Position = { seq: number; hash: string };

function assemble(cursor: Position, headSeq: number, { rollups, accounts }: Awaited<ReturnType<typeof readSources>>): LedgerSummary {
  const s: LedgerSummary = { seq: cursor.seq, hash: cursor.hash, accountsSeq: headSeq, days: new Map(), accounts: new Map(), dims: new Map() };
  for (const r of rollups) {
    if (r.type === 'day') addDay(s, r.day!, r.kind as AccountKind, r.debitsPosted, r.creditsPosted, r.count);
    else {
      addDim(s, r.metric as Metric, r.dim as Dimension, r.value ?? '', r.fen);
      // Every measure leg is in exactly one province rollup (value '' when it has none): those sum to its quarter.
      if (r.dim === 'province') addDim(s, r.metric as Metric, 'quarter', r.quarter!, r.fen);
    }
  }
  for (const a of accounts) {
    s.accounts.set(a.key, { kind: a.kind as AccountKind, normal: a.normal as 'debit' | 'credit', debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted, debitsPending: a.debitsPending, creditsPending: a.creditsPending });
  }
  return s;
}

/**
 * The rollups with their cursor, and the account totals with the head,
 * each pair read consistently: both documents move in every transaction
 * that changes what they stand for, so reads between two equal pairs of
 * reads saw one state; only when writes keep arriving is a snapshot
 * transaction used (it has to finish within the store's transaction time
 * limit). Then the transfers between the cursor and the head are folded in
 * (their rollup share), so the summary stands at the head.
 */
export async function buildLedgerSummary(): Promise<LedgerSummary> {
  // Catch the rollups up first, so the fold below is short.
  await projectRollups();
  let built: { cursor: Position; headSeq: number; sources: Awaited<ReturnType<typeof readSources>> } | null = null;
  for (let attempt = 0; attempt < 3 && !built; attempt++) {
    const [head, cursor] = [await LedgerHead.findById(LEDGER).lean(), await rollupCursor()];
    const sources = await readSources(null);
    const [head2, cursor2] = [await LedgerHead.findById(LEDGER).lean(), await rollupCursor()];
    if (head?.seq === head2?.seq && head?.hash === head2?.hash && cursor.seq === cursor2.seq) built = { cursor, headSeq: head?.seq ?? 0, sources };
  }
  built ??= await mongoose.connection.transaction(async (session) => ({
    headSeq: (await LedgerHead.findById(LEDGER).session(session).lean())?.seq ?? 0, cursor: await rollupCursor(session), sources: await readSources(session),
  }));
  const s = assemble(built.cursor, built.headSeq, built.sources);
  if (s.seq < built.headSeq && !(await fold(s, built.headSeq))) throw new AppError(409, 'ledger.rollups_diverged', { seq: s.seq + 1 });
  return s;
}

type FoldDoc = { seq: number; code: string; phase: string; entries: JournalEntry[]; pendingSeq?: number | null; refs?: Record<string, string | null>; effectiveAt: Date; prevHash: string; hash: string };

/** Applies transfers (s.seq, toSeq] to `s`, or returns false (leaving it untouched) when they do not continue its chain. */
async function fold(s: LedgerSummary, toSeq: number): Promise<boolean> {
  const docs = await LedgerTransfer.find({ seq: { $gt: s.seq, $lte: toSeq } }).sort({ seq: 1 })
    .select('-_id seq code phase entries pendingSeq refs effectiveAt prevHash hash').lean<FoldDoc[]>();
  let prev = s.hash;
  for (const [i, d] of docs.entries()) {
    if (d.seq !== s.seq + i + 1 || d.prevHash !== prev) return false;
    prev = d.hash;
  }
  if (docs.length !== toSeq - s.seq) return false;
  const pendingSeqs = docs.filter((d) => d.phase === 'post').map((d) => d.pendingSeq!);
  const held = new Map((pendingSeqs.length ? await LedgerTransfer.find({ seq: { $in: pendingSeqs } }).select('-_id seq entries').lean() : []).map((p) => [p.seq, p.entries as JournalEntry[]]));
  if (pendingSeqs.some((p) => !held.has(p))) return false;
  // From here on synchronous: a reader never sees half a fold.
  for (const d of docs) {
    // Transfers the account totals already include (a build's fold up to the head) add to the day and dimension figures only.
    const withAccounts = d.seq > s.accountsSeq;
    const posted = d.phase === 'posted' || d.phase === 'post';
    const pendingSign = d.phase === 'pending' ? 1 : d.phase === 'void' ? -1 : 0;
    const released = d.phase === 'post' ? held.get(d.pendingSeq!)! : [];
    if (withAccounts) for (const e of released) accountOf(s, e.account)[e.side === 'debit' ? 'debitsPending' : 'creditsPending'] -= e.amountFen;
    const day = cstDay(new Date(d.effectiveAt));
    const at = { province: d.refs?.province ?? '', field: d.refs?.field ?? '', institution: d.refs?.institution ?? '', quarter: quarterOfDay(day) };
    for (const e of d.entries) {
      const a = accountOf(s, e.account);
      const debit = e.side === 'debit';
      if (pendingSign && withAccounts) a[debit ? 'debitsPending' : 'creditsPending'] += pendingSign * e.amountFen;
      if (!posted) continue;
      if (withAccounts) a[debit ? 'debitsPosted' : 'creditsPosted'] += e.amountFen;
      addDay(s, day, a.kind, debit ? e.amountFen : 0, debit ? 0 : e.amountFen, 1);
      const m = measure(a.kind, d.code, debit ? e.amountFen : 0, debit ? 0 : e.amountFen);
      if (m) for (const dim of DIMENSIONS) addDim(s, m.metric, dim, at[dim], m.fen);
    }
  }
  s.seq = toSeq;
  s.accountsSeq = Math.max(s.accountsSeq, toSeq);
  s.hash = prev;
  return true;
}

/** Beyond this many new transfers a rebuild from the rollups is cheaper than folding them in. */
const FOLD_LIMIT = 50_000;
let current: LedgerSummary | null = null;
let inflight: Promise<void> | null = null;

async function refresh(seq: number): Promise<void> {
  const have = current;
  if (have && have.seq < seq && seq - have.seq <= FOLD_LIMIT && (await fold(have, seq))) return;
  current = await buildLedgerSummary();
}

/** The summary, at least as recent as the journal head when called. */
export async function ledgerSummary(): Promise<LedgerSummary> {
  const head = await LedgerHead.findById(LEDGER).lean();
  const want = { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH };
  for (let round = 0; round < 5; round++) {
    const have = current;
    if (have && have.seq === want.seq && have.hash === want.hash) return have;
    // Ahead of the head we read (another request folded in newer transfers): fine if the journal still holds our head.
    if (have && have.seq > want.seq && (await LedgerTransfer.findOne({ seq: have.seq }).select('-_id hash').lean())?.hash === have.hash) return have;
    // Otherwise it belongs to another history (a restored or emptied database): start again.
    if (have && have.seq >= want.seq && current === have) current = null;
    inflight ??= refresh(want.seq).finally(() => {
      inflight = null;
    });
    await inflight;
  }
  return current!;
}

/** Builds the summary now (e.g. at start-up), so the first console page does not pay for it. */
export async function warmLedgerSummary(): Promise<void> {
  await ledgerSummary();
}
