/**
 * A compensation claim's life up to the decision (models/fund-claim.ts):
 *
 * - filed by the licensor's TTO for a defaulted, covered licence, with a
 *   statement and evidence (licence defaulted → claimed);
 * - submitted by a fund manager: the offer is computed (claim-compute.ts)
 *   and reserved in the ledger as one pending COMPENSATION transfer —
 *   Dr pool / Cr comp_payable(licensor) and Dr recovery_rights(claim) /
 *   Cr recovery_rights_offset, all four legs the same amount so that a
 *   partial approval posts the same part of each;
 * - approved (posted, possibly in part) or rejected (voided) once, by a
 *   regulator who is not the maker (licence claimed → compensated, or back
 *   to defaulted so the TTO may file again).
 *
 * Each step is one transaction with the ledger posting, the licence move and
 * the audit row. Every step that moves money writes the pool account, so two
 * such steps running side by side conflict and one retries on the other's
 * result: the caps and the pool are always judged on committed figures, and
 * a second decision finds the first one and is refused (409).
 */
import mongoose, { Types, type ClientSession } from 'mongoose';
import { ClaimEvidence } from '../../../models/claim-evidence.js';
import { FundClaim, type ClaimState } from '../../../models/fund-claim.js';
import { FundCover } from '../../../models/fund-cover.js';
import { Invoice } from '../../../models/invoice.js';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { Licence } from '../../../models/licence.js';
import { nextValue } from '../../../models/counter.js';
import { Organization } from '../../../models/organization.js';
import { Patent } from '../../../models/patent.js';
import { acct, availableBalance, ZERO_TOTALS } from '../../domain/ledger-chart.js';
import type { TransferRefs } from '../../domain/ledger-record.js';
import { formatYuan, parseYuanToFen } from '../../domain/money.js';
import { beijingDate } from '../../domain/patent-term.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { requireRole, requireVerified, type Ctx } from '../context.js';
import { moveLicence } from '../licence-transitions.js';
import { checkEvidence, storeEvidence, type UploadedFile } from './claim-evidence.js';
import { computeCompensation, type Computation } from './claim-compute.js';
import { rulesInForce } from './fund-rules.js';
import { postInTransaction } from './ledger.js';

export type ClaimDoc = InstanceType<typeof FundClaim>;

/** Claim states whose compensation counts against the caps: reserved (submitted) or approved. */
const RESERVED: ClaimState[] = ['submitted'];
const APPROVED: ClaimState[] = ['approved', 'paid', 'closed'];

/** Why an uncovered licence cannot be claimed for, by FundCover.reason. */
const NOT_COVERED: Record<string, string> = {
  suspended_loss_rate: 'fund.claim.not_covered_suspended',
  not_pay_later: 'fund.claim.not_covered_not_pay_later',
  no_rules: 'fund.claim.not_covered_no_rules',
};

/** Why the offer came to nothing, by the limit that bound. */
const NOTHING_TO_OFFER: Record<string, string> = {
  ratio: 'fund.claim.zero.ratio',
  per_licence: 'fund.claim.zero.per_licence',
  per_licensee: 'fund.claim.zero.per_licensee',
  per_year: 'fund.claim.zero.per_year',
  pool: 'fund.claim.zero.pool',
};

const oid = (id: string, notFound: string): Types.ObjectId => {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError(notFound);
  return new Types.ObjectId(id);
};

/** The text of a statement or reason, or a field error. */
export function requiredText(value: unknown, min: number, max: number, key: string): string | FieldError {
  const text = typeof value === 'string' ? value.normalize('NFC').trim() : '';
  if (text.length < min || text.length > max) return { key, params: { min, max } };
  return text;
}

/** Start of the calendar year `year` in China (UTC+8). */
export const chinaYearStart = (year: number) => new Date(Date.UTC(year, 0, 1) - 8 * 3_600_000);

