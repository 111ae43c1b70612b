/**
 * The one place a licence changes state: the transition table is checked,
 * the change is appended to the licence's history and audited, all inside
 * the caller's transaction. Also what a settled invoice means for its
 * licence, shared by every payment path (Stripe, bank transfer).
 */
import type { ClientSession, Types } from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { assertLicenceTransition, type LicenceState } from '../domain/licence-states.js';
import { recordAudit } from './audit.js';
import type { Ctx } from './context.js';

type LicenceDoc = InstanceType<typeof Licence>;

export async function moveLicence(ctx: Ctx, licence: LicenceDoc, to: LicenceState, opts: { at?: Date; reason?: string }, session: ClientSession): Promise<LicenceDoc> {
  const from = licence.state as LicenceState;
  assertLicenceTransition(from, to);
  const at = opts.at ?? new Date();
  licence.state = to;
  licence.history.push({ at, from, to, by: ctx.actor?.userId ?? null, reason: opts.reason ?? '' });
  await licence.save({ session });
  await recordAudit(ctx, 'licence.state_changed', { type: 'Licence', id: licence._id }, { number: licence.number, from, to, reason: opts.reason ?? '' }, session);
  return licence;
}

/**
 * After an invoice of `licenceId` is paid in full: a notified open licence
 * whose up-front invoices are all paid becomes active; a licence whose
 * payment fell due starts paying; one in arrears with nothing overdue any
 * more is back in good standing.
 */
export async function afterInvoiceSettled(ctx: Ctx, licenceId: Types.ObjectId, at: Date, session: ClientSession): Promise<void> {
  // Most settlements change nothing (the licence is already active or paying): read only the state, and
  // ask about other invoices only in the states where they matter.
  const current = await Licence.findById(licenceId).select('state').session(session).lean();
  if (!current) return;
  const state = current.state as LicenceState;
  let move: { to: LicenceState; reason: string } | null = null;
  if (state === 'notified') {
    const upfrontOpen = await Invoice.exists({ licence: licenceId, kind: { $in: ['entry_fee', 'lump_sum'] }, status: { $ne: 'paid' } }).session(session);
    if (!upfrontOpen) move = { to: 'active', reason: 'up-front payment received' };
  } else if (state === 'payment_due') {
    move = { to: 'paying', reason: 'first payment received' };
  } else if (state === 'in_arrears') {
    const unpaidLate = await Invoice.exists({ licence: licenceId, status: { $in: ['overdue', 'defaulted'] } }).session(session);
    if (!unpaidLate) move = { to: 'paying', reason: 'arrears cleared' };
  }
  if (!move) return;
  const licence = await Licence.findById(licenceId).session(session);
  if (licence) await moveLicence(ctx, licence, move.to, { at, reason: move.reason }, session);
}
