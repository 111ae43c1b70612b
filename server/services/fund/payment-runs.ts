/**
 * The payment run: the fund manager pays out everything approved and not yet
 * paid — each approved claim (Dr comp_payable(institution) / Cr bank) and
 * each approved subsidy (Dr subsidy_payable(enterprise) / Cr bank) — as
 * PAYOUT transfers, after which the payables are back to zero.
 *
 * One transaction per item, so one item that cannot be paid does not hold
 * up the rest. Each payout's ledger key is fixed by what it pays
 * (`claim:<id>:payout`), and the item moves to `paid` in the same
 * transaction, so a run repeated, or two runs side by side, pay each item
 * exactly once: the later one finds it paid (or conflicts, retries and then
 * finds it paid) and skips it.
 */
import mongoose, { Types } from 'mongoose';
import { FundClaim } from '../../../models/fund-claim.js';
import { FundSubsidy } from '../../../models/fund-subsidy.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { acct } from '../../domain/ledger-chart.js';
import { auditRow, recordAudit, recordAudits } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { claimRefs } from './claims.js';
import { postInTransaction } from './ledger.js';

export interface PaidItem {
  kind: 'claim' | 'subsidy';
  id: string;
  number: string;
  amountFen: number;
  seq: number;
}

async function payClaim(ctx: Ctx, id: Types.ObjectId, now: Date): Promise<PaidItem | null> {
  return mongoose.connection.transaction(async (session) => {
    const claim = await FundClaim.findById(id).session(session);
    if (!claim || claim.state !== 'approved' || claim.approvedFen <= 0) return null;
    const amountFen = claim.approvedFen;
    const [payout] = await postInTransaction([{
      kind: 'transfer', key: `claim:${claim._id}:payout`, code: 'PAYOUT', phase: 'posted', entries: [
        { account: acct.compPayable(claim.licensor), side: 'debit', amountFen }, { account: acct.bank(), side: 'credit', amountFen },
      ],
      refs: await claimRefs(claim, session), memo: `${claim.number}: compensation paid`,
      maker: String(ctx.actor!.userId), checker: claim.decidedBy ? String(claim.decidedBy) : null, effectiveAt: now,
    }], session);
    claim.set({ state: 'paid', paidAt: now, payoutSeq: payout!.seq });
    claim.history.push({ at: now, by: ctx.actor!.userId, from: 'approved', to: 'paid', reason: '' });
    await claim.save({ session });
    await recordAudits([auditRow(ctx, 'claim.paid', { type: 'FundClaim', id: claim._id }, { number: claim.number, amountFen, seq: payout!.seq })], session);
    return { kind: 'claim' as const, id: String(claim._id), number: claim.number, amountFen, seq: payout!.seq };
  });
}

async function paySubsidy(ctx: Ctx, id: Types.ObjectId, now: Date): Promise<PaidItem | null> {
  return mongoose.connection.transaction(async (session) => {
    const subsidy = await FundSubsidy.findById(id).session(session);
    if (!subsidy || subsidy.state !== 'approved' || subsidy.approvedFen <= 0) return null;
    const amountFen = subsidy.approvedFen;
    const [payout] = await postInTransaction([{
      kind: 'transfer', key: `subsidy:${subsidy._id}:payout`, code: 'PAYOUT', phase: 'posted', entries: [
        { account: acct.subsidyPayable(subsidy.licensee), side: 'debit', amountFen }, { account: acct.bank(), side: 'credit', amountFen },
      ],
      refs: { subsidy: String(subsidy._id), licensee: String(subsidy.licensee) }, memo: `${subsidy.number}: subsidy paid`,
      maker: String(ctx.actor!.userId), checker: subsidy.decidedBy ? String(subsidy.decidedBy) : null, effectiveAt: now,
    }], session);
    subsidy.set({ state: 'paid', paidAt: now, payoutSeq: payout!.seq });
    await subsidy.save({ session });
    await recordAudits([auditRow(ctx, 'subsidy.paid', { type: 'FundSubsidy', id: subsidy._id }, { number: subsidy.number, amountFen, seq: payout!.seq })], session);
    return { kind: 'subsidy' as const, id: String(subsidy._id), number: subsidy.number, amountFen, seq: payout!.seq };
  });
}

/** Pays every approved, unpaid claim and subsidy; returns what this run paid (nothing twice, whoever else runs). */
export async function runPayments(ctx: Ctx, now = new Date()): Promise<{ paid: PaidItem[]; totalFen: number }> {
  requireRole(ctx, 'fund_manager');
  const claims = await FundClaim.find({ state: 'approved' }).sort({ decidedAt: 1, _id: 1 }).select('_id').lean();
  const subsidies = await FundSubsidy.find({ state: 'approved' }).sort({ decidedAt: 1, _id: 1 }).select('_id').lean();
  const paid: PaidItem[] = [];
  for (const c of claims) {
    const item = await payClaim(ctx, c._id, now);
    if (item) paid.push(item);
  }
  for (const s of subsidies) {
    const item = await paySubsidy(ctx, s._id, now);
    if (item) paid.push(item);
  }
  const totalFen = paid.reduce((s, p) => s + p.amountFen, 0);
  // The run itself is audited too, also when it found nothing to pay: someone pressed the button.
  await recordAudit(ctx, 'fund.payment_run', { type: 'PaymentRun', id: new Types.ObjectId() }, {
    claims: paid.filter((p) => p.kind === 'claim').length, subsidies: paid.filter((p) => p.kind === 'subsidy').length, totalFen, seqs: paid.map((p) => p.seq),
  });
  return { paid, totalFen };
}

/** What the next run would pay, and the latest payouts (PAYOUT transfers, newest first). */
export async function paymentRunOverview(ctx: Ctx, limit = 50) {
  requireRole(ctx, 'fund_manager', 'regulator');
  const [claims, subsidies, payouts] = await Promise.all([
    FundClaim.find({ state: 'approved' }).sort({ decidedAt: 1 }).select('number licensor approvedFen decidedAt').lean(),
    FundSubsidy.find({ state: 'approved' }).sort({ decidedAt: 1 }).select('number licensee quarter approvedFen decidedAt').lean(),
    LedgerTransfer.find({ code: 'PAYOUT' }).sort({ seq: -1 }).limit(limit).select('seq key entries refs memo effectiveAt maker checker hash').lean(),
  ]);
  const dueFen = claims.reduce((s, c) => s + c.approvedFen, 0) + subsidies.reduce((s, x) => s + x.approvedFen, 0);
  return { claims, subsidies, dueFen, payouts: payouts.map((p) => ({ ...p, amountFen: p.entries.find((e) => e.side === 'debit')?.amountFen ?? 0, payee: p.entries.find((e) => e.side === 'debit')?.account ?? '' })) };
}
