/**
 * The trial balance as of any date, by account kind or by account, and its
 * CSV/JSON exports.
 *
 * - By kind: from the ledger summary (console-summary.ts), so any date is as
 *   fast as today; reservations (pending) are shown for today only, since
 *   the journal keeps no per-day history of them.
 * - By account: today from the account totals; a past date from the journal
 *   (an export-speed read, said so on the page).
 * Σ debits = Σ credits is computed and shown, never assumed.
 */
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { AppError } from '../../errors.js';
import { ACCOUNT_KINDS, accountSpec, acct, LEDGER, type AccountKind } from '../../domain/ledger-chart.js';
import { requireRole, type Ctx } from '../context.js';
import { fenToDecimal, toCsv } from '../dashboards-csv.js';
import { ledgerSummary, type LedgerSummary } from './console-summary.js';
import { cstDay } from './ledger-post.js';

const DAY_MS = 86_400_000;
export const TB_PAGE_ROWS = 100;

/** Each kind's normal side, taken from the chart so the two cannot disagree. */
export const KIND_NORMAL = Object.fromEntries(
  Object.values(acct).map((f) => accountSpec((f as (id: string) => string)('0'.repeat(24)))!).map((s) => [s.kind, s.normal]),
) as Record<AccountKind, 'debit' | 'credit'>;

/** A calendar day 'YYYY-MM-DD' that exists (not 2026-13-45, not 2026-02-30), from 2000 on; else null. */
export function parseDay(text: unknown): string | null {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const [y, m, d] = text.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 2000 && t.getUTCMonth() === m - 1 && t.getUTCDate() === d ? text : null;
}

/** The instant a China Standard Time day ends (the next day's 00:00 at UTC+8). */
export const endOfDay = (day: string) => new Date(Date.parse(`${day}T00:00:00+08:00`) + DAY_MS);

export interface TrialBalanceQuery {
  asOf: string;
  by: 'kind' | 'account';
  /** by=account: only accounts of this kind on the page (the totals are always the whole ledger's). */
  kind: AccountKind | null;
  /** by=account: the page starts after this account key. */
  after: string | null;
}

/** Query strings are untrusted: a date that is not one is refused with a message; other unknown values are ignored. */
export function parseTrialBalanceQuery(q: Record<string, unknown>, now = new Date()): TrialBalanceQuery {
  const today = cstDay(now);
  const raw = typeof q.asOf === 'string' && q.asOf.trim() ? q.asOf.trim() : today;
  const asOf = parseDay(raw);
  if (!asOf) throw new AppError(400, 'console.error.bad_date', { value: raw.slice(0, 40) });
  if (asOf > today) throw new AppError(400, 'console.error.future_date', { value: asOf, today });
  return {
    asOf,
    by: q.by === 'account' ? 'account' : 'kind',
    kind: typeof q.kind === 'string' && (ACCOUNT_KINDS as readonly string[]).includes(q.kind) ? (q.kind as AccountKind) : null,
    after: typeof q.after === 'string' && q.after.length <= 200 && q.after ? q.after : null,
  };
}

export interface TbRow {
  /** The kind (by kind) or the account key (by account). */
  name: string;
  kind: AccountKind;
  normal: 'debit' | 'credit';
  debitsFen: number;
  creditsFen: number;
  debitBalanceFen: number;
  creditBalanceFen: number;
}

function tbRow(name: string, kind: AccountKind, normal: 'debit' | 'credit', debits: number, credits: number): TbRow {
  const net = debits - credits;
  return { name, kind, normal, debitsFen: debits, creditsFen: credits, debitBalanceFen: Math.max(0, net), creditBalanceFen: Math.max(0, -net) };
}

