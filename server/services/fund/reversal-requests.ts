/**
 * Reversal requests: four eyes on every correction of the fund ledger.
 * A fund manager asks for a transfer to be reversed, with a reason; a
 * regulator who is not the requester approves or rejects it, once.
 * Approval posts the REVERSAL (maker = the requester, checker = the
 * approver) in the same transaction as the request's state change and its
 * audit row, so a request is never approved without its reversal, nor the
 * other way round. If the ledger refuses the reversal, nothing is written
 * and the request stays open (see models/ledger-reversal-request.ts).
 */
import mongoose, { isValidObjectId } from 'mongoose';
import { LedgerReversalRequest, REVERSAL_REQUEST_STATES, type ReversalRequestState } from '../../../models/ledger-reversal-request.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { User } from '../../../models/user.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { postInTransaction } from './ledger.js';

const REASON_MAX = 1000;
const LIST_ROWS = 100;

function reasonOf(text: unknown, required: boolean): string {
  const reason = typeof text === 'string' ? text.trim() : '';
  if (required && !reason) throw new AppError(422, 'console.reversal.reason_required');
  if (reason.length > REASON_MAX) throw new AppError(422, 'console.reversal.reason_too_long', { max: REASON_MAX });
  return reason;
}

const isDuplicateKey = (err: unknown) => (err as { code?: number })?.code === 11000;

/** POST /fund/ledger/:seq/reversal-requests: a fund manager asks for a reversible transfer to be reversed. */
export async function requestReversal(ctx: Ctx, seq: number, reasonText: unknown, now = new Date()) {
  const actor = requireRole(ctx, 'fund_manager');
  const reason = reasonOf(reasonText, true);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new AppError(400, 'console.error.bad_seq', { value: String(seq) });
  try {
    return await mongoose.connection.transaction(async (session) => {
      const t = await LedgerTransfer.findOne({ seq }).select('-_id seq code phase entries').session(session).lean();
      if (!t) throw new NotFoundError('ledger.transfer_not_found', { seq });
      if ((t.phase !== 'posted' && t.phase !== 'post') || t.code === 'REVERSAL') throw new ConflictError('ledger.not_reversible', { seq });
      if (await LedgerTransfer.exists({ code: 'REVERSAL', reverses: seq }).session(session)) throw new ConflictError('ledger.already_reversed', { seq });
      if (await LedgerReversalRequest.exists({ transferSeq: seq, state: 'open' }).session(session)) throw new ConflictError('console.reversal.open_exists', { seq });
      const amountFen = t.entries.filter((e) => e.side === 'debit').reduce((n, e) => n + e.amountFen, 0);
      const [request] = await LedgerReversalRequest.create([{ transferSeq: seq, transferCode: t.code, amountFen, reason, requestedBy: actor.userId, requestedAt: now }], { session });
      await recordAudit(ctx, 'fund.reversal_requested', { type: 'LedgerReversalRequest', id: request!._id }, { transferSeq: seq, code: t.code, amountFen, reason }, session);
      return request!;
    });
  } catch (err) {
    // Two requests for one transfer at once: the unique index lets one in.
    if (isDuplicateKey(err)) throw new ConflictError('console.reversal.open_exists', { seq });
    throw err;
  }
}

/** The request, checked for the deciding regulator: it exists, is not their own, and is still open. */
async function openRequestFor(ctx: Ctx, id: string, session: mongoose.ClientSession) {
  const actor = requireRole(ctx, 'regulator');
  const request = isValidObjectId(id) ? await LedgerReversalRequest.findById(id).session(session).lean() : null;
  if (!request) throw new NotFoundError('console.reversal.not_found');
  // Four eyes: whoever asked (whatever their role is today) cannot also decide.
  if (String(request.requestedBy) === String(actor.userId)) throw new ForbiddenError('console.reversal.own_request');
  if (request.state !== 'open') throw new ConflictError('console.reversal.already_decided', { state: request.state });
  return { actor, request };
}

