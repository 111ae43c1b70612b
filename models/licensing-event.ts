/**
 * What happened in a licence's life that money depends on — granted, an
 * invoice issued, a payment received, an invoice overdue or defaulted, a
 * write-off, a lapse — recorded in the same transaction as the change, once
 * (the unique `key`). The fund ledger (issue 6) posts from these as a
 * subscriber: it takes unposted events in (occurredAt, _id) order, posts
 * each with the event's key as the posting's idempotency key, and stamps
 * `postedAt` — so posting is added later without touching licensing, and a
 * subscriber that runs twice posts nothing twice.
 *
 * There is deliberately no global sequence number here: a counter taken in
 * every licensing transaction made them all conflict with one another
 * (webhook handling fell to ~80 events/s); the ledger's own transfers carry
 * the strictly increasing `seq` the audit trail needs.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const LICENSING_EVENT_TYPES = [
  'licence.granted', 'licence.terminated', 'licence.ended', 'invoice.issued', 'invoice.voided', 'payment.received',
  'invoice.overdue', 'licence.in_arrears', 'invoice.defaulted', 'licence.defaulted', 'invoice.written_off', 'licence.lapsed',
] as const;
export type LicensingEventType = (typeof LICENSING_EVENT_TYPES)[number];

const licensingEventSchema = new Schema(
  {
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
    /** Set by the fund ledger's subscriber once posted. */
    postedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

licensingEventSchema.index({ key: 1 }, { unique: true });
licensingEventSchema.index({ licence: 1, occurredAt: 1 });
licensingEventSchema.index({ postedAt: 1, occurredAt: 1, _id: 1 });

export type LicensingEventAttrs = InferSchemaType<typeof licensingEventSchema>;
export const LicensingEvent = mongoose.model('LicensingEvent', licensingEventSchema);
