/**
 * A person who logs in. Roles are bound to the organisation's kind (a TTO
 * works for a university or institute, an SME user for an enterprise…); an
 * organisation's first user is its admin and may invite colleagues.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const ROLES = ['tto', 'sme', 'fund_manager', 'regulator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

const userSchema = new Schema(
  {
    email: { type: String, required: true, lowercase: true, trim: true, maxlength: 254 },
    name: { type: String, required: true, trim: true, maxlength: 80 },
    /** scrypt hash in the form `scrypt$N$r$p$salt$hash` (see services/passwords.ts). */
    passwordHash: { type: String, required: true, select: false },
    organization: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    role: { type: String, enum: ROLES, required: true },
    /** The organisation's own administrator (first user): may invite colleagues. */
    orgAdmin: { type: Boolean, default: false },
    locale: { type: String, enum: LOCALES, default: 'zh-CN' },
    active: { type: Boolean, default: true },
    /** Failed logins since the last success, and until when the account is locked. */
    failedLogins: { type: Number, default: 0 },
    lockedUntil: { type: Date, default: null },
    lastLoginAt: { type: Date, default: null },
  },
  {
    timestamps: true,
    toJSON: {
      transform(_doc, ret: Record<string, unknown>) {
        delete ret.passwordHash;
        return ret;
      },
    },
  },
);

userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ organization: 1 });

export type UserAttrs = InferSchemaType<typeof userSchema>;
export const User = mongoose.model('User', userSchema);
