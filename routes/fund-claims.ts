/**
 * Compensation claims over HTTP: the list, filing with evidence (TTO), the
 * claim page — the dossier with the actions the reader's role and the
 * claim's state allow (submit, approve or reject, write-off) — evidence
 * downloads, and the dossier as JSON and CSV.
 *
 * Filing and adding evidence are multipart: `claimUploadParser`, which
 * app.ts mounts before the CSRF check, parses them so the check can read
 * `_csrf`. A file multer refuses (too large, too many) does not stop the
 * request there: the refusal is kept for the handler, which shows it next to
 * the file field with nothing stored. Each handler calls one service.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { z } from 'zod';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { AppError, ValidationError, type FieldError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, sticky } from '../server/http/forms.js';
import { claimDossier, claimPage, dossierCsv, dossierJson, evidenceFile, listClaims, newClaimPage } from '../server/services/fund/claim-dossier.js';
import { cleanName, EVIDENCE_MAX_BYTES, EVIDENCE_MAX_FILES, EVIDENCE_MAX_MB, type UploadedFile } from '../server/services/fund/claim-evidence.js';
import { fenToDecimal } from '../server/services/dashboards-csv.js';
import { addEvidence, decideClaim, fileClaim, submitClaim, type ClaimOffer } from '../server/services/fund/claims.js';
import { decideWriteOff, proposeWriteOff } from '../server/services/fund/write-offs.js';

const upload = multer({
  storage: multer.memoryStorage(),
  defParamCharset: 'utf8',
  limits: { fileSize: EVIDENCE_MAX_BYTES, files: EVIDENCE_MAX_FILES, fields: 10, parts: 30, fieldSize: 20_000 },
}).array('evidence');

/** Multer's refusal of a file as the field error the form shows. */
function uploadRefusal(err: InstanceType<typeof multer.MulterError>): FieldError {
  if (err.code === 'LIMIT_FILE_SIZE') return { key: 'fund.claim.evidence.too_large', params: { name: cleanName((err as { filename?: string }).filename ?? ''), max: EVIDENCE_MAX_MB } };
  if (err.code === 'LIMIT_FILE_COUNT') return { key: 'fund.claim.evidence.too_many', params: { max: EVIDENCE_MAX_FILES, already: 0 } };
  return { key: 'fund.claim.evidence.bad_upload', params: { max: EVIDENCE_MAX_MB } };
}

function receiveEvidence(req: Request, res: Response, next: NextFunction): void {
  upload(req, res, (err: unknown) => {
    if (!err) return next();
    if (err instanceof multer.MulterError) {
      res.locals.evidenceRefusal = uploadRefusal(err);
      return next();
    }
    // Busboy's own errors (truncated or malformed multipart) are the client's fault.
    next(new AppError(400, 'error.bad_request'));
  });
}

/** Parses the claim uploads before the CSRF check; only a signed-in TTO's upload is read at all. */
export const claimUploadParser = [requireLogin('tto'), receiveEvidence];

type Translate = (key: string, params?: Record<string, string | number>) => string;

