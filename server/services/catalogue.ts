/**
 * The public catalogue: listed patents searched in Chinese or English,
 * filtered, counted per filter value, sorted and paged; and one listing with
 * its published offers, holder and similar patents. Anyone may read it
 * without logging in, so nothing here reveals drafts, retired patents or who
 * enquired.
 */
import { Types } from 'mongoose';
import { Offer } from '../../models/offer.js';
import { Organization, type Region } from '../../models/organization.js';
import { Patent, type OfferKind, type PatentType } from '../../models/patent.js';
import type { TechField } from '../domain/tech-fields.js';
import { NotFoundError } from '../errors.js';
import { rankPatentsForNeed } from '../search/matching.js';
import type { Ctx } from './context.js';
import { FACETS, PRICE_BANDS, searchIndexes, type CatalogueEntry, type Facet, type PriceBand } from './search-index.js';

export { PRICE_BANDS, type PriceBand };

export const SORTS = ['relevance', 'newest', 'entry_fee'] as const;
export type CatalogueSort = (typeof SORTS)[number];

export interface CatalogueQuery {
  q: string;
  fields: TechField[];
  ipc: string[];
  regions: Region[];
  kinds: OfferKind[];
  types: PatentType[];
  price: PriceBand[];
  trlMin: number | null;
  holder: string | null;
  sort: CatalogueSort;
  page: number;
}

export const PAGE_SIZE = 20;
/** Longest query that is searched; the rest is ignored (the tokenizer caps its own input too). */
export const MAX_QUERY_CHARS = 200;

type Chosen = Record<Facet, readonly string[]>;

function chosenOf(q: CatalogueQuery): Chosen {
  return { fields: q.fields, ipc: q.ipc, regions: q.regions, kinds: q.kinds, types: q.types, price: q.price, holder: q.holder ? [q.holder] : [] };
}

/** Whether `e` passes every filter except `skip` (so a facet counts what choosing its value would give). */
function passes(e: CatalogueEntry, chosen: Chosen, trlMin: number | null, skip?: Facet): boolean {
  for (const f of FACETS) {
    if (f === skip || !chosen[f].length) continue;
    if (!e.facets[f].some((v) => chosen[f].includes(v))) return false;
  }
  return trlMin === null || (e.trl !== null && e.trl >= trlMin);
}

export async function searchCatalogue(_ctx: Ctx, q: CatalogueQuery) {
  await searchIndexes.sync();
  const { entries, catalogue } = searchIndexes;
  const text = q.q.trim().slice(0, MAX_QUERY_CHARS);
  let pool: { entry: CatalogueEntry; score: number; matched: string[] }[];
  if (text) {
    // Every hit, not a top-k: the counts must be true counts.
    const hits = catalogue.index.search(text, { limit: Math.max(1, entries.size), filter: (id) => entries.get(id)?.listed === true });
    pool = hits.map((h) => ({ entry: entries.get(h.id)!, score: h.score, matched: h.matched }));
  } else {
    pool = [];
    for (const entry of entries.values()) if (entry.listed) pool.push({ entry, score: 0, matched: [] });
  }
  const chosen = chosenOf(q);
  const results = pool.filter((r) => passes(r.entry, chosen, q.trlMin));

  // One pass per facet over the pool; with no filter chosen elsewhere it is just the results.
  const facets = {} as Record<Facet, Map<string, number>>;
  for (const f of FACETS) {
    const counts = new Map<string, number>();
    const othersChosen = FACETS.some((g) => g !== f && chosen[g].length) || q.trlMin !== null;
    const source = chosen[f].length || othersChosen ? pool.filter((r) => passes(r.entry, chosen, q.trlMin, f)) : pool;
    for (const r of source) for (const v of r.entry.facets[f]) counts.set(v, (counts.get(v) ?? 0) + 1);
    facets[f] = counts;
  }

  const sort = q.sort === 'relevance' && !text ? 'newest' : q.sort;
  results.sort((a, b) => {
    if (sort === 'relevance') return b.score - a.score || b.entry.publishedAt - a.entry.publishedAt;
    if (sort === 'entry_fee') return (a.entry.minEntryFeeFen ?? Infinity) - (b.entry.minEntryFeeFen ?? Infinity) || b.entry.publishedAt - a.entry.publishedAt;
    return b.entry.publishedAt - a.entry.publishedAt || (a.entry.id < b.entry.id ? -1 : 1);
  });
  const pages = Math.max(1, Math.ceil(results.length / PAGE_SIZE));
  const page = Math.min(q.page, pages);
  const holderNames = searchIndexes.holderNames;
  return {
    total: results.length,
    page,
    pages,
    sort,
    results: results.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map((r) => ({ ...r.entry, matched: r.matched })),
    facets: Object.fromEntries(Object.entries(facets).map(([f, m]) => [f, [...m.entries()].sort((a, b) => b[1] - a[1]).map(([value, count]) => ({ value, count, name: f === 'holder' ? holderNames.get(value) : undefined }))])),
  };
}

/** One listed patent with its published offers, holder and similar patents; counts the view. */
export async function getListing(ctx: Ctx, id: string) {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('catalogue.not_found');
  const patent = await Patent.findOne({ _id: id, status: 'active', 'listing.listed': true }).lean();
  if (!patent) throw new NotFoundError('catalogue.not_found');
  const [offers, holder] = await Promise.all([
    Offer.find({ patent: patent._id, status: 'published' }).sort({ kind: 1, publishedAt: -1 }).lean(),
    Organization.findById(patent.holder).select('nameZh nameEn region kind').lean(),
  ]);
  // The holder's own staff looking at their listing is not interest from the market.
  if (!ctx.actor || !ctx.actor.orgId.equals(patent.holder)) {
    await Patent.updateOne({ _id: patent._id }, { $inc: { views: 1 } }, { timestamps: false });
  }
  await searchIndexes.sync();
  const similar = rankPatentsForNeed(
    { title: patent.titleZh, problem: [patent.summary?.problem, patent.abstractZh].filter(Boolean).join('\n'), fields: patent.fields as TechField[], region: patent.region, budgetFen: null, sizeClass: null, ipc: patent.ipc },
    searchIndexes.catalogue,
    { limit: 5, filter: (other) => other !== id && searchIndexes.entries.get(other)?.listed === true },
  ).map((m) => ({ ...searchIndexes.entries.get(m.id)!, why: m.explanation }));
  return { patent, offers, holder, similar };
}
