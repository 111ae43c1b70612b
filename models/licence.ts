/**
 * A licence contract (许可合同) between a patent's holder and an enterprise,
 * born from a published offer. `terms` is an immutable snapshot of what was
 * offered when the licence arose (later withdrawal or new offers never change
 * it); `history` records every state change with who and why.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { LICENCE_STATES } from '../server/domain/licence-states.js';
import { OFFER_KINDS } from './patent.js';

const historySchema = new Schema(
  {
    at: { type: Date, required: true },
    from: { type: String, default: null },
    to: { type: String, required: true },
    by: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    reason: { type: String, default: '' },
  },
  { _id: false },
);

const licenceSchema = new Schema(
  {
    /** Human-readable contract number, e.g. `LIC-2026-000123`. */
    number: { type: String, required: true },
    kind: { type: String, enum: OFFER_KINDS, required: true },
    state: { type: String, enum: LICENCE_STATES, required: true },
    offer: { type: Schema.Types.ObjectId, ref: 'Offer', required: true },
    patent: { type: Schema.Types.ObjectId, ref: 'Patent', required: true },
    licensor: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    /** Always non-exclusive on this platform (open licences must be; Patent Law Art. 51). */
    exclusivity: { type: String, enum: ['non_exclusive'], default: 'non_exclusive' },
    /** The offer's terms, and the patent and parties as they were, frozen when the licence arose. */
    terms: { type: Schema.Types.Mixed, required: true },
    snapshot: {
      applicationNumber: { type: String, required: true },
      patentTitleZh: { type: String, required: true },
      patentExpiry: { type: Date, required: true },
      licensorNameZh: { type: String, required: true },
      licenseeNameZh: { type: String, required: true },
      licenseeSizeClass: { type: String, default: null },
      announcementNo: { type: String, default: null },
    },
    /** The licensee's written notice (open) or application (deferred/negotiated): who, when, from where. */
    notice: {
      by: { type: Schema.Types.ObjectId, ref: 'User', default: null },
      at: { type: Date, default: null },
      ip: { type: String, default: '' },
      statement: { type: String, default: '' },
    },
    effectiveAt: { type: Date, default: null },
    endsAt: { type: Date, default: null },
    freePeriodEndsAt: { type: Date, default: null },
    firstRevenueAt: { type: Date, default: null },
    /** 备案: due three months after the contract takes effect (Implementing Regulations Art. 87). */
    filingDueAt: { type: Date, default: null },
    filedAt: { type: Date, default: null },
    filingRef: { type: String, default: '' },
    /** Proposed terms in a negotiation (the TTO's answer to a request). */
    proposedTerms: { type: Schema.Types.Mixed, default: null },
    history: { type: [historySchema], default: [] },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true },
);

licenceSchema.index({ number: 1 }, { unique: true });
licenceSchema.index({ licensor: 1, state: 1, updatedAt: -1 });
licenceSchema.index({ licensee: 1, state: 1, updatedAt: -1 });
licenceSchema.index({ patent: 1, state: 1 });
licenceSchema.index({ state: 1, freePeriodEndsAt: 1 });
licenceSchema.index({ licensor: 1, filedAt: 1, filingDueAt: 1 });

export type LicenceAttrs = InferSchemaType<typeof licenceSchema>;
export const Licence = mongoose.model('Licence', licenceSchema);
