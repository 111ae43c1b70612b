/**
 * A technical need (技术需求) an SME posts: the problem in its own words, the
 * fields, a budget and a deadline. TTOs browse needs and see which of their
 * patents match; the SME receives a weekly digest of newly listed matches.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { TECH_FIELDS } from '../server/domain/tech-fields.js';
import { REGIONS } from './organization.js';

const demandSchema = new Schema(
  {
    organization: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    title: { type: String, required: true, trim: true, maxlength: 120 },
    problem: { type: String, required: true, trim: true, maxlength: 4000 },
    fields: { type: [String], enum: TECH_FIELDS, default: [] },
    /** Most the SME expects to pay, in fen (null = not stated). */
    budgetFen: { type: Number, default: null, min: 0 },
    region: { type: String, enum: REGIONS, required: true },
    deadline: { type: Date, default: null },
    status: { type: String, enum: ['open', 'closed'], default: 'open' },
    /** Weekly digest bookkeeping: when it last went out and which patents it already named. */
    digest: {
      lastSentAt: { type: Date, default: null },
      sentPatents: { type: [Schema.Types.ObjectId], default: [] },
    },
  },
  { timestamps: true },
);

demandSchema.index({ organization: 1, status: 1, updatedAt: -1 });
demandSchema.index({ status: 1, updatedAt: -1 });

export type DemandAttrs = InferSchemaType<typeof demandSchema>;
export const Demand = mongoose.model('Demand', demandSchema);
