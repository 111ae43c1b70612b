/**
 * Leaf predicates of the matcher: what `{$gt: 5}`, `{$in: [...]}`,
 * `{$type: 'string'}` and friends do to a single value, following the
 * server's expression_leaf.cpp and expression_array.cpp.
 */
import { asDocument, canonicalKey, canonicalType, CanonicalType, compareValues, bsonTypeCode, regexParts, stringValue } from './compare.js';
import type { MatchDetails, MatchNode, Predicate } from './match-nodes.js';
import { exactDouble, isNaNNumber, toJsNumber, truncateToBigInt } from './numeric.js';
import type { MongoRegex } from './regex.js';

export type ComparisonOp = 'eq' | 'lt' | 'lte' | 'gt' | 'gte';

/**
 * $eq/$lt/$lte/$gt/$gte. Values of different canonical types never match,
 * except null vs missing (equal) and MinKey/MaxKey bounds, which compare
 * below/above everything.
 */
export class ComparisonPredicate implements Predicate {
  readonly leaf = 'traverse';
  private readonly rhsType: number;
  private readonly rhsNaN: boolean;

  constructor(readonly op: ComparisonOp, readonly rhs: unknown) {
    this.rhsType = canonicalType(rhs);
    this.rhsNaN = this.rhsType === CanonicalType.Number && isNaNNumber(rhs);
    if (op === 'eq') {
      // Equality against the commonest operand types skips the generic comparison.
      if (typeof rhs === 'string') this.test = (v) => v === rhs || (canonicalType(v) === CanonicalType.String && stringValue(v) === rhs);
      else if (typeof rhs === 'number' && rhs === rhs) this.test = (v) => v === rhs || (typeof v !== 'number' && this.generic(v));
      else if (typeof rhs === 'boolean') this.test = (v) => v === rhs;
    }
  }

  test(v: unknown): boolean {
    return this.generic(v);
  }

  private generic(v: unknown): boolean {
    const { op, rhsType } = this;
    const type = canonicalType(v);
    if (type !== rhsType) {
      if (type + rhsType === CanonicalType.Null) return op === 'eq' || op === 'lte' || op === 'gte';
      if (rhsType === CanonicalType.MaxKey) return op === 'lt' || op === 'lte';
      if (rhsType === CanonicalType.MinKey) return op === 'gt' || op === 'gte';
      return false;
    }
    if (op !== 'eq' && type === CanonicalType.Number && (this.rhsNaN || isNaNNumber(v))) {
      // NaN equals NaN but is neither greater nor less than anything.
      return (op === 'lte' || op === 'gte') && this.rhsNaN && isNaNNumber(v);
    }
    const c = compareValues(v, this.rhs);
    switch (op) {
      case 'eq': return c === 0;
      case 'lt': return c < 0;
      case 'lte': return c <= 0;
      case 'gt': return c > 0;
      default: return c >= 0;
    }
  }
}

/** Regex match of strings and symbols; a stored regex matches only an identical one. */
export class RegexPredicate implements Predicate {
  readonly leaf = 'traverse';

  constructor(readonly regex: MongoRegex) {}

  test(v: unknown): boolean {
    if (typeof v === 'string') return this.regex.regexp.test(v);
    switch (canonicalType(v)) {
      case CanonicalType.String:
        return this.regex.regexp.test(stringValue(v));
      case CanonicalType.Regex: {
        const { pattern, flags } = regexParts(v);
        return pattern === this.regex.pattern && flags === this.regex.flags;
      }
      default:
        return false;
    }
  }
}

/** $in: hashed equality (by canonicalKey) plus regexes; a null member also matches missing. */
export class InPredicate implements Predicate {
  readonly leaf = 'traverse';
  private readonly strings = new Set<string>();
  private readonly numbers = new Set<number>();
  private readonly keys = new Set<string>();
  private readonly hasNull: boolean;

  constructor(values: readonly unknown[], private readonly regexes: readonly RegexPredicate[]) {
    let hasNull = false;
    for (const v of values) {
      if (v === null) hasNull = true;
      this.keys.add(canonicalKey(v));
      if (canonicalType(v) === CanonicalType.String) this.strings.add(stringValue(v));
      if (canonicalType(v) === CanonicalType.Number) {
        // Any member equal to some double (Decimal128("1.0"), Long(2^60)) must be found by plain numbers.
        const d = exactDouble(v) ?? toJsNumber(v);
        if (compareValues(d, v) === 0) this.numbers.add(d);
      }
    }
    this.hasNull = hasNull;
  }

