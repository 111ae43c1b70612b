/**
 * Accounts: password login with per-account throttling, invitations of
 * colleagues by an organisation's admin, and password reset by e-mailed
 * one-time token. Per-address throttling is the HTTP layer's rate limiter.
 */
import mongoose, { Types } from 'mongoose';
import { AuthToken } from '../../models/auth-token.js';
import { Organization } from '../../models/organization.js';
import { User, type Locale, type Role } from '../../models/user.js';
import { ForbiddenError, NotFoundError, TooManyRequestsError, ValidationError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { Actor, Ctx, RequestMeta } from './context.js';
import type { Mailer } from './mail.js';
import { ROLE_FOR_KIND } from './organizations.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import { newToken, spendToken } from './tokens.js';

/** Five wrong passwords lock the account for 15 minutes. */
export const MAX_FAILED_LOGINS = 5;
export const LOCK_MINUTES = 15;
const INVITATION_DAYS = 7;
const RESET_MINUTES = 60;

/** Builds the actor the rest of the app authorises against. */
export async function actorFor(userId: string | Types.ObjectId): Promise<Actor | null> {
  const user = await User.findById(userId).lean();
  if (!user || !user.active) return null;
  const org = await Organization.findById(user.organization).lean();
  if (!org) return null;
  return { userId: user._id, email: user.email, role: user.role, orgId: org._id, orgVerified: org.verified, orgAdmin: user.orgAdmin };
}

function minutesLeft(until: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - Date.now()) / 60_000));
}

/**
 * Checks a password. Returns the user id, or null for a wrong email or
 * password (the caller shows one message for both). Throws 429 while locked.
 */
export async function authenticate(meta: RequestMeta, email: string, password: string): Promise<Types.ObjectId | null> {
  const user = await User.findOne({ email: { $eq: email.toLowerCase().trim() } }).select('+passwordHash');
  if (!user || !user.active) {
    await verifyPassword(password, await dummyPasswordHash());
    return null;
  }
  if (user.lockedUntil && user.lockedUntil > new Date()) {
    throw new TooManyRequestsError('auth.locked', minutesLeft(user.lockedUntil));
  }
  const ctx: Ctx = { actor: { userId: user._id, email: user.email, role: user.role, orgId: user.organization, orgVerified: false, orgAdmin: user.orgAdmin }, meta };
  if (!(await verifyPassword(password, user.passwordHash))) {
    // Counted with $inc, not from the value read above: parallel guesses (each spends
    // a slow hash after that read) would otherwise all write the same count and never lock.
    const counted = await User.findOneAndUpdate({ _id: user._id }, { $inc: { failedLogins: 1 } }, { returnDocument: 'after' }).lean();
    const failed = counted?.failedLogins ?? user.failedLogins + 1;
    const lock = failed >= MAX_FAILED_LOGINS ? new Date(Date.now() + LOCK_MINUTES * 60_000) : null;
    if (lock) await User.updateOne({ _id: user._id }, { $set: { failedLogins: 0, lockedUntil: lock } });
    await recordAudit(ctx, lock ? 'user.locked' : 'user.login_failed', { type: 'User', id: user._id }, { failedLogins: failed });
    if (lock) throw new TooManyRequestsError('auth.locked', LOCK_MINUTES);
    return null;
  }
  await User.updateOne({ _id: user._id }, { $set: { failedLogins: 0, lockedUntil: null, lastLoginAt: new Date() } });
  await recordAudit(ctx, 'user.login', { type: 'User', id: user._id });
  return user._id;
}

/**
 * An organisation's admin invites a colleague, who gets the organisation's
 * role. The platform admin may also invite into another organisation
 * (`targetOrgId`): that is how fund, authority and platform organisations,
 * which the admin creates, get their users.
 */
