/**
 * A compensation claim for a defaulted licence, and its whole life:
 * filed by the licensor's TTO with evidence → computed and submitted by the
 * fund manager (a pending ledger transfer reserves the pool) → approved
 * (posted, possibly in part) or rejected (voided) once by a regulator who is
 * not the maker → paid by a payment run; later recoveries and a write-off
 * release the fund's subrogated rights. Amounts in fen.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const CLAIM_STATES = ['filed', 'submitted', 'approved', 'rejected', 'paid', 'closed'] as const;
export type ClaimState = (typeof CLAIM_STATES)[number];

const historySchema = new Schema(
  {
    at: { type: Date, required: true },
    by: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    from: { type: String, default: null },
    to: { type: String, required: true },
    reason: { type: String, default: '' },
  },
  { _id: false },
);

/** A fund manager's proposal to write off what is left of the claim's licence debt, and the regulator's decision on it. */
const writeOffSchema = new Schema(
  {
    // superseded: a payment arrived while it waited, so the debt was not unrecoverable after all (the reservation is voided).
    state: { type: String, enum: ['proposed', 'approved', 'rejected', 'superseded'], required: true },
    proposedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    proposedAt: { type: Date, required: true },
    reason: { type: String, required: true },
    /** The licence's overdue balance and the fund's subrogated rights left when proposed (the pending transfer's legs). */
    overdueFen: { type: Number, required: true, min: 0 },
    rightsFen: { type: Number, required: true, min: 0 },
    pendingSeq: { type: Number, required: true },
    decidedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    decidedAt: { type: Date, default: null },
    decisionReason: { type: String, default: '' },
    postSeq: { type: Number, default: null },
  },
  { _id: false },
);

const fundClaimSchema = new Schema(
  {
    number: { type: String, required: true },
    licence: { type: Schema.Types.ObjectId, ref: 'Licence', required: true },
    licensor: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    /** The defaulted invoices claimed for. */
    invoices: { type: [Schema.Types.ObjectId], ref: 'Invoice', default: [] },
    /** Unrecovered defaulted amount when filed. */
    lossFen: { type: Number, required: true, min: 1, validate: Number.isSafeInteger },
    statement: { type: String, required: true },
    state: { type: String, enum: CLAIM_STATES, default: 'filed' },
    filedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    filedAt: { type: Date, required: true },
    /** The fund manager's computation (see claim-compute.ts): every input and which limit bound. */
    computation: { type: Schema.Types.Mixed, default: null },
    compensationFen: { type: Number, default: 0 },
    submittedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    submittedAt: { type: Date, default: null },
    /** The ledger's pending transfer reserving the compensation. */
    pendingSeq: { type: Number, default: null },
    decidedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    decidedAt: { type: Date, default: null },
    decisionReason: { type: String, default: '' },
    approvedFen: { type: Number, default: 0 },
    postSeq: { type: Number, default: null },
    paidAt: { type: Date, default: null },
    payoutSeq: { type: Number, default: null },
    /** Returned to the pool from later recoveries; released by a write-off. */
    recoveredFen: { type: Number, default: 0 },
    writtenOffFen: { type: Number, default: 0 },
    /** The latest write-off proposal; `writeOffAttempts` numbers them (a rejected one may be proposed again). */
    writeOff: { type: writeOffSchema, default: null },
    writeOffAttempts: { type: Number, default: 0 },
    history: { type: [historySchema], default: [] },
  },
  { timestamps: true },
);

fundClaimSchema.index({ number: 1 }, { unique: true });
// At most one claim in progress per licence: a rejected claim may be filed again.
fundClaimSchema.index({ licence: 1 }, { unique: true, partialFilterExpression: { state: { $in: ['filed', 'submitted', 'approved', 'paid', 'closed'] } } });
fundClaimSchema.index({ state: 1, updatedAt: -1 });
fundClaimSchema.index({ licensor: 1, state: 1 });
// The caps: what was already approved for a licensee, and in a year.
fundClaimSchema.index({ licensee: 1, state: 1 });
fundClaimSchema.index({ state: 1, decidedAt: 1 });

export type FundClaimAttrs = InferSchemaType<typeof fundClaimSchema>;
export const FundClaim = mongoose.model('FundClaim', fundClaimSchema);
