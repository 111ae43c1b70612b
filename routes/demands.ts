/**
 * Technical needs: an SME's own list, form and detail (with the patents that
 * match it); the supply side's browse page (with which of the TTO's own
 * patents match each need). Enquiry inbox and sent list live here too, as
 * the other half of the conversation between the two sides.
 */
import { Router, type Response } from 'express';
import { z } from 'zod';
import { REGIONS } from '../models/organization.js';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { TECH_FIELDS } from '../server/domain/tech-fields.js';
import { ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, sticky } from '../server/http/forms.js';
import { browseDemands, closeDemand, createDemand, getDemand, myDemands, updateDemand, type DemandForm } from '../server/services/demands.js';
import { listEnquiries, markInboxRead } from '../server/services/enquiries.js';
import { ownPatentsForDemand, patentsForDemand } from '../server/services/matching.js';

const browseQuery = z.object({
  field: z.enum(TECH_FIELDS).optional().catch(undefined),
  region: z.enum(REGIONS).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(10_000).catch(1),
});

function demandForm(body: unknown): DemandForm {
  const b = (body ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  const fields = Array.isArray(b.fields) ? b.fields.filter((x): x is string => typeof x === 'string') : str('fields');
  return { title: str('title'), problem: str('problem'), fields, budget: str('budget'), region: str('region'), deadline: str('deadline') };
}

function renderForm(res: Response, status: number, o: { id?: string; values: Record<string, unknown>; errors?: Record<string, string> }) {
  const chosen = new Set(([] as unknown[]).concat(o.values.fields ?? []).map(String));
  res.status(status).render('demands/form', {
    title: res.locals.t(o.id ? 'demand.edit.title' : 'demand.new.title'), id: o.id, values: o.values, errors: o.errors,
    regions: REGIONS, fieldChoices: TECH_FIELDS.map((key) => ({ key, checked: chosen.has(key) })),
  });
}

export function createDemandRouter(_deps: RouteDeps): Router {
  const router = Router();
  const sme = requireLogin('sme');

  /** GET /needs — the SME's own needs. */
  router.get('/needs', sme, async (req, res) => {
    res.render('demands/mine', { title: res.locals.t('demand.mine.title'), demands: await myDemands(ctxOf(req)) });
  });

  /** GET /needs/new */
  router.get('/needs/new', sme, (req, res) => renderForm(res, 200, { values: {} }));

  /** POST /needs */
  router.post('/needs', sme, async (req, res) => {
    try {
      const demand = await createDemand(ctxOf(req), demandForm(req.body));
      flash(req, 'success', 'demand.created');
      res.redirect(303, `/needs/${demand._id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      renderForm(res, 422, { values: { ...sticky(req.body), fields: demandForm(req.body).fields }, errors: fieldMessages(err, res.locals.t) });
    }
  });

  /** GET /needs/browse — open needs for the supply side. */
  router.get('/needs/browse', requireLogin('tto', 'fund_manager', 'regulator', 'admin'), async (req, res) => {
    const q = browseQuery.parse(req.query);
    const result = await browseDemands(ctxOf(req), q);
    res.render('demands/browse', { title: res.locals.t('demand.browse.title'), ...result, q, regions: REGIONS, fields: TECH_FIELDS });
  });

  /** GET /needs/:id — the SME sees matching patents; a TTO sees which of its own patents match. */
  router.get('/needs/:id', requireLogin(), async (req, res) => {
    const ctx = ctxOf(req);
    const { demand, org, mine } = await getDemand(ctx, String(req.params.id));
    const matches = mine ? await patentsForDemand(ctx, demand, 10) : ctx.actor?.role === 'tto' ? await ownPatentsForDemand(ctx, demand, 10) : [];
    res.render('demands/show', { title: demand.title, demand, org, mine, matches, own: !mine && ctx.actor?.role === 'tto' });
  });

  /** GET /needs/:id/edit */
  router.get('/needs/:id/edit', sme, async (req, res) => {
    // An SME only ever gets its own needs from getDemand.
    const { demand } = await getDemand(ctxOf(req), String(req.params.id));
    const day = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 10) : '');
    const budget = demand.budgetFen === null || demand.budgetFen === undefined ? '' : `${Math.trunc(demand.budgetFen / 100)}.${String(demand.budgetFen % 100).padStart(2, '0')}`.replace(/\.00$/, '');
    renderForm(res, 200, { id: String(demand._id), values: { title: demand.title, problem: demand.problem, fields: demand.fields, budget, region: demand.region, deadline: day(demand.deadline) } });
  });

  /** POST /needs/:id */
  router.post('/needs/:id', sme, async (req, res) => {
    const id = String(req.params.id);
    try {
      await updateDemand(ctxOf(req), id, demandForm(req.body));
      flash(req, 'success', 'demand.updated');
      res.redirect(303, `/needs/${id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      renderForm(res, 422, { id, values: { ...sticky(req.body), fields: demandForm(req.body).fields }, errors: fieldMessages(err, res.locals.t) });
    }
  });

  /** POST /needs/:id/close */
  router.post('/needs/:id/close', sme, async (req, res) => {
    await closeDemand(ctxOf(req), String(req.params.id));
    flash(req, 'success', 'demand.closed_done');
    res.redirect(303, '/needs');
  });

  /** GET /enquiries — a TTO's inbox or an SME's sent enquiries. */
  router.get('/enquiries', requireLogin('tto', 'sme'), async (req, res) => {
    const ctx = ctxOf(req);
    const enquiries = await listEnquiries(ctx);
    res.render('enquiries/index', { title: res.locals.t(ctx.actor?.role === 'tto' ? 'enquiry.inbox.title' : 'enquiry.sent.title'), enquiries, inbox: ctx.actor?.role === 'tto' });
    if (ctx.actor?.role === 'tto') await markInboxRead(ctx);
  });

  return router;
}
