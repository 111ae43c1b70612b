/**
 * The day rollups, projected from the journal after it is written.
 *
 * Why not in the posting transaction: a batch of transfers across many
 * licences touches several rollup documents per transfer (a day total per
 * leg, and a measure by province, field and institution), and those upserts
 * were more than half of the posting cost on the embedded store. Projected
 * afterwards, thousands of transfers at a time, the same keys repeat and one
 * increment stands for many legs. The shapes are in models/ledger-rollup.ts.
 *
 * Exactly once: a cursor (a second document in the ledger-head collection,
 * `rollups:<ledger>`, holding the seq and hash the rollups include) moves in
 * the same transaction as the increments, conditionally on the seq read, so
 * two projectors (two processes, or the job and a console page) cannot both
 * count a transfer: the loser's transaction aborts. A projector only extends
 * the chain its cursor is on — when the next stored transfer does not link
 * to the cursor's hash it stops and says so (the journal was changed behind
 * the service; reconciliation and the verifier name where).
 *
 * Readers that need figures up to the head (the console summary) fold the
 * few transfers after the cursor themselves; the journal stays the truth.
 */
import mongoose, { type ClientSession } from 'mongoose';
import { LedgerHead } from '../../../models/ledger-head.js';
import { LedgerRollup } from '../../../models/ledger-rollup.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { AppError } from '../../errors.js';
import { accountSpec, LEDGER, type AccountKind } from '../../domain/ledger-chart.js';
import { GENESIS_HASH, type JournalEntry, type TransferRefs } from '../../domain/ledger-record.js';
import { cstDay } from './ledger-post.js';

export const ROLLUP_CURSOR = `rollups:${LEDGER}`;

/** Transfers per projecting transaction: large enough to amortise, small enough for the store's transaction time limit. */
const CHUNK = 5_000;

/** The dashboard's four measures. */
export type Metric = 'default' | 'compensation' | 'subsidy' | 'accrued';

/**
 * Each measure is the postings of one code on one account kind, less their
 * reversals. A REVERSAL mirrors its original, so on these kinds a REVERSAL
 * on the opposite side can only be undoing that code.
 */
const MEASURES: Partial<Record<AccountKind, { metric: Metric; code: string; side: 'debit' | 'credit' }>> = {
  overdue: { metric: 'default', code: 'DEFAULT', side: 'debit' },
  comp_payable: { metric: 'compensation', code: 'COMPENSATION', side: 'credit' },
  subsidy_payable: { metric: 'subsidy', code: 'SUBSIDY', side: 'credit' },
  receivable: { metric: 'accrued', code: 'ACCRUAL', side: 'debit' },
};

/** What a posted leg adds to a measure (negative for a reversal), or null when it is none of them. */
export function measure(kind: string, code: string, debits: number, credits: number): { metric: Metric; fen: number } | null {
  const m = MEASURES[kind as AccountKind];
  if (!m) return null;
  if (code === m.code) return { metric: m.metric, fen: m.side === 'debit' ? debits : credits };
  if (code === 'REVERSAL') return { metric: m.metric, fen: -(m.side === 'debit' ? credits : debits) };
  return null;
}

