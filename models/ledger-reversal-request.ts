/**
 * A request to reverse one ledger transfer — the maker–checker path for
 * corrections (../shared/reference/ledger.md rule 21): a fund manager asks,
 * with a reason; a regulator who is not the requester approves (the
 * reversal is posted in the same transaction, maker = requester, checker =
 * approver) or rejects, once, with a reason. A refused reversal (it would
 * over-commit the pool or over-settle a receivable) writes nothing: the
 * request stays open, to be approved once the cause is corrected or
 * rejected.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const REVERSAL_REQUEST_STATES = ['open', 'approved', 'rejected'] as const;
export type ReversalRequestState = (typeof REVERSAL_REQUEST_STATES)[number];

const ledgerReversalRequestSchema = new Schema(
  {
    transferSeq: { type: Number, required: true, min: 1, validate: Number.isSafeInteger },
    /** What the transfer was, for the list; the journal stays the record. */
    transferCode: { type: String, required: true },
    amountFen: { type: Number, required: true, min: 0 },
    reason: { type: String, required: true, trim: true, maxlength: 1000 },
    state: { type: String, enum: REVERSAL_REQUEST_STATES, default: 'open' },
    requestedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    requestedAt: { type: Date, required: true },
    decidedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    decidedAt: { type: Date, default: null },
    decisionReason: { type: String, default: '', maxlength: 1000 },
    /** The REVERSAL transfer posted on approval. */
    reversalSeq: { type: Number, default: null },
  },
  { timestamps: true },
);

// One live request per transfer (open, or approved and so reversed); a rejected one may be asked again.
ledgerReversalRequestSchema.index({ transferSeq: 1 }, { unique: true, partialFilterExpression: { state: { $in: ['open', 'approved'] } } });
ledgerReversalRequestSchema.index({ transferSeq: 1, requestedAt: -1 });
ledgerReversalRequestSchema.index({ state: 1, requestedAt: -1 });

export type LedgerReversalRequestAttrs = InferSchemaType<typeof ledgerReversalRequestSchema>;
export const LedgerReversalRequest = mongoose.model('LedgerReversalRequest', ledgerReversalRequestSchema);
