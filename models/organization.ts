/**
 * An organisation on the exchange: a university or institute (TTO), an
 * enterprise (SME), a fund operator, an authority, or the platform itself.
 * Universities, institutes and enterprises register themselves and wait for
 * an admin's verification; the other kinds are created by an admin.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const ORG_KINDS = ['university', 'institute', 'enterprise', 'fund', 'authority', 'platform'] as const;
export const SELF_REGISTERED_KINDS = ['university', 'institute', 'enterprise'] as const;
export const REGIONS = ['SH', 'JS', 'ZJ', 'AH'] as const;
export const SIZE_CLASSES = ['medium', 'small', 'micro', 'not_sme'] as const;

export type OrgKind = (typeof ORG_KINDS)[number];
export type Region = (typeof REGIONS)[number];

const organizationSchema = new Schema(
  {
    kind: { type: String, enum: ORG_KINDS, required: true },
    nameZh: { type: String, required: true, trim: true, maxlength: 120 },
    nameEn: { type: String, trim: true, maxlength: 200, default: '' },
    region: { type: String, enum: REGIONS, required: true },
    /** 统一社会信用代码, validated with its GB 32100-2015 check character. */
    uscc: { type: String, required: true, uppercase: true, match: /^[0-9A-HJ-NPQRTUWXY]{18}$/ },
    verified: { type: Boolean, default: false },
    verifiedAt: { type: Date, default: null },
    verifiedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    rejectedReason: { type: String, default: '' },
    /** Enterprises only: the inputs and result of the 2011 SME classification. */
    enterprise: {
      sector: { type: String, default: null },
      employees: { type: Number, default: null },
      annualRevenueFen: { type: Number, default: null },
      sizeClass: { type: String, enum: [...SIZE_CLASSES, null], default: null },
      sizeReason: { type: Schema.Types.Mixed, default: null },
    },
  },
  { timestamps: true },
);

organizationSchema.index({ uscc: 1 }, { unique: true });
organizationSchema.index({ verified: 1, createdAt: 1 });
organizationSchema.index({ kind: 1, region: 1 });

export type OrganizationAttrs = InferSchemaType<typeof organizationSchema>;
export const Organization = mongoose.model('Organization', organizationSchema);
