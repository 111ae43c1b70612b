/**
 * Reporting periods for running royalties: calendar quarters named `2026Q3`,
 * on the Beijing calendar (a quarter ends at midnight China Standard Time,
 * whatever the server's clock zone). Dates are calendar dates stored as UTC
 * midnight, like every other date-only field of the exchange.
 */
import { beijingDate } from './patent-term.js';

export interface Quarter {
  /** `2026Q3`. */
  period: string;
  /** First day of the quarter (UTC midnight of that calendar date). */
  start: Date;
  /** Last day of the quarter, inclusive. */
  end: Date;
}

const PERIOD = /^(\d{4})Q([1-4])$/;
const DAY_MS = 86_400_000;

/** The quarter named `period`, or null for anything that is not a quarter (`2026Q5`, `2026-Q3`, `1899Q1` …). */
export function parseQuarter(period: string): Quarter | null {
  const m = PERIOD.exec(period.trim().toUpperCase());
  if (!m) return null;
  const year = Number(m[1]);
  // Before the exchange or absurdly far ahead: no licence can have such a period.
  if (year < 2000 || year > 2200) return null;
  const q = Number(m[2]);
  const start = new Date(Date.UTC(year, (q - 1) * 3, 1));
  const end = new Date(Date.UTC(year, q * 3, 1) - DAY_MS);
  return { period: `${year}Q${q}`, start, end };
}

/** The quarter holding the calendar date `day` (UTC midnight). */
export function quarterOf(day: Date): Quarter {
  return parseQuarter(`${day.getUTCFullYear()}Q${Math.floor(day.getUTCMonth() / 3) + 1}`)!;
}

/** The quarter before `q`. */
export function previousQuarter(q: Quarter): Quarter {
  return quarterOf(new Date(q.start.getTime() - DAY_MS));
}

/** The last quarter that has ended at `now` (Beijing calendar): in 2026-08-10 that is 2026Q2. */
export function lastEndedQuarter(now: Date): Quarter {
  return previousQuarter(quarterOf(beijingDate(now)));
}

/** Whether quarter `q` is over at `now`: its last day is before today in Beijing. */
export function hasEnded(q: Quarter, now: Date): boolean {
  return q.end < beijingDate(now);
}
