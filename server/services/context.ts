/**
 * Who is acting, and from which request: every service call that changes
 * state receives this, checks authorisation against it, and records it in
 * the audit log. Services never see Express's req/res.
 */
import type { Types } from 'mongoose';
import type { Role } from '../../models/user.js';
import { ForbiddenError } from '../errors.js';

export interface Actor {
  userId: Types.ObjectId;
  email: string;
  role: Role;
  orgId: Types.ObjectId;
  orgVerified: boolean;
  /** The organisation's own administrator (may invite colleagues). */
  orgAdmin: boolean;
}

export interface RequestMeta {
  requestId: string;
  ip: string;
}

export interface Ctx {
  actor: Actor | null;
  meta: RequestMeta;
}

/** Throws 403 unless someone is logged in with one of `roles`. */
export function requireRole(ctx: Ctx, ...roles: Role[]): Actor {
  const actor = ctx.actor;
  if (!actor) throw new ForbiddenError('error.login_required');
  if (!roles.includes(actor.role)) throw new ForbiddenError('error.forbidden_role');
  return actor;
}

/** Publishing and licensing need an organisation the platform has verified. */
export function requireVerified(actor: Actor): void {
  if (!actor.orgVerified) throw new ForbiddenError('error.org_not_verified');
}