/** POST /fund/reversals/:id/approve: posts the reversal and closes the request, together. */
export async function approveReversal(ctx: Ctx, id: string, noteText: unknown, now = new Date()) {
  const note = reasonOf(noteText, false);
  return mongoose.connection.transaction(async (session) => {
    const { actor, request } = await openRequestFor(ctx, id, session);
    // The ledger checks everything again (reversible, not yet reversed, balance floors); a refusal aborts all of it.
    const [reversal] = await postInTransaction([{
      kind: 'reverse', key: `reversal-request:${String(request._id)}`, reverses: request.transferSeq,
      maker: String(request.requestedBy), checker: String(actor.userId), memo: `${request.reason}${note ? ` / ${note}` : ''}`.slice(0, 2000), effectiveAt: now,
    }], session);
    const done = await LedgerReversalRequest.updateOne(
      { _id: request._id, state: 'open' },
      { $set: { state: 'approved', decidedBy: actor.userId, decidedAt: now, decisionReason: note, reversalSeq: reversal!.seq } },
      { session },
    );
    if (done.modifiedCount !== 1) throw new ConflictError('console.reversal.already_decided', { state: 'approved' });
    await recordAudit(ctx, 'fund.reversal_approved', { type: 'LedgerReversalRequest', id: request._id }, { transferSeq: request.transferSeq, reversalSeq: reversal!.seq, note }, session);
    return { transferSeq: request.transferSeq, reversalSeq: reversal!.seq };
  });
}

/** POST /fund/reversals/:id/reject: closes the request, with a reason, posting nothing. */
export async function rejectReversal(ctx: Ctx, id: string, reasonText: unknown, now = new Date()) {
  const reason = reasonOf(reasonText, true);
  return mongoose.connection.transaction(async (session) => {
    const { actor, request } = await openRequestFor(ctx, id, session);
    const done = await LedgerReversalRequest.updateOne(
      { _id: request._id, state: 'open' },
      { $set: { state: 'rejected', decidedBy: actor.userId, decidedAt: now, decisionReason: reason } },
      { session },
    );
    if (done.modifiedCount !== 1) throw new ConflictError('console.reversal.already_decided', { state: 'rejected' });
    await recordAudit(ctx, 'fund.reversal_rejected', { type: 'LedgerReversalRequest', id: request._id }, { transferSeq: request.transferSeq, reason }, session);
    return { transferSeq: request.transferSeq };
  });
}

/** GET /fund/reversals (all, or one state) and a transfer's own requests, newest first, with who asked and decided. */
export async function listReversalRequests(ctx: Ctx, q: { state?: string; transferSeq?: number } = {}) {
  requireRole(ctx, 'regulator', 'fund_manager');
  const state = (REVERSAL_REQUEST_STATES as readonly string[]).includes(q.state ?? '') ? (q.state as ReversalRequestState) : null;
  const filter: Record<string, unknown> = {};
  if (state) filter.state = { $eq: state };
  if (q.transferSeq !== undefined) filter.transferSeq = { $eq: q.transferSeq };
  const requests = await LedgerReversalRequest.find(filter).sort({ requestedAt: -1 }).limit(LIST_ROWS).lean();
  const ids = [...new Set(requests.flatMap((r) => [r.requestedBy, r.decidedBy]).filter(Boolean).map(String))];
  const users = ids.length ? await User.find({ _id: { $in: ids } }).select('name email').lean() : [];
  const people = new Map(users.map((u) => [String(u._id), { name: u.name, email: u.email }]));
  const me = String(ctx.actor!.userId);
  return {
    state,
    requests: requests.map((r) => ({
      ...r, id: String(r._id), requester: people.get(String(r.requestedBy)) ?? null, decider: r.decidedBy ? people.get(String(r.decidedBy)) ?? null : null,
      // What the page may offer this reader (the services check again on submit).
      decidable: r.state === 'open' && ctx.actor!.role === 'regulator' && String(r.requestedBy) !== me,
    })),
    limited: requests.length === LIST_ROWS,
  };
}
