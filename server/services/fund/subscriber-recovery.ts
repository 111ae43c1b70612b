/**
 * A payment on an invoice that was declared in default is a recovery. The
 * cash X still passes clearing to the licensor (Dr clearing / Cr overdue,
 * Dr settled / Cr clearing — subscriber-postings.ts). What this file adds:
 *
 * - The fund's share, when the licence has a claim the fund paid
 *   (approvedFen > 0): f = min(remaining rights, round-half-up(X ×
 *   approvedFen ÷ lossFen)), remaining rights = approvedFen − recoveredFen −
 *   writtenOffFen. The fund compensated approvedFen of a loss of lossFen, so
 *   it takes back that same proportion of every yuan recovered, never more
 *   than it is still owed. f returns to the pool (Dr bank / Cr pool) and
 *   releases as much of the subrogation memo (Dr recovery offset / Cr
 *   recovery rights), posted as the event's second transfer; the claim's
 *   recoveredFen grows by f in the same transaction, conditionally on the
 *   value read.
 * - A write-off proposed and not yet decided reserved the licence's overdue
 *   balance; a payment proves the debt was not unrecoverable, and a receipt
 *   is an external fact the ledger must take. So the proposal is superseded:
 *   its reservation is voided (by the system, in the same transaction,
 *   before the recovery) and the fund manager may propose again.
 * - The licence's state: compensated (or defaulted, when there was no paid
 *   claim) → recovering; then → recovered once none of its invoices is still
 *   in default (a licence still `claimed` waits for the claim's decision).
 */
import { FundClaim } from '../../../models/fund-claim.js';
import { Invoice } from '../../../models/invoice.js';
import { Licence } from '../../../models/licence.js';
import { fenTimesRatio } from '../../domain/money.js';
import { ConflictError } from '../../errors.js';
import { auditRow } from '../audit.js';
import { moveLicence } from '../licence-transitions.js';
import type { SyncEvent, SyncTx } from './subscriber-postings.js';

export interface RecoveryShare {
  claim: string;
  number: string;
  fen: number;
}

/** The fund's share of a recovery of `recoveredFen` on `ev`'s licence, recorded on its claim; null when the fund has nothing to take back. */
export async function recoverClaim(tx: SyncTx, ev: SyncEvent, recoveredFen: number): Promise<RecoveryShare | null> {
  const claim = await FundClaim.findOne({ licence: ev.licence, approvedFen: { $gt: 0 } }).sort({ filedAt: -1 }).session(tx.session).lean();
  if (!claim) return null;
  const remaining = claim.approvedFen - claim.recoveredFen - claim.writtenOffFen;
  if (remaining <= 0) return null;
  const fen = Math.min(remaining, fenTimesRatio(recoveredFen, claim.approvedFen, claim.lossFen));
  if (fen <= 0) return null;
  const r = await FundClaim.updateOne({ _id: claim._id, recoveredFen: claim.recoveredFen }, { $inc: { recoveredFen: fen } }, { session: tx.session });
  if (r.matchedCount !== 1) throw new ConflictError('fund.subscriber.claim_changed', { claim: claim.number });
  tx.audits.push(auditRow(tx.ctx, 'fund.claim_recovered', { type: 'FundClaim', id: claim._id }, {
    number: claim.number, event: ev.key, paymentFen: recoveredFen, shareFen: fen, recoveredFen: claim.recoveredFen + fen, remainingFen: remaining - fen,
  }));
  return { claim: String(claim._id), number: claim.number, fen };
}

/** Voids a pending write-off of `ev`'s licence (see above), queued ahead of the recovery. */
export async function supersedeWriteOff(tx: SyncTx, ev: SyncEvent): Promise<void> {
  const claim = await FundClaim.findOne({ licence: ev.licence, 'writeOff.state': 'proposed' }).session(tx.session).lean();
  if (!claim?.writeOff) return;
  tx.queue.push({
    kind: 'resolve', key: `claim:${claim._id}:writeoff:${claim.writeOffAttempts}:superseded`, pendingSeq: claim.writeOff.pendingSeq, action: 'void',
    memo: `write-off superseded: payment received (${ev.key})`, maker: null, checker: null, effectiveAt: ev.occurredAt,
  });
  const r = await FundClaim.updateOne(
    { _id: claim._id, 'writeOff.state': 'proposed' },
    { $set: { 'writeOff.state': 'superseded', 'writeOff.decidedAt': tx.now, 'writeOff.decisionReason': `payment received (${ev.key})` } },
    { session: tx.session },
  );
  if (r.matchedCount !== 1) throw new ConflictError('fund.subscriber.claim_changed', { claim: claim.number });
  tx.audits.push(auditRow(tx.ctx, 'claim.write_off_superseded', { type: 'FundClaim', id: claim._id }, { number: claim.number, event: ev.key, pendingSeq: claim.writeOff.pendingSeq }));
}

/** Moves the licence along the recovery path as far as the repayment allows. */
export async function afterRecovery(tx: SyncTx, ev: SyncEvent): Promise<void> {
  const licence = await Licence.findById(ev.licence).session(tx.session);
  if (!licence) return;
  if (licence.state === 'defaulted' || licence.state === 'compensated') {
    await moveLicence(tx.ctx, licence, 'recovering', { at: tx.now, reason: `payment after default (${ev.key})` }, tx.session);
  }
  if (licence.state !== 'recovering') return;
  const stillDefaulted = await Invoice.exists({ licence: licence._id, status: 'defaulted' }).session(tx.session);
  if (!stillDefaulted) await moveLicence(tx.ctx, licence, 'recovered', { at: tx.now, reason: 'every defaulted invoice repaid' }, tx.session);
}
