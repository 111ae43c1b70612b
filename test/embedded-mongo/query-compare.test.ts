import { expect } from 'chai';
import fc from 'fast-check';
import {
  Binary, BSONRegExp, BSONSymbol, Code, DBRef, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp,
} from 'bson';
import {
  bsonTypeCode, bsonTypeName, canonicalKey, compareValues, isNumeric, valuesEqual,
} from '../../server/embedded-mongo/query/compare.js';
import { numericKey, toExact } from '../../server/embedded-mongo/query/numeric.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const dec = (s: string): Decimal128 => Decimal128.fromString(s);

describe('query/compare: BSON order', () => {
  it('orders type brackets as MongoDB documents them', () => {
    const ascending: unknown[] = [
      new MinKey(), null, 1, 'a', { a: 1 }, [1], new Binary(Buffer.from([1])), new ObjectId('000000000000000000000001'),
      false, new Date(0), new Timestamp({ t: 1, i: 1 }), new BSONRegExp('a', ''), new Code('x'), new MaxKey(),
    ];
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        expect(sign(compareValues(ascending[i], ascending[j])), `${i} vs ${j}`).to.equal(sign(i - j));
      }
    }
  });

  it('treats missing and null as equal, and NaN as the smallest number', () => {
    expect(compareValues(undefined, null)).to.equal(0);
    expect(compareValues(Number.NaN, -Infinity)).to.equal(-1);
    expect(compareValues(Number.NaN, dec('NaN'))).to.equal(0);
    expect(compareValues(-0, 0)).to.equal(0);
    expect(compareValues(dec('-0'), 0)).to.equal(0);
  });

  it('compares numbers exactly across Int32, Double, Long, Decimal128 and bigint', () => {
    const two53 = 2 ** 53;
    expect(compareValues(Long.fromString('9007199254740993'), two53)).to.equal(1);
    expect(compareValues(Long.fromString('9007199254740993'), two53 + 2)).to.equal(-1);
    expect(compareValues(9007199254740993n, Long.fromString('9007199254740993'))).to.equal(0);
    expect(compareValues(dec('0.1'), 0.1)).to.equal(-1); // the double 0.1 is 0.1000000000000000055...
    expect(compareValues(dec('0.5'), 0.5)).to.equal(0);
    expect(compareValues(dec('1.0'), new Double(1))).to.equal(0);
    expect(compareValues(dec('1E+400'), Infinity)).to.equal(-1);
    expect(compareValues(dec('-Infinity'), -Infinity)).to.equal(0);
    expect(compareValues(new Int32(7), 7n)).to.equal(0);
    expect(compareValues(2.5, 2n)).to.equal(1);
    expect(compareValues(-2.5, -2n)).to.equal(-1);
    expect(sign(compareValues(1e300, 10n ** 300n))).to.equal(BigInt(1e300) > 10n ** 300n ? 1 : -1);
  });

  it('compares strings by code point (UTF-8 byte order), not UTF-16 units', () => {
    // U+FF5E is one UTF-16 unit above U+D83D (a surrogate), but the emoji's code point is larger.
    expect(compareValues('\uff5e', '😀')).to.equal(-1);
    expect(compareValues('😀', '\uff5e')).to.equal(1);
    expect(compareValues('a', 'ab')).to.equal(-1);
    expect(compareValues('B', 'a')).to.equal(-1);
    expect(compareValues(new BSONSymbol('abc'), 'abc')).to.equal(0);
  });

  it('compares documents field by field: type bracket, then name, then value', () => {
    expect(compareValues({ a: 1 }, { a: 'x' })).to.equal(-1); // number bracket before string
    expect(compareValues({ a: 'x' }, { b: 1 })).to.equal(1); // brackets decide before names
    expect(compareValues({ a: 1 }, { b: 1 })).to.equal(-1);
    expect(compareValues({ a: 1 }, { a: 1, b: 0 })).to.equal(-1);
    expect(compareValues({ a: 1, b: 2 }, { b: 2, a: 1 })).to.equal(-1); // field order matters
    expect(compareValues({ a: 1, x: undefined }, { a: 1 })).to.equal(0);
    expect(compareValues(new DBRef('c', 1 as never), { $ref: 'c', $id: 1 })).to.equal(0);
  });

  it('compares arrays element by element, shorter first', () => {
    expect(compareValues([1, 2], [1, 3])).to.equal(-1);
    expect(compareValues([1, 2], [1])).to.equal(1);
    expect(compareValues([1, 'a'], [1, 2])).to.equal(1);
    expect(compareValues([], [MinKey])).to.equal(-1);
  });

  it('compares BinData by length, then subtype, then bytes', () => {
    const bin = (bytes: number[], sub = 0): Binary => new Binary(Buffer.from(bytes), sub);
    expect(compareValues(bin([9]), bin([0, 0]))).to.equal(-1);
    expect(compareValues(bin([9], 0), bin([0], 4))).to.equal(-1);
    expect(compareValues(bin([1, 2]), bin([1, 3]))).to.equal(-1);
    expect(compareValues(bin([1, 2]), Buffer.from([1, 2]))).to.equal(0);
  });

  it('compares ObjectId by bytes, dates by time, timestamps by (t, i), regexes by pattern then flags', () => {
    expect(compareValues(new ObjectId('00000000000000000000000a'), new ObjectId('0000000000000000000000a0'))).to.equal(-1);
    expect(compareValues(new Date(-1), new Date(0))).to.equal(-1);
    expect(compareValues(new Timestamp({ t: 1, i: 9 }), new Timestamp({ t: 2, i: 0 }))).to.equal(-1);
    expect(compareValues(new Timestamp({ t: 0xffffffff, i: 0 }), new Timestamp({ t: 1, i: 0 }))).to.equal(1);
    expect(compareValues(new BSONRegExp('a', 'i'), new BSONRegExp('a', ''))).to.equal(1);
    expect(compareValues(/a/i, new BSONRegExp('a', 'i'))).to.equal(0);
  });

  it('valuesEqual equates every numeric representation of a value', () => {
    for (const v of [new Double(1), Long.fromNumber(1), dec('1.0'), dec('1'), 1n, new Int32(1)]) {
      expect(valuesEqual(1, v), String(v)).to.equal(true);
      expect(canonicalKey(v)).to.equal(canonicalKey(1));
    }
    expect(valuesEqual(1, '1')).to.equal(false);
  });
});

