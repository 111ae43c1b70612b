/**
 * The matching score and all its weights, in one place.
 *
 *   score = W.text   · bm25 / bm25_best          text relevance, 0..1 within this query
 *         + W.fields · |F_need ∩ F_patent| / |F_need|   technology fields the need named
 *         + W.ipc    · [an IPC subclass is shared]      e.g. H01M on both sides
 *         + W.region · [same province]                  SMEs prefer a university nearby
 *         + W.kind   · fit(size class, offer kinds)     pay-later first for micro/small firms
 *         + W.budget · [lowest entry fee ≤ budget, and some listed kind fits]
 *
 * Text dominates: the boosts together (0.47) move a candidate past one whose
 * text matches clearly better only when it also fits the SME. Only candidates
 * the text retrieved are scored: a shared field alone is not a match.
 */
import type { SizeClass } from '../domain/sme-size.js';
import type { TechField } from '../domain/tech-fields.js';
import type { OfferKind } from '../../models/patent.js';

export interface MatchWeights {
  text: number;
  fields: number;
  ipc: number;
  region: number;
  kind: number;
  budget: number;
}

export const MATCH_WEIGHTS: Readonly<MatchWeights> = Object.freeze({
  text: 1,
  fields: 0.2,
  ipc: 0.1,
  region: 0.05,
  kind: 0.08,
  budget: 0.04,
});

/**
 * How well each licence kind suits an enterprise of a size class. Pay-later
 * (deferred) is what the programme offers micro and small firms; open
 * licences come next (standard terms, no negotiation); a firm that is not an
 * SME cannot take a pay-later licence at all.
 */
export const KIND_FIT: Readonly<Record<SizeClass, Readonly<Partial<Record<OfferKind, number>>>>> = Object.freeze({
  micro: { deferred: 1, open: 0.6, negotiated: 0.1 },
  small: { deferred: 1, open: 0.6, negotiated: 0.1 },
  medium: { open: 1, deferred: 0.7, negotiated: 0.2 },
  not_sme: { open: 1, negotiated: 0.3 },
});

/** The best-fitting listed kind and its fit; unknown size is treated as medium (open first). */
export function kindFit(sizeClass: SizeClass | null | undefined, kinds: readonly OfferKind[]): { kind: OfferKind | null; fit: number } {
  const row = KIND_FIT[sizeClass ?? 'medium'];
  let best: { kind: OfferKind | null; fit: number } = { kind: null, fit: 0 };
  for (const k of kinds) {
    const fit = row[k] ?? 0;
    if (fit > best.fit) best = { kind: k, fit };
  }
  return best;
}

/** null when either side did not say (no budget stated, or nothing published with a fee). */
export function withinBudget(budgetFen: number | null | undefined, minEntryFeeFen: number | null | undefined): boolean | null {
  if (budgetFen == null || minEntryFeeFen == null) return null;
  return minEntryFeeFen <= budgetFen;
}

/** Fields of the need that the patent shares, in the need's order. */
export function sharedFields(needFields: readonly TechField[], patentFields: readonly string[]): TechField[] {
  return needFields.filter((f) => patentFields.includes(f));
}

/** IPC subclasses (first four characters, e.g. "H01M") both sides carry. */
export function sharedIpcSubclasses(a: readonly string[], b: readonly string[]): string[] {
  const sub = (code: string): string => code.replace(/\s+/g, '').slice(0, 4).toUpperCase();
  const other = new Set(b.map(sub));
  return [...new Set(a.map(sub))].filter((s) => s.length === 4 && other.has(s));
}
