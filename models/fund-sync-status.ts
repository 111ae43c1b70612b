/**
 * Where the fund ledger's subscriber (server/services/fund/subscriber.ts)
 * stands: when it last ran and, when it has stopped, at which licensing event
 * and why. The subscriber fails closed — a posting the ledger refuses stops
 * the run at that event, leaving it unposted — so the regulators' console
 * needs this one document to say "ledger sync blocked at event X: reason"
 * instead of the books silently falling behind.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const blockSchema = new Schema(
  {
    /** The licensing event that could not be posted (hex id), its key, type and time. */
    event: { type: String, required: true },
    key: { type: String, required: true },
    type: { type: String, required: true },
    occurredAt: { type: Date, required: true },
    /** The refusal as a dictionary key with its parameters (AppError), or `fund.sync.internal_error`. */
    reason: { type: String, required: true },
    params: { type: Schema.Types.Mixed, default: {} },
    /** For an unexpected error: its message, for the operator (never shown to users). */
    detail: { type: String, default: '' },
    /** First seen blocked at this event for this reason, and the latest attempt. */
    since: { type: Date, required: true },
    lastTriedAt: { type: Date, required: true },
  },
  { _id: false },
);

const fundSyncStatusSchema = new Schema(
  {
    /** One document per subscriber: 'fund-ledger-sync'. */
    _id: { type: String, required: true },
    blocked: { type: blockSchema, default: null },
    lastRunAt: { type: Date, default: null },
    /** The last run that posted at least one event. */
    lastPostedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

export type FundSyncStatusAttrs = InferSchemaType<typeof fundSyncStatusSchema>;
export const FundSyncStatus = mongoose.model('FundSyncStatus', fundSyncStatusSchema);
