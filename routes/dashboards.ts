/**
 * The TTO's and the SME's dashboards and their CSV exports. Handlers call
 * one service each; the services scope every figure to the signed-in
 * user's organisation. The pages name states and statuses through
 * dictionary keys added here (the services return codes).
 */
import { Router } from 'express';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { ctxOf } from '../server/http/context.js';
import { dashboardCsv, labelKey, type DashboardSide } from '../server/services/dashboards-csv.js';
import { smeDashboard, ttoDashboard } from '../server/services/dashboards.js';

type Row = Record<string, unknown>;
const withKeys = <T extends Row>(rows: T[], keys: Partial<Record<keyof T & string, (code: string) => string>>) =>
  rows.map((r) => ({ ...r, ...Object.fromEntries(Object.entries(keys).map(([field, fn]) => [`${field}Key`, (fn as (c: string) => string)(String(r[field]))])) }));

export function createDashboardRouter(_deps: RouteDeps): Router {
  const router = Router();
  const tto = requireLogin('tto');
  const sme = requireLogin('sme');

  /** GET /dashboard/tto */
  router.get('/dashboard/tto', tto, async (req, res) => {
    const d = await ttoDashboard(ctxOf(req));
    res.render('dashboards/tto', {
      title: res.locals.t('dashboard.tto.title'), ...d,
      byState: withKeys(d.byState, { state: labelKey.licenceState }),
      invoices: withKeys(d.invoices, { status: labelKey.invoiceStatus, kind: labelKey.invoiceKind }),
      licences: withKeys(d.licences, { state: labelKey.licenceState, kind: labelKey.licenceKind }),
      filings: withKeys(d.filings, { state: labelKey.licenceState }),
    });
  });

  /** GET /dashboard/sme */
  router.get('/dashboard/sme', sme, async (req, res) => {
    const d = await smeDashboard(ctxOf(req));
    res.render('dashboards/sme', {
      title: res.locals.t('dashboard.sme.title'), ...d,
      licences: withKeys(d.licences, { state: labelKey.licenceState, kind: labelKey.licenceKind }),
      owed: withKeys(d.owed, { status: labelKey.invoiceStatus, kind: labelKey.invoiceKind }),
      payments: withKeys(d.payments, { status: labelKey.paymentStatus, provider: labelKey.paymentProvider }),
    });
  });

  for (const side of ['tto', 'sme'] as const satisfies DashboardSide[]) {
    /** GET /dashboard/tto.csv?what=licences|invoices, GET /dashboard/sme.csv?what=licences|invoices|payments */
    router.get(`/dashboard/${side}.csv`, side === 'tto' ? tto : sme, async (req, res) => {
      const what = typeof req.query.what === 'string' ? req.query.what : '';
      const { filename, body } = await dashboardCsv(ctxOf(req), side, what, (k) => res.locals.t(k));
      res.attachment(filename).type('text/csv; charset=utf-8').send(body);
    });
  }

  return router;
}