describe('query/compare: canonicalKey', () => {
  it('normalises numbers to an exact decimal', () => {
    expect(numericKey(0.5)).to.equal('5e-1');
    expect(numericKey(dec('0.500'))).to.equal('5e-1');
    expect(numericKey(dec('1.5E+3'))).to.equal('1500');
    expect(numericKey(-0)).to.equal('0');
    expect(numericKey(2 ** 60)).to.equal((2n ** 60n).toString());
    expect(canonicalKey(0.1)).not.to.equal(canonicalKey(dec('0.1')));
  });

  it('distinguishes types and structure', () => {
    const values = [null, 0, '0', false, [], {}, [0], { 0: 0 }, ['a,b'], ['a', 'b'], { a: [1] }, { a: 1 }, new MinKey(), new MaxKey()];
    const keys = new Set(values.map(canonicalKey));
    expect(keys.size).to.equal(values.length);
    expect(canonicalKey(undefined)).to.equal(canonicalKey(null));
  });
});

describe('query/compare: $type names and codes', () => {
  it('names every BSON type with its alias and code', () => {
    const cases: Array<[unknown, string, number]> = [
      [1.5, 'double', 1], [new Double(2), 'double', 1], [-0, 'double', 1], [2 ** 31, 'double', 1], ['s', 'string', 2],
      [{}, 'object', 3], [[], 'array', 4], [new Binary(Buffer.alloc(0), 4), 'binData', 5], [new ObjectId(), 'objectId', 7],
      [true, 'bool', 8], [new Date(), 'date', 9], [null, 'null', 10], [new BSONRegExp('a'), 'regex', 11], [/a/, 'regex', 11],
      [new Code('x'), 'javascript', 13], [new BSONSymbol('s'), 'symbol', 14], [new Code('x', { a: 1 }), 'javascriptWithScope', 15],
      [5, 'int', 16], [new Int32(5), 'int', 16], [new Timestamp({ t: 0, i: 0 }), 'timestamp', 17], [Long.fromNumber(5), 'long', 18],
      [5n, 'long', 18], [dec('5'), 'decimal', 19], [new MinKey(), 'minKey', -1], [new MaxKey(), 'maxKey', 127],
      [new DBRef('c', new ObjectId()), 'object', 3],
    ];
    for (const [value, name, code] of cases) {
      expect(bsonTypeName(value), name).to.equal(name);
      expect(bsonTypeCode(value), name).to.equal(code);
    }
  });

  it('recognises every numeric type', () => {
    for (const v of [1, 1.5, 1n, new Double(1), new Int32(1), Long.fromNumber(1), dec('1')]) expect(isNumeric(v)).to.equal(true);
    for (const v of ['1', null, true, new Date(0), [1]]) expect(isNumeric(v)).to.equal(false);
  });
});

// ---- property tests -------------------------------------------------------------------------

interface Rational { kind: 'nan' | 'inf' | '-inf' | 'finite'; n: bigint; d: bigint }

/** Independent oracle: the exact value of a double by doubling until integral. */
function doubleRational(x: number): Rational {
  if (Number.isNaN(x)) return { kind: 'nan', n: 0n, d: 1n };
  if (!Number.isFinite(x)) return { kind: x > 0 ? 'inf' : '-inf', n: 0n, d: 1n };
  let y = x;
  let d = 1n;
  while (!Number.isInteger(y)) {
    y *= 2;
    d *= 2n;
  }
  return { kind: 'finite', n: BigInt(y), d };
}

