/**
 * One-time tokens for password resets and invitations. Only a SHA-256 of the
 * token is stored, so a database reader cannot use one; a token is spent by
 * setting `usedAt` in the same update that checks it is unused.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const TOKEN_PURPOSES = ['password_reset', 'invitation'] as const;

const authTokenSchema = new Schema(
  {
    purpose: { type: String, enum: TOKEN_PURPOSES, required: true },
    tokenHash: { type: String, required: true },
    email: { type: String, required: true, lowercase: true },
    user: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    organization: { type: Schema.Types.ObjectId, ref: 'Organization', default: null },
    role: { type: String, default: null },
    invitedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
  },
  { timestamps: true },
);

authTokenSchema.index({ tokenHash: 1 }, { unique: true });
// Expired tokens are removed by the TTL monitor a day after expiry.
authTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 86_400 });

export type AuthTokenAttrs = InferSchemaType<typeof authTokenSchema>;
export const AuthToken = mongoose.model('AuthToken', authTokenSchema);
