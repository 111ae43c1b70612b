/**
 * A fund-ledger account: its four running totals and a version, changed only
 * by the posting service in the same transaction as the transfer that moves
 * them. Defining fields (kind, normal side, constraint, owner) come from the
 * chart (server/domain/ledger-chart.ts) and are written once, on first use;
 * no code path updates or deletes them.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { ACCOUNT_KINDS } from '../server/domain/ledger-chart.js';

const fen = { type: Number, default: 0, min: 0, validate: Number.isSafeInteger };

const ledgerAccountSchema = new Schema(
  {
    key: { type: String, required: true },
    ledger: { type: String, required: true },
    kind: { type: String, enum: ACCOUNT_KINDS, required: true },
    normal: { type: String, enum: ['debit', 'credit'], required: true },
    constraint: { type: String, enum: ['none', 'debits_must_not_exceed_credits', 'credits_must_not_exceed_debits'], required: true },
    book: { type: String, enum: ['fund', 'royalty'], required: true },
    ownerType: { type: String, default: null },
    ownerId: { type: String, default: null },
    debitsPosted: fen,
    creditsPosted: fen,
    debitsPending: fen,
    creditsPending: fen,
    /** Compare-and-set guard: every change is conditional on the version read. */
    version: { type: Number, default: 0 },
    /** The last transfer that moved the account. */
    lastSeq: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

ledgerAccountSchema.index({ key: 1 }, { unique: true });
ledgerAccountSchema.index({ kind: 1, key: 1 });

export type LedgerAccountAttrs = InferSchemaType<typeof ledgerAccountSchema>;
export const LedgerAccount = mongoose.model('LedgerAccount', ledgerAccountSchema);
