/**
 * The regulators' fund dashboard (GET /fund): the pool over time and now,
 * the exposure under cover, defaults and compensation by province, field,
 * institution and quarter, the default rate, subsidies by quarter, claims by
 * state and what is reserved and waiting for a decision.
 *
 * Ledger figures come from the in-process summary (console-summary.ts:
 * rollups and account totals, brought forward from the journal by seq), so
 * the page never scans the journal; the rest are counts on indexed fields.
 * Figures are codes and fen: the route names and formats them.
 */
import { FundClaim, CLAIM_STATES } from '../../../models/fund-claim.js';
import { FundCover } from '../../../models/fund-cover.js';
import { FundSubsidy } from '../../../models/fund-subsidy.js';
import { Organization, REGIONS } from '../../../models/organization.js';
import { acct, availableBalance, postedBalance, ZERO_TOTALS } from '../../domain/ledger-chart.js';
import { fenTimesRatio } from '../../domain/money.js';
import { TECH_FIELDS } from '../../domain/tech-fields.js';
import { requireRole, type Ctx } from '../context.js';
import { DIMENSIONS, ledgerSummary, type Dimension, type LedgerSummary, type Metric } from './console-summary.js';
import { cstDay } from './ledger-post.js';
import { fundSyncStatus } from './subscriber.js';

/** A daily line up to this many days of history; monthly beyond. */
const DAILY_SPAN_DAYS = 62;
const DAY_MS = 86_400_000;
const LIST_ROWS = 10;

export interface MeasureRow {
  /** Province code, field key, institution id or quarter ('' = not recorded on the transfers). */
  key: string;
  defaultFen: number;
  compensationFen: number;
  accruedFen: number;
  subsidyFen: number;
  /** Defaulted ÷ accrued in basis points; null when nothing was accrued. */
  rateBps: number | null;
}

/** round-half-up(defaulted × 10 000 ÷ accrued). */
export function defaultRateBps(defaultFen: number, accruedFen: number): number | null {
  return accruedFen > 0 ? fenTimesRatio(Math.max(0, defaultFen), 10_000, accruedFen) : null;
}

/** Cumulative pool balance (credits − debits posted) at the end of each day or month with any history, up to today. */
export function poolOverTime(s: LedgerSummary, today: string): { granularity: 'day' | 'month'; points: { period: string; balanceFen: number }[] } {
  const moves = [...s.days].map(([day, kinds]) => [day, kinds.get('fund_pool')] as const).filter(([, t]) => t).sort(([a], [b]) => (a < b ? -1 : 1));
  if (!moves.length) return { granularity: 'day', points: [] };
  const first = moves[0]![0];
  const last = moves[moves.length - 1]![0] > today ? moves[moves.length - 1]![0] : today;
  const daily = (Date.parse(last) - Date.parse(first)) / DAY_MS <= DAILY_SPAN_DAYS;
  const periods: string[] = [];
  if (daily) {
    for (let t = Date.parse(first); t <= Date.parse(last); t += DAY_MS) periods.push(new Date(t).toISOString().slice(0, 10));
  } else {
    let y = Number(first.slice(0, 4));
    let m = Number(first.slice(5, 7));
    for (let p = first.slice(0, 7); p <= last.slice(0, 7); p = `${y}-${String(m).padStart(2, '0')}`) {
      periods.push(p);
      if (++m > 12) [y, m] = [y + 1, 1];
    }
  }
  const len = daily ? 10 : 7;
  let i = 0;
  let balance = 0;
  const points = periods.map((period) => {
    while (i < moves.length && moves[i]![0].slice(0, len) <= period) {
      balance += moves[i]![1]!.credits - moves[i]![1]!.debits;
      i++;
    }
    return { period, balanceFen: balance };
  });
  return { granularity: daily ? 'day' : 'month', points };
}