/** What a licence's defaulted invoices still owe: the loss a claim is for. */
export async function defaultedLoss(licence: Types.ObjectId, session?: ClientSession) {
  const invoices = await Invoice.find({ licence, status: 'defaulted' }).sort({ dueAt: 1 }).session(session ?? null).lean();
  return { invoices, lossFen: invoices.reduce((s, i) => s + Math.max(0, i.amountFen - i.paidFen), 0) };
}

/**
 * Whether `licence` may be claimed for now; throws the reason (409) if not.
 * Checked in this order so the answer names the real obstacle: a claim
 * already in progress, the licence's state, cover, and a loss to claim.
 */
export async function assertClaimable(licence: { _id: Types.ObjectId; state: string }, session?: ClientSession) {
  const open = await FundClaim.findOne({ licence: licence._id, state: { $in: ['filed', ...RESERVED, ...APPROVED] } }).select('number').session(session ?? null).lean();
  if (open) throw new ConflictError('fund.claim.in_progress', { number: open.number });
  if (licence.state !== 'defaulted') throw new ConflictError('fund.claim.licence_not_defaulted', { state: licence.state });
  const cover = await FundCover.findOne({ licence: licence._id }).session(session ?? null).lean();
  if (!cover) throw new ConflictError('fund.claim.cover_unknown');
  if (!cover.covered) throw new ConflictError(NOT_COVERED[cover.reason] ?? 'fund.claim.cover_unknown');
  const loss = await defaultedLoss(licence._id, session);
  if (loss.lossFen <= 0) throw new ConflictError('fund.claim.no_loss');
  return { cover, ...loss };
}

/** The TTO's own licence (404 for anyone else's: another institution's licences are not theirs to see). */
export async function ownLicence(ctx: Ctx, licenceId: string, session?: ClientSession) {
  const actor = requireRole(ctx, 'tto');
  const licence = await Licence.findById(oid(licenceId, 'fund.claim.licence_not_found')).session(session ?? null);
  if (!licence || !licence.licensor.equals(actor.orgId)) throw new NotFoundError('fund.claim.licence_not_found');
  return { actor, licence };
}

export interface FileClaimForm {
  licence?: string;
  statement?: string;
}

/** Files a claim with its evidence; the licence moves defaulted → claimed in the same transaction. */
export async function fileClaim(ctx: Ctx, form: FileClaimForm, files: UploadedFile[], now = new Date()): Promise<ClaimDoc> {
  const actor = requireRole(ctx, 'tto');
  requireVerified(actor);
  const errors: Record<string, FieldError> = {};
  const statement = requiredText(form.statement, 10, 5000, 'fund.claim.statement_required');
  if (typeof statement !== 'string') errors.statement = statement;
  let checked: ReturnType<typeof checkEvidence> = [];
  try {
    checked = checkEvidence(files, 0, true);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    Object.assign(errors, err.fields);
  }
  // The licence first: a claim on someone else's licence is a 404 whatever the form says.
  await ownLicence(ctx, form.licence ?? '');
  if (Object.keys(errors).length) throw new ValidationError(errors);
  try {
    return await mongoose.connection.transaction(async (session) => {
      const { licence } = await ownLicence(ctx, form.licence ?? '', session);
      const { invoices, lossFen } = await assertClaimable(licence, session);
      const year = beijingDate(now).getUTCFullYear();
      const number = `CL-${year}-${String(await nextValue(`claim-${year}`, session)).padStart(6, '0')}`;
      const [claim] = await FundClaim.create([{
        number, licence: licence._id, licensor: licence.licensor, licensee: licence.licensee, invoices: invoices.map((i) => i._id), lossFen,
        statement: statement as string, state: 'filed', filedBy: actor.userId, filedAt: now,
        history: [{ at: now, by: actor.userId, from: null, to: 'filed', reason: '' }],
      }], { session });
      await storeEvidence(claim!._id, checked, actor.userId, now, session);
      await moveLicence(ctx, licence, 'claimed', { at: now, reason: number }, session);
      await recordAudit(ctx, 'claim.filed', { type: 'FundClaim', id: claim!._id }, {
        number, licence: String(licence._id), lossFen, evidence: checked.map((f) => ({ name: f.name, sha256: f.sha256 })),
      }, session);
      return claim!;
    });
  } catch (err) {
    // The unique index is the last word on "one claim in progress per licence".
    if ((err as { code?: number }).code !== 11000) throw err;
    const open = await FundClaim.findOne({ licence: form.licence, state: { $in: ['filed', ...RESERVED, ...APPROVED] } }).select('number').lean();
    throw new ConflictError('fund.claim.in_progress', { number: open?.number ?? '' });
  }
}