function rationalCompare(a: Rational, b: Rational): number {
  const rank = (r: Rational): number => ({ nan: 0, '-inf': 1, finite: 2, inf: 3 })[r.kind];
  if (rank(a) !== rank(b)) return sign(rank(a) - rank(b));
  if (a.kind !== 'finite') return 0;
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A BSON number together with its exact value computed independently of the code under test. */
const numberArb: fc.Arbitrary<{ value: unknown; exact: Rational }> = fc.oneof(
  fc.double().map((x) => ({ value: x, exact: doubleRational(x) })),
  fc.integer({ min: -2147483648, max: 2147483647 }).map((x) => ({ value: new Int32(x), exact: doubleRational(x) })),
  fc.integer({ min: -1e6, max: 1e6 }).map((x) => ({ value: new Double(x), exact: doubleRational(x) })),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map((n) => ({ value: Long.fromBigInt(n), exact: { kind: 'finite' as const, n, d: 1n } })),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => ({ value: n, exact: { kind: 'finite' as const, n, d: 1n } })),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 63, 0.1, 1e-320).map((x) => ({ value: x, exact: doubleRational(x) })),
  fc.constantFrom(2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 53n) - 1n).map((n) => ({ value: Long.fromBigInt(n), exact: { kind: 'finite' as const, n, d: 1n } })),
  fc.tuple(fc.bigInt({ min: -(10n ** 34n) + 1n, max: 10n ** 34n - 1n }), fc.integer({ min: -30, max: 30 })).map(([c, e]) => ({
    value: dec(`${c}E${e}`),
    exact: e >= 0 ? { kind: 'finite' as const, n: c * 10n ** BigInt(e), d: 1n } : { kind: 'finite' as const, n: c, d: 10n ** BigInt(-e) },
  })),
  fc.constantFrom('NaN', 'Infinity', '-Infinity').map((s) => ({
    value: dec(s), exact: { kind: s === 'NaN' ? 'nan' as const : s === 'Infinity' ? 'inf' as const : '-inf' as const, n: 0n, d: 1n },
  })),
);

/** The same number in another representation, when that representation is exact. */
function reencode(v: unknown): unknown {
  const exact = toExact(v);
  if (exact.kind !== 'finite') return v;
  if (exact.d === 1n && exact.n >= INT64_MIN && exact.n <= INT64_MAX) return Long.fromBigInt(exact.n);
  const asDouble = Number(exact.n) / Number(exact.d);
  if (compareValues(asDouble, v) === 0) return new Double(asDouble);
  return v;
}

const scalarArb: fc.Arbitrary<unknown> = fc.oneof(
  numberArb.map((x) => x.value),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', 'a', 'B', '\uff5e', '😀'),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(new MinKey(), new MaxKey()),
  fc.integer({ min: -1e12, max: 1e12 }).map((t) => new Date(t)),
  fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => new ObjectId(Buffer.from(b))),
  fc.tuple(fc.uint8Array({ maxLength: 4 }), fc.constantFrom(0, 4, 5)).map(([b, s]) => new Binary(Buffer.from(b), s)),
  fc.tuple(fc.nat(), fc.nat()).map(([t, i]) => new Timestamp({ t, i })),
  fc.tuple(fc.constantFrom('a', 'b', '^x'), fc.constantFrom('', 'i', 'im')).map(([p, f]) => new BSONRegExp(p, f)),
);

const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

function deepReencode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepReencode);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepReencode(x)]));
  }
  return isNumeric(v) ? reencode(v) : v;
}

describe('query/compare: properties', () => {
  it('numeric comparison across all types agrees with exact rational comparison', () => {
    fc.assert(fc.property(numberArb, numberArb, (a, b) => {
      expect(sign(compareValues(a.value, b.value))).to.equal(rationalCompare(a.exact, b.exact));
    }), { numRuns: 3000 });
  });

  it('compareValues is reflexive and antisymmetric', () => {
    fc.assert(fc.property(valueArb, valueArb, (a, b) => {
      expect(compareValues(a, a)).to.equal(0);
      expect(sign(compareValues(a, b))).to.equal(-sign(compareValues(b, a)));
    }), { numRuns: 2000 });
  });

  it('compareValues is transitive: a sorted list is ordered pairwise', () => {
    fc.assert(fc.property(fc.array(valueArb, { minLength: 3, maxLength: 12 }), (values) => {
      const sorted = [...values].sort(compareValues);
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++) expect(compareValues(sorted[i], sorted[j])).to.be.at.most(0);
      }
    }), { numRuns: 500 });
  });

  it('canonicalKey agrees with valuesEqual', () => {
    fc.assert(fc.property(valueArb, valueArb, (a, b) => {
      expect(canonicalKey(a) === canonicalKey(b)).to.equal(valuesEqual(a, b));
    }), { numRuns: 2000 });
    fc.assert(fc.property(valueArb, (a) => {
      const b = deepReencode(a);
      expect(valuesEqual(a, b)).to.equal(true);
      expect(canonicalKey(b)).to.equal(canonicalKey(a));
    }), { numRuns: 1000 });
  });
});
