/**
 * The fund manager's administration of the fund: the rules' versions (read
 * by regulators too) and proposing a new one; appropriations received from
 * the funders (recorded by the fund manager, listed for regulators). Thin:
 * each handler parses, calls one service (which checks the role again) and
 * renders or redirects.
 */
import { Router, type Response } from 'express';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { ConflictError, ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, sticky } from '../server/http/forms.js';
import { appropriationFormData, listAppropriations, recordAppropriation, type AppropriationForm } from '../server/services/fund/appropriations.js';
import { listRuleVersions, MAX_FUNDERS, newRulesForm, proposeRules } from '../server/services/fund/fund-rules-admin.js';
import type { Ctx } from '../server/services/context.js';

const str = (body: unknown, k: string) => {
  const v = (body as Record<string, unknown> | undefined)?.[k];
  return typeof v === 'string' ? v : undefined;
};

function renderRulesForm(res: Response, status: number, values: Record<string, string>, errors?: Record<string, string>) {
  // Funder rows are built here: templates only concatenate dictionary prefixes.
  const funderRows = Array.from({ length: MAX_FUNDERS }, (_, i) => ({
    row: i + 1, nameField: `funderName${i}`, shareField: `funderShare${i}`, name: values[`funderName${i}`] ?? '', share: values[`funderShare${i}`] ?? '',
    nameError: errors?.[`funderName${i}`], shareError: errors?.[`funderShare${i}`],
  }));
  res.status(status).render('fund/admin/rules-form', { title: res.locals.t('fund.rules.new.title'), values, errors, funderRows });
}

async function renderAppropriations(res: Response, ctx: Ctx, status: number, form?: { values: Record<string, string>; errors?: Record<string, string>; key?: string }) {
  const list = await listAppropriations(ctx);
  const data = ctx.actor?.role === 'fund_manager' ? await appropriationFormData(ctx) : null;
  const values = form?.values ?? { date: data?.today ?? '' };
  res.status(status).render('fund/admin/appropriations', {
    title: res.locals.t('fund.appropriation.title'), ...list, form: data && { ...data, key: form?.key ?? data.key }, values, errors: form?.errors,
    funders: data?.funders.map((f) => ({ ...f, selected: values.funder === String(f.index) })) ?? [],
  });
}

export function createFundAdminRouter(_deps: RouteDeps): Router {
  const router = Router();
  const manager = requireLogin('fund_manager');
  const readers = requireLogin('fund_manager', 'regulator');

  /** GET /fund/rules — every version, the one in force marked. */
  router.get('/fund/rules', readers, async (req, res) => {
    const data = await listRuleVersions(ctxOf(req));
    res.render('fund/admin/rules', { title: res.locals.t('fund.rules.title'), ...data, canPropose: req.user?.role === 'fund_manager' });
  });

  /** GET /fund/rules/new — a proposal, starting from the rules in force. */
  router.get('/fund/rules/new', manager, async (req, res) => {
    renderRulesForm(res, 200, await newRulesForm(ctxOf(req)));
  });

  /** POST /fund/rules/new */
  router.post('/fund/rules/new', manager, async (req, res) => {
    try {
      const created = await proposeRules(ctxOf(req), sticky(req.body));
      flash(req, 'success', 'fund.rules.created', { version: created.version });
      res.redirect(303, '/fund/rules');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      renderRulesForm(res, 422, sticky(req.body), fieldMessages(err, res.locals.t));
    }
  });

  /** GET /fund/appropriations — the list; for the fund manager also the form. */
  router.get('/fund/appropriations', readers, async (req, res) => {
    await renderAppropriations(res, ctxOf(req), 200);
  });

  /** POST /fund/appropriations */
  router.post('/fund/appropriations', manager, async (req, res) => {
    const ctx = ctxOf(req);
    const form: AppropriationForm = { funder: str(req.body, 'funder'), amount: str(req.body, 'amount'), reference: str(req.body, 'reference'), date: str(req.body, 'date'), key: str(req.body, 'key') };
    try {
      const record = await recordAppropriation(ctx, form);
      flash(req, 'success', record.replayed ? 'fund.appropriation.already_recorded' : 'fund.appropriation.recorded', { seq: record.seq });
      res.redirect(303, '/fund/appropriations');
    } catch (err) {
      if (err instanceof ValidationError) {
        // The same key again: nothing was recorded under it, so the corrected form may still use it.
        await renderAppropriations(res, ctx, 422, { values: sticky(req.body), errors: fieldMessages(err, res.locals.t), key: err.fields.key ? undefined : form.key });
        return;
      }
      if (err instanceof ConflictError && err.key === 'fund.appropriation.already_submitted') {
        await renderAppropriations(res, ctx, 409, { values: sticky(req.body), errors: { 'appropriation-form': res.locals.t(err.key) } });
        return;
      }
      throw err;
    }
  });

  return router;
}
