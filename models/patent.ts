/**
 * A patent in a university's or institute's separately managed asset
 * register (单列管理). The TTO owns the record; the catalogue shows it once
 * one of its licence offers is published (`listing` is kept in step with the
 * offers by services/offers.ts, so catalogue reads never join offers).
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { TECH_FIELDS } from '../server/domain/tech-fields.js';
import { REGIONS } from './organization.js';

export const PATENT_TYPES = ['invention', 'utility_model', 'design'] as const;
export type PatentType = (typeof PATENT_TYPES)[number];
/** 法律状态: pending (applied, not granted), granted and in force, or ended. */
export const LEGAL_STATUSES = ['pending', 'granted', 'lapsed', 'invalidated', 'expired'] as const;
export type LegalStatus = (typeof LEGAL_STATUSES)[number];
/** An exclusive (独占) or sole (排他) licence in force bars an open-licence declaration. */
export const EXCLUSIVE_LICENCES = ['none', 'exclusive', 'sole'] as const;
export const OFFER_KINDS = ['open', 'deferred', 'negotiated'] as const;
export type OfferKind = (typeof OFFER_KINDS)[number];

const coOwnerSchema = new Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 120 },
    /** Written consent to open licensing (all co-owners must consent). */
    consentToOpenLicence: { type: Boolean, default: false },
  },
  { _id: false },
);

const patentSchema = new Schema(
  {
    holder: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    /** Copied from the holder so the catalogue filters by region without a join. */
    region: { type: String, enum: REGIONS, required: true },
    /** Normalised application number: 12 digits + '.' + check character (or 8 + '.' + c for pre-2003). */
    applicationNumber: { type: String, required: true, maxlength: 20 },
    type: { type: String, enum: PATENT_TYPES, required: true },
    titleZh: { type: String, required: true, trim: true, maxlength: 200 },
    titleEn: { type: String, trim: true, maxlength: 300, default: '' },
    abstractZh: { type: String, trim: true, maxlength: 4000, default: '' },
    abstractEn: { type: String, trim: true, maxlength: 6000, default: '' },
    /** Plain-language summary industry readers ask for: what problem, where it is used, why it is better. */
    summary: {
      problem: { type: String, trim: true, maxlength: 1000, default: '' },
      application: { type: String, trim: true, maxlength: 1000, default: '' },
      advantage: { type: String, trim: true, maxlength: 1000, default: '' },
    },
    /** IPC symbols, normalised without spaces, e.g. `H01L21/02`. */
    ipc: { type: [String], default: [] },
    fields: { type: [String], enum: TECH_FIELDS, default: [] },
    inventors: { type: [String], default: [] },
    coOwners: { type: [coOwnerSchema], default: [] },
    filingDate: { type: Date, required: true },
    grantDate: { type: Date, default: null },
    /** Computed from filing date and type (services keep it in step). */
    expiryDate: { type: Date, required: true },
    legalStatus: { type: String, enum: LEGAL_STATUSES, required: true },
    annualFeePaidThrough: { type: Date, default: null },
    pledged: { type: Boolean, default: false },
    pledgeeConsent: { type: Boolean, default: false },
    exclusiveLicence: { type: String, enum: EXCLUSIVE_LICENCES, default: 'none' },
    /** 中止 under Implementing Regulations Arts. 103/104 (ownership dispute, preservation order). */
    suspended: { type: Boolean, default: false },
    /** 专利权评价报告: utility models and designs need one to declare an open licence. */
    evaluationReport: { type: Boolean, default: false },
    trl: { type: Number, min: 1, max: 9, default: null },
    /** The institution's own asset-register reference (单列管理台账编号). */
    assetRef: { type: String, trim: true, maxlength: 60, default: '' },
    status: { type: String, enum: ['active', 'retired'], default: 'active' },
    retiredReason: { type: String, default: '' },
    /** Denormalised from published offers: what the catalogue filters and sorts on. */
    listing: {
      listed: { type: Boolean, default: false },
      kinds: { type: [String], enum: OFFER_KINDS, default: [] },
      /** Lowest amount an SME pays up front across published offers, in fen (0 = nothing up front). */
      minEntryFeeFen: { type: Number, default: null },
      publishedAt: { type: Date, default: null },
    },
    views: { type: Number, default: 0 },
    enquiries: { type: Number, default: 0 },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true },
);

patentSchema.index({ applicationNumber: 1 }, { unique: true });
patentSchema.index({ holder: 1, status: 1, updatedAt: -1 });
// The catalogue's search index syncs by updatedAt.
patentSchema.index({ updatedAt: 1 });
patentSchema.index({ 'listing.listed': 1, 'listing.publishedAt': -1 });

export type PatentAttrs = InferSchemaType<typeof patentSchema>;
export const Patent = mongoose.model('Patent', patentSchema);
