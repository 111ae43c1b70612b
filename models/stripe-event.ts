/**
 * Stripe webhook events already handled, by event id: a redelivery (Stripe
 * retries, and may deliver out of order) finds its id here and does nothing.
 */
import mongoose, { Schema } from 'mongoose';

const stripeEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    /** What handling it did (for support): e.g. the payment it confirmed, or why it was ignored. */
    outcome: { type: String, default: '' },
  },
  { versionKey: false },
);

export const StripeEvent = mongoose.model('StripeEvent', stripeEventSchema);
