/**
 * Exact Decimal128 addition and multiplication for `$inc` and `$mul`.
 *
 * `bson` stores Decimal128 values but cannot compute with them, and going
 * through JS doubles would make 0.1 + 0.2 come out as 0.30000000000000004 —
 * exactly the error users choose Decimal128 to avoid. Values are handled as
 * (sign, integer coefficient, exponent) triples parsed from the canonical
 * string form, computed exactly with bigint, and rounded half-even to the 34
 * significant digits IEEE 754 decimal128 holds, as MongoDB's Intel library does.
 */
import { Decimal128 } from 'bson';

export type DecimalValue =
  | { kind: 'finite'; negative: boolean; coefficient: bigint; exponent: number }
  | { kind: 'infinity'; negative: boolean }
  | { kind: 'nan' };

const MAX_DIGITS = 34;
const MAX_EXPONENT = 6111;
const MIN_EXPONENT = -6176;

function finite(negative: boolean, coefficient: bigint, exponent: number): DecimalValue {
  return { kind: 'finite', negative, coefficient, exponent };
}

/** Parses the string form `bson` produces ("1.10", "-1.2E+5", "NaN", "-Infinity"). */
export function decimalValue(decimal: Decimal128): DecimalValue {
  const text = decimal.toString();
  if (text === 'NaN') return { kind: 'nan' };
  if (text === 'Infinity' || text === '-Infinity') return { kind: 'infinity', negative: text[0] === '-' };
  const match = /^(-)?(\d+)(?:\.(\d+))?(?:E([+-]\d+))?$/i.exec(text);
  if (!match) throw new Error(`Unexpected Decimal128 string form: ${text}`);
  const fraction = match[3] ?? '';
  return finite(match[1] === '-', BigInt(match[2] + fraction), Number(match[4] ?? 0) - fraction.length);
}

/** An integer (Int32 or Int64 value) as an exact decimal. */
export function decimalFromBigInt(n: bigint): DecimalValue {
  return finite(n < 0n, n < 0n ? -n : n, 0);
}

/**
 * A double as MongoDB converts it when mixed with a decimal: rounded to 15
 * significant digits (Decimal128's kRoundTo15Digits), so 0.1 becomes
 * 0.100000000000000 rather than the binary value's 55-digit expansion.
 */
export function decimalFromDouble(n: number): DecimalValue {
  if (Number.isNaN(n)) return { kind: 'nan' };
  if (!Number.isFinite(n)) return { kind: 'infinity', negative: n < 0 };
  if (n === 0) return finite(Object.is(n, -0), 0n, 0);
  const [mantissa, exp] = Math.abs(n).toExponential(14).split('e');
  return finite(n < 0, BigInt(mantissa.replace('.', '')), Number(exp) - 14);
}

function digitCount(n: bigint): number {
  return n === 0n ? 1 : n.toString().length;
}

/** Drops `drop` trailing digits of `c`, rounding half to even. */
function roundHalfEven(c: bigint, drop: number): bigint {
  if (drop <= 0) return c;
  if (drop > digitCount(c) + 1) return 0n;
  const divisor = 10n ** BigInt(drop);
  const quotient = c / divisor;
  const twiceRemainder = (c % divisor) * 2n;
  if (twiceRemainder > divisor || (twiceRemainder === divisor && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

/** Fits an exact result into decimal128's precision and exponent range. */
function normalise(negative: boolean, coefficient: bigint, exponent: number): DecimalValue {
  let c = coefficient;
  let e = exponent;
  const excess = digitCount(c) - MAX_DIGITS;
  if (excess > 0) {
    c = roundHalfEven(c, excess);
    e += excess;
    if (digitCount(c) > MAX_DIGITS) {
      c /= 10n;
      e += 1;
    }
  }
  if (e < MIN_EXPONENT) {
    c = roundHalfEven(c, MIN_EXPONENT - e);
    e = MIN_EXPONENT;
  }
  if (e > MAX_EXPONENT) {
    if (c === 0n) return finite(negative, 0n, MAX_EXPONENT);
    // Clamping: trade exponent for trailing zeros while the digits allow.
    while (e > MAX_EXPONENT && digitCount(c) < MAX_DIGITS) {
      c *= 10n;
      e -= 1;
    }
    if (e > MAX_EXPONENT) return { kind: 'infinity', negative };
  }
  return finite(negative, c, e);
}

export function decimalAdd(a: DecimalValue, b: DecimalValue): DecimalValue {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    if (a.kind === 'infinity' && b.kind === 'infinity' && a.negative !== b.negative) return { kind: 'nan' };
    return a.kind === 'infinity' ? a : b;
  }
  const exponent = Math.min(a.exponent, b.exponent);
  const scaled = (v: typeof a) => (v.negative ? -v.coefficient : v.coefficient) * 10n ** BigInt(v.exponent - exponent);
  const sum = scaled(a) + scaled(b);
  // An exact zero sum is +0 unless both operands were negative (round-half-even rule).
  const negative = sum === 0n ? a.negative && b.negative : sum < 0n;
  return normalise(negative, sum < 0n ? -sum : sum, exponent);
}

export function decimalMultiply(a: DecimalValue, b: DecimalValue): DecimalValue {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  const negative = a.negative !== b.negative;
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    const other = a.kind === 'infinity' ? b : a;
    if (other.kind === 'finite' && other.coefficient === 0n) return { kind: 'nan' };
    return { kind: 'infinity', negative };
  }
  return normalise(negative, a.coefficient * b.coefficient, a.exponent + b.exponent);
}

export function toDecimal128(v: DecimalValue): Decimal128 {
  if (v.kind === 'nan') return Decimal128.fromString('NaN');
  if (v.kind === 'infinity') return Decimal128.fromString(v.negative ? '-Infinity' : 'Infinity');
  const exponent = v.exponent >= 0 ? `+${v.exponent}` : String(v.exponent);
  return Decimal128.fromString(`${v.negative ? '-' : ''}${v.coefficient}E${exponent}`);
}
