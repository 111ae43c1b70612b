/**
 * Subsidies to micro and small enterprises (models/fund-subsidy.ts): a share
 * of the royalties an enterprise paid in an ended quarter, by the rules in
 * force at the quarter's end (subsidyMicroBps or subsidySmallBps by the
 * organisation's size class), capped by what is left of its annual cap
 * (subsidyCapPerLicenseePerYearFen less what is approved or reserved for
 * quarters of the same year) and by the pool's available balance.
 *
 * "Royalties paid" is read from the ledger, not from invoices: the credits
 * to its licences' receivable and overdue accounts by PAYMENT and RECOVERY
 * transfers whose effectiveAt falls in the quarter (China time), less
 * reversals of such transfers made in the quarter — so it is exactly what
 * the books say was settled.
 *
 * Two-phase and four eyes like a claim: the fund manager's submission
 * reserves the amount (pending SUBSIDY: Dr pool / Cr subsidy_payable(sme)),
 * a regulator who is not the maker posts (possibly in part) or voids it
 * once, and the payment run pays it (payment-runs.ts).
 */
import mongoose, { Types, type ClientSession } from 'mongoose';
import { nextValue } from '../../../models/counter.js';
import { FundSubsidy, SUBSIDY_STATES } from '../../../models/fund-subsidy.js';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { Organization } from '../../../models/organization.js';
import { acct, availableBalance, ZERO_TOTALS } from '../../domain/ledger-chart.js';
import { fenTimesRatio, formatYuan } from '../../domain/money.js';
import { beijingDate } from '../../domain/patent-term.js';
import { hasEnded, lastEndedQuarter, parseQuarter, type Quarter } from '../../domain/quarters.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { parseDecision, type DecisionForm } from './claims.js';
import { rulesInForce } from './fund-rules.js';
import { postInTransaction } from './ledger.js';

export const SUBSIDY_LIMITS = ['ratio', 'per_licensee_year', 'pool'] as const;
export type SubsidyLimit = (typeof SUBSIDY_LIMITS)[number];
type SizeClass = 'micro' | 'small';

export interface SubsidyComputation {
  quarter: string;
  rulesVersion: number;
  sizeClass: SizeClass;
  basisFen: number;
  ratioBps: number;
  rawFen: number;
  year: number;
  capFen: number;
  usedInYearFen: number;
  remainingFen: number;
  poolAvailableFen: number;
  amountFen: number;
  limitedBy: SubsidyLimit;
}

/** The subsidy for one enterprise and quarter, and what bound it (pure). */
export function computeSubsidy(i: {
  quarter: string; basisFen: number; sizeClass: SizeClass; year: number; usedInYearFen: number; poolAvailableFen: number;
  rules: { version: number; subsidyMicroBps: number; subsidySmallBps: number; subsidyCapPerLicenseePerYearFen: number };
}): SubsidyComputation {
  const ratioBps = i.sizeClass === 'micro' ? i.rules.subsidyMicroBps : i.rules.subsidySmallBps;
  const rawFen = fenTimesRatio(i.basisFen, ratioBps, 10_000);
  const capFen = i.rules.subsidyCapPerLicenseePerYearFen;
  const remainingFen = Math.max(0, capFen - i.usedInYearFen);
  let amountFen = rawFen;
  let limitedBy: SubsidyLimit = 'ratio';
  if (remainingFen < amountFen) [amountFen, limitedBy] = [remainingFen, 'per_licensee_year'];
  if (Math.max(0, i.poolAvailableFen) < amountFen) [amountFen, limitedBy] = [Math.max(0, i.poolAvailableFen), 'pool'];
  return {
    quarter: i.quarter, rulesVersion: i.rules.version, sizeClass: i.sizeClass, basisFen: i.basisFen, ratioBps, rawFen, year: i.year, capFen,
    usedInYearFen: i.usedInYearFen, remainingFen, poolAvailableFen: i.poolAvailableFen, amountFen, limitedBy,
  };
}

/** 'YYYY-Qn' (also 'YYYYQn'), or null. The model stores the dashed form. */
export function parseSubsidyQuarter(input: unknown): (Quarter & { label: string }) | null {
  if (typeof input !== 'string') return null;
  const q = parseQuarter(input.trim().replace(/^(\d{4})-?(Q[1-4])$/i, '$1$2'));
  return q ? { ...q, label: q.period.replace('Q', '-Q') } : null;
}

