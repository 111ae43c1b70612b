/**
 * A subsidy to a micro or small enterprise: a share of the royalties it paid
 * in a quarter, by the rules in force then. Same two-phase, four-eyes path
 * as a claim: the fund manager submits (pending transfer reserving the
 * pool), a different person with the regulator role approves (posts,
 * possibly in part) or rejects (voids) once, and a payment run pays it.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const SUBSIDY_STATES = ['submitted', 'approved', 'rejected', 'paid'] as const;

const fundSubsidySchema = new Schema(
  {
    number: { type: String, required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    /** 'YYYY-Qn' (China time). */
    quarter: { type: String, required: true },
    sizeClass: { type: String, enum: ['micro', 'small'], required: true },
    /** Royalties the enterprise paid in the quarter (from the ledger's PAYMENT postings). */
    basisFen: { type: Number, required: true, min: 0 },
    ratioBps: { type: Number, required: true },
    rulesVersion: { type: Number, required: true },
    /** What the rules give, and what was asked for after the annual cap and the pool. */
    computation: { type: Schema.Types.Mixed, required: true },
    amountFen: { type: Number, required: true, min: 1, validate: Number.isSafeInteger },
    state: { type: String, enum: SUBSIDY_STATES, default: 'submitted' },
    submittedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    submittedAt: { type: Date, required: true },
    pendingSeq: { type: Number, required: true },
    decidedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    decidedAt: { type: Date, default: null },
    decisionReason: { type: String, default: '' },
    approvedFen: { type: Number, default: 0 },
    postSeq: { type: Number, default: null },
    paidAt: { type: Date, default: null },
    payoutSeq: { type: Number, default: null },
  },
  { timestamps: true },
);

fundSubsidySchema.index({ number: 1 }, { unique: true });
// One live subsidy per enterprise and quarter (a rejected one may be resubmitted).
fundSubsidySchema.index({ licensee: 1, quarter: 1 }, { unique: true, partialFilterExpression: { state: { $in: ['submitted', 'approved', 'paid'] } } });
fundSubsidySchema.index({ state: 1, updatedAt: -1 });

export type FundSubsidyAttrs = InferSchemaType<typeof fundSubsidySchema>;
export const FundSubsidy = mongoose.model('FundSubsidy', fundSubsidySchema);
