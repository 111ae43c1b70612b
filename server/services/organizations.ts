/**
 * Organisations: self-registration of universities, institutes and
 * enterprises with their first user, the admin's verification queue, and
 * admin-created fund, authority and platform organisations.
 */
import mongoose, { Types } from 'mongoose';
import { Organization, type OrgKind, type Region } from '../../models/organization.js';
import { User, type Locale, type Role } from '../../models/user.js';
import { classifySme, type SmeSector } from '../domain/sme-size.js';
import { validateUscc } from '../domain/uscc.js';
import { NotFoundError, ValidationError, type FieldError } from '../errors.js';
import { recordAudit } from './audit.js';
import { requireRole, type Ctx } from './context.js';
import type { Mailer } from './mail.js';
import { hashPassword } from './passwords.js';

/** Each organisation kind has exactly one role for its users. */
export const ROLE_FOR_KIND: Record<OrgKind, Role> = {
  university: 'tto',
  institute: 'tto',
  enterprise: 'sme',
  fund: 'fund_manager',
  authority: 'regulator',
  platform: 'admin',
};

export interface OrganizationInput {
  kind: OrgKind;
  nameZh: string;
  nameEn: string;
  region: Region;
  uscc: string;
  enterprise?: { sector: SmeSector; employees: number; annualRevenueFen: number };
}

export interface FirstUserInput {
  name: string;
  email: string;
  password: string;
  locale: Locale;
}

/** The USCC's check character, reported against the field with what was expected. */
export function usccFieldError(uscc: string): FieldError | null {
  const r = validateUscc(uscc);
  if (r.ok) return null;
  if (r.reason === 'checksum') return { key: 'org.uscc.checksum', params: { expected: r.expected ?? '' } };
  if (r.reason === 'charset') return { key: 'org.uscc.charset', params: { position: r.position ?? 0 } };
  return { key: 'org.uscc.length' };
}

function sizeOf(input: OrganizationInput) {
  if (input.kind !== 'enterprise' || !input.enterprise) return null;
  const { sizeClass, reason } = classifySme(input.enterprise);
  return { ...input.enterprise, sizeClass, sizeReason: reason };
}

/** Translates a unique-index race into the same field error the pre-check gives. */
function duplicateField(err: unknown): ValidationError | null {
  const e = err as { code?: number; keyPattern?: Record<string, unknown> };
  if (e?.code !== 11000) return null;
  if (e.keyPattern?.uscc) return new ValidationError({ uscc: { key: 'org.uscc.taken' } });
  if (e.keyPattern?.email) return new ValidationError({ email: { key: 'user.email.taken' } });
  return null;
}

/**
 * Registers an organisation and its first user (the organisation's admin).
 * Both are written in one transaction with their audit events; the
 * organisation then waits in the verification queue.
 */
export async function registerOrganization(ctx: Ctx, org: OrganizationInput, user: FirstUserInput) {
  org = { ...org, uscc: org.uscc.trim().toUpperCase() };
  const fields: Record<string, FieldError> = {};
  const usccErr = usccFieldError(org.uscc);
  if (usccErr) fields.uscc = usccErr;
  else if (await Organization.exists({ uscc: { $eq: org.uscc.toUpperCase() } })) fields.uscc = { key: 'org.uscc.taken' };
  if (await User.exists({ email: { $eq: user.email.toLowerCase() } })) fields.email = { key: 'user.email.taken' };
  if (!['university', 'institute', 'enterprise'].includes(org.kind)) fields.kind = { key: 'org.kind.invalid' };
  if (Object.keys(fields).length) throw new ValidationError(fields);
  const passwordHash = await hashPassword(user.password);
  try {
    return await mongoose.connection.transaction(async (session) => {
      const [created] = await Organization.create(
        [{ kind: org.kind, nameZh: org.nameZh, nameEn: org.nameEn, region: org.region, uscc: org.uscc, enterprise: sizeOf(org) ?? undefined }],
        { session },
      );
      const [first] = await User.create(
        [{ email: user.email, name: user.name, passwordHash, organization: created._id, role: ROLE_FOR_KIND[org.kind], orgAdmin: true, locale: user.locale }],
        { session },
      );
      const auditCtx: Ctx = { ...ctx, actor: ctx.actor ?? { userId: first._id, email: first.email, role: first.role, orgId: created._id, orgVerified: false, orgAdmin: true } };
      await recordAudit(auditCtx, 'organization.registered', { type: 'Organization', id: created._id }, { kind: org.kind, nameZh: org.nameZh, region: org.region, uscc: created.uscc, sizeClass: created.enterprise?.sizeClass ?? null }, session);
      await recordAudit(auditCtx, 'user.created', { type: 'User', id: first._id }, { email: first.email, role: first.role, orgAdmin: true }, session);
      return { organization: created, user: first };
    });
  } catch (err) {
    throw duplicateField(err) ?? err;
  }
}

