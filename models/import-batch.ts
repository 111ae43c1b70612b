/**
 * An uploaded portfolio file kept between its dry run and its commit. The
 * bytes are stored (not the parsed rows) so the commit re-reads exactly what
 * the TTO saw checked, and re-validates it against the register as it is by
 * then. Batches disappear 24 hours after upload (TTL index); a committed
 * batch drops its bytes and keeps only the sha256 and the counts.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const IMPORT_FORMATS = ['csv', 'xlsx'] as const;
export const IMPORT_STATUSES = ['dry_run', 'committed', 'expired'] as const;
/** Multer's limit and the model's: a 10 MB spreadsheet is far beyond any real TTO portfolio. */
export const IMPORT_MAX_BYTES = 10 * 1024 * 1024;
export const IMPORT_TTL_MS = 24 * 3_600_000;

const importBatchSchema = new Schema(
  {
    organization: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    filename: { type: String, trim: true, maxlength: 255, default: '' },
    /** The uploaded bytes; not selected by default so lists never load megabytes. */
    file: { type: Buffer, select: false, default: null },
    size: { type: Number, required: true, min: 0, max: IMPORT_MAX_BYTES },
    sha256: { type: String, required: true, match: /^[0-9a-f]{64}$/ },
    format: { type: String, enum: IMPORT_FORMATS, required: true },
    /** How a CSV was decoded (`utf-8-bom`, `utf-8`, `gb18030`); empty for XLSX. */
    encoding: { type: String, default: '' },
    status: { type: String, enum: IMPORT_STATUSES, default: 'dry_run' },
    dryRunSummary: {
      rows: { type: Number, default: 0 },
      valid: { type: Number, default: 0 },
      invalid: { type: Number, default: 0 },
      duplicatesInFile: { type: Number, default: 0 },
      alreadyRegistered: { type: Number, default: 0 },
      at: { type: Date, default: null },
    },
    resultSummary: {
      imported: { type: Number, default: 0 },
      skipped: { type: Number, default: 0 },
      committedAt: { type: Date, default: null },
      committedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    },
    expiresAt: { type: Date, required: true, default: () => new Date(Date.now() + IMPORT_TTL_MS) },
  },
  { timestamps: true },
);

// The store's TTL monitor deletes a batch once expiresAt has passed.
importBatchSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
importBatchSchema.index({ organization: 1, createdAt: -1 });
importBatchSchema.index({ organization: 1, sha256: 1 });

export type ImportBatchAttrs = InferSchemaType<typeof importBatchSchema>;
export const ImportBatch = mongoose.model('ImportBatch', importBatchSchema);
