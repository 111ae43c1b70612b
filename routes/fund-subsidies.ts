/**
 * Subsidies and payment runs over HTTP. Subsidies: the list with the micro
 * and small enterprises that paid royalties in a quarter (what the fund
 * manager works from), the confirmation page that shows the computation
 * before anything is reserved, submission, and the regulator's decision.
 * Payment runs: what the next run would pay, the latest payouts, and the
 * button that runs one (claims and subsidies alike, so it lives here once).
 * Each handler parses its input, calls one service, and renders or redirects.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { AppError, ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, sticky } from '../server/http/forms.js';
import { formatYuan } from '../server/domain/money.js';
import { fenToDecimal } from '../server/services/dashboards-csv.js';
import { paymentRunOverview, runPayments } from '../server/services/fund/payment-runs.js';
import { decideSubsidy, eligibleSmes, getSubsidy, listSubsidies, previewSubsidy, submitSubsidy } from '../server/services/fund/subsidies.js';
import { percentOfBps } from './fund-claims.js';

type Translate = (key: string, params?: Record<string, string | number>) => string;

const listQuery = z.object({ state: z.string().max(20).nullable().catch(null).default(null), quarter: z.string().max(10).optional().catch(undefined) });
const newQuery = z.object({ licensee: z.string().max(30).catch(''), quarter: z.string().max(10).catch('') });
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** A bad quarter in a link or form is answered with that field's message (422), not the generic one. */
function asRefusal(err: unknown): never {
  if (err instanceof ValidationError) {
    const first = Object.values(err.fields)[0];
    throw new AppError(422, first?.key ?? 'form.invalid', first?.params);
  }
  throw err;
}

export function createFundSubsidiesRouter(_deps: RouteDeps): Router {
  const router = Router();
  const overseers = requireLogin('fund_manager', 'regulator');
  const fundManager = requireLogin('fund_manager');
  const regulator = requireLogin('regulator');

  /** GET /fund/subsidies — the list; the eligible enterprises of a quarter (default: the last ended one). */
  router.get('/fund/subsidies', overseers, async (req, res) => {
    const t = res.locals.t as Translate;
    const q = listQuery.parse(req.query);
    const ctx = ctxOf(req);
    const list = await listSubsidies(ctx, q);
    let eligible: Awaited<ReturnType<typeof eligibleSmes>> | null = null;
    let errors: Record<string, string> | undefined;
    try {
      eligible = await eligibleSmes(ctx, q.quarter);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      errors = fieldMessages(err, t);
    }
    res.status(errors ? 422 : 200).render('fund/subsidies/index', {
      title: t('fund.subsidy.list.title'), ...list, eligible, errors, values: { quarter: eligible?.quarter ?? q.quarter ?? '' },
      canSubmit: req.user!.role === 'fund_manager',
    });
  });

  const renderNew = async (req: Request, res: Response, form: { licensee: string; quarter: string }, status = 200, refusal?: AppError) => {
    const t = res.locals.t as Translate;
    const p = await previewSubsidy(ctxOf(req), form.licensee, form.quarter).catch(asRefusal);
    res.status(status).render('fund/subsidies/new', {
      title: t('fund.subsidy.new.title'), ...p, percent: percentOfBps(p.computation.ratioBps), refusal: refusal ? t(refusal.key, refusal.params) : null,
    });
  };

  /** GET /fund/subsidies/new?licensee=…&quarter=YYYY-Qn — the computation, before anything is reserved. */
  router.get('/fund/subsidies/new', fundManager, async (req, res) => {
    await renderNew(req, res, newQuery.parse(req.query));
  });

  /** POST /fund/subsidies */
  router.post('/fund/subsidies', fundManager, async (req, res) => {
    const form = { licensee: str(req.body?.licensee) ?? '', quarter: str(req.body?.quarter) ?? '' };
    try {
      const subsidy = await submitSubsidy(ctxOf(req), form).catch(asRefusal);
      flash(req, 'success', 'fund.subsidy.submitted', { number: subsidy.number });
      res.redirect(303, `/fund/subsidies/${subsidy._id}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      await renderNew(req, res, form, 409, err);
    }
  });

  const renderShow = async (req: Request, res: Response, status = 200, problem?: { refusal?: AppError; errors?: Record<string, string> }) => {
    const t = res.locals.t as Translate;
    const d = await getSubsidy(ctxOf(req), String(req.params.id));
    const me = String(req.user!.userId);
    res.status(status).render('fund/subsidies/show', {
      title: `${t('fund.subsidy.title')} ${d.subsidy.number}`, ...d, id: String(d.subsidy._id), percent: percentOfBps(d.subsidy.ratioBps),
      transfers: d.transfers.map((x) => ({ ...x, hashShort: x.hash.slice(0, 12) })),
      decide: req.user!.role === 'regulator' && d.subsidy.state === 'submitted' && String(d.subsidy.submittedBy) !== me,
      ownSubmission: req.user!.role === 'regulator' && d.subsidy.state === 'submitted' && String(d.subsidy.submittedBy) === me,
      refusal: problem?.refusal ? t(problem.refusal.key, problem.refusal.params) : null, errors: problem?.errors,
      values: status === 200 ? { amount: fenToDecimal(d.subsidy.amountFen) } : sticky(req.body),
    });
  };

  /** GET /fund/subsidies/:id */
  router.get('/fund/subsidies/:id', overseers, (req, res) => renderShow(req, res));

  /** POST /fund/subsidies/:id/decision */
  router.post('/fund/subsidies/:id/decision', regulator, async (req, res) => {
    try {
      await decideSubsidy(ctxOf(req), String(req.params.id), { decision: str(req.body?.decision), amount: str(req.body?.amount), reason: str(req.body?.reason) });
    } catch (err) {
      if (err instanceof ValidationError) return renderShow(req, res, 422, { errors: fieldMessages(err, res.locals.t) });
      if (err instanceof AppError && err.status === 409) return renderShow(req, res, 409, { refusal: err });
      throw err;
    }
    flash(req, 'success', req.body?.decision === 'reject' ? 'fund.subsidy.rejected' : 'fund.subsidy.approved');
    res.redirect(303, `/fund/subsidies/${String(req.params.id)}`);
  });

  /** GET /fund/payment-runs */
  router.get('/fund/payment-runs', overseers, async (req, res) => {
    const data = await paymentRunOverview(ctxOf(req));
    res.render('fund/claims/payment-runs', { title: res.locals.t('fund.payrun.title'), ...data, canRun: req.user!.role === 'fund_manager' });
  });

  /** POST /fund/payment-runs — pays everything approved and unpaid, each exactly once. */
  router.post('/fund/payment-runs', fundManager, async (req, res) => {
    const r = await runPayments(ctxOf(req));
    flash(req, 'success', r.paid.length ? 'fund.payrun.done' : 'fund.payrun.nothing', { count: r.paid.length, amount: formatYuan(r.totalFen) });
    res.redirect(303, '/fund/payment-runs');
  });

  return router;
}
