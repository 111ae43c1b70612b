/**
 * The risk-compensation fund's rules, versioned: a change is a new version
 * with the date it takes effect, who made it and why — never an edit — so a
 * claim can be judged by the rules in force when its licence started
 * (rulesInForce in server/services/fund/fund-rules.ts). One fund per
 * deployment (the YRD fund); amounts in fen, ratios in basis points.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const fen = { type: Number, required: true, min: 0, validate: Number.isSafeInteger };
const bps = { type: Number, required: true, min: 0, max: 10_000, validate: Number.isSafeInteger };

const funderSchema = new Schema(
  {
    organization: { type: Schema.Types.ObjectId, ref: 'Organization', default: null },
    name: { type: String, required: true },
    /** Share of appropriations and of what the fund pays out; the shares sum to 10,000. */
    shareBps: bps,
  },
  { _id: false },
);

const fundRulesSchema = new Schema(
  {
    version: { type: Number, required: true, min: 1 },
    /** In force from this instant (China midnight of the chosen day) until the next version's. */
    effectiveFrom: { type: Date, required: true },
    /** Compensation = ratio × unrecovered amount, then capped. */
    compensationBps: bps,
    capPerLicenceFen: fen,
    capPerLicenseeFen: fen,
    /** Per calendar year (China time) of approval, across all claims. */
    capPerYearFen: fen,
    daysOverdueBeforeDefault: { type: Number, required: true, min: 1, max: 720 },
    /** Loss rate (defaulted ÷ accrued on covered licences) above which new pay-later cover is suspended. */
    lossRateCapBps: bps,
    /** Subsidy: a share of the royalties a micro (or small) enterprise paid in a quarter. */
    subsidyMicroBps: bps,
    subsidySmallBps: bps,
    subsidyCapPerLicenseePerYearFen: fen,
    funders: { type: [funderSchema], default: [] },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    reason: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

fundRulesSchema.index({ version: 1 }, { unique: true });
fundRulesSchema.index({ effectiveFrom: -1, version: -1 });

export type FundRulesAttrs = InferSchemaType<typeof fundRulesSchema>;
export const FundRules = mongoose.model('FundRules', fundRulesSchema);
