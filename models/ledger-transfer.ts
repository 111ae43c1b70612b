/**
 * The fund ledger's journal: one document per transfer, append-only. The
 * fields are the JournalRecord of server/domain/ledger-record.ts (what is
 * hashed and exported) plus `payload`, the digest an idempotency key stands
 * for. Unique indexes make "at most once" a property of the data, not of
 * the code: one transfer per key and per seq, at most one resolution per
 * pending transfer, at most one reversal per transfer.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { TRANSFER_CODES } from '../server/domain/ledger-chart.js';
import { REF_KEYS } from '../server/domain/ledger-record.js';

const entrySchema = new Schema(
  {
    account: { type: String, required: true },
    side: { type: String, enum: ['debit', 'credit'], required: true },
    amountFen: { type: Number, required: true, min: 1, validate: Number.isSafeInteger },
  },
  { _id: false },
);

const refs = Object.fromEntries(REF_KEYS.map((k) => [k, { type: String, default: null }]));

const ledgerTransferSchema = new Schema(
  {
    seq: { type: Number, required: true, min: 1, validate: Number.isSafeInteger },
    key: { type: String, required: true },
    payload: { type: String, required: true },
    code: { type: String, enum: TRANSFER_CODES, required: true },
    phase: { type: String, enum: ['posted', 'pending', 'post', 'void'], required: true },
    entries: { type: [entrySchema], default: [] },
    pendingSeq: { type: Number, default: null },
    reverses: { type: Number, default: null },
    refs: { type: new Schema(refs, { _id: false }), required: true },
    memo: { type: String, default: '' },
    maker: { type: String, default: null },
    checker: { type: String, default: null },
    effectiveAt: { type: Date, required: true },
    recordedAt: { type: Date, required: true },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { versionKey: false },
);

ledgerTransferSchema.index({ seq: 1 }, { unique: true });
ledgerTransferSchema.index({ key: 1 }, { unique: true });
ledgerTransferSchema.index({ pendingSeq: 1 }, { unique: true, partialFilterExpression: { pendingSeq: { $type: 'number' } } });
ledgerTransferSchema.index({ reverses: 1 }, { unique: true, partialFilterExpression: { reverses: { $type: 'number' } } });
// Lookups by the resolved or reversed seq: the embedded store's planner does not use partial indexes, so plain ones serve the reads.
ledgerTransferSchema.index({ pendingSeq: 1, seq: 1 });
ledgerTransferSchema.index({ reverses: 1, seq: 1 });
// The explorer's filters, each newest first.
ledgerTransferSchema.index({ code: 1, seq: -1 });
ledgerTransferSchema.index({ 'entries.account': 1, seq: -1 });
ledgerTransferSchema.index({ 'refs.licence': 1, seq: -1 });
ledgerTransferSchema.index({ 'refs.claim': 1, seq: -1 });
ledgerTransferSchema.index({ 'refs.institution': 1, seq: -1 });
ledgerTransferSchema.index({ effectiveAt: 1, seq: 1 });

export type LedgerTransferAttrs = InferSchemaType<typeof ledgerTransferSchema>;
export const LedgerTransfer = mongoose.model('LedgerTransfer', ledgerTransferSchema);
