/**
 * What the fund offers for a claim, as a pure function of its inputs, so the
 * figure a regulator approves can be recomputed by hand from the dossier:
 *
 *   raw = round-half-up(loss × compensationBps ÷ 10,000)
 *   offer = min(raw, per-licence room, per-licensee room, per-year room, pool available)
 *
 * where each room is the rule's cap less what is already committed against
 * it (approved claims, and submitted ones whose reservation still stands —
 * counting reservations is what keeps two claims submitted side by side from
 * jointly passing a cap). The result records every input and which limit
 * bound (`limitedBy`): the first, in the order above, that cut the amount;
 * `ratio` when none did. Subsidies use the same shape (subsidies.ts).
 */
import { fenTimesRatio } from '../../domain/money.js';

/** In the order they are applied; `ratio` means no cap bound. */
export const CLAIM_LIMITS = ['ratio', 'per_licence', 'per_licensee', 'per_year', 'pool'] as const;
export type ClaimLimit = (typeof CLAIM_LIMITS)[number];

export interface CompensationRules {
  version: number;
  compensationBps: number;
  capPerLicenceFen: number;
  capPerLicenseeFen: number;
  capPerYearFen: number;
}

export interface CompensationInputs {
  lossFen: number;
  rules: CompensationRules;
  /** Already approved or reserved: for this licence, for this licensee, in `year`. */
  usedForLicenceFen: number;
  usedForLicenseeFen: number;
  usedInYearFen: number;
  /** The calendar year (China time) the per-year cap is counted in. */
  year: number;
  /** fund:pool posted balance less pending reservations. */
  poolAvailableFen: number;
}

export interface CapUse {
  limit: Exclude<ClaimLimit, 'ratio' | 'pool'>;
  capFen: number;
  usedFen: number;
  remainingFen: number;
}

export interface Computation {
  rulesVersion: number;
  compensationBps: number;
  lossFen: number;
  rawFen: number;
  caps: CapUse[];
  year: number;
  poolAvailableFen: number;
  compensationFen: number;
  limitedBy: ClaimLimit;
}

function wholeFen(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`computeCompensation: ${name} must be a whole number of fen ≥ 0 (got ${v})`);
}

/** The offer for a claim and why it is that much. Never negative; 0 means nothing can be submitted (limitedBy says why). */
export function computeCompensation(i: CompensationInputs): Computation {
  for (const [name, v] of Object.entries({ lossFen: i.lossFen, usedForLicenceFen: i.usedForLicenceFen, usedForLicenseeFen: i.usedForLicenseeFen, usedInYearFen: i.usedInYearFen })) wholeFen(name, v);
  if (!Number.isSafeInteger(i.poolAvailableFen)) throw new RangeError('computeCompensation: poolAvailableFen must be a whole number of fen');
  const r = i.rules;
  const rawFen = fenTimesRatio(i.lossFen, r.compensationBps, 10_000);
  const caps: CapUse[] = [
    { limit: 'per_licence', capFen: r.capPerLicenceFen, usedFen: i.usedForLicenceFen, remainingFen: 0 },
    { limit: 'per_licensee', capFen: r.capPerLicenseeFen, usedFen: i.usedForLicenseeFen, remainingFen: 0 },
    { limit: 'per_year', capFen: r.capPerYearFen, usedFen: i.usedInYearFen, remainingFen: 0 },
  ];
  let amount = rawFen;
  let limitedBy: ClaimLimit = 'ratio';
  for (const c of caps) {
    c.remainingFen = Math.max(0, c.capFen - c.usedFen);
    if (c.remainingFen < amount) {
      amount = c.remainingFen;
      limitedBy = c.limit;
    }
  }
  const pool = Math.max(0, i.poolAvailableFen);
  if (pool < amount) {
    amount = pool;
    limitedBy = 'pool';
  }
  return {
    rulesVersion: r.version, compensationBps: r.compensationBps, lossFen: i.lossFen, rawFen, caps, year: i.year,
    poolAvailableFen: i.poolAvailableFen, compensationFen: amount, limitedBy,
  };
}
