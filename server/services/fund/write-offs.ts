/**
 * Writing off what is left of a compensated licence's debt, four eyes:
 *
 * - a fund manager proposes it for a paid claim whose licence is still
 *   compensated or recovering: one PENDING WRITE_OFF transfer reserving
 *   Dr bad_debt(licensor) / Cr overdue(licence) for the overdue balance left,
 *   and Dr recovery_rights_offset / Cr recovery_rights(claim) for the fund's
 *   subrogated rights left (approved − recovered − written off); a leg pair
 *   that would be zero is left out;
 * - a regulator who is not the proposer approves (posts) or rejects (voids)
 *   it, once, with a reason. On approval, in the same transaction: the
 *   licence's defaulted invoices become written_off (one `invoice.written_off`
 *   licensing event each, stamped posted — this transfer is its posting, so
 *   the ledger subscriber must not post it again), the licence becomes
 *   written_off, and the claim is closed with writtenOffFen set.
 *
 * A rejected proposal may be made again (the proposals are numbered; each
 * has its own ledger key).
 */
import mongoose, { Types } from 'mongoose';
import { FundClaim } from '../../../models/fund-claim.js';
import { Invoice } from '../../../models/invoice.js';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { LicensingEvent } from '../../../models/licensing-event.js';
import { Licence } from '../../../models/licence.js';
import { acct, ZERO_TOTALS } from '../../domain/ledger-chart.js';
import type { JournalEntry } from '../../domain/ledger-record.js';
import { assertInvoiceTransition, type InvoiceStatus } from '../../domain/licence-states.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.js';
import { auditRow, recordAudits } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { moveLicence } from '../licence-transitions.js';
import { recordLicensingEvent } from '../licensing-events.js';
import { claimRefs, parseDecision, requiredText, type ClaimDoc, type DecisionForm } from './claims.js';
import { postInTransaction } from './ledger.js';

const WRITABLE_LICENCE_STATES = ['compensated', 'recovering'];

const claimId = (id: string) => {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('fund.claim.not_found');
  return new Types.ObjectId(id);
};

/** What a write-off would take off the books now: the overdue balance and the fund's rights left. */
export async function writeOffAmounts(claim: Pick<ClaimDoc, '_id' | 'licence' | 'approvedFen' | 'recoveredFen' | 'writtenOffFen'>, session?: mongoose.ClientSession) {
  const overdue = (await LedgerAccount.findOne({ key: acct.overdue(claim.licence) }).session(session ?? null).lean()) ?? ZERO_TOTALS;
  const overdueFen = Math.max(0, overdue.debitsPosted - overdue.creditsPosted - overdue.creditsPending);
  const rightsFen = Math.max(0, claim.approvedFen - claim.recoveredFen - claim.writtenOffFen);
  return { overdueFen, rightsFen };
}

/** Whether a write-off may be proposed for `claim` (and licence state); the reason as a 409 if not. */
export function assertWriteOffOpen(claim: Pick<ClaimDoc, 'state' | 'writeOff'>, licenceState: string): void {
  if (claim.state !== 'paid') throw new ConflictError('fund.writeoff.claim_not_paid', { state: claim.state });
  if (claim.writeOff?.state === 'proposed') throw new ConflictError('fund.writeoff.pending');
  if (!WRITABLE_LICENCE_STATES.includes(licenceState)) throw new ConflictError('fund.writeoff.licence_state', { state: licenceState });
}

/** The fund manager proposes writing off what is left; the ledger reserves it (pending) until a regulator decides. */
export async function proposeWriteOff(ctx: Ctx, id: string, form: { reason?: string }, now = new Date()): Promise<ClaimDoc> {
  const actor = requireRole(ctx, 'fund_manager');
  const _id = claimId(id);
  const reason = requiredText(form.reason, 2, 1000, 'fund.decision.reason_required');
  if (typeof reason !== 'string') throw new ValidationError({ reason });
  return mongoose.connection.transaction(async (session) => {
    const claim = await FundClaim.findById(_id).session(session);
    if (!claim) throw new NotFoundError('fund.claim.not_found');
    const licence = await Licence.findById(claim.licence).select('state').session(session).lean();
    assertWriteOffOpen(claim, licence?.state ?? '');
    const { overdueFen, rightsFen } = await writeOffAmounts(claim, session);
    if (overdueFen === 0 && rightsFen === 0) throw new ConflictError('fund.writeoff.nothing_left');
    const entries: JournalEntry[] = [];
    if (overdueFen > 0) entries.push({ account: acct.badDebt(claim.licensor), side: 'debit', amountFen: overdueFen }, { account: acct.overdue(claim.licence), side: 'credit', amountFen: overdueFen });
    if (rightsFen > 0) entries.push({ account: acct.recoveryOffset(), side: 'debit', amountFen: rightsFen }, { account: acct.recoveryRights(claim._id), side: 'credit', amountFen: rightsFen });
    const attempt = claim.writeOffAttempts + 1;
    const [pending] = await postInTransaction([{
      kind: 'transfer', key: `claim:${claim._id}:writeoff:${attempt}`, code: 'WRITE_OFF', phase: 'pending', entries,
      refs: await claimRefs(claim, session), memo: `${claim.number}: ${reason}`, maker: String(actor.userId), effectiveAt: now,
    }], session);
    claim.set({
      writeOffAttempts: attempt,
      writeOff: { state: 'proposed', proposedBy: actor.userId, proposedAt: now, reason, overdueFen, rightsFen, pendingSeq: pending!.seq, decidedBy: null, decidedAt: null, decisionReason: '', postSeq: null },
    });
    await claim.save({ session });
    await recordAudits([auditRow(ctx, 'claim.write_off_proposed', { type: 'FundClaim', id: claim._id }, { number: claim.number, overdueFen, rightsFen, pendingSeq: pending!.seq, reason })], session);
    return claim;
  });
}

