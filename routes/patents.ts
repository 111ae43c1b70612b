/**
 * The TTO's patent register and its licence offers: list, create, edit,
 * retire patents; draft, publish and withdraw offers. Each handler parses
 * the form, calls one service, and renders or redirects; a refused change
 * re-renders the form with what was typed and why.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { OFFER_KINDS, type OfferKind } from '../models/patent.js';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { TECH_FIELDS } from '../server/domain/tech-fields.js';
import { AppError, ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, parseForm, sticky } from '../server/http/forms.js';
import { termsToForm, type OfferForm, type OfferTermsValues } from '../server/services/offer-input.js';
import { createOffer, discardDraft, NotEligibleError, offerWithPatent, patentWithOffers, publishOffer, updateOfferDraft, WarningsNotConfirmedError, withdrawOffer } from '../server/services/offers.js';
import { PATENT_INPUT_FIELDS, type PatentInput } from '../server/services/patent-input.js';
import { needsForPatent } from '../server/services/matching.js';
import { createPatent, listRegister, ownPatent, patentToInput, retirePatent, updatePatent } from '../server/services/patents.js';
import { offerView } from './offer-view.js';

const reasonSchema = z.object({ reason: z.string().trim().max(500, 'form.too_long').default('') });
const publishSchema = z.object({ confirmWarnings: z.string().optional() });
const registerQuery = z.object({ status: z.enum(['active', 'retired']).catch('active'), page: z.coerce.number().int().min(1).max(10_000).catch(1) });
const kindQuery = z.object({ kind: z.enum(OFFER_KINDS).catch('open') });

/** The register form's fields out of a body (checkbox groups arrive as arrays). */
function patentInput(body: unknown): PatentInput {
  const b = (body ?? {}) as Record<string, unknown>;
  const out: PatentInput = {};
  for (const f of PATENT_INPUT_FIELDS) {
    const v = b[f];
    if (typeof v === 'string') out[f] = v;
    else if (Array.isArray(v)) out[f] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

function offerForm(body: unknown): OfferForm {
  const b = (body ?? {}) as Record<string, unknown>;
  const keys = ['feeForm', 'entryFee', 'lumpSum', 'instalmentCount', 'instalmentAmount', 'instalmentIntervalMonths', 'royaltyPercent', 'termMonths', 'freeMonths', 'trigger', 'notes'] as const;
  return Object.fromEntries(keys.filter((k) => typeof b[k] === 'string').map((k) => [k, b[k] as string]));
}

/** Values for the form's checkbox group of technology fields. */
function fieldChoices(selected: string | string[] | undefined) {
  const chosen = new Set(Array.isArray(selected) ? selected : String(selected ?? '').split(',').filter(Boolean));
  return TECH_FIELDS.map((key) => ({ key, checked: chosen.has(key) }));
}

export function createPatentRouter(deps: RouteDeps): Router {
  const router = Router();
  const tto = requireLogin('tto');

  const renderForm = (res: Response, status: number, opts: { id?: string; values: Record<string, string | string[]>; errors?: Record<string, string> }) => {
    const { id, values, errors } = opts;
    res.status(status).render('patents/form', {
      title: res.locals.t(id ? 'patent.edit.title' : 'patent.new.title'), id, values, errors, fieldChoices: fieldChoices(values.fields),
      legalStatuses: ['pending', 'granted', 'lapsed', 'invalidated', 'expired'], exclusiveChoices: ['none', 'exclusive', 'sole'],
    });
  };

  /** GET /patents */
  router.get('/patents', tto, async (req, res) => {
    const q = registerQuery.parse(req.query);
    const register = await listRegister(ctxOf(req), q);
    res.render('patents/index', { title: res.locals.t('patent.register.title'), ...register, status: q.status });
  });

  /** GET /patents/new */
  router.get('/patents/new', tto, (_req, res) => renderForm(res, 200, { values: { legalStatus: 'granted' } }));

  /** POST /patents */
  router.post('/patents', tto, async (req, res) => {
    try {
      const patent = await createPatent(ctxOf(req), patentInput(req.body));
      flash(req, 'success', 'patent.created');
      res.redirect(303, `/patents/${patent._id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      renderForm(res, 422, { values: { ...sticky(req.body), fields: patentInput(req.body).fields ?? [] }, errors: fieldMessages(err, res.locals.t) });
    }
  });

  /** GET /patents/:id */
  router.get('/patents/:id', tto, async (req, res) => {
    const data = await patentWithOffers(ctxOf(req), String(req.params.id));
    const needs = await needsForPatent(ctxOf(req), String(req.params.id), 5);
    res.render('patents/show', { ...showModel(res, data), needs });
  });

  /** GET /patents/:id/edit */
  router.get('/patents/:id/edit', tto, async (req, res) => {
    const ctx = ctxOf(req);
    const patent = await ownPatent(ctx.actor!, String(req.params.id));
    renderForm(res, 200, { id: String(patent._id), values: patentToInput(patent.toObject() as never) });
  });

  /** POST /patents/:id */
  router.post('/patents/:id', tto, async (req, res) => {
    const id = String(req.params.id);
    try {
      await updatePatent(ctxOf(req), id, patentInput(req.body), deps);
      flash(req, 'success', 'patent.updated');
      res.redirect(303, `/patents/${id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      renderForm(res, 422, { id, values: { ...sticky(req.body), fields: patentInput(req.body).fields ?? [] }, errors: fieldMessages(err, res.locals.t) });
    }
  });

  /** POST /patents/:id/retire */
  router.post('/patents/:id/retire', tto, async (req, res) => {
    const id = String(req.params.id);
    const f = parseFormOr422(req, res, reasonSchema);
    if (!f) return;
    try {
      await retirePatent(ctxOf(req), id, f.reason);
      flash(req, 'success', 'patent.retired_done');
    } catch (err) {
      flashRefusal(req, err);
    }
    res.redirect(303, `/patents/${id}`);
  });

  /** GET /patents/:id/offers/new?kind=open */
  router.get('/patents/:id/offers/new', tto, async (req, res) => {
    const { kind } = kindQuery.parse(req.query);
    const data = await patentWithOffers(ctxOf(req), String(req.params.id));
    const defaults: Record<string, string> = { feeForm: kind === 'open' ? 'lump_sum' : 'royalty', termMonths: '36', freeMonths: kind === 'deferred' ? '12' : '', trigger: kind === 'deferred' ? 'either' : '' };
    renderOfferForm(res, 200, { patent: data.patent, kind, values: defaults, openBlockers: data.openBlockers });
  });

  /** POST /patents/:id/offers */
  router.post('/patents/:id/offers', tto, async (req, res) => {
    const id = String(req.params.id);
    const { kind } = kindQuery.parse(req.body ?? {});
    try {
      const offer = await createOffer(ctxOf(req), id, kind, offerForm(req.body));
      flash(req, 'success', 'offer.draft_saved');
      res.redirect(303, `/patents/${id}#offer-${offer._id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const data = await patentWithOffers(ctxOf(req), id);
      renderOfferForm(res, 422, { patent: data.patent, kind, values: sticky(req.body), errors: fieldMessages(err, res.locals.t), openBlockers: data.openBlockers });
    }
  });

  /** GET /offers/:id/edit — drafts only; the service refuses anything else. */
  router.get('/offers/:id/edit', tto, async (req, res) => {
    const { offer, data } = await offerAndPatent(req);
    renderOfferForm(res, 200, { patent: data.patent, kind: offer.kind, values: termsToForm(offer.terms as OfferTermsValues), offerId: String(offer._id), openBlockers: data.openBlockers });
  });

  /** POST /offers/:id */
  router.post('/offers/:id', tto, async (req, res) => {
    try {
      const offer = await updateOfferDraft(ctxOf(req), String(req.params.id), offerForm(req.body));
      flash(req, 'success', 'offer.draft_saved');
      res.redirect(303, `/patents/${offer.patent}#offer-${offer._id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const { offer, data } = await offerAndPatent(req);
      renderOfferForm(res, 422, { patent: data.patent, kind: offer.kind, values: sticky(req.body), errors: fieldMessages(err, res.locals.t), offerId: String(offer._id), openBlockers: data.openBlockers });
    }
  });

  /** POST /offers/:id/publish */
  router.post('/offers/:id/publish', tto, async (req, res) => {
    const f = parseForm(publishSchema, req.body);
    const id = String(req.params.id);
    try {
      const offer = await publishOffer(ctxOf(req), id, f.confirmWarnings === '1');
      flash(req, 'success', offer.kind === 'open' ? 'offer.published_open' : 'offer.published', { number: offer.announcementNo ?? '' });
      res.redirect(303, `/patents/${offer.patent}#offer-${offer._id}`);
    } catch (err) {
      const { offer, data } = await offerAndPatent(req);
      if (err instanceof WarningsNotConfirmedError) {
        res.status(422).render('patents/confirm-warnings', { title: res.locals.t('offer.warnings.title'), patent: data.patent, offer: offerView(offer.toObject(), res.locals.t), warnings: err.warnings.map((w) => res.locals.t(w.key, w.params)) });
        return;
      }
      if (err instanceof NotEligibleError) {
        res.status(422).render('patents/show', { ...showModel(res, data), refusal: { offerId: id, reasons: err.reasons.map((r) => res.locals.t(r.key, r.params)) } });
        return;
      }
      flashRefusal(req, err);
      res.redirect(303, `/patents/${offer.patent}#offer-${offer._id}`);
    }
  });

  /** POST /offers/:id/withdraw */
  router.post('/offers/:id/withdraw', tto, async (req, res) => {
    const f = parseFormOr422(req, res, reasonSchema);
    if (!f) return;
    const { offer } = await offerAndPatent(req);
    try {
      if (offer.status === 'draft') await discardDraft(ctxOf(req), String(offer._id));
      else await withdrawOffer(ctxOf(req), String(offer._id), f.reason);
      flash(req, 'success', offer.status === 'draft' ? 'offer.discarded' : 'offer.withdrawn');
    } catch (err) {
      flashRefusal(req, err);
    }
    res.redirect(303, `/patents/${offer.patent}#offer-${offer._id}`);
  });

  return router;
}

/** The register's detail page: the patent, why it can or cannot be declared open, and its offers. */
function showModel(res: Response, data: Awaited<ReturnType<typeof patentWithOffers>>) {
  const t = res.locals.t as (k: string, p?: Record<string, string | number>) => string;
  return {
    title: data.patent.titleZh, patent: data.patent, kinds: OFFER_KINDS,
    openBlockers: data.openBlockers.map((b) => t(b.key, b.params)),
    offers: data.offers.map((o) => offerView(o, t)),
  };
}

/** The offer in the URL with its patent, both of the actor's institution. */
function offerAndPatent(req: Request) {
  return offerWithPatent(ctxOf(req), String(req.params.id));
}

function renderOfferForm(res: Response, status: number, o: { patent: { _id: unknown; titleZh: string }; kind: OfferKind; values: Record<string, string>; errors?: Record<string, string>; offerId?: string; openBlockers: { key: string; params?: Record<string, string | number> }[] }) {
  res.status(status).render('patents/offer-form', {
    title: res.locals.t(`offer.form.title.${o.kind}`), patent: o.patent, kind: o.kind, values: o.values, errors: o.errors, offerId: o.offerId,
    openBlockers: o.kind === 'open' ? o.openBlockers.map((b) => res.locals.t(b.key, b.params)) : [],
    feeForms: o.kind === 'deferred' ? ['lump_sum', 'instalments', 'royalty', 'entry_plus_royalty'] : ['free', 'lump_sum', 'instalments', 'royalty', 'entry_plus_royalty'],
    triggers: ['time', 'first_revenue', 'either'],
  });
}

/** A small form (a reason) whose problems are shown as a flash on the page it came from. */
function parseFormOr422<S extends z.ZodType>(req: Request, res: Response, schema: S): z.infer<S> | null {
  try {
    return parseForm(schema, req.body);
  } catch (err) {
    flashRefusal(req, err);
    res.redirect(303, req.get('referer')?.startsWith('/') ? req.get('referer')! : '/patents');
    return null;
  }
}

/** Expected refusals (validation, conflicts) become a flash message; anything else is a bug and propagates. */
function flashRefusal(req: Request, err: unknown): void {
  if (err instanceof ValidationError) {
    const first = Object.values(err.fields)[0];
    flash(req, 'error', first?.key ?? 'form.invalid', first?.params);
    return;
  }
  if (err instanceof AppError && err.status < 500 && err.status !== 403 && err.status !== 404) {
    flash(req, 'error', err.key, err.params);
    return;
  }
  throw err;
}
