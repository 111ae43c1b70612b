/**
 * Licences over HTTP: taking an open licence, applying for pay-later or
 * asking to negotiate from an offer card in the catalogue; the licence list
 * and detail pages with the actions each state allows; and the bilingual
 * contract document. Each handler parses the form, calls one service and
 * redirects; a refusal is answered with its status and reason.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { LICENCE_STATES } from '../server/domain/licence-states.js';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { AppError, ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { parseForm } from '../server/http/forms.js';
import {
  acceptProposal, applyDeferred, declineNegotiation, decideApplication, getContract, getLicence, listLicences, proposeTerms, recordFiling,
  requestNegotiation, takeOpenLicence, terminateInFreePeriod,
} from '../server/services/licensing.js';
import type { OfferForm } from '../server/services/offer-input.js';
import { contractFont } from '../server/services/contract-font.js';
import { parseCalendarDate } from '../server/services/patent-input.js';
import { contractPdf } from './contract-pdf-view.js';
import { bilingualHelpers, contractModel, licenceView } from './licence-view.js';

const text = (max: number) => z.string().max(max * 2, 'form.too_long').default('');
const openSchema = z.object({ confirm: z.string().optional() });
const messageSchema = z.object({ message: text(2000) });
const reasonSchema = z.object({ reason: text(500) });
const decisionSchema = z.object({ decision: z.enum(['approve', 'reject'], 'form.invalid'), reason: text(500) });
const filingSchema = z.object({ filedAt: z.string().max(40, 'form.too_long').default(''), filingRef: text(60) });
const listQuery = z.object({ state: z.enum(LICENCE_STATES).nullable().catch(null).default(null) });
const OFFER_FORM_KEYS = ['feeForm', 'entryFee', 'lumpSum', 'instalmentCount', 'instalmentAmount', 'instalmentIntervalMonths', 'royaltyPercent', 'termMonths', 'notes'] as const;

/** A field problem as the page's one reason: the licence pages have small forms, one message is enough. */
function asRefusal(err: unknown): AppError {
  if (err instanceof ValidationError) {
    const first = Object.values(err.fields)[0];
    return new AppError(422, first?.key ?? 'form.invalid', first?.params);
  }
  if (err instanceof AppError) return err;
  throw err;
}

