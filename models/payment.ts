/**
 * A payment towards an invoice: through Stripe Checkout (confirmed by the
 * webhook) or by bank transfer (declared by the SME with its reference,
 * confirmed or disputed by the receiving TTO). `idempotencyKey` is unique,
 * so a retried request or a redelivered webhook can never pay twice.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const PAYMENT_PROVIDERS = ['stripe', 'bank_transfer'] as const;
export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'declared', 'confirmed', 'disputed'] as const;

const paymentSchema = new Schema(
  {
    invoice: { type: Schema.Types.ObjectId, ref: 'Invoice', required: true },
    licence: { type: Schema.Types.ObjectId, ref: 'Licence', required: true },
    payer: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    payee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    provider: { type: String, enum: PAYMENT_PROVIDERS, required: true },
    amountFen: { type: Number, required: true, min: 1, validate: Number.isSafeInteger },
    status: { type: String, enum: PAYMENT_STATUSES, required: true },
    /** Stripe Checkout Session id / PaymentIntent id, or the bank transfer's reference. */
    providerRef: { type: String, default: '' },
    /** Bank transfers: the day the SME says the money left its account (to match the TTO's bank statement). */
    transferredAt: { type: Date, default: null },
    idempotencyKey: { type: String, required: true },
    /** Only the part that went to the invoice; any excess is recorded on the invoice as overpaid. */
    appliedFen: { type: Number, default: 0 },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    decidedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    decidedAt: { type: Date, default: null },
    reason: { type: String, default: '' },
  },
  { timestamps: true },
);

paymentSchema.index({ idempotencyKey: 1 }, { unique: true });
paymentSchema.index({ invoice: 1, status: 1 });
paymentSchema.index({ payee: 1, provider: 1, status: 1 });
paymentSchema.index({ provider: 1, providerRef: 1 });

export type PaymentAttrs = InferSchemaType<typeof paymentSchema>;
export const Payment = mongoose.model('Payment', paymentSchema);
