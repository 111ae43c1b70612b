/**
 * An evidence file kept with a claim (contract, reminders, correspondence,
 * a court or collection record): the bytes, their SHA-256, and who uploaded
 * them. Size and type are checked before anything is stored; files are never
 * replaced, so the dossier shows exactly what the reviewers saw.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const claimEvidenceSchema = new Schema(
  {
    claim: { type: Schema.Types.ObjectId, ref: 'FundClaim', required: true },
    name: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    sha256: { type: String, required: true },
    data: { type: Buffer, required: true },
    uploadedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    uploadedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

claimEvidenceSchema.index({ claim: 1, uploadedAt: 1 });

export type ClaimEvidenceAttrs = InferSchemaType<typeof claimEvidenceSchema>;
export const ClaimEvidence = mongoose.model('ClaimEvidence', claimEvidenceSchema);
