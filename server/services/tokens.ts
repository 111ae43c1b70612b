/**
 * One-time tokens (password reset, invitation): 256 random bits handed to
 * the user by e-mail, stored only as a SHA-256, spent atomically.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ClientSession } from 'mongoose';
import { AuthToken, TOKEN_PURPOSES } from '../../models/auth-token.js';

export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Marks an unexpired, unused token of `purpose` as used and returns it; null if there is none. */
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

export async function spendToken(purpose: TokenPurpose, token: string, session?: ClientSession) {
  if (typeof token !== 'string' || token.length < 20 || token.length > 100) return null;
  const now = new Date();
  return AuthToken.findOneAndUpdate(
    { purpose: { $eq: purpose }, tokenHash: { $eq: hashToken(token) }, usedAt: null, expiresAt: { $gt: now } },
    { $set: { usedAt: now } },
    { returnDocument: 'after', session },
  );
}

/** Looks a token up without spending it (to show the form it unlocks). */
export async function peekToken(purpose: TokenPurpose, token: string) {
  if (typeof token !== 'string' || token.length < 20 || token.length > 100) return null;
  return AuthToken.findOne({ purpose: { $eq: purpose }, tokenHash: { $eq: hashToken(token) }, usedAt: null, expiresAt: { $gt: new Date() } }).lean();
}
