/**
 * Matching both ways, with reasons: listed patents for an SME's need, the
 * TTO's own patents (listed or not) for a need, and open needs for one of
 * the TTO's patents. The ranking itself is server/search/matching.ts.
 */
import { Organization } from '../../models/organization.js';
import type { SizeClass } from '../domain/sme-size.js';
import type { TechField } from '../domain/tech-fields.js';
import { rankNeedsForPatent, rankPatentsForNeed, type NeedForMatching } from '../search/matching.js';
import { requireRole, type Ctx } from './context.js';
import { ownPatent } from './patents.js';
import { searchIndexes } from './search-index.js';

interface DemandLike {
  _id: unknown;
  organization: unknown;
  title: string;
  problem: string;
  fields: string[];
  region: NeedForMatching['region'];
  budgetFen?: number | null;
}

/** A stored need in the shape the ranking takes (with its enterprise's size class). */
export async function needForMatching(demand: DemandLike): Promise<Omit<NeedForMatching, 'id'>> {
  const org = await Organization.findById(demand.organization).select('enterprise.sizeClass').lean();
  return {
    title: demand.title, problem: demand.problem, fields: demand.fields as TechField[], region: demand.region,
    budgetFen: demand.budgetFen ?? null, sizeClass: (org?.enterprise?.sizeClass ?? null) as SizeClass | null,
  };
}

function present(matches: ReturnType<typeof rankPatentsForNeed>) {
  return matches.map((m) => {
    const e = searchIndexes.entries.get(m.id)!;
    return { id: m.id, title: e.titleZh, titleEn: e.titleEn, holder: e.holderZh, region: e.region, kinds: e.kinds, listed: e.listed, why: m.explanation, score: m.score };
  });
}

/** Listed patents for a need (the SME's view of its own need; the caller has checked it is theirs). */
export async function patentsForDemand(ctx: Ctx, demand: DemandLike, limit = 10) {
  requireRole(ctx, 'sme', 'tto', 'fund_manager', 'regulator', 'admin');
  await searchIndexes.sync();
  const matches = rankPatentsForNeed(await needForMatching(demand), searchIndexes.catalogue, { limit, filter: (id) => searchIndexes.entries.get(id)?.listed === true });
  return present(matches);
}

/** The TTO's own active patents, listed or not, that answer a need: candidates to offer. */
export async function ownPatentsForDemand(ctx: Ctx, demand: DemandLike, limit = 10) {
  const actor = requireRole(ctx, 'tto');
  await searchIndexes.sync();
  const mine = String(actor.orgId);
  const matches = rankPatentsForNeed(await needForMatching(demand), searchIndexes.catalogue, { limit, filter: (id) => searchIndexes.entries.get(id)?.holder === mine });
  return present(matches);
}

/** Open needs one of the TTO's patents could answer: who might license it. */
export async function needsForPatent(ctx: Ctx, patentId: string, limit = 10) {
  const actor = requireRole(ctx, 'tto');
  const patent = await ownPatent(actor, patentId);
  await searchIndexes.sync();
  const matches = rankNeedsForPatent(
    { titleZh: patent.titleZh, titleEn: patent.titleEn, abstractZh: patent.abstractZh, abstractEn: patent.abstractEn, summary: patent.summary, fields: patent.fields as TechField[], ipc: patent.ipc, region: patent.region, listing: { kinds: patent.listing?.kinds ?? [], minEntryFeeFen: patent.listing?.minEntryFeeFen ?? null } },
    searchIndexes.board,
    { limit },
  );
  return matches.map((m) => ({ need: searchIndexes.needs.get(m.id)!, why: m.explanation, score: m.score }));
}