/** The four measures summed along each dimension (the summary keeps each dimension's totals). */
export function measuresBy(s: LedgerSummary): Record<Dimension, MeasureRow[]> {
  const maps = Object.fromEntries(DIMENSIONS.map((d) => [d, new Map<string, Record<Metric, number>>()])) as Record<Dimension, Map<string, Record<Metric, number>>>;
  for (const [key, fen] of s.dims) {
    const [metric, dim, value] = key.split('|') as [Metric, Dimension, string];
    const m = maps[dim];
    const row = m.get(value) ?? { default: 0, compensation: 0, accrued: 0, subsidy: 0 };
    row[metric] += fen;
    m.set(value, row);
  }
  const rows = (d: Dimension) => [...maps[d]].map(([key, v]): MeasureRow => ({
    key, defaultFen: v.default, compensationFen: v.compensation, accruedFen: v.accrued, subsidyFen: v.subsidy, rateBps: defaultRateBps(v.default, v.accrued),
  }));
  const order = (list: readonly string[]) => (a: MeasureRow, b: MeasureRow) => rank(list, a.key) - rank(list, b.key);
  return {
    province: rows('province').sort(order(REGIONS)),
    field: rows('field').sort(order(TECH_FIELDS)),
    institution: rows('institution').sort((a, b) => b.defaultFen + b.compensationFen - (a.defaultFen + a.compensationFen) || (a.key < b.key ? -1 : 1)),
    quarter: rows('quarter').sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

/** Known values in their list's order, then anything else, then '' (not recorded) last. */
function rank(list: readonly string[], key: string): number {
  const i = list.indexOf(key);
  return key === '' ? list.length + 1 : i < 0 ? list.length : i;
}

let coverCache: { fingerprint: string; licences: string[] } | null = null;

/**
 * Ids of covered licences. Cover decisions are only ever inserted (decided
 * once, at grant), so the collection's count and first document identify
 * its contents well enough to keep the list between page views.
 */
async function coveredLicences(): Promise<string[]> {
  const [count, first] = await Promise.all([FundCover.estimatedDocumentCount(), FundCover.findOne({}).select('_id').lean()]);
  const fingerprint = `${count}|${String(first?._id ?? '')}`;
  if (coverCache?.fingerprint !== fingerprint) {
    const docs = await FundCover.find({ covered: true }).select('-_id licence').lean();
    coverCache = { fingerprint, licences: docs.map((d) => String(d.licence)) };
  }
  return coverCache.licences;
}

/** What covered licensees still owe: receivable plus overdue, from the summary's account totals. */
function exposure(s: LedgerSummary, licences: string[]) {
  let fen = 0;
  let owing = 0;
  for (const id of licences) {
    const r = s.accounts.get(acct.receivable(id));
    const o = s.accounts.get(acct.overdue(id));
    const owed = (r ? Math.max(0, postedBalance('debit', r)) : 0) + (o ? Math.max(0, postedBalance('debit', o)) : 0);
    fen += owed;
    if (owed) owing++;
  }
  return { fen, covered: licences.length, owing };
}

/** GET /fund: everything the dashboard shows, as codes and fen. */
export async function fundDashboard(ctx: Ctx, now = new Date()) {
  requireRole(ctx, 'regulator', 'fund_manager');
  const s = await ledgerSummary();
  // Everything from the summary first, synchronously (a later fold changes it in place).
  const today = cstDay(now);
  const poolTotals = s.accounts.get(acct.pool()) ?? ZERO_TOTALS;
  const pool = { postedFen: postedBalance('credit', poolTotals), reservedFen: poolTotals.debitsPending, availableFen: availableBalance('credit', poolTotals) };
  const series = poolOverTime(s, today);
  const by = measuresBy(s);
  const seq = s.seq;
  const licences = await coveredLicences();
  const exposed = exposure(s, licences);

  const [claimStates, submittedClaims, submittedSubsidies, subsidyReserved, sync] = await Promise.all([
    FundClaim.aggregate<{ _id: string; n: number; fen: number }>([{ $group: { _id: '$state', n: { $sum: 1 }, fen: { $sum: '$compensationFen' } } }]),
    FundClaim.find({ state: 'submitted' }).sort({ updatedAt: 1 }).limit(LIST_ROWS).select('number compensationFen submittedAt pendingSeq').lean(),
    FundSubsidy.find({ state: 'submitted' }).sort({ updatedAt: 1 }).limit(LIST_ROWS).select('number amountFen quarter submittedAt pendingSeq').lean(),
    FundSubsidy.aggregate<{ n: number; fen: number }>([{ $match: { state: 'submitted' } }, { $group: { _id: null, n: { $sum: 1 }, fen: { $sum: '$amountFen' } } }]),
    fundSyncStatus(),
  ]);
  const byState = new Map(claimStates.map((r) => [r._id, r]));
  const institutionIds = by.institution.map((r) => r.key).filter((k) => /^[0-9a-f]{24}$/.test(k));
  const orgs = institutionIds.length ? await Organization.find({ _id: { $in: institutionIds } }).select('nameZh nameEn').lean() : [];
  const total = by.quarter.reduce((t, r) => ({ defaultFen: t.defaultFen + r.defaultFen, compensationFen: t.compensationFen + r.compensationFen, accruedFen: t.accruedFen + r.accruedFen, subsidyFen: t.subsidyFen + r.subsidyFen }), { defaultFen: 0, compensationFen: 0, accruedFen: 0, subsidyFen: 0 });
  return {
    seq, today, pool, series, by, exposure: exposed,
    totals: { ...total, rateBps: defaultRateBps(total.defaultFen, total.accruedFen) },
    institutions: new Map(orgs.map((o) => [String(o._id), { nameZh: o.nameZh, nameEn: o.nameEn ?? '' }])),
    claims: CLAIM_STATES.map((state) => ({ state, count: byState.get(state)?.n ?? 0 })),
    reserved: {
      poolFen: pool.reservedFen,
      claims: { count: byState.get('submitted')?.n ?? 0, fen: byState.get('submitted')?.fen ?? 0, list: submittedClaims },
      subsidies: { count: subsidyReserved[0]?.n ?? 0, fen: subsidyReserved[0]?.fen ?? 0, list: submittedSubsidies },
    },
    sync,
  };
}
