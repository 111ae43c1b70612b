/**
 * A reminder sent to a licensee whose revenue report for a period is late:
 * one per licence and period (the unique index), so however often the chase
 * runs, and on however many instances, the licensee is chased once.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const reportChaseSchema = new Schema(
  {
    licence: { type: Schema.Types.ObjectId, ref: 'Licence', required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    /** `2026Q3`. */
    period: { type: String, required: true },
    sentAt: { type: Date, required: true },
    recipients: { type: Number, default: 0 },
  },
  { versionKey: false },
);

reportChaseSchema.index({ licence: 1, period: 1 }, { unique: true });

export type ReportChaseAttrs = InferSchemaType<typeof reportChaseSchema>;
export const ReportChase = mongoose.model('ReportChase', reportChaseSchema);
