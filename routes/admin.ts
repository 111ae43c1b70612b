/**
 * The platform admin's pages: the verification queue, organisations
 * (including creating fund, authority and platform organisations), and the
 * mail outbox when no SMTP server is configured.
 */
import { Router } from 'express';
import { z } from 'zod';
import { REGIONS } from '../models/organization.js';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { NotFoundError, ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, parseForm, sticky } from '../server/http/forms.js';
import { inviteColleague } from '../server/services/accounts.js';
import { createManagedOrganization, decideVerification, listOrganizations, verificationQueue } from '../server/services/organizations.js';

const decisionSchema = z.object({
  decision: z.enum(['approve', 'reject'], 'verify.decision.invalid'),
  reason: z.string().trim().max(500, 'form.too_long').default(''),
});

const inviteSchema = z.object({ email: z.string().trim().toLowerCase().max(254, 'form.too_long').email('user.email.invalid') });

const managedSchema = z.object({
  kind: z.enum(['fund', 'authority', 'platform'], 'org.kind.invalid'),
  nameZh: z.string().trim().min(1, 'form.required').max(120, 'form.too_long').refine((s) => !/[<>]/.test(s), 'form.no_markup'),
  nameEn: z.string().trim().max(200, 'form.too_long').refine((s) => !/[<>]/.test(s), 'form.no_markup').default(''),
  region: z.enum(REGIONS, 'org.region.invalid'),
  uscc: z.string().trim().toUpperCase().length(18, 'org.uscc.length'),
});

export function createAdminRouter(deps: RouteDeps): Router {
  const router = Router();
  const adminOnly = requireLogin('admin');

  /** GET /admin/verifications */
  router.get('/admin/verifications', adminOnly, async (req, res) => {
    const queue = await verificationQueue(ctxOf(req));
    res.render('admin/verifications', { title: res.locals.t('verify.title'), queue });
  });

  /** POST /admin/verifications/:id */
  router.post('/admin/verifications/:id', adminOnly, async (req, res) => {
    try {
      const f = parseForm(decisionSchema, req.body);
      await decideVerification(ctxOf(req), String(req.params.id), { approve: f.decision === 'approve', reason: f.reason }, deps.mailer);
      flash(req, 'success', f.decision === 'approve' ? 'verify.approved' : 'verify.rejected');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const first = Object.values(err.fields)[0];
      res.status(422);
      flash(req, 'error', first?.key ?? 'form.invalid');
    }
    res.redirect(303, '/admin/verifications');
  });

  /** GET /admin/organizations */
  router.get('/admin/organizations', adminOnly, async (req, res) => {
    const organizations = await listOrganizations(ctxOf(req));
    res.render('admin/organizations', { title: res.locals.t('orgs.title'), organizations, regions: REGIONS, values: {} });
  });

  /** POST /admin/organizations */
  router.post('/admin/organizations', adminOnly, async (req, res) => {
    try {
      const f = parseForm(managedSchema, req.body);
      await createManagedOrganization(ctxOf(req), f);
      flash(req, 'success', 'orgs.created');
      res.redirect('/admin/organizations');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const organizations = await listOrganizations(ctxOf(req));
      res.status(422).render('admin/organizations', { title: res.locals.t('orgs.title'), organizations, regions: REGIONS, errors: fieldMessages(err, res.locals.t), values: sticky(req.body) });
    }
  });

  /** POST /admin/organizations/:id/invitations: the first (or another) user of any organisation. */
  router.post('/admin/organizations/:id/invitations', adminOnly, async (req, res) => {
    try {
      const f = parseForm(inviteSchema, req.body);
      await inviteColleague(ctxOf(req), f.email, deps.mailer, deps.publicUrl, String(req.params.id));
      flash(req, 'success', 'invite.sent', { email: f.email });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      flash(req, 'error', Object.values(err.fields)[0]?.key ?? 'form.invalid');
    }
    res.redirect(303, '/admin/organizations');
  });

  /** GET /admin/outbox */
  router.get('/admin/outbox', adminOnly, async (_req, res) => {
    const messages = await deps.mailer.listOutbox();
    res.render('admin/outbox', { title: res.locals.t('outbox.title'), messages, smtp: deps.mailer.mode === 'smtp' });
  });

  /** GET /admin/outbox/:id */
  router.get('/admin/outbox/:id', adminOnly, async (req, res) => {
    const message = await deps.mailer.readOutbox(String(req.params.id));
    if (!message) throw new NotFoundError();
    res.render('admin/outbox-message', { title: message.entry.subject, message });
  });

  return router;
}
