/**
 * What happened in a licence's life that money depends on — granted, an
 * invoice issued, a payment received, an invoice overdue or defaulted, a
 * write-off, a lapse — recorded in the same transaction as the change, once
 * (the unique `key`). The fund ledger (issue 6) posts from these as a
 * subscriber that remembers the last `seq` it processed: posting is added
 * later without touching licensing.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const LICENSING_EVENT_TYPES = [
  'licence.granted', 'licence.terminated', 'licence.ended', 'invoice.issued', 'invoice.voided', 'payment.received',
  'invoice.overdue', 'licence.in_arrears', 'invoice.defaulted', 'licence.defaulted', 'invoice.written_off', 'licence.lapsed',
] as const;
export type LicensingEventType = (typeof LICENSING_EVENT_TYPES)[number];

const licensingEventSchema = new Schema(
  {
    /** Strictly increasing (a counter taken in the same transaction), the subscriber's cursor. */
    seq: { type: Number, required: true },
    type: { type: String, enum: LICENSING_EVENT_TYPES, required: true },
    /** Idempotency: one event per fact, e.g. `payment.received:<paymentId>`. */
    key: { type: String, required: true },
    occurredAt: { type: Date, required: true },
    licence: { type: Schema.Types.ObjectId, ref: 'Licence', required: true },
    invoice: { type: Schema.Types.ObjectId, ref: 'Invoice', default: null },
    payment: { type: Schema.Types.ObjectId, ref: 'Payment', default: null },
    licensor: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    amountFen: { type: Number, default: 0 },
    data: { type: Schema.Types.Mixed, default: {} },
  },
  { versionKey: false },
);

licensingEventSchema.index({ seq: 1 }, { unique: true });
licensingEventSchema.index({ key: 1 }, { unique: true });
licensingEventSchema.index({ licence: 1, seq: 1 });

export type LicensingEventAttrs = InferSchemaType<typeof licensingEventSchema>;
export const LicensingEvent = mongoose.model('LicensingEvent', licensingEventSchema);
