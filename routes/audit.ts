/**
 * The audit log for admins and regulators, filtered by action, record,
 * actor and date range.
 */
import { Router } from 'express';
import { z } from 'zod';
import { requireLogin } from '../server/auth/guards.js';
import { ctxOf } from '../server/http/context.js';
import { distinctAuditActions, listAuditEvents } from '../server/services/audit.js';

const optionalText = z.string().trim().max(200).optional().transform((s) => s || undefined);
const optionalDate = z.string().trim().optional().transform((s) => {
  if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const d = new Date(`${s}T00:00:00+08:00`);
  return Number.isNaN(d.getTime()) ? undefined : d;
});

/** Query strings are untrusted: anything malformed is ignored rather than passed on. */
const querySchema = z.object({
  action: optionalText,
  targetType: optionalText,
  targetId: optionalText,
  actorEmail: optionalText,
  from: optionalDate,
  to: optionalDate,
  page: z.string().optional().transform((s) => Math.min(10_000, Math.max(1, Number.parseInt(s ?? '1', 10) || 1))),
});

export function createAuditRouter(): Router {
  const router = Router();

  /** GET /audit */
  router.get('/audit', requireLogin('admin', 'regulator'), async (req, res) => {
    const raw = Object.fromEntries(Object.entries(req.query).filter(([, v]) => typeof v === 'string'));
    const parsed = querySchema.safeParse(raw);
    const q = parsed.success ? parsed.data : { page: 1 };
    // "to" is inclusive of the whole day.
    const to = 'to' in q && q.to ? new Date(q.to.getTime() + 86_399_999) : undefined;
    const result = await listAuditEvents(ctxOf(req), { ...q, to });
    const actions = await distinctAuditActions(ctxOf(req));
    res.render('audit/index', { title: res.locals.t('audit.title'), ...result, actions, filters: raw });
  });

  return router;
}
