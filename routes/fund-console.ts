/**
 * The regulators' console over HTTP: the fund dashboard, the ledger
 * explorer and one transfer's page, the trial balance and its exports, and
 * reversal requests (asked for by a fund manager, decided by a regulator).
 * Regulators and fund managers read everything; the services check roles
 * and four eyes again. Handlers parse the query, call one service, and
 * name and format its codes and fen for the page (charts included: the
 * geometry comes from server/http/svg-charts.ts, the template draws it).
 */
import { Router, type Request, type Response } from 'express';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { REVERSAL_REQUEST_STATES } from '../models/ledger-reversal-request.js';
import { REGIONS } from '../models/organization.js';
import { ACCOUNT_KINDS, TRANSFER_CODES } from '../server/domain/ledger-chart.js';
import { formatYuan } from '../server/domain/money.js';
import { isTechField } from '../server/domain/tech-fields.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { barChart, lineChart } from '../server/http/svg-charts.js';
import { fundDashboard, type MeasureRow } from '../server/services/fund/console-dashboard.js';
import { exploreLedger, ledgerTransfer, parseExplorerQuery, parseTransferSeq, type ExplorerQuery } from '../server/services/fund/console-explorer.js';
import { approveReversal, listReversalRequests, rejectReversal, requestReversal } from '../server/services/fund/reversal-requests.js';
import { parseTrialBalanceQuery, trialBalanceByAccount, trialBalanceByKind, trialBalanceFile } from '../server/services/fund/trial-balance.js';

type Translate = (key: string, params?: Record<string, string | number>) => string;
type Dashboard = Awaited<ReturnType<typeof fundDashboard>>;

/** Query values that are single strings (a repeated parameter is ignored, not passed on as an array). */
const stringsOf = (q: Request['query']) => Object.fromEntries(Object.entries(q).filter(([, v]) => typeof v === 'string')) as Record<string, string>;

/** '12.35%' for 1235 bps; '—' when there is no rate (nothing accrued). */
export function percent(bps: number | null): string {
  if (bps === null) return '—';
  return `${Math.trunc(bps / 100)}.${String(bps % 100).padStart(2, '0')}%`;
}