/** The quarter's instants: from its first China midnight to the next quarter's. */
function quarterWindow(q: Quarter): { from: Date; to: Date } {
  const offset = 8 * 3_600_000;
  return { from: new Date(q.start.getTime() - offset), to: new Date(q.end.getTime() + 86_400_000 - offset) };
}

const ROYALTY_ACCOUNT = /^royalty:(receivable|overdue):/;

/** Royalties paid in the quarter per licensee (hex id → fen), from the ledger's postings. */
export async function royaltiesPaid(q: Quarter, licensee?: Types.ObjectId, session?: ClientSession): Promise<Map<string, number>> {
  const { from, to } = quarterWindow(q);
  // By the quarter's effectiveAt range alone, codes filtered here: a code predicate would make the store scan every payment ever.
  const rows = (await LedgerTransfer.find({ effectiveAt: { $gte: from, $lt: to }, ...(licensee && { 'refs.licensee': String(licensee) }) })
    .select('code entries refs reverses').session(session ?? null).lean()).filter((r) => r.code === 'PAYMENT' || r.code === 'RECOVERY' || r.code === 'REVERSAL');
  const reversedSeqs = rows.filter((r) => r.code === 'REVERSAL' && r.reverses).map((r) => r.reverses!);
  const originals = reversedSeqs.length ? await LedgerTransfer.find({ seq: { $in: reversedSeqs } }).select('seq code').session(session ?? null).lean() : [];
  const reversesPayment = new Set(originals.filter((o) => o.code === 'PAYMENT' || o.code === 'RECOVERY').map((o) => o.seq));
  const paid = new Map<string, number>();
  for (const r of rows) {
    const who = r.refs?.licensee;
    if (!who) continue;
    const sign = r.code === 'REVERSAL' ? (reversesPayment.has(r.reverses!) ? -1 : 0) : 1;
    if (!sign) continue;
    const side = sign > 0 ? 'credit' : 'debit';
    const fen = r.entries.filter((e) => e.side === side && ROYALTY_ACCOUNT.test(e.account)).reduce((s, e) => s + e.amountFen, 0);
    paid.set(who, (paid.get(who) ?? 0) + sign * fen);
  }
  return paid;
}

const LIVE: ('submitted' | 'approved' | 'paid')[] = ['submitted', 'approved', 'paid'];

async function offerFor(org: { _id: Types.ObjectId; sizeClass: SizeClass }, q: Quarter & { label: string }, session?: ClientSession): Promise<SubsidyComputation> {
  const { to } = quarterWindow(q);
  const rules = await rulesInForce(new Date(to.getTime() - 1), session);
  if (!rules) throw new ConflictError('fund.subsidy.no_rules', { quarter: q.label });
  const year = q.start.getUTCFullYear();
  const same = await FundSubsidy.find({ licensee: org._id, quarter: { $in: [1, 2, 3, 4].map((n) => `${year}-Q${n}`) }, state: { $in: LIVE } }).select('state amountFen approvedFen').session(session ?? null).lean();
  const usedInYearFen = same.reduce((s, x) => s + (x.state === 'submitted' ? x.amountFen : x.approvedFen), 0);
  const basisFen = Math.max(0, (await royaltiesPaid(q, org._id, session)).get(String(org._id)) ?? 0);
  const pool = await LedgerAccount.findOne({ key: acct.pool() }).session(session ?? null).lean();
  return computeSubsidy({ quarter: q.label, basisFen, sizeClass: org.sizeClass, year, usedInYearFen, poolAvailableFen: availableBalance('credit', pool ?? ZERO_TOTALS), rules });
}

/** The quarter asked for, ended; field errors otherwise. */
function endedQuarter(input: unknown, now: Date) {
  const q = parseSubsidyQuarter(input);
  if (!q) throw new ValidationError({ quarter: { key: 'fund.subsidy.quarter_invalid' } });
  if (!hasEnded(q, now)) throw new ValidationError({ quarter: { key: 'fund.subsidy.quarter_not_ended', params: { quarter: q.label } } });
  return q;
}

/** A micro or small enterprise (404 for an unknown id; 409 naming its class for any other). */
async function eligibleOrg(id: string, session?: ClientSession) {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('fund.subsidy.sme_not_found');
  const org = await Organization.findById(id).select('kind nameZh nameEn region enterprise').session(session ?? null).lean();
  if (!org || org.kind !== 'enterprise') throw new NotFoundError('fund.subsidy.sme_not_found');
  const sizeClass = org.enterprise?.sizeClass;
  if (sizeClass !== 'micro' && sizeClass !== 'small') throw new ConflictError('fund.subsidy.not_eligible', { name: org.nameZh });
  return { ...org, sizeClass: sizeClass as SizeClass };
}