/** Σ debits = Σ credits (and so Σ debit balances = Σ credit balances): the check every trial balance shows. */
export function tbTotals(rows: TbRow[]) {
  const sum = (f: (r: TbRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  const t = { debitsFen: sum((r) => r.debitsFen), creditsFen: sum((r) => r.creditsFen), debitBalanceFen: sum((r) => r.debitBalanceFen), creditBalanceFen: sum((r) => r.creditBalanceFen) };
  return { ...t, balanced: t.debitsFen === t.creditsFen && t.debitBalanceFen === t.creditBalanceFen, differenceFen: t.debitsFen - t.creditsFen };
}

/** Posted totals by kind for every day up to asOf (from the summary; no I/O). */
export function kindRowsAsOf(s: LedgerSummary, asOf: string): TbRow[] {
  const sums = new Map<AccountKind, { d: number; c: number }>();
  for (const [day, kinds] of s.days) {
    if (day > asOf) continue;
    for (const [kind, t] of kinds) {
      const x = sums.get(kind) ?? { d: 0, c: 0 };
      x.d += t.debits;
      x.c += t.credits;
      sums.set(kind, x);
    }
  }
  return ACCOUNT_KINDS.filter((k) => sums.get(k)?.d || sums.get(k)?.c).map((k) => tbRow(k, k, KIND_NORMAL[k], sums.get(k)!.d, sums.get(k)!.c));
}

/** Reserved (pending) amounts by kind now: only today's trial balance shows them. */
function pendingByKind(s: LedgerSummary) {
  const sums = new Map<AccountKind, { debitsFen: number; creditsFen: number }>();
  for (const a of s.accounts.values()) {
    if (!a.debitsPending && !a.creditsPending) continue;
    const x = sums.get(a.kind) ?? { debitsFen: 0, creditsFen: 0 };
    x.debitsFen += a.debitsPending;
    x.creditsFen += a.creditsPending;
    sums.set(a.kind, x);
  }
  return ACCOUNT_KINDS.filter((k) => sums.has(k)).map((kind) => ({ kind, ...sums.get(kind)! }));
}

let accountCache: { key: string; rows: TbRow[]; source: 'totals' | 'journal' } | null = null;

/**
 * Every account's posted totals as of the end of `asOf`. From the account
 * totals less what was posted effective after that day, or — when most
 * postings are later than the day — summed from the journal up to it; the
 * day counts in the summary say which side is shorter. Either way it is an
 * export-speed read of the journal for a past date (the page says so).
 */
async function accountRowsAsOf(asOf: string): Promise<{ rows: TbRow[]; source: 'totals' | 'journal' }> {
  const s = await ledgerSummary();
  const key = `${asOf}|${s.seq}|${s.hash}`;
  if (accountCache?.key === key) return accountCache;
  const seq = s.seq;
  let later = 0;
  let earlier = 0;
  for (const [day, kinds] of s.days) {
    for (const t of kinds.values()) {
      if (day > asOf) later += t.entries;
      else earlier += t.entries;
    }
  }
  const fromTotals = later <= earlier;
  const base = new Map<string, { kind: AccountKind; normal: 'debit' | 'credit'; d: number; c: number }>();
  if (fromTotals) for (const [k, a] of s.accounts) base.set(k, { kind: a.kind, normal: a.normal, d: a.debitsPosted, c: a.creditsPosted });
  if (fromTotals ? later > 0 : earlier > 0) {
    const end = endOfDay(asOf);
    const docs = await LedgerTransfer.find(fromTotals ? { effectiveAt: { $gte: end } } : { effectiveAt: { $lt: end } }).select('-_id seq phase entries').lean();
    const sign = fromTotals ? -1 : 1;
    for (const d of docs) {
      // Only what the summary counted: later transfers belong to a later trial balance.
      if (d.seq > seq || (d.phase !== 'posted' && d.phase !== 'post')) continue;
      for (const e of d.entries) {
        let x = base.get(e.account);
        if (!x) {
          const spec = accountSpec(e.account)!;
          base.set(e.account, (x = { kind: spec.kind, normal: spec.normal, d: 0, c: 0 }));
        }
        x[e.side === 'debit' ? 'd' : 'c'] += sign * e.amountFen;
      }
    }
  }
  const rows = [...base].filter(([, x]) => x.d || x.c).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => tbRow(k, x.kind, x.normal, x.d, x.c));
  accountCache = { key, rows, source: fromTotals && later === 0 ? 'totals' : 'journal' };
  return accountCache;
}

/** GET /fund/trial-balance (by kind): from the summary, for any date; reservations only for today. */
export async function trialBalanceByKind(ctx: Ctx, q: TrialBalanceQuery, now = new Date()) {
  requireRole(ctx, 'regulator', 'fund_manager');
  const s = await ledgerSummary();
  const rows = kindRowsAsOf(s, q.asOf);
  const today = q.asOf === cstDay(now);
  return { asOf: q.asOf, today, rows, totals: tbTotals(rows), pending: today ? pendingByKind(s) : [] };
}

/** GET /fund/trial-balance?by=account: one page of accounts (by key), with the whole ledger's totals. */
export async function trialBalanceByAccount(ctx: Ctx, q: TrialBalanceQuery, now = new Date()) {
  requireRole(ctx, 'regulator', 'fund_manager');
  const { rows, source } = await accountRowsAsOf(q.asOf);
  const shown = rows.filter((r) => (!q.kind || r.kind === q.kind) && (!q.after || r.name > q.after));
  const page = shown.slice(0, TB_PAGE_ROWS);
  return {
    asOf: q.asOf, today: q.asOf === cstDay(now), source, rows: page, accountCount: rows.length, totals: tbTotals(rows),
    nextAfter: shown.length > TB_PAGE_ROWS ? page[page.length - 1]!.name : null,
  };
}

/**
 * The trial balance as a file. Reproducible: nothing in it depends on when
 * or by whom it was made (no timestamp, no head seq, no locale — column
 * names and kinds are codes), so the same asOf gives the same bytes for as
 * long as nothing is posted effective on or before that day.
 */
export async function trialBalanceFile(ctx: Ctx, q: TrialBalanceQuery, format: 'csv' | 'json'): Promise<{ filename: string; body: Buffer }> {
  requireRole(ctx, 'regulator', 'fund_manager');
  const rows = q.by === 'kind' ? kindRowsAsOf(await ledgerSummary(), q.asOf) : (await accountRowsAsOf(q.asOf)).rows;
  const totals = tbTotals(rows);
  const filename = `trial-balance-${q.by}-${q.asOf}.${format}`;
  if (format === 'json') {
    const doc = {
      ledger: LEDGER, asOf: q.asOf, by: q.by, unit: 'fen',
      rows: rows.map((r) => ({ [q.by]: r.name, ...(q.by === 'account' && { kind: r.kind }), normal: r.normal, debitsFen: r.debitsFen, creditsFen: r.creditsFen, debitBalanceFen: r.debitBalanceFen, creditBalanceFen: r.creditBalanceFen })),
      totals: { debitsFen: totals.debitsFen, creditsFen: totals.creditsFen, debitBalanceFen: totals.debitBalanceFen, creditBalanceFen: totals.creditBalanceFen, balanced: totals.balanced },
    };
    return { filename, body: Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8') };
  }
  const header = [q.by, ...(q.by === 'account' ? ['kind'] : []), 'normal', 'debits_yuan', 'credits_yuan', 'debit_balance_yuan', 'credit_balance_yuan'];
  const body = rows.map((r) => [r.name, ...(q.by === 'account' ? [r.kind] : []), r.normal, fenToDecimal(r.debitsFen), fenToDecimal(r.creditsFen), fenToDecimal(r.debitBalanceFen), fenToDecimal(r.creditBalanceFen)]);
  const total = ['TOTAL', ...(q.by === 'account' ? [''] : []), totals.balanced ? 'balanced' : 'UNBALANCED', fenToDecimal(totals.debitsFen), fenToDecimal(totals.creditsFen), fenToDecimal(totals.debitBalanceFen), fenToDecimal(totals.creditBalanceFen)];
  return { filename, body: toCsv(header, [...body, total]) };
}
