/**
 * A licensee's net sales under a running-royalty licence for one period
 * (quarterly by default). One report per licence and period; the royalty
 * invoice it produces is keyed to it, so a report is billed exactly once.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const revenueReportSchema = new Schema(
  {
    licence: { type: Schema.Types.ObjectId, ref: 'Licence', required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    licensor: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    /** `2026Q3`. */
    period: { type: String, required: true, match: /^\d{4}Q[1-4]$/ },
    periodStart: { type: Date, required: true },
    periodEnd: { type: Date, required: true },
    netSalesFen: { type: Number, required: true, min: 0, validate: Number.isSafeInteger },
    reportedAt: { type: Date, required: true },
    reportedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  },
  { timestamps: true },
);

revenueReportSchema.index({ licence: 1, period: 1 }, { unique: true });

export type RevenueReportAttrs = InferSchemaType<typeof revenueReportSchema>;
export const RevenueReport = mongoose.model('RevenueReport', revenueReportSchema);