/** Organisations waiting for an admin's decision, oldest first. */
export async function verificationQueue(ctx: Ctx) {
  requireRole(ctx, 'admin');
  return Organization.find({ verified: false, rejectedReason: '' }).sort({ createdAt: 1 }).lean();
}

export async function getOrganization(ctx: Ctx, id: string) {
  const actor = requireRole(ctx, 'admin', 'regulator', 'tto', 'sme', 'fund_manager');
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError();
  // Only the platform's admins and regulators see other organisations' registration details.
  if (!['admin', 'regulator'].includes(actor.role) && !actor.orgId.equals(id)) throw new NotFoundError();
  const org = await Organization.findById(id).lean();
  if (!org) throw new NotFoundError();
  return org;
}

/** Approves or rejects a registration, exactly once, and tells its users by e-mail. */
export async function decideVerification(ctx: Ctx, id: string, decision: { approve: boolean; reason: string }, mailer: Mailer) {
  const actor = requireRole(ctx, 'admin');
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError();
  if (!decision.approve && decision.reason.trim().length < 5) {
    throw new ValidationError({ reason: { key: 'verify.reason.required' } });
  }
  const update = decision.approve
    ? { $set: { verified: true, verifiedAt: new Date(), verifiedBy: actor.userId } }
    : { $set: { rejectedReason: decision.reason.trim() } };
  const org = await mongoose.connection.transaction(async (session) => {
    const updated = await Organization.findOneAndUpdate({ _id: id, verified: false, rejectedReason: '' }, update, { returnDocument: 'after', session });
    if (!updated) return null;
    await recordAudit(ctx, decision.approve ? 'organization.verified' : 'organization.rejected', { type: 'Organization', id: updated._id }, { reason: decision.reason.trim() || undefined }, session);
    return updated;
  });
  if (!org) throw new NotFoundError('verify.not_pending');
  const users = await User.find({ organization: org._id }).lean();
  for (const u of users) {
    await mailer.send({
      to: u.email,
      subject: decision.approve ? '【长三角科技成果许可交易平台】机构已通过审核 / Organisation verified' : '【长三角科技成果许可交易平台】机构审核未通过 / Organisation not verified',
      text: decision.approve
        ? `${org.nameZh} 已通过平台审核，现在可以发布和许可专利。\n${org.nameEn || org.nameZh} has been verified and may now publish and license patents.`
        : `${org.nameZh} 未通过平台审核。原因：${decision.reason}\n${org.nameEn || org.nameZh} was not verified. Reason: ${decision.reason}`,
    });
  }
  return org;
}

/** Admin-created organisations (fund operators, authorities, the platform): verified from the start. */
export async function createManagedOrganization(ctx: Ctx, org: OrganizationInput) {
  const actor = requireRole(ctx, 'admin');
  org = { ...org, uscc: org.uscc.trim().toUpperCase() };
  if (!['fund', 'authority', 'platform'].includes(org.kind)) throw new ValidationError({ kind: { key: 'org.kind.invalid' } });
  const usccErr = usccFieldError(org.uscc);
  if (usccErr) throw new ValidationError({ uscc: usccErr });
  try {
    return await mongoose.connection.transaction(async (session) => {
      const [created] = await Organization.create(
        [{ kind: org.kind, nameZh: org.nameZh, nameEn: org.nameEn, region: org.region, uscc: org.uscc, verified: true, verifiedAt: new Date(), verifiedBy: actor.userId }],
        { session },
      );
      await recordAudit(ctx, 'organization.created', { type: 'Organization', id: created._id }, { kind: org.kind, nameZh: org.nameZh, region: org.region }, session);
      return created;
    });
  } catch (err) {
    throw duplicateField(err) ?? err;
  }
}

export async function listOrganizations(ctx: Ctx) {
  requireRole(ctx, 'admin', 'regulator');
  return Organization.find().sort({ kind: 1, region: 1, nameZh: 1 }).lean();
}
