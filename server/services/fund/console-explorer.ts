/**
 * The ledger explorer (GET /fund/ledger, GET /fund/ledger/:seq): the
 * journal newest first, filtered by code, account (a key or a key prefix),
 * licence, claim, institution and effective dates, paged by a seq cursor.
 *
 * It never counts or skips over the journal. Each page searches seq
 * windows downwards from the cursor — a page's worth of seqs, then 16
 * times more each round (4 when no index serves the filter) — so every
 * query is an index range of bounded size (the store sorts what a query
 * matches, so "everything below the cursor, sorted, first 50" would sort
 * a million documents). A filter served by an index (code, account,
 * licence, claim, institution) only ever touches its own matches; the
 * others (account prefix, dates alone) examine at most SCAN_BUDGET seqs
 * per page and then offer to search further down.
 */
import { LedgerHead } from '../../../models/ledger-head.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { User } from '../../../models/user.js';
import { accountSpec, LEDGER, TRANSFER_CODES, type TransferCode } from '../../domain/ledger-chart.js';
import { REF_KEYS, type JournalRecord } from '../../domain/ledger-record.js';
import { AppError, NotFoundError } from '../../errors.js';
import { requireRole, type Ctx } from '../context.js';
import { journalRecordOf } from './ledger-post.js';
import { endOfDay, parseDay } from './trial-balance.js';

export const EXPLORER_PAGE_ROWS = 50;
/** One page's worth first: with no filter the seqs are contiguous, so one query of this size fills the page. */
const FIRST_WINDOW = 51;
/** Seqs a page may examine when no index narrows the filter. */
export const SCAN_BUDGET = 20_000;
const OID = /^[0-9a-f]{24}$/;
/** Characters account keys are made of (ledger-chart.ts): anything else cannot match and is refused. */
const ACCOUNT_TEXT = /^[a-z0-9_:]{1,120}$/;

export interface ExplorerQuery {
  code: TransferCode | null;
  account: string | null;
  /** True when `account` is a whole key of the chart; otherwise it is a prefix. */
  accountExact: boolean;
  licence: string | null;
  claim: string | null;
  institution: string | null;
  from: string | null;
  to: string | null;
  /** Show transfers with a seq below this one. */
  before: number | null;
}

export interface QueryProblem {
  field: string;
  key: string;
  params: Record<string, string | number>;
}

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** Query strings are untrusted: each bad value is named (the page answers 400 and shows why), never passed on. */
export function parseExplorerQuery(raw: Record<string, unknown>): { query: ExplorerQuery; problems: QueryProblem[] } {
  const problems: QueryProblem[] = [];
  const bad = (field: string, key: string, value: string) => {
    problems.push({ field, key, params: { value: value.slice(0, 60) } });
    return null;
  };
  const code = text(raw.code).toUpperCase();
  const account = text(raw.account).toLowerCase();
  const id = (field: 'licence' | 'claim' | 'institution') => {
    const v = text(raw[field]).toLowerCase();
    return !v ? null : OID.test(v) ? v : bad(field, 'console.error.bad_id', v);
  };
  const day = (field: 'from' | 'to') => {
    const v = text(raw[field]);
    return !v ? null : parseDay(v) ?? bad(field, 'console.error.bad_date', v);
  };
  const before = text(raw.before);
  const query: ExplorerQuery = {
    code: !code ? null : (TRANSFER_CODES as readonly string[]).includes(code) ? (code as TransferCode) : bad('code', 'console.error.bad_code', code),
    account: !account ? null : ACCOUNT_TEXT.test(account) ? account : bad('account', 'console.error.bad_account', account),
    accountExact: false,
    licence: id('licence'),
    claim: id('claim'),
    institution: id('institution'),
    from: day('from'),
    to: day('to'),
    before: !before ? null : /^\d{1,15}$/.test(before) && Number(before) >= 1 ? Number(before) : bad('before', 'console.error.bad_seq', before),
  };
  query.accountExact = query.account !== null && accountSpec(query.account) !== null;
  if (query.from && query.to && query.from > query.to) problems.push({ field: 'to', key: 'console.error.date_order', params: { from: query.from, to: query.to } });
  return { query, problems };
}

/** The Mongo filter for a query (every user value behind $eq or a range on a string), and whether an index narrows it. */
function filterOf(q: ExplorerQuery): { filter: Record<string, unknown>; indexed: boolean } {
  const f: Record<string, unknown> = {};
  if (q.code) f.code = { $eq: q.code };
  if (q.account && q.accountExact) f['entries.account'] = { $eq: q.account };
  // A prefix: one leg's account between the prefix and the prefix followed by the highest character.
  if (q.account && !q.accountExact) f.entries = { $elemMatch: { account: { $gte: q.account, $lt: `${q.account}\uffff` } } };
  if (q.licence) f['refs.licence'] = { $eq: q.licence };
  if (q.claim) f['refs.claim'] = { $eq: q.claim };
  if (q.institution) f['refs.institution'] = { $eq: q.institution };
  if (q.from || q.to) f.effectiveAt = { ...(q.from && { $gte: new Date(`${q.from}T00:00:00+08:00`) }), ...(q.to && { $lt: endOfDay(q.to) }) };
  return { filter: f, indexed: Boolean(q.code || q.accountExact || q.licence || q.claim || q.institution) };
}

