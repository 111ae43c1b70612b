/**
 * A licence offer (许可方案) on a patent: an open-licence declaration (开放许可),
 * use-first-pay-later terms (先使用后付费), or an invitation to negotiate.
 * Offers move draft → published → withdrawn; published terms are never
 * edited (a change is a withdrawal and a new offer), so what an SME read is
 * what it can take.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { OFFER_KINDS } from './patent.js';

/**
 * How the fee is paid:
 * - free: nothing (open licences may be royalty-free);
 * - lump_sum: one fixed fee (open: on taking the licence; deferred: when payment is triggered);
 * - instalments: `instalmentCount` payments of `instalmentFen`, every `instalmentIntervalMonths`;
 * - royalty: `royaltyBps` of reported net sales;
 * - entry_plus_royalty: `entryFeeFen` up front, then the royalty.
 */
export const FEE_FORMS = ['free', 'lump_sum', 'instalments', 'royalty', 'entry_plus_royalty'] as const;
export type FeeForm = (typeof FEE_FORMS)[number];
/** What ends a pay-later licence's free period: a date, the first revenue, or whichever comes first. */
export const PAYMENT_TRIGGERS = ['time', 'first_revenue', 'either'] as const;
export type PaymentTrigger = (typeof PAYMENT_TRIGGERS)[number];
export const OFFER_STATUSES = ['draft', 'published', 'withdrawn'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

const termsSchema = new Schema(
  {
    feeForm: { type: String, enum: FEE_FORMS, required: true },
    /** Paid on taking the licence (open) or on approval (deferred); fen. */
    entryFeeFen: { type: Number, default: 0, min: 0 },
    lumpSumFen: { type: Number, default: 0, min: 0 },
    instalmentCount: { type: Number, default: 0, min: 0 },
    instalmentFen: { type: Number, default: 0, min: 0 },
    instalmentIntervalMonths: { type: Number, default: 0, min: 0 },
    /** Running royalty in basis points of net sales (100 = 1 %). */
    royaltyBps: { type: Number, default: 0, min: 0 },
    /** Licence term in months (open licences: at least 12 and not beyond the patent's expiry). */
    termMonths: { type: Number, required: true, min: 1 },
    /** Pay-later only. */
    freeMonths: { type: Number, default: null },
    trigger: { type: String, enum: [...PAYMENT_TRIGGERS, null], default: null },
    notes: { type: String, trim: true, maxlength: 2000, default: '' },
  },
  { _id: false },
);

const offerSchema = new Schema(
  {
    patent: { type: Schema.Types.ObjectId, ref: 'Patent', required: true },
    holder: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    kind: { type: String, enum: OFFER_KINDS, required: true },
    status: { type: String, enum: OFFER_STATUSES, default: 'draft' },
    terms: { type: termsSchema, required: true },
    /** Fee-guidance warnings (CNIPA 2024) the TTO saw and confirmed before publishing. */
    warnings: { type: [String], default: [] },
    /** Platform announcement number of an open-licence declaration, e.g. `OL-2026-000042`. */
    announcementNo: { type: String, default: null },
    publishedAt: { type: Date, default: null },
    publishedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    /** Withdrawal takes effect when announced, which the platform does at once. */
    withdrawnAt: { type: Date, default: null },
    withdrawReason: { type: String, default: '' },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true },
);

offerSchema.index({ patent: 1, status: 1 });
offerSchema.index({ holder: 1, status: 1, updatedAt: -1 });
offerSchema.index({ announcementNo: 1 }, { unique: true, partialFilterExpression: { announcementNo: { $type: 'string' } } });

export type OfferAttrs = InferSchemaType<typeof offerSchema>;
export type OfferTerms = InferSchemaType<typeof termsSchema>;
export const Offer = mongoose.model('Offer', offerSchema);