/** A regulator (not the proposer) posts or voids the proposed write-off, once; approval closes the claim and the licence. */
export async function decideWriteOff(ctx: Ctx, id: string, form: DecisionForm, now = new Date()): Promise<ClaimDoc> {
  const actor = requireRole(ctx, 'regulator');
  const _id = claimId(id);
  const d = parseDecision(form, false);
  return mongoose.connection.transaction(async (session) => {
    const claim = await FundClaim.findById(_id).session(session);
    if (!claim) throw new NotFoundError('fund.claim.not_found');
    const w = claim.writeOff;
    if (!w) throw new ConflictError('fund.writeoff.none');
    if (w.state !== 'proposed') throw new ConflictError('fund.writeoff.already_decided', { state: w.state });
    if (w.proposedBy.equals(actor.userId)) throw new ForbiddenError('fund.decision.four_eyes');
    const [resolved] = await postInTransaction([{
      kind: 'resolve', key: `claim:${claim._id}:writeoff:${claim.writeOffAttempts}:${d.approve ? 'post' : 'void'}`, pendingSeq: w.pendingSeq,
      action: d.approve ? 'post' : 'void', memo: `${claim.number}: ${d.reason}`, maker: String(w.proposedBy), checker: String(actor.userId), effectiveAt: now,
    }], session);
    Object.assign(w, { state: d.approve ? 'approved' : 'rejected', decidedBy: actor.userId, decidedAt: now, decisionReason: d.reason, postSeq: d.approve ? resolved!.seq : null });
    const audit = [auditRow(ctx, d.approve ? 'claim.write_off_approved' : 'claim.write_off_rejected', { type: 'FundClaim', id: claim._id }, {
      number: claim.number, overdueFen: w.overdueFen, rightsFen: w.rightsFen, seq: resolved!.seq, reason: d.reason,
    })];
    if (d.approve) {
      await writeOffInvoices(ctx, claim, now, session, audit);
      claim.writtenOffFen += w.rightsFen;
      claim.history.push({ at: now, by: actor.userId, from: claim.state, to: 'closed', reason: d.reason });
      claim.state = 'closed';
      const licence = await Licence.findById(claim.licence).session(session);
      if (licence) await moveLicence(ctx, licence, 'written_off', { at: now, reason: `${claim.number}: ${d.reason}` }, session);
    }
    await claim.save({ session });
    await recordAudits(audit, session);
    return claim;
  });
}

/** The licence's defaulted invoices → written_off, each with its licensing event already marked posted. */
async function writeOffInvoices(ctx: Ctx, claim: ClaimDoc, now: Date, session: mongoose.ClientSession, audit: ReturnType<typeof auditRow>[]): Promise<void> {
  const invoices = await Invoice.find({ licence: claim.licence, status: 'defaulted' }).session(session).lean();
  for (const inv of invoices) {
    assertInvoiceTransition(inv.status as InvoiceStatus, 'written_off');
    const r = await Invoice.updateOne({ _id: inv._id, status: inv.status }, { $set: { status: 'written_off' } }, { session });
    if (r.matchedCount !== 1) throw new ConflictError('fund.writeoff.changed_meanwhile');
    const key = `invoice.written_off:${inv._id}`;
    await recordLicensingEvent({
      type: 'invoice.written_off', key, occurredAt: now, licence: inv.licence, licensor: inv.licensor, licensee: inv.licensee, invoice: inv._id,
      amountFen: Math.max(0, inv.amountFen - inv.paidFen), data: { claim: String(claim._id), claimNumber: claim.number, invoiceNumber: inv.number },
    }, session);
    // The WRITE_OFF transfer is this event's posting: stamped in the same transaction, the subscriber never sees it unposted.
    await LicensingEvent.updateOne({ key, postedAt: null }, { $set: { postedAt: now } }, { session });
    audit.push(auditRow(ctx, 'invoice.written_off', { type: 'Invoice', id: inv._id }, { number: inv.number, from: inv.status, to: 'written_off', claim: claim.number }));
  }
}
