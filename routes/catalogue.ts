/**
 * The public catalogue (no login needed): search and browse listed patents,
 * read one listing with its offers in plain words, and — for a signed-in
 * SME — send the holder an enquiry.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { REGIONS } from '../models/organization.js';
import { OFFER_KINDS, PATENT_TYPES } from '../models/patent.js';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { TECH_FIELDS } from '../server/domain/tech-fields.js';
import { ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, sticky } from '../server/http/forms.js';
import { getListing, PRICE_BANDS, searchCatalogue, SORTS, type CatalogueQuery, type PriceBand } from '../server/services/catalogue.js';
import { sendEnquiry } from '../server/services/enquiries.js';
import { offerView } from './offer-view.js';

/** Every value of a repeated query parameter that is one of `allowed`; anything else is ignored, never an error page. */
function many<T extends string>(req: Request, name: string, allowed: readonly T[]): T[] {
  const raw = req.query[name];
  const list = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
  return [...new Set(list.filter((v): v is T => (allowed as readonly string[]).includes(v)))].slice(0, 20);
}

function one(req: Request, name: string): string {
  const raw = req.query[name];
  return typeof raw === 'string' ? raw : Array.isArray(raw) && typeof raw[0] === 'string' ? raw[0] : '';
}

const IPC_SUBCLASS = /^[A-H]\d{2}[A-Z]$/;

function parseQuery(req: Request): CatalogueQuery {
  const trl = Number(one(req, 'trl'));
  const page = Number(one(req, 'page'));
  const holder = one(req, 'holder');
  const ipcRaw = req.query.ipc;
  const ipc = (Array.isArray(ipcRaw) ? ipcRaw : [ipcRaw]).filter((v): v is string => typeof v === 'string').map((v) => v.trim().toUpperCase()).filter((v) => IPC_SUBCLASS.test(v));
  return {
    q: one(req, 'q').slice(0, 10_000),
    fields: many(req, 'field', TECH_FIELDS),
    ipc: [...new Set(ipc)].slice(0, 20),
    regions: many(req, 'region', REGIONS),
    kinds: many(req, 'kind', OFFER_KINDS),
    types: many(req, 'type', PATENT_TYPES),
    price: many(req, 'price', Object.keys(PRICE_BANDS) as PriceBand[]),
    trlMin: Number.isInteger(trl) && trl >= 1 && trl <= 9 ? trl : null,
    holder: /^[0-9a-f]{24}$/.test(holder) ? holder : null,
    sort: (SORTS as readonly string[]).includes(one(req, 'sort')) ? (one(req, 'sort') as CatalogueQuery['sort']) : 'relevance',
    page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1,
  };
}

/** The query string for `q` with one parameter changed (pagination, facet links). */
function linkFor(q: CatalogueQuery, change: Partial<CatalogueQuery>): string {
  const v = { ...q, ...change };
  const p = new URLSearchParams();
  if (v.q) p.set('q', v.q.slice(0, 200));
  for (const f of v.fields) p.append('field', f);
  for (const f of v.ipc) p.append('ipc', f);
  for (const f of v.regions) p.append('region', f);
  for (const f of v.kinds) p.append('kind', f);
  for (const f of v.types) p.append('type', f);
  for (const f of v.price) p.append('price', f);
  if (v.trlMin) p.set('trl', String(v.trlMin));
  if (v.holder) p.set('holder', v.holder);
  if (v.sort !== 'relevance') p.set('sort', v.sort);
  if (v.page > 1) p.set('page', String(v.page));
  const s = p.toString();
  return s ? `/catalogue?${s}` : '/catalogue';
}

const enquirySchema = z.object({ message: z.string().default('') });

export function createCatalogueRouter(deps: RouteDeps): Router {
  const router = Router();

  /** GET /catalogue */
  router.get('/catalogue', async (req, res) => {
    const q = parseQuery(req);
    const result = await searchCatalogue(ctxOf(req), q);
    const chosen = (list: readonly string[], value: string) => list.includes(value);
    const facet = (name: keyof typeof result.facets, list: readonly string[]) => (result.facets[name] ?? []).map((f) => ({ ...f, checked: chosen(list, f.value) }));
    res.render('catalogue/index', {
      title: res.locals.t('catalogue.title'),
      q, result,
      truncated: q.q.length > 200,
      facets: {
        fields: facet('fields', q.fields), ipc: facet('ipc', q.ipc).slice(0, 15), regions: facet('regions', q.regions), kinds: facet('kinds', q.kinds),
        types: facet('types', q.types), price: facet('price', q.price), holder: facet('holder', q.holder ? [q.holder] : []).slice(0, 15),
      },
      sorts: SORTS,
      prev: result.page > 1 ? linkFor(q, { page: result.page - 1 }) : null,
      next: result.page < result.pages ? linkFor(q, { page: result.page + 1 }) : null,
      clear: '/catalogue',
    });
  });

  /** GET /catalogue/:id */
  router.get('/catalogue/:id', async (req, res) => {
    const data = await getListing(ctxOf(req), String(req.params.id));
    res.render('catalogue/show', {
      title: data.patent.titleZh, ...data,
      offers: data.offers.map((o) => offerView(o, res.locals.t)),
      canEnquire: req.user?.role === 'sme', values: {},
    });
  });

  /** POST /catalogue/:id/enquiries */
  router.post('/catalogue/:id/enquiries', requireLogin('sme'), async (req, res) => {
    const id = String(req.params.id);
    const { message } = enquirySchema.parse(req.body ?? {});
    try {
      await sendEnquiry(ctxOf(req), id, message, deps.mailer, deps.publicUrl);
      flash(req, 'success', 'enquiry.sent');
      res.redirect(303, `/catalogue/${id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const data = await getListing(ctxOf(req), id);
      res.status(422).render('catalogue/show', {
        title: data.patent.titleZh, ...data, offers: data.offers.map((o) => offerView(o, res.locals.t)),
        canEnquire: true, values: sticky(req.body), errors: fieldMessages(err, res.locals.t),
      });
    }
  });

  return router;
}