/** More evidence from the claim's institution while the claim waits for the fund manager. */
export async function addEvidence(ctx: Ctx, claimId: string, files: UploadedFile[], now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  const id = oid(claimId, 'fund.claim.not_found');
  return mongoose.connection.transaction(async (session) => {
    const claim = await FundClaim.findById(id).session(session).lean();
    if (!claim || !claim.licensor.equals(actor.orgId)) throw new NotFoundError('fund.claim.not_found');
    if (claim.state !== 'filed') throw new ConflictError('fund.claim.evidence_closed', { state: claim.state });
    const existing = await ClaimEvidence.countDocuments({ claim: id }).session(session);
    const checked = checkEvidence(files, existing, true);
    // Writing the claim makes concurrent uploads (and a submission) conflict, so the 10-file limit holds.
    const touched = await FundClaim.updateOne({ _id: id, state: 'filed' }, { $set: { updatedAt: now } }, { session });
    if (touched.matchedCount !== 1) throw new ConflictError('fund.claim.evidence_closed', { state: 'submitted' });
    const stored = await storeEvidence(id, checked, actor.userId, now, session);
    await recordAudit(ctx, 'claim.evidence_added', { type: 'FundClaim', id }, { number: claim.number, evidence: checked.map((f) => ({ name: f.name, sha256: f.sha256 })) }, session);
    return stored;
  });
}

/** The ledger references of a claim's transfers: what the console groups and links by. */
export async function claimRefs(claim: { _id: Types.ObjectId; licence: Types.ObjectId; licensor: Types.ObjectId; licensee: Types.ObjectId }, session: ClientSession): Promise<Partial<TransferRefs>> {
  // One after another: operations of one transaction must not overlap on its session.
  const org = await Organization.findById(claim.licensor).select('region').session(session).lean();
  const licence = await Licence.findById(claim.licence).select('patent').session(session).lean();
  const patent = licence ? await Patent.findById(licence.patent).select('fields').session(session).lean() : null;
  return {
    licence: String(claim.licence), claim: String(claim._id), institution: String(claim.licensor), licensee: String(claim.licensee),
    province: org?.region ?? null, field: patent?.fields?.[0] ?? null,
  };
}

/** What is already committed against each cap: approved claims, and submitted ones still reserved. */
async function capUsage(claim: { licence: Types.ObjectId; licensee: Types.ObjectId }, year: number, session?: ClientSession) {
  const sum = (rows: { state: string; compensationFen: number; approvedFen: number }[]) =>
    rows.reduce((s, c) => s + (c.state === 'submitted' ? c.compensationFen : c.approvedFen), 0);
  const committed = (filter: Record<string, unknown>) => FundClaim.find(filter).select('state compensationFen approvedFen').session(session ?? null).lean();
  const live = { state: { $in: [...RESERVED, ...APPROVED] } };
  const forLicence = sum(await committed({ licence: claim.licence, ...live }));
  const forLicensee = sum(await committed({ licensee: claim.licensee, ...live }));
  // A reservation counts in the year it will be decided in, which is taken to be this one.
  const inYear = sum(await committed({ $or: [{ state: { $in: RESERVED } }, { state: { $in: APPROVED }, decidedAt: { $gte: chinaYearStart(year), $lt: chinaYearStart(year + 1) } }] }));
  return { forLicence, forLicensee, inYear };
}