/** '70%' for 7,000 basis points (string arithmetic, like money: no float rounding in what people read). */
export function percentOfBps(bps: number): string {
  const whole = Math.trunc(bps / 100);
  const frac = String(bps % 100).padStart(2, '0').replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''}%`;
}

/** What the claim page shows: the dossier plus labels the template cannot compute. */
function claimPageView(page: Awaited<ReturnType<typeof claimPage>>, t: Translate) {
  const d = page.dossier;
  const computation = d.computation as (ClaimOffer | null);
  const transfers = d.transfers.map((x) => ({ ...x, hashShort: x.hash.slice(0, 12), legs: x.entries.map((e) => ({ account: e.account, debitFen: e.side === 'debit' ? e.amountFen : null, creditFen: e.side === 'credit' ? e.amountFen : null })) }));
  return {
    title: `${t('fund.claim.title')} ${d.claim.number}`, id: d.claim.id, d, transfers, actions: page.actions, role: page.actor.role,
    computation: computation && { ...computation, percent: percentOfBps(computation.compensationBps) },
    offer: page.offer && { ...page.offer, percent: percentOfBps(page.offer.compensationBps) },
    offerProblem: page.offerProblem ? t(page.offerProblem.key, page.offerProblem.params) : null,
    writeOffPreview: page.writeOff, maxFiles: EVIDENCE_MAX_FILES, maxMb: EVIDENCE_MAX_MB,
  };
}

const listQuery = z.object({ state: z.string().max(20).nullable().catch(null).default(null) });
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const filesOf = (req: Request): UploadedFile[] => (Array.isArray(req.files) ? req.files : []);

/** The upload refusal kept by receiveEvidence, as a ValidationError the handlers render like any other. */
function throwIfRefused(res: Response): void {
  const refusal = res.locals.evidenceRefusal as FieldError | undefined;
  if (refusal) throw new ValidationError({ evidence: refusal });
}

export function createFundClaimsRouter(_deps: RouteDeps): Router {
  const router = Router();
  const readers = requireLogin('tto', 'fund_manager', 'regulator');
  const tto = requireLogin('tto');
  const fundManager = requireLogin('fund_manager');
  const regulator = requireLogin('regulator');

  /** The claim page, optionally with a refusal at the top or a form's field errors (and their status). */
  const renderShow = async (req: Request, res: Response, status = 200, problem?: { refusal?: AppError; form?: string; errors?: Record<string, string> }) => {
    const t = res.locals.t as Translate;
    const page = await claimPage(ctxOf(req), String(req.params.id));
    res.status(status).render('fund/claims/show', {
      ...claimPageView(page, t), refusal: problem?.refusal ? t(problem.refusal.key, problem.refusal.params) : null,
      form: problem?.form ?? null, errors: problem?.errors, values: status === 200 ? { amount: fenToDecimal(page.dossier.claim.compensationFen) } : sticky(req.body),
    });
  };

  /** Runs a claim action; success redirects to the claim, a 409/422 re-renders it with the reason (next to the form's fields for a 422). */
  const act = async (req: Request, res: Response, form: string, run: () => Promise<unknown>, success: string) => {
    try {
      await run();
    } catch (err) {
      if (err instanceof ValidationError) return renderShow(req, res, 422, { form, errors: fieldMessages(err, res.locals.t) });
      if (err instanceof AppError && (err.status === 409 || err.status === 422)) return renderShow(req, res, err.status, { refusal: err });
      throw err;
    }
    flash(req, 'success', success);
    res.redirect(303, `/fund/claims/${String(req.params.id)}`);
  };

  const renderNew = async (req: Request, res: Response, licenceId: string, status = 200, problem?: { refusal?: AppError; errors?: Record<string, string> }) => {
    const t = res.locals.t as Translate;
    const page = await newClaimPage(ctxOf(req), licenceId);
    const obstacle = problem?.refusal ?? page.obstacle;
    res.status(obstacle && status === 200 ? obstacle.status : status).render('fund/claims/new', {
      title: `${t('fund.claim.new.title')} · ${page.licence.number}`, ...page, maxFiles: EVIDENCE_MAX_FILES, maxMb: EVIDENCE_MAX_MB,
      obstacle: obstacle ? t(obstacle.key, obstacle.params) : null, errors: problem?.errors, values: status === 200 ? {} : sticky(req.body),
    });
  };

  /** GET /fund/claims */
  router.get('/fund/claims', readers, async (req, res) => {
    const data = await listClaims(ctxOf(req), listQuery.parse(req.query));
    res.render('fund/claims/index', { title: res.locals.t('fund.claim.list.title'), ...data, isTto: data.actor.role === 'tto' });
  });

  /** GET /fund/claims/new?licence=… */
  router.get('/fund/claims/new', tto, (req, res) => renderNew(req, res, String(req.query.licence ?? '')));

  /** POST /fund/claims (multipart, parsed by claimUploadParser) */
  router.post('/fund/claims', tto, async (req, res) => {
    const licence = str(req.body?.licence) ?? '';
    try {
      throwIfRefused(res);
      const claim = await fileClaim(ctxOf(req), { licence, statement: str(req.body?.statement) }, filesOf(req));
      flash(req, 'success', 'fund.claim.filed', { number: claim.number });
      res.redirect(303, `/fund/claims/${claim._id}`);
    } catch (err) {
      if (err instanceof ValidationError) return renderNew(req, res, licence, 422, { errors: fieldMessages(err, res.locals.t) });
      if (err instanceof AppError && err.status === 409) return renderNew(req, res, licence, 409, { refusal: err });
      throw err;
    }
  });

  /** GET /fund/claims/:id — the dossier page. */
  router.get('/fund/claims/:id', readers, (req, res) => renderShow(req, res));

  /** POST /fund/claims/:id/evidence (multipart) */
  router.post('/fund/claims/:id/evidence', tto, (req, res) => act(req, res, 'evidence', async () => {
    throwIfRefused(res);
    await addEvidence(ctxOf(req), String(req.params.id), filesOf(req));
  }, 'fund.claim.evidence.added'));

  /** GET /fund/claims/:id/evidence/:evidenceId — the file as uploaded (its type as recognised from its bytes). */
  router.get('/fund/claims/:id/evidence/:evidenceId', readers, async (req, res) => {
    const f = await evidenceFile(ctxOf(req), String(req.params.id), String(req.params.evidenceId));
    res.type(f.contentType).attachment(f.name).set('Cache-Control', 'private, no-store').send(f.data);
  });

  /** POST /fund/claims/:id/submit */
  router.post('/fund/claims/:id/submit', fundManager, (req, res) => act(req, res, 'submit', () => submitClaim(ctxOf(req), String(req.params.id)), 'fund.claim.submitted'));

  /** POST /fund/claims/:id/decision */
  router.post('/fund/claims/:id/decision', regulator, (req, res) => act(req, res, 'decision', () => decideClaim(ctxOf(req), String(req.params.id), {
    decision: str(req.body?.decision), amount: str(req.body?.amount), reason: str(req.body?.reason),
  }), req.body?.decision === 'reject' ? 'fund.claim.rejected' : 'fund.claim.approved'));

  /** POST /fund/claims/:id/write-off — the fund manager's proposal. */
  router.post('/fund/claims/:id/write-off', fundManager, (req, res) => act(req, res, 'writeoff', () => proposeWriteOff(ctxOf(req), String(req.params.id), { reason: str(req.body?.reason) }), 'fund.writeoff.proposed'));

  /** POST /fund/claims/:id/write-off/decision */
  router.post('/fund/claims/:id/write-off/decision', regulator, (req, res) => act(req, res, 'writeoffDecision', () => decideWriteOff(ctxOf(req), String(req.params.id), {
    decision: str(req.body?.decision), reason: str(req.body?.reason),
  }), req.body?.decision === 'reject' ? 'fund.writeoff.rejected' : 'fund.writeoff.approved'));

  /** GET /fund/claims/:id/dossier.json — the same claim in the same state gives the same bytes. */
  router.get('/fund/claims/:id/dossier.json', readers, async (req, res) => {
    const { dossier } = await claimDossier(ctxOf(req), String(req.params.id));
    res.type('application/json; charset=utf-8').attachment(`${dossier.claim.number}-dossier.json`).set('Cache-Control', 'private, no-store').send(dossierJson(dossier));
  });

  /** GET /fund/claims/:id/dossier.csv */
  router.get('/fund/claims/:id/dossier.csv', readers, async (req, res) => {
    const { dossier } = await claimDossier(ctxOf(req), String(req.params.id));
    res.type('text/csv; charset=utf-8').attachment(`${dossier.claim.number}-dossier.csv`).set('Cache-Control', 'private, no-store').send(dossierCsv(dossier));
  });

  return router;
}
