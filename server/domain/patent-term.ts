/**
 * Patent terms (专利法 Art. 42) and the calendar arithmetic the licence
 * rules need.
 *
 * Calendar dates (filing, grant, expiry, annual fee paid-through) are stored
 * as a Date at **UTC midnight of the Beijing calendar date**: 2021-01-05 is
 * `2021-01-05T00:00:00.000Z`, whatever the clock time in Beijing was. China
 * has had no daylight saving since 1991, so a calendar date is one fixed
 * offset away from an instant and this representation never shifts a day;
 * it also makes `new Date('2021-01-05')` (ISO date-only parses as UTC) the
 * natural way to write one. Instants (`now`) become calendar dates through
 * `beijingDate`, never through the server's local time zone.
 *
 * Not modelled: the invention term adjustment for examination delays
 * (Art. 42(2)) and the drug-patent extension (Art. 42(3)). Both are granted
 * case by case by CNIPA, so a patent that has one needs its expiry entered
 * by hand; `computeExpiry` gives the statutory base term.
 */
import type { PatentType } from '../../models/patent.js';

const DAY_MS = 86_400_000;
/** UTC+8, all year round. */
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** The 4th revision's 15-year design term applies to applications filed on or after this day. */
export const DESIGN_15_YEAR_FROM = new Date('2021-06-01');

/** Years of protection counted from the filing date. */
export function termYears(type: PatentType, filingDate: Date): number {
  switch (type) {
    case 'invention':
      return 20;
    case 'utility_model':
      return 10;
    case 'design':
      return filingDate < DESIGN_15_YEAR_FROM ? 10 : 15;
    default:
      // Reachable only from untyped input (a lean document with a bad value); an Invalid Date would spread silently.
      throw new RangeError(`unknown patent type ${JSON.stringify(type)}`);
  }
}

function assertCalendarDate(name: string, d: Date): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()) || d.getTime() % DAY_MS !== 0) {
    // A clock time here is a caller bug (e.g. `new Date()` passed as a filing date) that would shift the result by a day.
    throw new RangeError(`${name} must be a calendar date at UTC midnight (got ${String(d)})`);
  }
}

/** The Beijing calendar date an instant falls on, as UTC midnight of that date. */
export function beijingDate(instant: Date): Date {
  const shifted = instant.getTime() + BEIJING_OFFSET_MS;
  return new Date(shifted - (((shifted % DAY_MS) + DAY_MS) % DAY_MS));
}

/** 'YYYY-MM-DD' of a calendar date: the form dictionary texts show (same in both languages). */
export function formatCalendarDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Last day of protection. The term runs from the filing date inclusive, so it
 * ends on the day before the anniversary: an invention filed 2021-01-05
 * expires 2041-01-04 (CNIPA's practice). A 29 February filing whose final
 * year has no 29 February takes 1 March as the anniversary and so expires on
 * 28 February: the full number of years, neither a day more nor less.
 */
export function computeExpiry(filingDate: Date, type: PatentType): Date {
  assertCalendarDate('filingDate', filingDate);
  const years = termYears(type, filingDate);
  // Date.UTC rolls 29 Feb of a common year over to 1 Mar, which is the anniversary rule above.
  const anniversary = Date.UTC(filingDate.getUTCFullYear() + years, filingDate.getUTCMonth(), filingDate.getUTCDate());
  return new Date(anniversary - DAY_MS);
}

/**
 * `months` calendar months after `date`, same time of day. A day the target
 * month lacks becomes its last day (31 Jan + 1 month = 28/29 Feb), as 民法典
 * Art. 202 does for periods in months ("没有对应日的，月末日为期间的最后一日").
 */
export function addMonths(date: Date, months: number): Date {
  if (!Number.isInteger(months)) throw new RangeError(`addMonths needs whole months (got ${months})`);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const result = new Date(date.getTime());
  result.setUTCFullYear(y, m, Math.min(date.getUTCDate(), lastDay));
  return result;
}

/**
 * Whole months from `from` to `to`: the largest m with addMonths(from, m) ≤ to
 * (negative when `to` is earlier). Defined through addMonths so that
 * "a term of m months from `from` fits before `to`" is exactly m ≤ monthsUntil.
 */
export function monthsUntil(from: Date, to: Date): number {
  const m = (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + (to.getUTCMonth() - from.getUTCMonth());
  // addMonths(from, m) lands in to's month; if it is later in that month, one month fewer fits.
  return addMonths(from, m) <= to ? m : m - 1;
}

/**
 * The longest licence term in whole months that, starting today (Beijing),
 * stays within the patent's protection. The expiry date is the last day of
 * protection, so the term may run up to the start of the following day:
 * a patent expiring 2041-01-04 allows exactly 12 months from 2040-01-05.
 */
export function latestTermMonths(expiryDate: Date, now: Date): number {
  return monthsUntil(beijingDate(now), new Date(expiryDate.getTime() + DAY_MS));
}
