/**
 * 统一社会信用代码 (Unified Social Credit Code, GB 32100-2015): the 18-character
 * identifier every organisation on the exchange is verified by.
 *
 * Layout: 1 registration-authority code, 2 organisation-category code,
 * 3–8 administrative-division code (6 digits), 9–17 organisation code
 * (GB 11714 body), 18 check character (weighted sum mod 31).
 *
 * What is deliberately NOT checked:
 * - Which authority/category pairs (positions 1–2) exist. The issuing tables
 *   are amended by notice (new registration authorities and categories have
 *   been added since 2015), so hard-coding them would reject genuine codes
 *   issued after our table was written; the checksum already catches typos.
 * - Whether positions 3–8 name a real administrative division: divisions are
 *   merged and renamed every year, and a code keeps the division it was
 *   issued under.
 * - The GB 11714 body's own check digit (position 17): a separate rule whose
 *   application to every kind of registrant we have not confirmed, and the
 *   overall check character already catches any single mistyped character.
 */

/** The 31 code characters; index = numeric value. I, O, Z, S, V are excluded (look like 1, 0, 2, 5, U). */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

const VALUE_OF = new Map<string, number>([...USCC_ALPHABET].map((c, i) => [c, i]));

/** Weight of position i (1-based) is 3^(i-1) mod 31: 1, 3, 9, 27, 19, 26, 16, … */
const WEIGHTS: readonly number[] = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

/** Positions 3–8 (1-based) are a GB/T 2260 administrative-division code: digits only. */
const DIVISION_FIRST = 3;
const DIVISION_LAST = 8;

export type UsccResult =
  | { ok: true; value: string }
  | { ok: false; reason: 'length' | 'charset' | 'checksum'; position?: number; expected?: string };

/**
 * Trim and upper-case ASCII letters only. `String#toUpperCase` would turn e.g.
 * 'ß' into 'SS' and shift every later position, so a reported 'charset'
 * position would no longer point at what the user typed.
 */
function normalise(input: string): string {
  return input.trim().replace(/[a-z]/g, (c) => c.toUpperCase());
}

/**
 * Split into code points (not UTF-16 units) so an emoji or other astral
 * character counts as one position, as the user sees it.
 */
function chars(s: string): string[] {
  return Array.from(s);
}

function checkCharacterOf(body: readonly string[]): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += VALUE_OF.get(body[i]!)! * WEIGHTS[i]!;
  const check = (31 - (sum % 31)) % 31; // 31 → 0
  return USCC_ALPHABET[check]!;
}

/**
 * The check character (position 18) for the first 17 characters of a code.
 * Only the checksum is computed here, so positions 3–8 may be any alphabet
 * character; `validateUscc` is what enforces the division-code digits.
 * Throws RangeError for anything that is not 17 alphabet characters, because
 * a check character for such input would be meaningless.
 */
export function usccCheckCharacter(first17: string): string {
  const body = chars(normalise(first17));
  if (body.length !== 17) {
    throw new RangeError(`usccCheckCharacter needs exactly 17 characters, got ${body.length}`);
  }
  const bad = body.findIndex((c) => !VALUE_OF.has(c));
  if (bad >= 0) {
    throw new RangeError(
      `usccCheckCharacter: character ${JSON.stringify(body[bad])} at position ${bad + 1} is not in the USCC alphabet`,
    );
  }
  return checkCharacterOf(body);
}

/**
 * Validate a Unified Social Credit Code as typed by a user. Surrounding
 * whitespace and lower-case letters are accepted and the normalised code is
 * returned in `value`, so callers store one canonical form.
 *
 * Failures, in the order they are checked:
 * - `length`: not 18 characters after trimming.
 * - `charset`: `position` (1-based, in the trimmed input) of the first
 *   character outside the alphabet, or of a non-digit in positions 3–8.
 * - `checksum`: `expected` is the check character the first 17 characters
 *   call for. No position is given: a mismatch means *some* character is
 *   wrong, and blaming position 18 would mislead the user.
 */
export function validateUscc(input: string): UsccResult {
  const value = normalise(input);
  const code = chars(value);
  if (code.length !== 18) return { ok: false, reason: 'length' };

  for (let i = 0; i < 18; i++) {
    const c = code[i]!;
    const position = i + 1;
    const inDivision = position >= DIVISION_FIRST && position <= DIVISION_LAST;
    if (!VALUE_OF.has(c) || (inDivision && !(c >= '0' && c <= '9'))) {
      return { ok: false, reason: 'charset', position };
    }
  }

  const expected = checkCharacterOf(code);
  if (code[17] !== expected) return { ok: false, reason: 'checksum', expected };
  return { ok: true, value };
}
