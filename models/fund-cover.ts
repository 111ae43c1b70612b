/**
 * Whether the fund covers a licence: decided once, when the licence is
 * granted (the ledger subscriber, from `licence.granted`), by the rules in
 * force then. Pay-later licences to SMEs are covered unless new cover is
 * suspended because the loss rate is above the cap — then the licence is
 * marked uncovered and both parties are told.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const COVER_REASONS = ['covered', 'suspended_loss_rate', 'not_pay_later', 'no_rules'] as const;

const fundCoverSchema = new Schema(
  {
    licence: { type: Schema.Types.ObjectId, ref: 'Licence', required: true },
    licensor: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    covered: { type: Boolean, required: true },
    reason: { type: String, enum: COVER_REASONS, required: true },
    /** The rules version in force at the licence's start (null: no rules yet). */
    rulesVersion: { type: Number, default: null },
    lossRateBps: { type: Number, default: 0 },
    decidedAt: { type: Date, required: true },
    notifiedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

fundCoverSchema.index({ licence: 1 }, { unique: true });
fundCoverSchema.index({ covered: 1, licensor: 1 });

export type FundCoverAttrs = InferSchemaType<typeof fundCoverSchema>;
export const FundCover = mongoose.model('FundCover', fundCoverSchema);
