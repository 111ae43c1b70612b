/**
 * A signed checkpoint of the journal: tree size (= the last seq), the RFC
 * 6962 Merkle root over records 1..seq, the head hash and the time, signed
 * with the ledger's Ed25519 key. Anyone holding the public key and an export
 * can check that the journal still matches what was signed.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const ledgerCheckpointSchema = new Schema(
  {
    ledger: { type: String, required: true },
    seq: { type: Number, required: true },
    root: { type: String, required: true },
    headHash: { type: String, required: true },
    time: { type: Date, required: true },
    /** base64 Ed25519 signature over the checkpoint's canonical text (server/domain/ledger-checkpoint-text.ts). */
    signature: { type: String, required: true },
    /** First 16 hex digits of SHA-256 of the public key (SPKI DER). */
    keyId: { type: String, required: true },
    publicKey: { type: String, required: true },
    /** 'schedule' (daily job) or the user id who asked for it. */
    issuedBy: { type: String, required: true },
  },
  { versionKey: false },
);

ledgerCheckpointSchema.index({ ledger: 1, seq: -1, time: -1 });

export type LedgerCheckpointAttrs = InferSchemaType<typeof ledgerCheckpointSchema>;
export const LedgerCheckpoint = mongoose.model('LedgerCheckpoint', ledgerCheckpointSchema);
