/**
 * Builds the service context (actor + request meta) from an Express request,
 * so routes pass who-and-where to services without services seeing `req`.
 */
import type { Request } from 'express';
import type { Ctx } from '../services/context.js';

export function ctxOf(req: Request): Ctx {
  const u = req.user;
  return {
    actor: u ? { userId: u.userId, email: u.email, role: u.role, orgId: u.orgId, orgVerified: u.orgVerified, orgAdmin: u.orgAdmin } : null,
    meta: { requestId: req.requestId, ip: req.ip ?? '' },
  };
}