/** A record with its legs split into debit and credit columns, for the page. */
function present(r: JournalRecord) {
  return {
    ...r,
    legs: r.entries.map((e) => ({ account: e.account, debitFen: e.side === 'debit' ? e.amountFen : null, creditFen: e.side === 'credit' ? e.amountFen : null })),
    refList: REF_KEYS.filter((k) => r.refs[k]).map((k) => ({ ref: k, id: r.refs[k]! })),
    // Shortened for the table; the page puts the whole hash in the title.
    hashShort: r.hash.slice(0, 12), prevHashShort: r.prevHash.slice(0, 12),
  };
}
export type ExplorerRow = ReturnType<typeof present>;

/** Names and e-mails of makers and checkers (null = the system). */
async function peopleOf(records: JournalRecord[]): Promise<Map<string, { name: string; email: string }>> {
  const ids = [...new Set(records.flatMap((r) => [r.maker, r.checker]).filter((x): x is string => !!x && OID.test(x)))];
  const users = ids.length ? await User.find({ _id: { $in: ids } }).select('name email').lean() : [];
  return new Map(users.map((u) => [String(u._id), { name: u.name, email: u.email }]));
}

/** GET /fund/ledger: one page, newest first, and where the next page starts. (`tuning` lets tests use small windows.) */
export async function exploreLedger(ctx: Ctx, q: ExplorerQuery, tuning: { firstWindow?: number; scanBudget?: number } = {}) {
  requireRole(ctx, 'regulator', 'fund_manager');
  const budget = tuning.scanBudget ?? SCAN_BUDGET;
  const { filter, indexed } = filterOf(q);
  const newest = await LedgerHead.findById(LEDGER).lean();
  let hi = Math.min(q.before ?? Infinity, (newest?.seq ?? 0) + 1);
  const found: JournalRecord[] = [];
  let window = tuning.firstWindow ?? FIRST_WINDOW;
  let examined = 0;
  while (hi > 1 && found.length <= EXPLORER_PAGE_ROWS) {
    const lo = Math.max(1, hi - (indexed ? window : Math.min(window, budget - examined)));
    const docs = await LedgerTransfer.find({ ...filter, seq: { $gte: lo, $lt: hi } }).sort({ seq: -1 }).limit(EXPLORER_PAGE_ROWS + 1 - found.length).lean();
    found.push(...docs.map(journalRecordOf));
    examined += hi - lo;
    hi = lo;
    // An index filter touches only its matches whatever the window, so it widens faster (fewer round trips for a sparse code).
    window *= indexed ? 16 : 4;
    if (!indexed && examined >= budget) break;
  }
  const rows = found.slice(0, EXPLORER_PAGE_ROWS);
  // More matches exist below the last row shown, or the budget ran out with seqs left unsearched below `hi`.
  const older = found.length > EXPLORER_PAGE_ROWS ? rows[rows.length - 1]!.seq : hi > 1 ? hi : null;
  return {
    rows: rows.map(present), people: await peopleOf(rows), older,
    /** Set when the page stopped for its budget: the seqs from here down were not searched yet. */
    searchedDownTo: found.length <= EXPLORER_PAGE_ROWS && hi > 1 ? hi : null,
    newestSeq: newest?.seq ?? 0,
  };
}

/** A transfer's seq from a URL (/fund/ledger/:seq…), or a 400 naming what was given. */
export function parseTransferSeq(seqText: string): number {
  if (!/^\d{1,15}$/.test(seqText) || Number(seqText) < 1) throw new AppError(400, 'console.error.bad_seq', { value: seqText.slice(0, 60) });
  return Number(seqText);
}

/** GET /fund/ledger/:seq: one transfer, what it reverses or resolves, and what reversed or resolved it. */
export async function ledgerTransfer(ctx: Ctx, seqText: string) {
  requireRole(ctx, 'regulator', 'fund_manager');
  const seq = parseTransferSeq(seqText);
  const doc = await LedgerTransfer.findOne({ seq }).lean();
  if (!doc) throw new NotFoundError('ledger.transfer_not_found', { seq });
  const record = journalRecordOf(doc);
  // A reversal or resolution carries its original's code, which the code index serves
  // (the partial indexes on reverses/pendingSeq are not used by the embedded store's planner).
  const [reversedBy, resolvedBy] = await Promise.all([
    LedgerTransfer.findOne({ code: 'REVERSAL', reverses: seq }).select('-_id seq phase effectiveAt').lean(),
    record.phase === 'pending' ? LedgerTransfer.findOne({ code: record.code, pendingSeq: seq }).select('-_id seq phase effectiveAt entries').lean() : null,
  ]);
  return {
    transfer: present(record), people: await peopleOf([record]), reversedBy, resolvedBy,
    reversible: (record.phase === 'posted' || record.phase === 'post') && record.code !== 'REVERSAL' && !reversedBy,
  };
}
