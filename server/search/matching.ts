/**
 * Matching both ways on the exchange: patents for an SME's need, and needs
 * for a TTO's patent. Each side keeps an incremental BM25F index (the caller
 * syncs it from the database with upsert/remove); a query retrieves a pool
 * of text matches, re-scores them with the boosts in boosts.ts, and explains
 * every result (shared words, fields, region, licence kind, budget).
 *
 * Inputs are plain objects, so lean Mongoose documents fit as they are.
 */
import type { Region } from '../../models/organization.js';
import type { OfferKind } from '../../models/patent.js';
import type { SizeClass } from '../domain/sme-size.js';
import type { TechField } from '../domain/tech-fields.js';
import { Bm25Index, type Bm25Fields, type Bm25Hit } from './bm25.js';
import {
  MATCH_WEIGHTS, kindFit, sharedFields, sharedIpcSubclasses, withinBudget, type MatchWeights,
} from './boosts.js';
import { sharedPhrases } from './explain.js';
import { analyze } from './tokenize.js';

export { MATCH_WEIGHTS, type MatchWeights } from './boosts.js';

export interface PatentForMatching {
  id: string;
  titleZh: string;
  titleEn?: string | null;
  abstractZh?: string | null;
  abstractEn?: string | null;
  summary?: { problem?: string | null; application?: string | null; advantage?: string | null } | null;
  fields: readonly TechField[];
  ipc: readonly string[];
  region: Region;
  listing?: { kinds: readonly OfferKind[]; minEntryFeeFen: number | null } | null;
}

export interface NeedForMatching {
  id: string;
  title: string;
  problem: string;
  fields: readonly TechField[];
  region: Region;
  budgetFen: number | null;
  /** Of the posting enterprise; null when not classified. */
  sizeClass: SizeClass | null;
  /** IPC symbols when the SME (or a TTO helping it) named any. */
  ipc?: readonly string[];
}

export interface MatchExplanation {
  /** Words both texts contain, as written in the query, most specific first. */
  sharedTerms: string[];
  sharedFields: TechField[];
  sharedIpc: string[];
  sameRegion: boolean;
  /** The listed licence kind that suits this enterprise best, if any. */
  kindFit: OfferKind | null;
  withinBudget: boolean | null;
}

export interface Match {
  id: string;
  score: number;
  /** BM25 relative to the best text match of this query (0..1]. */
  textScore: number;
  explanation: MatchExplanation;
}

export interface RankOptions {
  /** Results returned (default 10). */
  limit?: number;
  /** Text matches re-scored with the boosts (default 100). */
  pool?: number;
  /** E.g. only listed patents, only open needs, not the asker's own. */
  filter?: (id: string) => boolean;
  /** Override weights (the evaluation compares text-only with the full score). */
  weights?: Partial<MatchWeights>;
}

interface PatentFacts {
  text: string;
  fields: readonly TechField[];
  ipc: readonly string[];
  region: Region;
  kinds: readonly OfferKind[];
  minEntryFeeFen: number | null;
}

interface NeedFacts {
  text: string;
  fields: readonly TechField[];
  ipc: readonly string[];
  region: Region;
  budgetFen: number | null;
  sizeClass: SizeClass | null;
}

/** The catalogue side: patents indexed for needs to search. */
export class PatentCatalogue {
  readonly index = new Bm25Index<PatentFacts>();

  upsert(p: PatentForMatching): void {
    const fields = patentFields(p);
    this.index.upsert(p.id, fields, {
      text: Object.values(fields).join('\n'),
      fields: [...p.fields],
      ipc: [...p.ipc],
      region: p.region,
      kinds: [...(p.listing?.kinds ?? [])],
      minEntryFeeFen: p.listing?.minEntryFeeFen ?? null,
    });
  }

  remove(id: string): boolean {
    return this.index.remove(id);
  }
}

/** The demand side: needs indexed for TTOs to search with a patent. */
export class NeedBoard {
  readonly index = new Bm25Index<NeedFacts>();

  upsert(n: NeedForMatching): void {
    this.index.upsert(n.id, { title: n.title, summary: n.problem, abstract: '' }, {
      text: `${n.title}\n${n.problem}`,
      fields: [...n.fields],
      ipc: [...(n.ipc ?? [])],
      region: n.region,
      budgetFen: n.budgetFen,
      sizeClass: n.sizeClass,
    });
  }

