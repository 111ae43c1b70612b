/**
 * The end of a pay-later licence's free period: the payment trigger moves it
 * from `active_free` to `payment_due`, and its fee form decides what is
 * billed then — the lump sum (one invoice), the whole instalment plan, the
 * entry fee of entry + royalty, or nothing for a pure royalty (revenue
 * reports bill that). Triggers, as the offer's plain-words terms state them:
 * - `time`: when the free period ends (advanceFreePeriods, a scheduled job);
 * - `first_revenue`: at the first reported revenue (onFirstRevenue), the
 *   free months being only a reference;
 * - `either`: whichever of the two comes first.
 * Both entry points are idempotent: a licence already moved is left alone,
 * and issueInvoice's keys make a repeated bill a no-op.
 */
import mongoose, { type ClientSession, type Types } from 'mongoose';
import { Licence } from '../../models/licence.js';
import type { PaymentTrigger } from '../../models/offer.js';
import type { Ctx } from './context.js';
import { moveLicence } from './licence-transitions.js';
import { billFixedFees, PAYMENT_DUE_DAYS, systemCtx, type LicenceDoc } from './licensing-common.js';
import type { OfferTermsValues } from './offer-input.js';

const TIME_TRIGGERS: readonly PaymentTrigger[] = ['time', 'either'];
const REVENUE_TRIGGERS: readonly PaymentTrigger[] = ['first_revenue', 'either'];

/** Moves `licence` to payment due and bills its fixed fees; inside the caller's transaction. */
async function startPaying(ctx: Ctx, licence: LicenceDoc, at: Date, reason: string, session: ClientSession): Promise<void> {
  await moveLicence(ctx, licence, 'payment_due', { at, reason }, session);
  await billFixedFees(licence, licence.terms as OfferTermsValues, at, PAYMENT_DUE_DAYS, session);
}

/**
 * Ends every free period whose time trigger has come by `now`. Each licence
 * moves in its own transaction, so one failure leaves the others done and a
 * rerun picks up what is left. Returns the licences moved by this run.
 */
export async function advanceFreePeriods(now = new Date(), ctx: Ctx = systemCtx('job:free-periods')): Promise<Types.ObjectId[]> {
  const due = await Licence.find({ state: 'active_free', freePeriodEndsAt: { $lte: now }, 'terms.trigger': { $in: TIME_TRIGGERS } }).select('_id').lean();
  const moved: Types.ObjectId[] = [];
  for (const { _id } of due) {
    const done = await mongoose.connection.transaction(async (session) => {
      const licence = await Licence.findById(_id).session(session);
      // Moved meanwhile (the SME left, a revenue report, a concurrent run): nothing to do.
      if (!licence || licence.state !== 'active_free') return false;
      await startPaying(ctx, licence, now, 'free period ended', session);
      return true;
    });
    if (done) moved.push(_id);
  }
  return moved;
}

/**
 * For the revenue-report code, inside its transaction: the licensee reported
 * its first revenue at `at`. Remembers the date and, when the trigger says
 * so and the licence is still free, ends the free period. Returns whether
 * the licence moved.
 */
export async function onFirstRevenue(ctx: Ctx, licenceId: Types.ObjectId, at: Date, session: ClientSession): Promise<boolean> {
  const licence = await Licence.findById(licenceId).session(session);
  if (!licence) return false;
  if (!licence.firstRevenueAt) {
    licence.firstRevenueAt = at;
    await licence.save({ session });
  }
  const trigger = (licence.terms as OfferTermsValues).trigger;
  if (licence.state !== 'active_free' || !trigger || !REVENUE_TRIGGERS.includes(trigger)) return false;
  await startPaying(ctx, licence, at, 'first revenue reported', session);
  return true;
}