/** Micro and small enterprises that paid royalties in the quarter, with what a subsidy would be and any already made. */
export async function eligibleSmes(ctx: Ctx, quarterInput: unknown, now = new Date()) {
  requireRole(ctx, 'fund_manager', 'regulator');
  const q = endedQuarter(quarterInput || lastEndedQuarter(now).period, now);
  const paid = await royaltiesPaid(q);
  const ids = [...paid.keys()].filter((k) => Types.ObjectId.isValid(k) && paid.get(k)! > 0);
  const orgs = await Organization.find({ _id: { $in: ids }, kind: 'enterprise', 'enterprise.sizeClass': { $in: ['micro', 'small'] } }).select('nameZh nameEn region enterprise').lean();
  const existing = new Map((await FundSubsidy.find({ quarter: q.label, state: { $in: LIVE } }).select('number licensee state amountFen').lean()).map((s) => [String(s.licensee), s]));
  const rows = orgs.map((o) => ({ org: o, sizeClass: o.enterprise!.sizeClass as SizeClass, basisFen: paid.get(String(o._id))!, subsidy: existing.get(String(o._id)) ?? null }));
  return { quarter: q.label, rows: rows.sort((a, b) => b.basisFen - a.basisFen || a.org.nameZh.localeCompare(b.org.nameZh)) };
}

/** What submitting would reserve now, for the confirmation page. */
export async function previewSubsidy(ctx: Ctx, licenseeId: string, quarterInput: unknown, now = new Date()) {
  requireRole(ctx, 'fund_manager');
  const q = endedQuarter(quarterInput, now);
  const org = await eligibleOrg(licenseeId);
  const existing = await FundSubsidy.findOne({ licensee: org._id, quarter: q.label, state: { $in: LIVE } }).select('number').lean();
  return { org, quarter: q.label, computation: await offerFor(org, q), existing };
}

const NOTHING: Record<SubsidyLimit, string> = {
  ratio: 'fund.subsidy.zero.basis', per_licensee_year: 'fund.subsidy.zero.cap', pool: 'fund.subsidy.zero.pool',
};