export async function inviteColleague(ctx: Ctx, email: string, mailer: Mailer, baseUrl: string, targetOrgId?: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new ForbiddenError('error.login_required');
  if (targetOrgId !== undefined && actor.role !== 'admin') throw new ForbiddenError('error.forbidden_role');
  if (!actor.orgAdmin && actor.role !== 'admin') throw new ForbiddenError('invite.not_org_admin');
  const normalised = email.toLowerCase().trim();
  if (await User.exists({ email: { $eq: normalised } })) throw new ValidationError({ email: { key: 'user.email.taken' } });
  if (targetOrgId !== undefined && !Types.ObjectId.isValid(targetOrgId)) throw new NotFoundError();
  const org = await Organization.findById(targetOrgId ?? actor.orgId).lean();
  if (!org) throw new NotFoundError();
  const { token, hash } = newToken();
  await mongoose.connection.transaction(async (session) => {
    const [t] = await AuthToken.create(
      [{ purpose: 'invitation', tokenHash: hash, email: normalised, organization: org._id, role: ROLE_FOR_KIND[org.kind], invitedBy: actor.userId, expiresAt: new Date(Date.now() + INVITATION_DAYS * 86_400_000) }],
      { session },
    );
    await recordAudit(ctx, 'user.invited', { type: 'AuthToken', id: t._id }, { email: normalised, organization: String(org._id) }, session);
  });
  await mailer.send({
    to: normalised,
    subject: '【长三角科技成果许可交易平台】加入邀请 / Invitation',
    text: `${actor.email} 邀请您加入 ${org.nameZh}。请在 ${INVITATION_DAYS} 天内打开链接设置密码：\n${actor.email} invites you to join ${org.nameEn || org.nameZh}. Open this link within ${INVITATION_DAYS} days to set your password:\n\n${baseUrl}/invitations/${token}\n`,
  });
}

/** Accepting an invitation creates the account; the token works once. */
export async function acceptInvitation(meta: RequestMeta, token: string, input: { name: string; password: string; locale: Locale }) {
  const passwordHash = await hashPassword(input.password);
  return mongoose.connection.transaction(async (session) => {
    const t = await spendToken('invitation', token, session);
    if (!t || !t.organization || !t.role) throw new ValidationError({ token: { key: 'token.invalid' } }, 'token.invalid');
    if (await User.exists({ email: { $eq: t.email } }).session(session)) throw new ValidationError({ email: { key: 'user.email.taken' } });
    const [user] = await User.create(
      [{ email: t.email, name: input.name, passwordHash, organization: t.organization, role: t.role as Role, orgAdmin: false, locale: input.locale }],
      { session },
    );
    const ctx: Ctx = { actor: { userId: user._id, email: user.email, role: user.role, orgId: user.organization, orgVerified: false, orgAdmin: false }, meta };
    await recordAudit(ctx, 'user.created', { type: 'User', id: user._id }, { email: user.email, role: user.role, invitedBy: String(t.invitedBy) }, session);
    return user;
  });
}

/** Always behaves the same whether or not the address is registered, so it can't be used to probe for accounts. */
export async function requestPasswordReset(meta: RequestMeta, email: string, mailer: Mailer, baseUrl: string): Promise<void> {
  const user = await User.findOne({ email: { $eq: email.toLowerCase().trim() }, active: true }).lean();
  if (!user) return;
  const { token, hash } = newToken();
  const ctx: Ctx = { actor: null, meta };
  await mongoose.connection.transaction(async (session) => {
    const [t] = await AuthToken.create(
      [{ purpose: 'password_reset', tokenHash: hash, email: user.email, user: user._id, expiresAt: new Date(Date.now() + RESET_MINUTES * 60_000) }],
      { session },
    );
    await recordAudit(ctx, 'user.password_reset_requested', { type: 'User', id: user._id }, { token: String(t._id) }, session);
  });
  await mailer.send({
    to: user.email,
    subject: '【长三角科技成果许可交易平台】重置密码 / Reset your password',
    text: `请在 ${RESET_MINUTES} 分钟内打开链接重置密码（如非本人操作请忽略）：\nOpen this link within ${RESET_MINUTES} minutes to reset your password (ignore this e-mail if you did not ask):\n\n${baseUrl}/password/reset/${token}\n`,
  });
}

export async function resetPassword(meta: RequestMeta, token: string, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  await mongoose.connection.transaction(async (session) => {
    const t = await spendToken('password_reset', token, session);
    if (!t || !t.user) throw new ValidationError({ token: { key: 'token.invalid' } }, 'token.invalid');
    await User.updateOne({ _id: t.user }, { $set: { passwordHash, failedLogins: 0, lockedUntil: null } }, { session });
    await recordAudit({ actor: null, meta }, 'user.password_reset', { type: 'User', id: t.user }, {}, session);
  });
}

export async function setLocale(ctx: Ctx, locale: Locale): Promise<void> {
  if (!ctx.actor) return;
  await User.updateOne({ _id: ctx.actor.userId }, { $set: { locale } });
}

export async function listColleagues(ctx: Ctx) {
  if (!ctx.actor) throw new ForbiddenError('error.login_required');
  return User.find({ organization: ctx.actor.orgId }).sort({ createdAt: 1 }).lean();
}