/** Axis ticks in the reader's units: 万/亿 in Chinese, k/M/B in English (the table has exact amounts). */
function compactYuan(locale: string) {
  const steps = locale === 'en' ? [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']] as const : [[1e8, '亿'], [1e4, '万']] as const;
  return (fen: number) => {
    const yuan = fen / 100;
    const step = steps.find(([n]) => Math.abs(yuan) >= n);
    return step ? `¥${+(yuan / step[0]).toFixed(2)}${step[1]}` : `¥${+yuan.toFixed(2)}`;
  };
}

/** A province or technology field code in the reader's language (null: not one we know). */
const regionName = (t: Translate, k: string) => ((REGIONS as readonly string[]).includes(k) ? t(`region.${k}`) : null);
const fieldName = (t: Translate, k: string) => (isTechField(k) ? t(`field.${k}`) : null);

/** The dashboard's charts (each with its table), named in the reader's language. */
function charts(d: Dashboard, t: Translate, locale: string) {
  const tick = compactYuan(locale);
  const names = {
    province: (k: string) => (!k ? t('console.dim.unrecorded') : regionName(t, k) ?? k),
    field: (k: string) => (!k ? t('console.dim.unrecorded') : fieldName(t, k) ?? k),
    institution: (k: string) => {
      const o = d.institutions.get(k);
      return !k ? t('console.dim.unrecorded') : o ? (locale === 'en' && o.nameEn ? o.nameEn : o.nameZh) : k;
    },
    quarter: (k: string) => k || t('console.dim.unrecorded'),
  };
  const measures = (dim: keyof typeof names, rows: MeasureRow[]) => barChart({
    id: `chart-${dim}`, title: t(`console.chart.${dim}.title`), desc: t('console.chart.measures.desc'),
    xLabel: t(`console.dim.${dim}`), yLabel: t('console.axis.yuan'), categories: rows.map((r) => names[dim](r.key)), format: formatYuan, tickFormat: tick,
    series: [{ name: t('console.measure.defaults'), values: rows.map((r) => r.defaultFen) }, { name: t('console.measure.compensation'), values: rows.map((r) => r.compensationFen) }],
    tableExtras: [
      { header: t('console.measure.accrued'), cells: rows.map((r) => formatYuan(r.accruedFen)) },
      { header: t('console.measure.rate'), cells: rows.map((r) => percent(r.rateBps)) },
    ],
  });
  const quarters = d.by.quarter.slice(-12);
  return {
    pool: lineChart({
      id: 'chart-pool', title: t('console.chart.pool.title'), desc: t(d.series.granularity === 'day' ? 'console.chart.pool.desc_day' : 'console.chart.pool.desc_month'),
      xLabel: t(d.series.granularity === 'day' ? 'console.axis.day' : 'console.axis.month'), yLabel: t('console.axis.yuan'),
      categories: d.series.points.map((p) => p.period), series: [{ name: t('console.pool.balance'), values: d.series.points.map((p) => p.balanceFen) }], format: formatYuan, tickFormat: tick,
    }),
    province: measures('province', d.by.province),
    field: measures('field', d.by.field),
    institution: measures('institution', d.by.institution.slice(0, 10)),
    quarter: measures('quarter', quarters),
    subsidies: barChart({
      id: 'chart-subsidies', title: t('console.chart.subsidies.title'), desc: t('console.chart.subsidies.desc'), xLabel: t('console.dim.quarter'), yLabel: t('console.axis.yuan'),
      // No subsidies at all is said in words, not drawn as a row of zero bars.
      ...(quarters.some((r) => r.subsidyFen) ? { categories: quarters.map((r) => r.key), series: [{ name: t('console.measure.subsidies'), values: quarters.map((r) => r.subsidyFen) }] } : { categories: [], series: [] }),
      format: formatYuan, tickFormat: tick,
    }),
  };
}

/** Explorer filters as they go back into links and the form (only the valid ones). */
function filterParams(q: ExplorerQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['code', 'account', 'licence', 'claim', 'institution', 'from', 'to'] as const) if (q[k]) out[k] = String(q[k]);
  return out;
}