function proposalForm(body: unknown): OfferForm {
  const b = (body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(OFFER_FORM_KEYS.filter((k) => typeof b[k] === 'string').map((k) => [k, b[k] as string]));
}

export function createLicensingRouter(deps: RouteDeps): Router {
  const router = Router();
  const notify = { mailer: deps.mailer, publicUrl: deps.publicUrl };
  const sme = requireLogin('sme');
  const tto = requireLogin('tto');
  const parties = requireLogin('sme', 'tto');
  const readers = requireLogin('sme', 'tto', 'regulator', 'admin', 'fund_manager');

  /** Whether the PDF contract can be made here (a CJK font was found); the links show only then. */
  const pdfAvailable = async () => (await contractFont(deps.contractFont)).font !== null;

  /** The detail page, optionally with a refusal shown at the top (and its status). */
  const renderShow = async (req: Request, res: Response, status = 200, refusal?: AppError) => {
    const data = licenceView(await getLicence(ctxOf(req), String(req.params.id)), res.locals.t);
    res.status(status).render('licences/show', {
      title: `${data.licence.number} · ${data.licence.snapshot?.patentTitleZh ?? ''}`, ...data,
      pdfAvailable: data.actions.contract && (await pdfAvailable()),
      refusal: refusal ? res.locals.t(refusal.key, refusal.params) : null, values: status === 200 ? {} : req.body,
    });
  };

  /** Runs a licence action; success redirects to the licence, a 409/422 refusal re-renders it with the reason. */
  const act = async (req: Request, res: Response, run: () => Promise<unknown>, success: string) => {
    try {
      await run();
    } catch (err) {
      const refusal = err instanceof AppError && (err.status === 409 || err.status === 422) ? asRefusal(err) : null;
      if (!refusal) throw err;
      await renderShow(req, res, refusal.status, refusal);
      return;
    }
    flash(req, 'success', success);
    res.redirect(303, `/licences/${String(req.params.id)}`);
  };

  /** Runs an offer-card action; success goes to the new licence, a refusal is an error page naming the reason. */
  const fromOffer = async (req: Request, res: Response, run: () => Promise<{ _id: unknown }>, success: string) => {
    let licence: { _id: unknown };
    try {
      licence = await run();
    } catch (err) {
      throw asRefusal(err);
    }
    flash(req, 'success', success);
    res.redirect(303, `/licences/${String(licence._id)}`);
  };

  /** POST /offers/:id/licence — take an open licence by written notice. */
  router.post('/offers/:id/licence', sme, async (req, res) => {
    const f = parseForm(openSchema, req.body);
    await fromOffer(req, res, () => takeOpenLicence(ctxOf(req), String(req.params.id), { confirm: f.confirm === '1' }), 'licence.open.taken');
  });

  /** POST /offers/:id/apply — apply for a pay-later licence. */
  router.post('/offers/:id/apply', sme, async (req, res) => {
    const f = parseForm(messageSchema, req.body);
    await fromOffer(req, res, () => applyDeferred(ctxOf(req), String(req.params.id), { message: f.message }, notify), 'licence.deferred.applied');
  });

  /** POST /offers/:id/negotiate — ask the holder to negotiate. */
  router.post('/offers/:id/negotiate', sme, async (req, res) => {
    const f = parseForm(messageSchema, req.body);
    await fromOffer(req, res, () => requestNegotiation(ctxOf(req), String(req.params.id), f.message, notify), 'licence.negotiation.requested');
  });

  /** GET /licences */
  router.get('/licences', parties, async (req, res) => {
    const q = listQuery.parse(req.query);
    const data = await listLicences(ctxOf(req), q);
    res.render('licences/index', { title: res.locals.t(data.side === 'licensor' ? 'licence.list.title_tto' : 'licence.list.title_sme'), ...data, state: q.state, states: LICENCE_STATES });
  });

  /** GET /licences/:id */
  router.get('/licences/:id', readers, async (req, res) => {
    await renderShow(req, res);
  });

  /** GET /licences/:id/contract — the bilingual contract, printable (the browser's "Save as PDF" keeps the print styles). */
  router.get('/licences/:id/contract', readers, async (req, res) => {
    const data = await getContract(ctxOf(req), String(req.params.id));
    res.render('licences/contract', { ...contractModel(data), pdfAvailable: await pdfAvailable() });
  });

  /**
   * GET /licences/:id/contract.pdf — the same contract as a PDF download, for the same readers.
   * Without a font that can draw all of it: 503, saying in both languages what to install or set.
   */
  router.get('/licences/:id/contract.pdf', readers, async (req, res) => {
    const data = await getContract(ctxOf(req), String(req.params.id));
    const { font, problem } = await contractFont(deps.contractFont);
    const made = font ? await contractPdf(contractModel(data), font) : null;
    if (!made?.pdf) {
      const reasonKey = made ? 'contract_pdf.glyphs_missing' : `contract_pdf.${problem}`;
      res.status(503).set('Retry-After', '3600').render('licences/contract-pdf-unavailable', {
        title: res.locals.t('contract_pdf.unavailable'), helpers: bilingualHelpers(), id: String(data.licence._id), reasonKey, chars: made?.missing?.join(' ') ?? '',
      });
      return;
    }
    res.type('application/pdf').attachment(`${data.licence.number}.pdf`).set('Cache-Control', 'private, no-store').send(made.pdf);
  });

  /** POST /licences/:id/decision */
  router.post('/licences/:id/decision', tto, async (req, res) => {
    const f = parseForm(decisionSchema, req.body);
    const approve = f.decision === 'approve';
    await act(req, res, () => decideApplication(ctxOf(req), String(req.params.id), approve, f.reason, notify), approve ? 'licence.decision.approved' : 'licence.decision.rejected');
  });

  /** POST /licences/:id/terminate */
  router.post('/licences/:id/terminate', sme, async (req, res) => {
    const f = parseForm(reasonSchema, req.body);
    await act(req, res, () => terminateInFreePeriod(ctxOf(req), String(req.params.id), f.reason), 'licence.terminate.done');
  });

  /** POST /licences/:id/propose */
  router.post('/licences/:id/propose', tto, async (req, res) => {
    await act(req, res, () => proposeTerms(ctxOf(req), String(req.params.id), proposalForm(req.body), notify), 'licence.propose.done');
  });

  /** POST /licences/:id/accept */
  router.post('/licences/:id/accept', sme, async (req, res) => {
    await act(req, res, () => acceptProposal(ctxOf(req), String(req.params.id)), 'licence.accept.done');
  });

  /** POST /licences/:id/decline */
  router.post('/licences/:id/decline', parties, async (req, res) => {
    const f = parseForm(reasonSchema, req.body);
    await act(req, res, () => declineNegotiation(ctxOf(req), String(req.params.id), f.reason, notify), 'licence.decline.done');
  });

  /** POST /licences/:id/filing */
  router.post('/licences/:id/filing', tto, async (req, res) => {
    const f = parseForm(filingSchema, req.body);
    const filedAt = parseCalendarDate(f.filedAt.trim()) ?? null;
    await act(req, res, () => recordFiling(ctxOf(req), String(req.params.id), { filedAt, filingRef: f.filingRef }), 'licence.filing.done');
  });

  return router;
}
