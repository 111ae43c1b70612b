/**
 * Exact arithmetic over every BSON numeric type.
 *
 * MongoDB compares Int32, Int64, Double and Decimal128 by mathematical value:
 * Long(2^53 + 1) is greater than the double 2^53, and Decimal128("0.1") is not
 * equal to the double 0.1. JavaScript numbers cannot express either fact, so
 * anything that might not be an exact double is lifted to a rational with
 * bigint parts. Every finite double is a dyadic rational and every finite
 * Decimal128 a decimal one, so a rational n/d with d a power of 2 or 10 is
 * always exact. Values that are exact doubles (the common case) never leave
 * the fast path.
 */
import type { Decimal128, Double, Int32, Long } from 'bson';

/** The exact value of a BSON number. Finite values are n / d with d > 0. */
export type ExactNumber =
  | { readonly kind: 'nan' }
  | { readonly kind: 'inf'; readonly sign: 1 | -1 }
  | { readonly kind: 'finite'; readonly n: bigint; readonly d: bigint };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NAN: ExactNumber = { kind: 'nan' };
const POS_INF: ExactNumber = { kind: 'inf', sign: 1 };
const NEG_INF: ExactNumber = { kind: 'inf', sign: -1 };

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** True for any BSON numeric value: number, bigint, Double, Int32, Long, Decimal128. */
export function isNumeric(v: unknown): boolean {
  const t = typeof v;
  if (t === 'number' || t === 'bigint') return true;
  if (t !== 'object' || v === null) return false;
  const bt = (v as { _bsontype?: string } | null)?._bsontype;
  return bt === 'Double' || bt === 'Int32' || bt === 'Long' || bt === 'Decimal128';
}

/**
 * The value as a JS number when that is exact (plain numbers, Double, Int32,
 * and Int64/bigint within ±2^53); undefined for Decimal128 and large integers.
 */
export function exactDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : undefined;
  if (v === null || typeof v !== 'object') return undefined;
  switch ((v as { _bsontype?: string } | null)?._bsontype) {
    case 'Double':
    case 'Int32':
      return (v as Double | Int32).value;
    case 'Long': {
      const high = (v as Long).high;
      // |value| < 2^53 exactly when the high word is within ±2^21.
      return high >= -0x200000 && high < 0x200000 ? (v as Long).toNumber() : undefined;
    }
    default:
      return undefined;
  }
}

/** Nearest JS number (lossy for Decimal128 and large Int64), for callers that need one. */
export function toJsNumber(v: unknown): number {
  const d = exactDouble(v);
  if (d !== undefined) return d;
  if (typeof v === 'bigint') return Number(v);
  const bt = (v as { _bsontype?: string } | null)?._bsontype;
  if (bt === 'Long') return Number((v as Long).toBigInt());
  if (bt === 'Decimal128') return Number((v as Decimal128).toString());
  return Number.NaN;
}

/** The exact value of any BSON number (see isNumeric). */
export function toExact(v: unknown): ExactNumber {
  if (typeof v === 'bigint') return { kind: 'finite', n: v, d: 1n };
  const bt = (v as { _bsontype?: string } | null)?._bsontype;
  if (bt === 'Long') return { kind: 'finite', n: (v as Long).toBigInt(), d: 1n };
  if (bt === 'Decimal128') return decimalExact(v as Decimal128);
  const x = exactDouble(v);
  if (x === undefined) throw new TypeError('not a BSON number');
  return doubleExact(x);
}

function doubleExact(x: number): ExactNumber {
  if (x !== x) return NAN;
  if (x === Infinity) return POS_INF;
  if (x === -Infinity) return NEG_INF;
  if (Number.isInteger(x)) return { kind: 'finite', n: BigInt(x), d: 1n };
  f64[0] = x;
  const bits = u64[0];
  const exponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (exponent !== 0) mantissa |= 1n << 52n;
  let e2 = (exponent === 0 ? 1 : exponent) - 1075;
  // Reduce so the numerator is odd: keeps the decimal form canonical (see numericKey).
  while ((mantissa & 1n) === 0n && e2 < 0) {
    mantissa >>= 1n;
    e2++;
  }
  const n = bits >> 63n ? -mantissa : mantissa;
  return { kind: 'finite', n, d: 1n << BigInt(-e2) };
}