export type ClaimOffer = Computation & { lossAtFilingFen: number };

/**
 * The offer for a filed claim at `now`, by the rules in force when its
 * licence started. The loss is what the claimed invoices still owe now (a
 * payment since filing lowers it), never more than was claimed.
 */
export async function offerFor(claim: Pick<ClaimDoc, '_id' | 'licence' | 'licensee' | 'invoices' | 'lossFen' | 'filedAt'>, now: Date, session?: ClientSession): Promise<ClaimOffer> {
  const licence = await Licence.findById(claim.licence).select('effectiveAt createdAt').session(session ?? null).lean();
  const start = licence?.effectiveAt ?? licence?.createdAt ?? claim.filedAt;
  const rules = await rulesInForce(start, session);
  if (!rules) throw new ConflictError('fund.claim.no_rules', { date: beijingDate(start).toISOString().slice(0, 10) });
  const invoices = await Invoice.find({ _id: { $in: claim.invoices } }).select('amountFen paidFen status').session(session ?? null).lean();
  const owed = invoices.reduce((s, i) => s + (i.status === 'written_off' || i.status === 'void' ? 0 : Math.max(0, i.amountFen - i.paidFen)), 0);
  const year = beijingDate(now).getUTCFullYear();
  const used = await capUsage(claim, year, session);
  const pool = await LedgerAccount.findOne({ key: acct.pool() }).session(session ?? null).lean();
  const computation = computeCompensation({
    lossFen: Math.min(owed, claim.lossFen), rules, usedForLicenceFen: used.forLicence, usedForLicenseeFen: used.forLicensee, usedInYearFen: used.inYear,
    year, poolAvailableFen: availableBalance('credit', pool ?? ZERO_TOTALS),
  });
  return { ...computation, lossAtFilingFen: claim.lossFen };
}

/** Throws the reason an offer of 0 cannot be submitted (409), naming the limit. */
export function assertSomethingToOffer(c: ClaimOffer): void {
  if (c.compensationFen > 0) return;
  if (c.lossFen <= 0) throw new ConflictError('fund.claim.no_loss');
  throw new ConflictError(NOTHING_TO_OFFER[c.limitedBy]!, { available: formatYuan(Math.max(0, c.poolAvailableFen)), year: c.year });
}

/** The fund manager computes the offer and reserves it in the ledger (pending); the claim waits for a regulator. */
export async function submitClaim(ctx: Ctx, claimId: string, now = new Date()): Promise<ClaimDoc> {
  const actor = requireRole(ctx, 'fund_manager');
  const id = oid(claimId, 'fund.claim.not_found');
  return mongoose.connection.transaction(async (session) => {
    const claim = await FundClaim.findById(id).session(session);
    if (!claim) throw new NotFoundError('fund.claim.not_found');
    if (claim.state !== 'filed') throw new ConflictError('fund.claim.not_filed', { state: claim.state });
    const computation = await offerFor(claim, now, session);
    assertSomethingToOffer(computation);
    const amountFen = computation.compensationFen;
    const [reserved] = await postInTransaction([{
      kind: 'transfer', key: `claim:${claim._id}:compensation`, code: 'COMPENSATION', phase: 'pending', entries: [
        { account: acct.pool(), side: 'debit', amountFen }, { account: acct.compPayable(claim.licensor), side: 'credit', amountFen },
        { account: acct.recoveryRights(claim._id), side: 'debit', amountFen }, { account: acct.recoveryOffset(), side: 'credit', amountFen },
      ],
      refs: await claimRefs(claim, session), memo: `${claim.number}: compensation reserved`, maker: String(actor.userId), effectiveAt: now,
    }], session);
    claim.set({ state: 'submitted', computation, compensationFen: amountFen, submittedBy: actor.userId, submittedAt: now, pendingSeq: reserved!.seq });
    claim.history.push({ at: now, by: actor.userId, from: 'filed', to: 'submitted', reason: '' });
    await claim.save({ session });
    await recordAudit(ctx, 'claim.submitted', { type: 'FundClaim', id: claim._id }, {
      number: claim.number, compensationFen: amountFen, limitedBy: computation.limitedBy, pendingSeq: reserved!.seq,
    }, session);
    return claim;
  });
}