  remove(id: string): boolean {
    return this.index.remove(id);
  }
}

/** Patents for an SME's need, best first. */
export function rankPatentsForNeed(need: Omit<NeedForMatching, 'id'>, catalogue: PatentCatalogue, opts: RankOptions = {}): Match[] {
  const query = `${need.title}\n${need.problem}`;
  return rank(catalogue.index, query, opts, (hit, facts) => ({
    fields: sharedFields(need.fields, facts.fields),
    fieldShare: need.fields.length,
    ipc: sharedIpcSubclasses(need.ipc ?? [], facts.ipc),
    sameRegion: need.region === facts.region,
    kind: kindFit(need.sizeClass, facts.kinds),
    withinBudget: withinBudget(need.budgetFen, facts.minEntryFeeFen),
    docText: facts.text,
    hit,
  }));
}

/** Needs a patent could answer, best first (the TTO's view: who might license this). */
export function rankNeedsForPatent(patent: Omit<PatentForMatching, 'id'>, board: NeedBoard, opts: RankOptions = {}): Match[] {
  const query = Object.values(patentFields({ ...patent, id: '' })).join('\n');
  const kinds = patent.listing?.kinds ?? [];
  return rank(board.index, query, opts, (hit, facts) => ({
    fields: sharedFields(facts.fields, patent.fields),
    fieldShare: facts.fields.length,
    ipc: sharedIpcSubclasses(facts.ipc, patent.ipc),
    sameRegion: facts.region === patent.region,
    kind: kindFit(facts.sizeClass, kinds),
    withinBudget: withinBudget(facts.budgetFen, patent.listing?.minEntryFeeFen),
    docText: facts.text,
    hit,
  }));
}

interface Facts {
  fields: TechField[];
  /** How many fields the need named (the denominator of the field share). */
  fieldShare: number;
  ipc: string[];
  sameRegion: boolean;
  kind: { kind: OfferKind | null; fit: number };
  withinBudget: boolean | null;
  docText: string;
  hit: Bm25Hit;
}

function rank<M>(index: Bm25Index<M>, query: string, opts: RankOptions, facts: (hit: Bm25Hit, meta: M) => Facts): Match[] {
  const w = { ...MATCH_WEIGHTS, ...opts.weights };
  const filter = opts.filter;
  const hits = index.search(query, {
    limit: opts.pool ?? 100,
    filter: filter ? (id) => filter(id) : undefined,
  });
  if (hits.length === 0) return [];
  const best = hits[0]!.score;
  const scored = hits.map((hit) => {
    const f = facts(hit, index.meta(hit.id)!);
    const textScore = hit.score / best;
    const score =
      w.text * textScore +
      w.fields * (f.fieldShare > 0 ? f.fields.length / f.fieldShare : 0) +
      w.ipc * (f.ipc.length > 0 ? 1 : 0) +
      w.region * (f.sameRegion ? 1 : 0) +
      w.kind * f.kind.fit +
      // The lowest entry fee may belong to an offer this firm cannot take; no usable kind, no budget credit.
      w.budget * (f.withinBudget === true && f.kind.fit > 0 ? 1 : 0);
    return { hit, f, score, textScore };
  });
  scored.sort((a, b) => b.score - a.score || (a.hit.id < b.hit.id ? -1 : 1));
  const idf = (t: string): number => index.idf(t);
  const analysis = analyze(query);
  return scored.slice(0, opts.limit ?? 10).map(({ hit, f, score, textScore }) => ({
    id: hit.id,
    score,
    textScore,
    explanation: {
      sharedTerms: sharedPhrases(analysis, f.docText, new Set(hit.matched), idf),
      sharedFields: f.fields,
      sharedIpc: f.ipc,
      sameRegion: f.sameRegion,
      kindFit: f.kind.kind,
      withinBudget: f.withinBudget,
    },
  }));
}

/** Which patent text goes in which weighted field; English sits beside Chinese so either language finds it. */
function patentFields(p: PatentForMatching): Bm25Fields {
  const s = p.summary ?? {};
  return {
    title: [p.titleZh, p.titleEn ?? ''].join('\n'),
    summary: [s.problem ?? '', s.application ?? '', s.advantage ?? ''].join('\n'),
    abstract: [p.abstractZh ?? '', p.abstractEn ?? ''].join('\n'),
  };
}