// Decimal128 values are immutable, so their parsed form can be cached.
const decimalCache = new WeakMap<object, { exact: ExactNumber; coefficient: bigint; exponent: number }>();
const DECIMAL_RE = /^(-)?(?:(Inf(?:inity)?)|(NaN)|(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?)$/i;

function decimalParts(v: Decimal128): { exact: ExactNumber; coefficient: bigint; exponent: number } {
  const cached = decimalCache.get(v);
  if (cached) return cached;
  const m = DECIMAL_RE.exec(v.toString());
  if (!m) throw new TypeError(`unparseable Decimal128 ${v.toString()}`);
  let parts: { exact: ExactNumber; coefficient: bigint; exponent: number };
  if (m[2]) parts = { exact: m[1] ? NEG_INF : POS_INF, coefficient: 0n, exponent: 0 };
  else if (m[3]) parts = { exact: NAN, coefficient: 0n, exponent: 0 };
  else {
    const frac = m[5] ?? '';
    let coefficient = BigInt(m[4] + frac);
    if (m[1]) coefficient = -coefficient;
    let exponent = Number(m[6] ?? 0) - frac.length;
    // Strip trailing zeros so that equal values share one (coefficient, exponent).
    if (coefficient === 0n) exponent = 0;
    while (coefficient !== 0n && coefficient % 10n === 0n) {
      coefficient /= 10n;
      exponent++;
    }
    const exact: ExactNumber = exponent >= 0
      ? { kind: 'finite', n: coefficient * 10n ** BigInt(exponent), d: 1n }
      : { kind: 'finite', n: coefficient, d: 10n ** BigInt(-exponent) };
    parts = { exact, coefficient, exponent };
  }
  decimalCache.set(v, parts);
  return parts;
}

function decimalExact(v: Decimal128): ExactNumber {
  return decimalParts(v).exact;
}

function rank(x: ExactNumber): number {
  if (x.kind === 'nan') return 0;
  if (x.kind === 'inf') return x.sign === -1 ? 1 : 3;
  return 2;
}

/** Orders exact numbers: NaN first (equal to itself), then -Inf, finite values, +Inf. */
export function compareExact(a: ExactNumber, b: ExactNumber): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a.kind !== 'finite' || b.kind !== 'finite') return 0;
  const lhs = a.n * b.d;
  const rhs = b.n * a.d;
  return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
}

/** Compares two doubles the way BSON does: NaN below everything and equal to NaN, -0 == 0. */
export function compareDoubles(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0;
  const xNaN = x !== x;
  const yNaN = y !== y;
  if (xNaN && yNaN) return 0;
  return xNaN ? -1 : 1;
}

/** Exact comparison of two BSON numbers of any types (-1, 0 or 1). */
export function compareNumbers(a: unknown, b: unknown): number {
  const x = exactDouble(a);
  const y = exactDouble(b);
  if (x !== undefined && y !== undefined) return compareDoubles(x, y);
  return compareExact(toExact(a), toExact(b));
}

/** True when the number is NaN (double or Decimal128). */
export function isNaNNumber(v: unknown): boolean {
  const x = exactDouble(v);
  if (x !== undefined) return x !== x;
  return (v as { _bsontype?: string } | null)?._bsontype === 'Decimal128' && decimalExact(v as Decimal128).kind === 'nan';
}

/**
 * A string that is identical for numerically equal values of any BSON type:
 * integers print in full, other finite values as `<c>e<-k>` with c not a
 * multiple of 10, which is unique because every double is a finite decimal.
 */
export function numericKey(v: unknown): string {
  const x = exactDouble(v);
  if (x !== undefined && (x !== x || !Number.isFinite(x) || Number.isSafeInteger(x))) {
    if (x !== x) return 'NaN';
    if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
    return x === 0 ? '0' : String(x);
  }
  if ((v as { _bsontype?: string } | null)?._bsontype === 'Decimal128') {
    const { exact, coefficient, exponent } = decimalParts(v as Decimal128);
    if (exact.kind !== 'finite') return exact.kind === 'nan' ? 'NaN' : exact.sign > 0 ? 'Inf' : '-Inf';
    return exponent >= 0 ? exact.n.toString() : `${coefficient}e${exponent}`;
  }
  const exact = toExact(v);
  if (exact.kind !== 'finite') throw new TypeError('unreachable: non-finite handled above');
  if (exact.d === 1n) return exact.n.toString();
  // d = 2^k: n / 2^k = n * 5^k / 10^k, and n is odd so the coefficient is not a multiple of 10.
  const k = exact.d.toString(2).length - 1;
  return `${exact.n * 5n ** BigInt(k)}e${-k}`;
}

/**
 * The value as a bigint when it is an integer (NaN, infinities and fractions
 * give undefined). Used for $mod, bit tests and integer arithmetic.
 */
export function toBigIntIfIntegral(v: unknown): bigint | undefined {
  const x = exactDouble(v);
  if (x !== undefined) return Number.isInteger(x) ? BigInt(x) : undefined;
  const exact = toExact(v);
  if (exact.kind !== 'finite' || exact.n % exact.d !== 0n) return undefined;
  return exact.n / exact.d;
}

/** Truncates toward zero; undefined for NaN and infinities. */
export function truncateToBigInt(v: unknown): bigint | undefined {
  const x = exactDouble(v);
  if (x !== undefined) return Number.isFinite(x) ? BigInt(Math.trunc(x)) : undefined;
  const exact = toExact(v);
  if (exact.kind !== 'finite') return undefined;
  return exact.n / exact.d;
}

/** True for numeric zero of any type (used for MongoDB's truthiness rules). */
export function isNumericZero(v: unknown): boolean {
  const x = exactDouble(v);
  if (x !== undefined) return x === 0;
  const exact = toExact(v);
  return exact.kind === 'finite' && exact.n === 0n;
}
