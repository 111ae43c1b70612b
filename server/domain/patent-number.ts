/**
 * Chinese patent application numbers (专利申请号), as a TTO clerk types them
 * off a filing receipt or a certificate.
 *
 * Forms:
 * - since 1 October 2003, 12 digits `YYYY T NNNNNNN.C`: filing year, type
 *   digit (1 invention, 2 utility model, 3 design, 8 PCT invention entering
 *   the national phase, 9 PCT utility model entering it), serial, check;
 * - 1985 to September 2003, 8 digits `YY T NNNNN.C`: year 85–99 or 00–03,
 *   type digit, serial; the check digit has been printed since 1989.
 *   The type digits 8/9 (PCT) are accepted here too: descriptions of the old
 *   format list them (e.g. plnmw.com "How to check the meaning of patent
 *   number?"), PCT national-phase entry into China began in 1994, and
 *   rejecting a genuine number is worse than the checksum-guarded risk.
 * Check character: digits left to right × 2,3,4,…,9 (cycling back to 2 at
 * the 9th digit), sum mod 11, remainder 10 written 'X'.
 *
 * Accepted noise: a leading ZL (patent number = "ZL" + application number) or
 * CN, spaces anywhere, full-width digits/letters/dot and the ideographic
 * full stop '。' from Chinese input methods, lower-case x, and the check
 * character without its dot when it then checks out (databases print
 * "2021101234567"). The stored form is always digits + '.' + check, so one
 * patent cannot be registered twice under two spellings.
 *
 * 1985–1988 numbers had no check digit; we accept them without one and store
 * the computed character, so they normalise like every other number.
 * Positions in problems count characters of the trimmed input as typed
 * (prefix and spaces included), so they point at what the user sees.
 */
import type { PatentType } from '../../models/patent.js';
import type { MessageParams } from '../errors.js';
import { beijingDate } from './patent-term.js';

const WEIGHTS = [2, 3, 4, 5, 6, 7, 8, 9] as const;

/** The type digit: 5th of 12, 3rd of 8. */
const TYPE_DIGITS: Readonly<Record<string, { type: PatentType; pct: boolean }>> = {
  '1': { type: 'invention', pct: false },
  '2': { type: 'utility_model', pct: false },
  '3': { type: 'design', pct: false },
  '8': { type: 'invention', pct: true },
  '9': { type: 'utility_model', pct: true },
};

/** Every dictionary key parseApplicationNumber can return (texts in views/locales/<locale>/patent-rules.json). */
export const PATENT_NUMBER_KEYS = [
  'patent.number.empty',
  'patent.number.invalid_character',
  'patent.number.multiple_dots',
  'patent.number.length',
  'patent.number.check_length',
  'patent.number.year_future',
  'patent.number.year_before_1985',
  'patent.number.year_before_2003',
  'patent.number.legacy_year',
  'patent.number.type_digit',
  'patent.number.check_missing',
  'patent.number.check_digit',
] as const;
export type PatentNumberKey = (typeof PATENT_NUMBER_KEYS)[number];

export interface ParsedNumber {
  ok: true;
  /** Digits + '.' + check character: what Patent.applicationNumber stores. */
  normalized: string;
  /** Grouped for reading: '2021 1 0123456.7', '88 1 00001.9'. */
  display: string;
  /** PCT national-phase numbers (type digit 8/9) map to invention/utility_model. */
  type: PatentType;
  year: number;
  pct: boolean;
}

export interface NumberProblem {
  ok: false;
  key: PatentNumberKey;
  params: MessageParams;
}

/**
 * Check character for a string of ASCII digits (8 or 12 in practice; the
 * rule itself works for any length). Throws RangeError otherwise.
 */
