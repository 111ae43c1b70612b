/**
 * Nightly reconciliation of the fund ledger against itself (checklist §9,
 * §13, §22): every account's four stored counters against totals replayed
 * from the journal, the day rollups against rollups recomputed from it, and
 * the accounts that must net to zero at close (clearing:settlement,
 * fund:suspense). Any difference is a break; nothing is corrected here —
 * a break is a finding for a person to explain, never something to heal
 * silently.
 *
 * The head, the accounts and the rollups are read in one snapshot, so the
 * transfers posted while the journal is being replayed cannot show up as
 * false breaks. Each run is written to the audit log (action
 * ledger.reconciled), which is also where the console reads the latest one.
 */
import mongoose from 'mongoose';
import { AuditEvent } from '../../../models/audit-event.js';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { LedgerHead } from '../../../models/ledger-head.js';
import { LedgerRollup } from '../../../models/ledger-rollup.js';
import { accountSpec, LEDGER, postedBalance } from '../../domain/ledger-chart.js';
import { LedgerVerifier } from '../../domain/ledger-verify.js';
import { auditRow, recordAudits } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { journalPages } from './ledger-export.js';
import { addToRollups, projectRollups, ROLLUP_FIGURES, rollupCursor, type RollupSums } from './ledger-rollups.js';

export interface ReconcileBreak {
  /** account: stored counter ≠ journal; zero_at_close: a clearing/suspense balance; rollup: a day total ≠ journal; journal: the journal itself does not verify. */
  kind: 'account' | 'zero_at_close' | 'rollup' | 'journal';
  subject: string;
  field: string;
  stored: number;
  expected: number;
}

export interface ReconcileResult {
  at: Date;
  throughSeq: number;
  accounts: number;
  rollups: number;
  breakCount: number;
  /** The first MAX_BREAKS breaks. */
  breaks: ReconcileBreak[];
  /** Set when the journal itself failed verification (its first bad seq). */
  firstBadSeq: number | null;
}

const MAX_BREAKS = 50;
const TOTALS = ['debitsPosted', 'creditsPosted', 'debitsPending', 'creditsPending'] as const;

/** Recomputes everything from the journal and lists where the stored figures differ. */
export async function reconcileLedger(now = new Date()): Promise<ReconcileResult> {
  // Bring the rollups up first, so they are checked against (nearly) the whole journal. A journal they
  // cannot be brought over (altered behind the service) is what the replay below names, so that refusal is not fatal here.
  await projectRollups().catch(() => undefined);
  const snap = await mongoose.connection.transaction(async (session) => {
    const head = await LedgerHead.findById(LEDGER).session(session).lean();
    const accounts = await LedgerAccount.find({}).session(session).lean();
    const rollups = await LedgerRollup.find({}).session(session).lean();
    return { seq: head?.seq ?? 0, accounts, rollups, rollupSeq: (await rollupCursor(session)).seq };
  });
  const v = new LedgerVerifier({ maxProblems: 1 });
  const sums: RollupSums = new Map();
  for await (const page of journalPages(snap.seq)) {
    for (const r of page) {
      v.transfer(r);
      // The rollups hold the transfers up to their cursor.
      if (r.seq <= snap.rollupSeq) addToRollups(sums, r);
    }
  }
  const verdict = v.finish();
  const breaks: ReconcileBreak[] = [];
  if (!verdict.ok) breaks.push({ kind: 'journal', subject: verdict.problems[0]?.code ?? 'journal', field: 'seq', stored: verdict.firstBadSeq ?? 0, expected: 0 });

  const replayed = v.replayedAccounts();
  const stored = new Set<string>();
  for (const a of snap.accounts) {
    stored.add(a.key);
    const r = replayed.get(a.key);
    for (const f of TOTALS) if (a[f] !== (r?.[f] ?? 0)) breaks.push({ kind: 'account', subject: a.key, field: f, stored: a[f], expected: r?.[f] ?? 0 });
    const spec = accountSpec(a.key);
    if (spec?.zeroAtClose) {
      const balance = postedBalance(spec.normal, a);
      if (balance !== 0) breaks.push({ kind: 'zero_at_close', subject: a.key, field: 'balance', stored: balance, expected: 0 });
      if (a.debitsPending || a.creditsPending) breaks.push({ kind: 'zero_at_close', subject: a.key, field: 'pending', stored: a.debitsPending + a.creditsPending, expected: 0 });
    }
  }
  for (const [key, r] of replayed) {
    if (stored.has(key)) continue;
    for (const f of TOTALS) if (r[f]) breaks.push({ kind: 'account', subject: key, field: f, stored: 0, expected: r[f] });
  }

  const seen = new Set<string>();
  for (const d of snap.rollups) {
    seen.add(d._id);
    const want = sums.get(d._id)?.figures;
    for (const f of ROLLUP_FIGURES) if ((d[f] ?? 0) !== (want?.[f] ?? 0)) breaks.push({ kind: 'rollup', subject: d._id, field: f, stored: d[f] ?? 0, expected: want?.[f] ?? 0 });
  }
  for (const [id, want] of sums) {
    if (seen.has(id)) continue;
    for (const f of ROLLUP_FIGURES) if (want.figures[f]) breaks.push({ kind: 'rollup', subject: id, field: f, stored: 0, expected: want.figures[f] });
  }
  return { at: now, throughSeq: snap.seq, accounts: snap.accounts.length, rollups: snap.rollups.length, breakCount: breaks.length, breaks: breaks.slice(0, MAX_BREAKS), firstBadSeq: verdict.ok ? null : verdict.firstBadSeq };
}

/** Runs a reconciliation and records it (audit log, action ledger.reconciled): the nightly job, or a person from the console. */
export async function runReconciliation(ctx: Ctx, now = new Date()): Promise<ReconcileResult> {
  const result = await reconcileLedger(now);
  await mongoose.connection.transaction((session) => recordAudits([{
    ...auditRow(ctx, 'ledger.reconciled', { type: 'Ledger', id: LEDGER }, { ...result }),
    at: now,
  }], session));
  return result;
}

/** POST /fund/checkpoints/reconcile. */
export async function requestReconciliation(ctx: Ctx): Promise<ReconcileResult> {
  requireRole(ctx, 'regulator', 'fund_manager');
  return runReconciliation(ctx);
}

/** The latest recorded reconciliation, for the console. */
export async function latestReconciliation(ctx: Ctx): Promise<(ReconcileResult & { by: string }) | null> {
  requireRole(ctx, 'regulator', 'fund_manager');
  const row = await AuditEvent.findOne({ action: 'ledger.reconciled' }).sort({ at: -1 }).lean();
  if (!row) return null;
  const s = row.summary as ReconcileResult;
  return { ...s, at: new Date(s.at), by: row.actorEmail || 'schedule' };
}