export function createFundConsoleRouter(_deps: RouteDeps): Router {
  const router = Router();
  const readers = requireLogin('regulator', 'fund_manager');
  const fundManager = requireLogin('fund_manager');
  const regulator = requireLogin('regulator');

  /** GET /fund */
  router.get('/fund', readers, async (req, res) => {
    const t = res.locals.t as Translate;
    const d = await fundDashboard(ctxOf(req));
    res.render('fund/console/dashboard', {
      title: t('console.dashboard.title'), ...d, charts: charts(d, t, req.locale),
      syncReason: d.sync.blocked ? t(d.sync.blocked.reason, d.sync.blocked.params) : '',
      rate: percent(d.totals.rateBps), institutionCount: d.by.institution.length,
    });
  });

  /** A transfer's references, with the province and field named in the reader's language (the codes stay beside them). */
  const namedRefs = (refs: { ref: string; id: string }[], t: Translate) => refs.map((x) => ({
    ...x,
    name: x.ref === 'province' ? regionName(t, x.id) : x.ref === 'field' ? fieldName(t, x.id) : null,
  }));

  /** GET /fund/ledger */
  router.get('/fund/ledger', readers, async (req, res) => {
    const t = res.locals.t as Translate;
    const raw = stringsOf(req.query);
    const { query, problems } = parseExplorerQuery(raw);
    const base = { title: t('console.ledger.title'), filters: raw, errors: problems.length ? Object.fromEntries(problems.map((p) => [p.field, t(p.key, p.params)])) : null };
    // A filter that is not one is answered, not guessed at: no rows rather than rows for a different question.
    if (problems.length) return res.status(400).render('fund/console/ledger', { ...base, codes: TRANSFER_CODES, rows: [], searched: false });
    const page = await exploreLedger(ctxOf(req), query);
    const params = filterParams(query);
    const href = (extra: Record<string, string>) => `/fund/ledger?${new URLSearchParams({ ...params, ...extra }).toString()}`.replace(/\?$/, '');
    res.render('fund/console/ledger', {
      ...base, ...page, searched: true, codes: TRANSFER_CODES,
      olderHref: page.older ? href({ before: String(page.older) }) : null, newestHref: href({}),
      rows: page.rows.map((r) => ({ ...r, refList: namedRefs(r.refList, t), makerPerson: r.maker ? page.people.get(r.maker) : null, checkerPerson: r.checker ? page.people.get(r.checker) : null })),
    });
  });

  /** GET /fund/ledger/:seq */
  router.get('/fund/ledger/:seq', readers, async (req, res) => {
    const t = res.locals.t as Translate;
    const ctx = ctxOf(req);
    const page = await ledgerTransfer(ctx, String(req.params.seq));
    const requests = await listReversalRequests(ctx, { transferSeq: page.transfer.seq });
    const tr = page.transfer;
    res.render('fund/console/transfer', {
      title: t('console.transfer.title', { seq: tr.seq }), ...page, transfer: { ...tr, refList: namedRefs(tr.refList, t) }, requests: requests.requests,
      makerPerson: tr.maker ? page.people.get(tr.maker) : null, checkerPerson: tr.checker ? page.people.get(tr.checker) : null,
      canRequest: req.user!.role === 'fund_manager' && page.reversible && !requests.requests.some((r) => r.state === 'open'),
    });
  });

  /** POST /fund/ledger/:seq/reversal-requests */
  router.post('/fund/ledger/:seq/reversal-requests', fundManager, async (req, res) => {
    const seq = parseTransferSeq(String(req.params.seq));
    await requestReversal(ctxOf(req), seq, req.body?.reason);
    flash(req, 'success', 'console.reversal.requested', { seq });
    res.redirect(303, `/fund/ledger/${seq}`);
  });

  /** GET /fund/reversals */
  router.get('/fund/reversals', readers, async (req, res) => {
    const t = res.locals.t as Translate;
    const list = await listReversalRequests(ctxOf(req), { state: stringsOf(req.query).state });
    res.render('fund/console/reversals', { title: t('console.reversals.title'), ...list, states: REVERSAL_REQUEST_STATES });
  });

  for (const action of ['approve', 'reject'] as const) {
    /** POST /fund/reversals/:id/approve, POST /fund/reversals/:id/reject */
    router.post(`/fund/reversals/:id/${action}`, regulator, async (req, res) => {
      const ctx = ctxOf(req);
      const id = String(req.params.id);
      const done = action === 'approve' ? await approveReversal(ctx, id, req.body?.note) : await rejectReversal(ctx, id, req.body?.reason);
      flash(req, 'success', action === 'approve' ? 'console.reversal.approved' : 'console.reversal.rejected', { seq: done.transferSeq });
      res.redirect(303, '/fund/reversals');
    });
  }

  /** GET /fund/trial-balance?asOf=YYYY-MM-DD&by=kind|account */
  router.get('/fund/trial-balance', readers, async (req: Request, res: Response) => {
    const t = res.locals.t as Translate;
    const q = parseTrialBalanceQuery(stringsOf(req.query));
    const data = q.by === 'kind' ? await trialBalanceByKind(ctxOf(req), q) : await trialBalanceByAccount(ctxOf(req), q);
    const exportQuery = `asOf=${q.asOf}&by=${q.by}`;
    const nextAfter = 'nextAfter' in data ? data.nextAfter : null;
    const nextHref = nextAfter ? `/fund/trial-balance?${new URLSearchParams({ asOf: q.asOf, by: 'account', ...(q.kind && { kind: q.kind }), after: nextAfter }).toString()}` : null;
    res.render('fund/console/trial-balance', { title: t('console.tb.title'), q, ...data, byAccount: q.by === 'account', exportQuery, nextHref, kinds: ACCOUNT_KINDS });
  });

  for (const format of ['csv', 'json'] as const) {
    /** GET /fund/trial-balance.csv, GET /fund/trial-balance.json (same query) */
    router.get(`/fund/trial-balance.${format}`, readers, async (req, res) => {
      const q = parseTrialBalanceQuery(stringsOf(req.query));
      const { filename, body } = await trialBalanceFile(ctxOf(req), q, format);
      res.attachment(filename).type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8').send(body);
    });
  }

  return router;
}
