/**
 * Money as the exchange stores it: an integer number of fen (CNY minor
 * units), never a float. These two functions are the only way between fen
 * and what people read and type, so both are pure string/integer arithmetic:
 * `0.1 + 0.2`-style binary rounding can never turn ¥19.99 into 1998 fen.
 */

/** Fen per unit a user may type after the amount: 元 (default), 万元, 亿元. */
const UNIT_EXPONENT: Readonly<Record<string, number>> = { '': 2, 万: 6, 亿: 10 };

/**
 * '¥12,345.67' for 1234567. Always two decimals and the ASCII-compatible
 * yen/yuan sign, so the same string reads correctly in zh-CN and en.
 * Negative amounts (refunds, reversals) print as '-¥1.00'.
 * Throws RangeError for anything but a safe integer: a fractional fen means
 * a calculation upstream went through floating point, and hiding that by
 * rounding here would put a wrong amount in front of a user.
 */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`formatYuan needs a whole number of fen (got ${String(fen)})`);
  const digits = String(Math.abs(fen)).padStart(3, '0');
  const yuan = digits.slice(0, -2).replace(/\B(?=(\d{3})+$)/g, ',');
  return `${fen < 0 ? '-' : ''}¥${yuan}.${digits.slice(-2)}`;
}

/**
 * Fen from what a TTO clerk or an SME types: '12,345.67', '12345.6', '¥100',
 * '￥100元', '1.5万' (= ¥15,000.00), '0.2亿'; full-width digits and
 * punctuation from a Chinese input method are accepted (NFKC), as are
 * spaces around the number (never inside it). Returns null, never a guess, for:
 * - more decimals than fen can hold (3 for yuan, 7 for 万, 11 for 亿);
 * - a minus sign, 'NaN', 'Infinity', exponents, or anything else;
 * - commas that are not thousands separators ('1,2345' is probably a typo);
 * - an empty string or an amount above Number.MAX_SAFE_INTEGER fen.
 */
export function parseYuanToFen(input: string): number | null {
  if (typeof input !== 'string') return null;
  // Spaces only between the parts: '1 2' is more likely two numbers than twelve.
  const text = input.normalize('NFKC').trim();
  const m = /^¥?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(万|亿)?\s*元?$/.exec(text);
  if (!m) return null;
  const whole = m[1]!.replaceAll(',', '');
  const fraction = m[2] ?? '';
  const exponent = UNIT_EXPONENT[m[3] ?? '']!;
  if (fraction.length > exponent) return null;
  // BigInt so that the scaling itself cannot lose digits before the range check.
  const fen = BigInt(whole + fraction.padEnd(exponent, '0'));
  return fen <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(fen) : null;
}

/**
 * round-half-up(fen × numerator / denominator) for a share of an amount
 * (a royalty of 1,250 bps: numerator 1250, denominator 10000). BigInt so the
 * product is exact however large; the result is checked to be a safe integer.
 * Half up, not banker's rounding: it is the rule people apply by hand, so a
 * licensee can check an invoice with a calculator.
 */
export function fenTimesRatio(fen: number, numerator: number, denominator: number): number {
  for (const [name, v] of [['fen', fen], ['numerator', numerator]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`fenTimesRatio: ${name} must be a whole number ≥ 0 (got ${v})`);
  }
  if (!Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new RangeError(`fenTimesRatio: denominator must be a whole number > 0 (got ${denominator})`);
  }
  const d = BigInt(denominator);
  const result = (BigInt(fen) * BigInt(numerator) * 2n + d) / (2n * d);
  if (result > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('fenTimesRatio: result exceeds the safe integer range');
  return Number(result);
}
