/**
 * Per-day totals of the journal by account kind, code and the console's
 * dimensions (province, field, institution), kept in the posting
 * transaction. The regulators' dashboard and the trial balance by kind read
 * these — a few thousand documents — instead of scanning a million
 * transfers; the journal stays the source of truth and the nightly
 * reconciliation recomputes them from it.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const ledgerRollupSchema = new Schema(
  {
    /** `${day}|${kind}|${code}|${province}|${field}|${institution}`. */
    _id: { type: String, required: true },
    /** China Standard Time day of effectiveAt, YYYY-MM-DD. */
    day: { type: String, required: true },
    kind: { type: String, required: true },
    code: { type: String, required: true },
    province: { type: String, default: '' },
    field: { type: String, default: '' },
    institution: { type: String, default: '' },
    debitsPosted: { type: Number, default: 0 },
    creditsPosted: { type: Number, default: 0 },
    count: { type: Number, default: 0 },
  },
  { versionKey: false },
);

ledgerRollupSchema.index({ day: 1 });
ledgerRollupSchema.index({ kind: 1, day: 1 });

export type LedgerRollupAttrs = InferSchemaType<typeof ledgerRollupSchema>;
export const LedgerRollup = mongoose.model('LedgerRollup', ledgerRollupSchema);
