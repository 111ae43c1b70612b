import { expect } from 'chai';
import fc from 'fast-check';
import { Decimal128, Double, Long } from 'bson';
import { ErrorCodes } from '../../server/embedded-mongo/errors.js';
import { bsonTypeName, valuesEqual } from '../../server/embedded-mongo/query/compare.js';
import { expectSameDoc, fails, run } from './query-update-helpers.js';

const dec = (s: string) => Decimal128.fromString(s);
const inc = (current: unknown, by: unknown) => run({ _id: 1, v: current }, { $inc: { v: by } }).doc.v;
const mul = (current: unknown, by: unknown) => run({ _id: 1, v: current }, { $mul: { v: by } }).doc.v;

describe('update engine: numeric types', () => {
  it('int32 op int32 stays int32', () => {
    expectSameDoc(inc(1, 2), 3);
    expectSameDoc(mul(-4, 5), -20);
    expect(bsonTypeName(inc(-5, 5))).to.equal('int');
  });

  it('int32 overflow widens to Long instead of losing precision', () => {
    expectSameDoc(inc(2147483647, 1), Long.fromString('2147483648'));
    expectSameDoc(inc(-2147483648, -1), Long.fromString('-2147483649'));
    expectSameDoc(mul(65536, 65536), Long.fromString('4294967296'));
    expectSameDoc(mul(2147483647, 2147483647), Long.fromString('4611686014132420609'));
  });

  it('anything with Long is Long, exactly', () => {
    expectSameDoc(inc(Long.fromString('9007199254740993'), 2), Long.fromString('9007199254740995'));
    expectSameDoc(inc(1, Long.fromNumber(1)), Long.fromNumber(2));
    expectSameDoc(mul(Long.fromString('3037000499'), Long.fromString('3037000499')), Long.fromString('9223372030926249001'));
  });

  it('Long overflow is an error, not a wrap', () => {
    fails({ _id: 1, v: Long.MAX_VALUE }, { $inc: { v: 1 } }, ErrorCodes.BadValue,
      'Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}');
    fails({ _id: 'x', v: Long.fromString('4611686018427387904') }, { $mul: { v: 2 } }, ErrorCodes.BadValue,
      'Failed to apply $mul operations to current value ((NumberLong)4611686018427387904) for document {_id: "x"}');
    fails({ _id: 1, v: Long.MIN_VALUE }, { $inc: { v: Long.fromNumber(-1) } }, ErrorCodes.BadValue);
  });

  it('anything with a double is a Double, even when integral', () => {
    const two = inc(1, new Double(1));
    expect(two).to.be.instanceOf(Double);
    expect((two as Double).value).to.equal(2);
    expectSameDoc(inc(new Double(2), 1), new Double(3));
    expectSameDoc(inc(1.5, 1.5), new Double(3));
    expectSameDoc(inc(0.1, 0.2), 0.1 + 0.2);
    expectSameDoc(mul(Long.fromNumber(3), 0.5), 1.5);
    expectSameDoc(mul(-2.5, 0), new Double(-0));
  });

  it('Decimal128 arithmetic is exact', () => {
    expect(inc(dec('0.1'), dec('0.2')).toString()).to.equal('0.3');
    expect(inc(dec('1.10'), dec('2.205')).toString()).to.equal('3.305');
    expect(inc(dec('-1.5'), dec('1.5')).toString()).to.equal('0.0');
    expect(mul(dec('10.99'), dec('1.25')).toString()).to.equal('13.7375');
    expect(mul(dec('-0.5'), dec('0.5')).toString()).to.equal('-0.25');
    expect(inc(dec('1E+3'), dec('1')).toString()).to.equal('1001');
  });

  it('mixes other numbers into Decimal128 as MongoDB does', () => {
    expect(inc(dec('1.5'), 1).toString()).to.equal('2.5');
    expect(inc(Long.fromString('9223372036854775807'), dec('1')).toString()).to.equal('9223372036854775808');
    // A double is first rounded to 15 significant digits, so 0.1 adds exactly one tenth.
    expect(inc(dec('1'), 0.1).toString()).to.equal('1.100000000000000');
    expect(mul(new Double(2), dec('1.5')).toString()).to.equal('3.000000000000000');
  });

  it('rounds Decimal128 results to 34 significant digits, half to even', () => {
    expect(inc(dec('1'), dec('1E-40')).toString()).to.equal('1.000000000000000000000000000000000');
    expect(inc(dec('1'), dec('5E-34')).toString()).to.equal('1.000000000000000000000000000000000');
    expect(inc(dec('1'), dec('1.5E-33')).toString()).to.equal('1.000000000000000000000000000000002');
    expect(mul(dec('9999999999999999999999999999999999'), dec('10')).toString()).to.equal('9.999999999999999999999999999999999E+34');
    expect(inc(dec('9.999999999999999999999999999999999E+6144'), dec('1E+6144')).toString()).to.equal('Infinity');
  });

  it('handles Decimal128 special values', () => {
    expect(inc(dec('Infinity'), dec('1')).toString()).to.equal('Infinity');
    expect(inc(dec('Infinity'), dec('-Infinity')).toString()).to.equal('NaN');
    expect(mul(dec('Infinity'), dec('0')).toString()).to.equal('NaN');
    expect(inc(dec('NaN'), 1).toString()).to.equal('NaN');
  });

  it('property: int32 $inc gives the exact sum, as int32 when it fits and Long otherwise', () => {
    fc.assert(fc.property(fc.integer(), fc.integer(), (a, b) => {
      const result = inc(a, b);
      const exact = BigInt(a) + BigInt(b);
      if (exact >= -2147483648n && exact <= 2147483647n) return result === Number(exact);
      return result instanceof Long && result.toBigInt() === exact;
    }));
  });

  it('property: Decimal128 $inc equals exact decimal addition', () => {
    const decimal = fc.record({ coefficient: fc.bigInt(-(10n ** 16n), 10n ** 16n), exponent: fc.integer({ min: -10, max: 5 }) });
    fc.assert(fc.property(decimal, decimal, (x, y) => {
      const a = dec(`${x.coefficient}E${x.exponent}`);
      const b = dec(`${y.coefficient}E${y.exponent}`);
      const scaled = (d: typeof x) => d.coefficient * 10n ** BigInt(d.exponent + 10);
      const expected = dec(`${scaled(x) + scaled(y)}E-10`);
      const result = inc(a, b) as Decimal128;
      return result instanceof Decimal128 && valuesEqual(result, expected);
    }));
  });
});
