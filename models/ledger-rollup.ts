/**
 * Totals of the journal the regulators' console reads instead of scanning a
 * million transfers, projected from the journal after posting
 * (server/services/fund/ledger-rollups.ts, which says how they are kept
 * exactly once). Two kinds of document, both small in number however many
 * licences there are:
 *
 * - `type: 'day'` — posted debits, credits and legs by China day of
 *   effectiveAt, account kind and transfer code (the trial balance as of any
 *   day, the pool over time): days × kinds × codes.
 * - `type: 'measure'` — one of the dashboard's four measures (defaults,
 *   compensation, subsidies, royalties accrued; net of reversals) by
 *   quarter along one dimension at a time (province, field or institution),
 *   never their cross product: quarters × measures × dimension values.
 *
 * The journal stays the source of truth; reconciliation recomputes these.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const ledgerRollupSchema = new Schema(
  {
    /** `d|${day}|${kind}|${code}` or `m|${quarter}|${metric}|${dim}|${value}`. */
    _id: { type: String, required: true },
    type: { type: String, enum: ['day', 'measure'], required: true },
    /** Day rollups: China Standard Time day of effectiveAt (YYYY-MM-DD), account kind, transfer code. */
    day: { type: String },
    kind: { type: String },
    code: { type: String },
    debitsPosted: { type: Number, default: 0 },
    creditsPosted: { type: Number, default: 0 },
    count: { type: Number, default: 0 },
    /** Measure rollups: quarter (2026Q1), measure, dimension and its value ('' when the transfer has none), fen. */
    quarter: { type: String },
    metric: { type: String },
    dim: { type: String },
    value: { type: String },
    fen: { type: Number, default: 0 },
  },
  { versionKey: false },
);

ledgerRollupSchema.index({ type: 1, day: 1 });

export type LedgerRollupAttrs = InferSchemaType<typeof ledgerRollupSchema>;
export const LedgerRollup = mongoose.model('LedgerRollup', ledgerRollupSchema);
