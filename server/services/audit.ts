/**
 * The audit log: one append-only AuditEvent per state change, written in the
 * same transaction as the change when there is one. Admins and regulators
 * read it with filters.
 */
import type { ClientSession, Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { requireRole, type Ctx } from './context.js';

/** One audit row, built but not yet written (see recordAudits). */
export type AuditRow = ReturnType<typeof auditRow>;

/** The row recordAudit would write, for callers that write several per transaction in one insert. */
export function auditRow(ctx: Ctx, action: string, target: { type: string; id: Types.ObjectId | string }, summary: Record<string, unknown> = {}) {
  return {
    at: new Date(),
    actor: ctx.actor?.userId ?? null,
    actorEmail: ctx.actor?.email ?? '',
    organization: ctx.actor?.orgId ?? null,
    action,
    targetType: target.type,
    targetId: String(target.id),
    summary,
    requestId: ctx.meta.requestId,
    ip: ctx.meta.ip,
  };
}

export async function recordAudit(
  ctx: Ctx,
  action: string,
  target: { type: string; id: Types.ObjectId | string },
  summary: Record<string, unknown> = {},
  session?: ClientSession,
): Promise<void> {
  await AuditEvent.create([auditRow(ctx, action, target, summary)], { session });
}

/**
 * Writes the rows gathered during a transaction in one insert (one round
 * trip instead of one per row). The rows are complete (auditRow fills every
 * field), so Mongoose's hydration and validation are skipped.
 */
export async function recordAudits(rows: AuditRow[], session: ClientSession): Promise<void> {
  if (rows.length) await AuditEvent.insertMany(rows, { session, lean: true });
}

export interface AuditQuery {
  action?: string;
  targetType?: string;
  targetId?: string;
  actorEmail?: string;
  from?: Date;
  to?: Date;
  page: number;
}

export const AUDIT_PAGE_SIZE = 50;

/** Filters use `$eq` on plain strings, so user input can never become an operator. */
export async function listAuditEvents(ctx: Ctx, q: AuditQuery) {
  requireRole(ctx, 'admin', 'regulator');
  const filter: Record<string, unknown> = {};
  if (q.action) filter.action = { $eq: q.action };
  if (q.targetType) filter.targetType = { $eq: q.targetType };
  if (q.targetId) filter.targetId = { $eq: q.targetId };
  if (q.actorEmail) filter.actorEmail = { $eq: q.actorEmail.toLowerCase() };
  if (q.from || q.to) filter.at = { ...(q.from && { $gte: q.from }), ...(q.to && { $lte: q.to }) };
  const [events, total] = await Promise.all([
    AuditEvent.find(filter).sort({ at: -1 }).skip((q.page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE).lean(),
    AuditEvent.countDocuments(filter),
  ]);
  return { events, total, page: q.page, pages: Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE)) };
}

export async function distinctAuditActions(ctx: Ctx): Promise<string[]> {
  requireRole(ctx, 'admin', 'regulator');
  return (await AuditEvent.distinct('action')).sort();
}