  test(v: unknown): boolean {
    if (v === undefined) return this.hasNull;
    if (typeof v === 'string') {
      if (this.strings.has(v)) return true;
    } else if (typeof v === 'number') {
      // Set membership is SameValueZero: -0 finds 0 and NaN finds NaN, as BSON equality wants.
      if (this.numbers.has(v)) return true;
    } else if (this.keys.has(canonicalKey(v))) {
      return true;
    }
    for (const re of this.regexes) if (re.test(v)) return true;
    return false;
  }
}

export class ExistsPredicate implements Predicate {
  readonly leaf = 'traverse';

  test(v: unknown): boolean {
    return v !== undefined;
  }
}

export class TypePredicate implements Predicate {
  readonly leaf = 'traverse';

  constructor(readonly codes: ReadonlySet<number>) {}

  test(v: unknown): boolean {
    return v !== undefined && this.codes.has(bsonTypeCode(v));
  }
}

/** $size: only arrays, and only the array at the end of the path (not its elements). */
export class SizePredicate implements Predicate {
  readonly leaf = 'noTraversal';

  constructor(readonly size: number) {}

  test(v: unknown): boolean {
    return Array.isArray(v) && v.length === this.size;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The integer a numeric value is tested as by $mod and bit tests, if it has one. */
export function toInt64(v: unknown, truncate: boolean): bigint | undefined {
  if (canonicalType(v) !== CanonicalType.Number) return undefined;
  const n = truncate ? truncateToBigInt(v) : truncateIfIntegral(v);
  return n !== undefined && n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}

function truncateIfIntegral(v: unknown): bigint | undefined {
  const n = truncateToBigInt(v);
  return n !== undefined && compareValues(v, n) === 0 ? n : undefined;
}

/** $mod: numbers truncated toward zero; the remainder takes the dividend's sign (C++ %). */
export class ModPredicate implements Predicate {
  readonly leaf = 'traverse';

  constructor(readonly divisor: bigint, readonly remainder: bigint) {}

  test(v: unknown): boolean {
    const dividend = toInt64(v, true);
    if (dividend === undefined) return false;
    // BigInt % truncates like C++; x % -1 is 0 without the int64 overflow the server guards against.
    return dividend % this.divisor === this.remainder;
  }
}

export type BitTest = 'allSet' | 'allClear' | 'anySet' | 'anyClear';

/** $bitsAllSet and friends over integral numbers (two's complement) and BinData bytes. */
export class BitsPredicate implements Predicate {
  readonly leaf = 'traverse';

  constructor(readonly kind: BitTest, readonly positions: readonly number[]) {}

  test(v: unknown): boolean {
    let bit: (position: number) => boolean;
    const type = canonicalType(v);
    if (type === CanonicalType.Binary) {
      const bytes = v instanceof Uint8Array ? v : (v as { buffer: Uint8Array; position: number }).buffer.subarray(0, (v as { position: number }).position);
      bit = (p) => p < bytes.length * 8 && (bytes[p >> 3] & (1 << (p & 7))) !== 0;
    } else {
      const n = toInt64(v, false);
      if (n === undefined) return false;
      // Positions past 63 read the sign bit: numbers are sign-extended.
      bit = (p) => ((BigInt.asUintN(64, n) >> BigInt(Math.min(p, 63))) & 1n) === 1n;
    }
    const want = this.kind === 'allSet' || this.kind === 'anySet';
    const all = this.kind === 'allSet' || this.kind === 'allClear';
    for (const p of this.positions) {
      if (bit(p) === want) {
        if (!all) return true;
      } else if (all) {
        return false;
      }
    }
    return all;
  }
}

/** $elemMatch on documents: some element (a document or array) matches the sub-filter. */
export class ElemMatchObjectPredicate implements Predicate {
  readonly leaf = 'noTraversal';

  constructor(readonly filter: MatchNode) {}

  test(v: unknown, details?: MatchDetails): boolean {
    if (!Array.isArray(v)) return false;
    for (let k = 0; k < v.length; k++) {
      const e = v[k];
      const container = Array.isArray(e) ? e : asDocument(e);
      if (container !== undefined && this.filter.matches(container)) {
        if (details) details.arrayIndex = k;
        return true;
      }
    }
    return false;
  }
}

/** $elemMatch on values: some element satisfies every operator by itself. */
export class ElemMatchValuePredicate implements Predicate {
  readonly leaf = 'noTraversal';

  constructor(readonly conditions: readonly MatchNode[]) {}

  test(v: unknown, details?: MatchDetails): boolean {
    if (!Array.isArray(v)) return false;
    outer: for (let k = 0; k < v.length; k++) {
      for (const c of this.conditions) if (!c.test(v[k])) continue outer;
      if (details) details.arrayIndex = k;
      return true;
    }
    return false;
  }
}