/** The fund manager reserves the subsidy (pending SUBSIDY transfer) for a regulator to decide. */
export async function submitSubsidy(ctx: Ctx, form: { licensee?: string; quarter?: string }, now = new Date()) {
  const actor = requireRole(ctx, 'fund_manager');
  const q = endedQuarter(form.quarter, now);
  const org = await eligibleOrg(form.licensee ?? '');
  try {
    return await mongoose.connection.transaction(async (session) => {
      const existing = await FundSubsidy.findOne({ licensee: org._id, quarter: q.label, state: { $in: LIVE } }).select('number').session(session).lean();
      if (existing) throw new ConflictError('fund.subsidy.exists', { number: existing.number });
      const c = await offerFor(org, q, session);
      if (c.amountFen <= 0) throw new ConflictError(NOTHING[c.limitedBy], { quarter: q.label, available: formatYuan(Math.max(0, c.poolAvailableFen)), year: c.year });
      const _id = new Types.ObjectId();
      const year = beijingDate(now).getUTCFullYear();
      const number = `SB-${year}-${String(await nextValue(`subsidy-${year}`, session)).padStart(6, '0')}`;
      const [reserved] = await postInTransaction([{
        kind: 'transfer', key: `subsidy:${_id}:reserve`, code: 'SUBSIDY', phase: 'pending', entries: [
          { account: acct.pool(), side: 'debit', amountFen: c.amountFen }, { account: acct.subsidyPayable(org._id), side: 'credit', amountFen: c.amountFen },
        ],
        refs: { subsidy: String(_id), licensee: String(org._id), province: org.region ?? null }, memo: `${number}: ${q.label} subsidy reserved`,
        maker: String(actor.userId), effectiveAt: now,
      }], session);
      const [subsidy] = await FundSubsidy.create([{
        _id, number, licensee: org._id, quarter: q.label, sizeClass: org.sizeClass, basisFen: c.basisFen, ratioBps: c.ratioBps, rulesVersion: c.rulesVersion,
        computation: c, amountFen: c.amountFen, state: 'submitted', submittedBy: actor.userId, submittedAt: now, pendingSeq: reserved!.seq,
      }], { session });
      await recordAudit(ctx, 'subsidy.submitted', { type: 'FundSubsidy', id: _id }, { number, licensee: String(org._id), quarter: q.label, amountFen: c.amountFen, limitedBy: c.limitedBy, pendingSeq: reserved!.seq }, session);
      return subsidy!;
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError('fund.subsidy.exists', { number: '' });
    throw err;
  }
}

/** A regulator (not the maker) approves (posts all or part) or rejects (voids) a submitted subsidy, once. */
export async function decideSubsidy(ctx: Ctx, id: string, form: DecisionForm, now = new Date()) {
  const actor = requireRole(ctx, 'regulator');
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('fund.subsidy.not_found');
  const d = parseDecision(form, true);
  return mongoose.connection.transaction(async (session) => {
    const subsidy = await FundSubsidy.findById(id).session(session);
    if (!subsidy) throw new NotFoundError('fund.subsidy.not_found');
    if (subsidy.state !== 'submitted') throw new ConflictError('fund.subsidy.already_decided', { state: subsidy.state });
    if (subsidy.submittedBy.equals(actor.userId)) throw new ForbiddenError('fund.decision.four_eyes');
    const amountFen = d.amountFen ?? subsidy.amountFen;
    if (amountFen > subsidy.amountFen) throw new ValidationError({ amount: { key: 'fund.decision.amount_exceeds', params: { max: formatYuan(subsidy.amountFen) } } });
    const [resolved] = await postInTransaction([{
      kind: 'resolve', key: `subsidy:${subsidy._id}:${d.approve ? 'post' : 'void'}`, pendingSeq: subsidy.pendingSeq, action: d.approve ? 'post' : 'void',
      ...(d.approve && amountFen !== subsidy.amountFen && { amountFen }), memo: `${subsidy.number}: ${d.reason}`,
      maker: String(subsidy.submittedBy), checker: String(actor.userId), effectiveAt: now,
    }], session);
    subsidy.set({ state: d.approve ? 'approved' : 'rejected', decidedBy: actor.userId, decidedAt: now, decisionReason: d.reason, approvedFen: d.approve ? amountFen : 0, postSeq: d.approve ? resolved!.seq : null });
    await subsidy.save({ session });
    await recordAudit(ctx, d.approve ? 'subsidy.approved' : 'subsidy.rejected', { type: 'FundSubsidy', id: subsidy._id }, { number: subsidy.number, amountFen: subsidy.amountFen, approvedFen: subsidy.approvedFen, seq: resolved!.seq, reason: d.reason }, session);
    return subsidy;
  });
}

/** Subsidies, newest first (optionally one state), with the enterprises' names. */
export async function listSubsidies(ctx: Ctx, q: { state?: string | null }) {
  requireRole(ctx, 'fund_manager', 'regulator');
  const state = SUBSIDY_STATES.find((s) => s === q.state) ?? null;
  const subsidies = await FundSubsidy.find(state ? { state: { $eq: state } } : {}).sort({ submittedAt: -1 }).limit(200).lean();
  const names = new Map((await Organization.find({ _id: { $in: subsidies.map((s) => s.licensee) } }).select('nameZh nameEn').lean()).map((o) => [String(o._id), o]));
  return { state, subsidies: subsidies.map((s) => ({ ...s, org: names.get(String(s.licensee)) ?? null })) };
}

export async function getSubsidy(ctx: Ctx, id: string) {
  requireRole(ctx, 'fund_manager', 'regulator');
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('fund.subsidy.not_found');
  const subsidy = await FundSubsidy.findById(id).lean();
  if (!subsidy) throw new NotFoundError('fund.subsidy.not_found');
  const org = await Organization.findById(subsidy.licensee).select('nameZh nameEn region enterprise').lean();
  // By seq (indexed): the reservation, its resolution and the payout.
  const seqs = [subsidy.pendingSeq, subsidy.postSeq, subsidy.payoutSeq].filter((s): s is number => typeof s === 'number');
  const fields = 'seq key code phase entries maker checker effectiveAt hash';
  const found = [...await LedgerTransfer.find({ seq: { $in: seqs } }).select(fields).lean(), ...await LedgerTransfer.find({ pendingSeq: subsidy.pendingSeq }).select(fields).lean()];
  const transfers = [...new Map(found.map((t) => [t.seq, t])).values()].sort((a, b) => a.seq - b.seq);
  return { subsidy, org, transfers };
}
