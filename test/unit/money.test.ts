/**
 * Fen ↔ yuan text. The round trip and the "never a float" promise are
 * properties; the accepted spellings are the ones TTO clerks and SMEs use.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { fenTimesRatio, formatYuan, parseYuanToFen } from '../../server/domain/money.js';

describe('money', () => {
  describe('formatYuan', () => {
    it('prints yuan with two decimals and thousands separators', () => {
      expect(formatYuan(1_234_567)).to.equal('¥12,345.67');
      expect(formatYuan(0)).to.equal('¥0.00');
      expect(formatYuan(5)).to.equal('¥0.05');
      expect(formatYuan(100)).to.equal('¥1.00');
      expect(formatYuan(100_000_000)).to.equal('¥1,000,000.00');
      expect(formatYuan(2_000_000_000)).to.equal('¥20,000,000.00');
      expect(formatYuan(-150)).to.equal('-¥1.50');
    });

    it('refuses fractions of a fen and non-numbers instead of rounding them away', () => {
      for (const bad of [1.5, Number.NaN, Infinity, 2 ** 53]) expect(() => formatYuan(bad), String(bad)).to.throw(RangeError);
    });
  });

  describe('parseYuanToFen', () => {
    it('accepts the usual spellings', () => {
      const cases: [string, number][] = [
        ['12,345.67', 1_234_567],
        ['12345.6', 1_234_560],
        ['100', 10_000],
        ['¥100', 10_000],
        ['￥100元', 10_000],
        [' 1,000,000 ', 100_000_000],
        ['1.5万', 1_500_000],
        ['1.5 万元', 1_500_000],
        ['2000万', 2_000_000_000],
        ['0.2亿', 2_000_000_000],
        ['１２３．４５', 12_345],
        ['0', 0],
        ['0.01', 1],
        ['19.99', 1_999],
      ];
      for (const [input, fen] of cases) expect(parseYuanToFen(input), input).to.equal(fen);
    });

    it('is exact where floating point is not (0.29 × 100 = 28.999…)', () => {
      expect(parseYuanToFen('0.29')).to.equal(29);
      expect(parseYuanToFen('1.005万')).to.equal(1_005_000);
      expect(parseYuanToFen('4.35')).to.equal(435);
    });

    it('rejects more decimals than a fen, negatives, non-numbers and bad grouping', () => {
      const bad = ['', ' ', '1.234', '1.2345678万', '-1', '−1', 'NaN', 'Infinity', '1e3', '1,2345', '12,34.5', '1..2', '.5', '5.', '¥', '万', '1万亿', 'abc', '1 2'];
      for (const input of bad) expect(parseYuanToFen(input), JSON.stringify(input)).to.equal(null);
    });

    it('allows as many decimals as the unit holds fen (万: 6, 亿: 10)', () => {
      expect(parseYuanToFen('1.234567万')).to.equal(1_234_567);
      expect(parseYuanToFen('0.0000000001亿')).to.equal(1);
      expect(parseYuanToFen('0.00000000001亿')).to.equal(null);
    });

    it('rejects amounts beyond the safe integer range', () => {
      expect(parseYuanToFen('90071992547409.91')).to.equal(Number.MAX_SAFE_INTEGER);
      expect(parseYuanToFen('90071992547409.92')).to.equal(null);
      expect(parseYuanToFen('1000000000亿')).to.equal(null);
    });

    it('round-trips every amount through formatYuan', () => {
      fc.assert(fc.property(fc.maxSafeNat(), (fen) => {
        expect(parseYuanToFen(formatYuan(fen))).to.equal(fen);
      }));
    });

    it('reads yuan-and-fen text as exactly yuan × 100 + fen', () => {
      fc.assert(fc.property(fc.nat(10 ** 12), fc.nat(99), (yuan, fen) => {
        expect(parseYuanToFen(`${yuan}.${String(fen).padStart(2, '0')}`)).to.equal(yuan * 100 + fen);
      }));
    });
  });

  describe('fenTimesRatio', () => {
    it('rounds half up', () => {
      expect(fenTimesRatio(5, 1, 2)).to.equal(3); // 2.5 → 3
      expect(fenTimesRatio(3, 1, 2)).to.equal(2); // 1.5 → 2
      expect(fenTimesRatio(1, 1, 3)).to.equal(0); // 0.33 → 0
      expect(fenTimesRatio(100_000_000, 500, 10_000)).to.equal(5_000_000); // 5 % of ¥1,000,000
      expect(fenTimesRatio(12_345, 1_250, 10_000)).to.equal(1_543); // 1543.125 → 1543
      expect(fenTimesRatio(12_348, 1_250, 10_000)).to.equal(1_544); // 1543.5 → 1544
    });

    it('stays exact where the product exceeds 2^53', () => {
      expect(fenTimesRatio(9_000_000_000_000, 9_999, 10_000)).to.equal(8_999_100_000_000);
    });

    it('is the quotient, plus one when the remainder is at least half the divisor', () => {
      // Ratios up to 1 (royalty shares, months of a year), so the result stays in range.
      const ratio = fc.integer({ min: 1, max: 10_000 }).chain((d) => fc.tuple(fc.nat(d), fc.constant(d)));
      fc.assert(fc.property(fc.nat(10 ** 13), ratio, (fen, [n, d]) => {
        const product = BigInt(fen) * BigInt(n);
        const q = product / BigInt(d);
        const r = product % BigInt(d);
        expect(fenTimesRatio(fen, n, d)).to.equal(Number(2n * r >= BigInt(d) ? q + 1n : q));
      }));
    });

    it('refuses negative, fractional or zero-denominator input', () => {
      expect(() => fenTimesRatio(-1, 1, 1)).to.throw(RangeError);
      expect(() => fenTimesRatio(1.5, 1, 1)).to.throw(RangeError);
      expect(() => fenTimesRatio(1, 1, 0)).to.throw(RangeError);
    });
  });
});