export function checkCharacter(digits: string): string {
  if (!/^\d+$/.test(digits)) throw new RangeError(`checkCharacter needs ASCII digits only (got ${JSON.stringify(digits)})`);
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * WEIGHTS[i % WEIGHTS.length]!;
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

interface Typed {
  /** Canonical form: NFKC folds full-width forms, '。' is a dot, x is X. */
  ch: string;
  /** As typed, for messages. */
  raw: string;
  /** 1-based position in the trimmed input. */
  position: number;
}

function canonical(raw: string): string {
  const c = raw.normalize('NFKC');
  return c === '。' ? '.' : c.toUpperCase();
}

const problem = (key: PatentNumberKey, params: MessageParams = {}): NumberProblem => ({ ok: false, key, params });
const invalid = (t: Typed) => problem('patent.number.invalid_character', { position: t.position, char: t.raw });

/**
 * Parse and validate an application number. `now` decides what "a future
 * year" is (Beijing calendar year). Problems are reported one at a time, in
 * the order a person would fix them: characters, length, year, type, check.
 */
export function parseApplicationNumber(input: string, now: Date = new Date()): ParsedNumber | NumberProblem {
  const typed: Typed[] = Array.from(input.trim(), (raw, i) => ({ ch: canonical(raw), raw, position: i + 1 }))
    .filter((t) => !/^\s$/.test(t.ch));
  if (typed.length === 0) return problem('patent.number.empty');

  const prefix = typed.slice(0, 2).map((t) => t.ch).join('');
  const rest = prefix === 'ZL' || prefix === 'CN' ? typed.slice(2) : typed;

  // Anchored tests: NFKC can turn one character into several ('⑫' → '12').
  const bad = rest.find((t) => !/^[\d.X]$/.test(t.ch));
  if (bad) return invalid(bad);
  const dots = rest.filter((t) => t.ch === '.');
  if (dots.length > 1) return problem('patent.number.multiple_dots', { position: dots[1]!.position });
  // X is only ever the check character, i.e. the last character.
  const misplacedX = rest.slice(0, -1).find((t) => t.ch === 'X');
  if (misplacedX) return invalid(misplacedX);

  const dotAt = rest.findIndex((t) => t.ch === '.');
  let body = dotAt >= 0 ? rest.slice(0, dotAt) : rest;
  let check = dotAt >= 0 ? rest.slice(dotAt + 1) : [];

  // No dot and one character too many: the check character typed without its dot, if it checks out.
  if (dotAt < 0 && (body.length === 13 || body.length === 9)) {
    const head = body.slice(0, -1).map((t) => t.ch).join('');
    if (checkCharacter(head) === body.at(-1)!.ch) {
      check = body.slice(-1);
      body = body.slice(0, -1);
    }
  }
  const strayX = body.find((t) => t.ch === 'X');
  if (strayX) return invalid(strayX);

  const digits = body.map((t) => t.ch).join('');
  if (digits.length !== 12 && digits.length !== 8) return problem('patent.number.length', { count: digits.length });
  if (check.length > 1) return problem('patent.number.check_length', { count: check.length });

  const modern = digits.length === 12;
  const currentYear = beijingDate(now).getUTCFullYear();
  let year: number;
  if (modern) {
    year = Number(digits.slice(0, 4));
    if (year < 1985) return problem('patent.number.year_before_1985', { year });
    if (year < 2003) return problem('patent.number.year_before_2003', { year, yy: digits.slice(2, 4) });
  } else {
    const yy = Number(digits.slice(0, 2));
    if (yy > 3 && yy < 85) return problem('patent.number.legacy_year', { yy: digits.slice(0, 2) });
    year = yy >= 85 ? 1900 + yy : 2000 + yy;
  }
  if (year > currentYear) return problem('patent.number.year_future', { year, currentYear });
  const typeAt = modern ? 4 : 2;
  const kind = TYPE_DIGITS[digits[typeAt]!];
  if (!kind) return problem('patent.number.type_digit', { position: typeAt + 1, digit: digits[typeAt]! });
  const { type, pct } = kind;

  const expected = checkCharacter(digits);
  const normalized = `${digits}.${expected}`;
  if (check.length === 0 && (modern || year >= 1989)) {
    return problem('patent.number.check_missing', { expected, normalized });
  }
  if (check.length === 1 && check[0]!.ch !== expected) {
    return problem('patent.number.check_digit', { typed: check[0]!.ch, expected, position: check[0]!.position });
  }

  const display = modern
    ? `${digits.slice(0, 4)} ${digits[4]} ${digits.slice(5)}.${expected}`
    : `${digits.slice(0, 2)} ${digits[2]} ${digits.slice(3)}.${expected}`;
  return { ok: true, normalized, display, type, year, pct };
}