export interface DecisionForm {
  decision?: string;
  /** Yuan; empty = the whole amount submitted (approvals only). */
  amount?: string;
  reason?: string;
}

/** The decision and reason of a form, or its field errors (shared by claims, subsidies and write-offs). */
export function parseDecision(form: DecisionForm, partial: boolean): { approve: boolean; amountFen: number | null; reason: string } {
  const errors: Record<string, FieldError> = {};
  const decision = form.decision === 'approve' || form.decision === 'reject' ? form.decision : null;
  if (!decision) errors.decision = { key: 'fund.decision.required' };
  // Two characters at least: 同意 is a complete reason in Chinese.
  const reason = requiredText(form.reason, 2, 1000, 'fund.decision.reason_required');
  if (typeof reason !== 'string') errors.reason = reason;
  let amountFen: number | null = null;
  const amount = (form.amount ?? '').trim();
  if (partial && decision === 'approve' && amount) {
    amountFen = parseYuanToFen(amount);
    if (amountFen === null || amountFen < 1) errors.amount = { key: 'fund.decision.amount_invalid' };
  }
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return { approve: decision === 'approve', amountFen, reason: reason as string };
}

/**
 * A regulator approves (all or part of the reservation is posted) or rejects
 * (it is voided) a submitted claim, once, and never their own submission.
 */
export async function decideClaim(ctx: Ctx, claimId: string, form: DecisionForm, now = new Date()): Promise<ClaimDoc> {
  const actor = requireRole(ctx, 'regulator');
  const id = oid(claimId, 'fund.claim.not_found');
  const d = parseDecision(form, true);
  return mongoose.connection.transaction(async (session) => {
    const claim = await FundClaim.findById(id).session(session);
    if (!claim) throw new NotFoundError('fund.claim.not_found');
    if (claim.state === 'filed') throw new ConflictError('fund.claim.not_submitted');
    if (claim.state !== 'submitted') throw new ConflictError('fund.claim.already_decided', { state: claim.state });
    if (claim.submittedBy?.equals(actor.userId)) throw new ForbiddenError('fund.decision.four_eyes');
    const amountFen = d.amountFen ?? claim.compensationFen;
    if (amountFen > claim.compensationFen) throw new ValidationError({ amount: { key: 'fund.decision.amount_exceeds', params: { max: formatYuan(claim.compensationFen) } } });
    const [resolved] = await postInTransaction([{
      kind: 'resolve', key: `claim:${claim._id}:compensation:${d.approve ? 'post' : 'void'}`, pendingSeq: claim.pendingSeq!, action: d.approve ? 'post' : 'void',
      ...(d.approve && amountFen !== claim.compensationFen && { amountFen }), memo: `${claim.number}: ${d.reason}`,
      maker: String(claim.submittedBy), checker: String(actor.userId), effectiveAt: now,
    }], session);
    const to = d.approve ? 'approved' : 'rejected';
    claim.set({ state: to, decidedBy: actor.userId, decidedAt: now, decisionReason: d.reason, approvedFen: d.approve ? amountFen : 0, postSeq: d.approve ? resolved!.seq : null });
    claim.history.push({ at: now, by: actor.userId, from: 'submitted', to, reason: d.reason });
    await claim.save({ session });
    const licence = await Licence.findById(claim.licence).session(session);
    if (licence) await moveLicence(ctx, licence, d.approve ? 'compensated' : 'defaulted', { at: now, reason: `${claim.number}: ${d.reason}` }, session);
    await recordAudit(ctx, `claim.${to}`, { type: 'FundClaim', id: claim._id }, {
      number: claim.number, submittedFen: claim.compensationFen, approvedFen: claim.approvedFen, seq: resolved!.seq, reason: d.reason,
    }, session);
    return claim;
  });
}