/** `2026Q1` for `2026-02-14`. */
export const quarterOfDay = (day: string) => `${day.slice(0, 4)}Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;

/** The dimensions a measure rollup is kept along, one at a time (the quarter is in every one). */
export const ROLLUP_DIMENSIONS = ['province', 'field', 'institution'] as const;

/** The figures every rollup keeps (a day rollup leaves fen at 0, a measure rollup debits and credits). */
export const ROLLUP_FIGURES = ['debitsPosted', 'creditsPosted', 'fen', 'count'] as const;
export type RollupFigures = Record<(typeof ROLLUP_FIGURES)[number], number>;
/** A rollup's identifying fields (type, then day/kind/code or quarter/metric/dim/value) and its figures. */
export type RollupSum = { identity: Record<string, string>; figures: RollupFigures };
export type RollupSums = Map<string, RollupSum>;

function sumFor(sums: RollupSums, id: string, identity: () => Record<string, string>): RollupFigures {
  let s = sums.get(id);
  if (!s) sums.set(id, (s = { identity: identity(), figures: { debitsPosted: 0, creditsPosted: 0, fen: 0, count: 0 } }));
  return s.figures;
}

type RollupSource = { code: string; phase: string; entries: JournalEntry[]; refs?: Partial<TransferRefs> | null; effectiveAt: Date | string };

/** Adds one transfer's posted legs (pending reservations live in the account totals, not here) to `sums`, keyed by rollup _id. */
export function addToRollups(sums: RollupSums, r: RollupSource): void {
  if (r.phase === 'pending' || r.phase === 'void') return;
  const day = cstDay(new Date(r.effectiveAt));
  for (const e of r.entries) {
    const kind = accountSpec(e.account)?.kind ?? 'unknown';
    const debits = e.side === 'debit' ? e.amountFen : 0;
    const credits = e.amountFen - debits;
    const d = sumFor(sums, `d|${day}|${kind}|${r.code}`, () => ({ type: 'day', day, kind, code: r.code }));
    d.debitsPosted += debits;
    d.creditsPosted += credits;
    d.count += 1;
    const m = measure(kind, r.code, debits, credits);
    if (!m) continue;
    const quarter = quarterOfDay(day);
    for (const dim of ROLLUP_DIMENSIONS) {
      const value = r.refs?.[dim] ?? '';
      const x = sumFor(sums, `m|${quarter}|${m.metric}|${dim}|${value}`, () => ({ type: 'measure', quarter, metric: m.metric, dim, value }));
      x.fen += m.fen;
      x.count += 1;
    }
  }
}

/** The upserts that add `sums` to the stored rollups. */
function rollupUpserts(sums: RollupSums) {
  return [...sums].map(([_id, s]) => ({ updateOne: { filter: { _id }, update: { $setOnInsert: s.identity, $inc: s.figures }, upsert: true } }));
}

/** Where the rollups stand: the last seq they include and its hash (0 and the genesis hash before any). */
export async function rollupCursor(session: ClientSession | null = null): Promise<{ seq: number; hash: string }> {
  const c = await LedgerHead.findById(ROLLUP_CURSOR).session(session).lean();
  return { seq: c?.seq ?? 0, hash: c?.hash ?? GENESIS_HASH };
}

type ProjectDoc = RollupSource & { seq: number; prevHash: string; hash: string };

/**
 * Transfers this process has just committed through the group-commit
 * poster, in seq order: the next projection takes them from here instead
 * of reading them back from the journal, when they continue exactly from
 * the cursor (seq and chain); otherwise it reads the journal as usual.
 */
let recent: ProjectDoc[] = [];
const MAX_RECENT = 10_000;

/** Offers committed transfers (seq order) to the next projection. */
export function offerCommitted(records: ProjectDoc[]): void {
  if (recent.length + records.length > MAX_RECENT) recent = [];
  for (const r of records) recent.push(r);
}

/**
 * (after, through] from the offered transfers, if they hold exactly that
 * range and are the journal's: they continue `afterHash` link by link and
 * end at the hash the journal has at `through` (`throughHash`), so — the
 * chain being collision-resistant — they are the stored records, not those
 * of a history since replaced (a restored database). Else null.
 */
function fromRecent(after: number, afterHash: string, through: number, throughHash: string | undefined): ProjectDoc[] | null {
  const start = recent.findIndex((r) => r.seq === after + 1);
  if (start < 0 || start + (through - after) > recent.length) return null;
  const docs = recent.slice(start, start + (through - after));
  let prev = afterHash;
  for (const [i, d] of docs.entries()) {
    if (d.seq !== after + 1 + i || d.prevHash !== prev) return null;
    prev = d.hash;
  }
  return prev === throughHash ? docs : null;
}

/**
 * One transaction: the next chunk after the cursor, if the head is beyond
 * it. Returns the cursor seq after it, and whether there is more. Exported
 * so tests can race two of them as two processes would.
 */
export async function projectChunk(): Promise<{ seq: number; more: boolean }> {
  return mongoose.connection.transaction(async (session) => {
    const [cursor, head] = [await rollupCursor(session), await LedgerHead.findById(LEDGER).session(session).lean()];
    const headSeq = head?.seq ?? 0;
    if (cursor.seq >= headSeq) return { seq: cursor.seq, more: false };
    const through = Math.min(headSeq, cursor.seq + CHUNK);
    const throughHash = through === headSeq ? head?.hash : (await LedgerTransfer.findOne({ seq: through }).select('-_id hash').session(session).lean())?.hash;
    const docs = fromRecent(cursor.seq, cursor.hash, through, throughHash) ?? await LedgerTransfer.find({ seq: { $gt: cursor.seq, $lte: through } }).sort({ seq: 1 })
      .select('-_id seq code phase entries refs effectiveAt prevHash hash').session(session).lean<ProjectDoc[]>();
    let prev = cursor.hash;
    const sums: RollupSums = new Map();
    for (const [i, d] of docs.entries()) {
      if (d.seq !== cursor.seq + i + 1 || d.prevHash !== prev) throw new AppError(409, 'ledger.rollups_diverged', { seq: cursor.seq + i + 1 });
      prev = d.hash;
      addToRollups(sums, d);
    }
    if (docs.length !== through - cursor.seq) throw new AppError(409, 'ledger.rollups_diverged', { seq: cursor.seq + docs.length + 1 });
    // The cursor first: a second projector conflicts here, before it has incremented anything.
    if (cursor.seq === 0) await LedgerHead.create([{ _id: ROLLUP_CURSOR, seq: through, hash: prev }], { session });
    else {
      const moved = await LedgerHead.updateOne({ _id: ROLLUP_CURSOR, seq: cursor.seq }, { $set: { seq: through, hash: prev } }, { session });
      if (moved.matchedCount !== 1) throw new AppError(409, 'ledger.concurrent_change');
    }
    const ops = rollupUpserts(sums);
    if (ops.length) await LedgerRollup.collection.bulkWrite(ops as never, { session, ordered: false });
    return { seq: through, more: through < headSeq };
  });
}

let running: Promise<number> | null = null;

async function runToHead(): Promise<number> {
  for (;;) {
    const r = await projectChunk();
    // What the rollups now include is not needed again.
    const keep = recent.findIndex((d) => d.seq > r.seq);
    recent = keep < 0 ? [] : recent.slice(keep);
    if (!r.more) return r.seq;
  }
}

/**
 * Brings the rollups up to at least the journal head as it is when called
 * (a chunk per transaction) and returns the seq they include. Calls in one
 * process share one run (a call arriving during a run waits for it, then
 * for one more if that run started before its head); another process's run
 * makes this one's transaction abort and retry from the moved cursor.
 */
export async function projectRollups(): Promise<number> {
  const want = (await LedgerHead.findById(LEDGER).lean())?.seq ?? 0;
  let seq = 0;
  for (let round = 0; round < 3; round++) {
    running ??= runToHead().finally(() => {
      running = null;
    });
    seq = await running;
    if (seq >= want) break;
  }
  return seq;
}
