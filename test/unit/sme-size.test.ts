/**
 * SME size classes (工信部联企业〔2011〕300号). The thresholds are written out
 * here from the standard, not read from the module, so a wrong number in the
 * module's table fails these tests instead of moving the expectations with it.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  SECTORS,
  SME_REASON_KEYS,
  SME_REASON_TEMPLATES,
  SME_SIZE_TABLE_2011,
  classifySme,
  type SmeSector,
  type SizeClass,
} from '../../server/domain/sme-size.js';

const wan = (n: number) => n * 1_000_000; // 万元 → fen
const yi = (n: number) => wan(n * 10_000); // 亿元 → fen

/** [employees, revenue in 万元 (null: employees only)] for ceiling, medium, small; micro = below small. */
type Pair = readonly [number, number | null];
const STANDARD: Record<SmeSector, { ceiling: Pair; medium: Pair; small: Pair }> = {
  industry: { ceiling: [1000, 40_000], medium: [300, 2_000], small: [20, 300] },
  software_it: { ceiling: [300, 10_000], medium: [100, 1_000], small: [10, 50] },
  information_transmission: { ceiling: [2000, 100_000], medium: [100, 1_000], small: [10, 100] },
  wholesale: { ceiling: [200, 40_000], medium: [20, 5_000], small: [5, 1_000] },
  retail: { ceiling: [300, 20_000], medium: [50, 500], small: [10, 100] },
  other: { ceiling: [100, null], medium: [50, null], small: [10, null] },
};

const RANK: Record<SizeClass, number> = { micro: 0, small: 1, medium: 2, not_sme: 3 };
const classOf = (sector: SmeSector, employees: number, annualRevenueFen: number) =>
  classifySme({ sector, employees, annualRevenueFen }).sizeClass;

function render(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

describe('SME size classes (2011 standard)', () => {
  it('exports the six sectors and a table matching the standard (revenue in fen)', () => {
    expect([...SECTORS]).to.deep.equal(['industry', 'software_it', 'information_transmission', 'wholesale', 'retail', 'other']);
    for (const sector of SECTORS) {
      const row = SME_SIZE_TABLE_2011[sector];
      const std = STANDARD[sector];
      for (const tier of ['ceiling', 'medium', 'small'] as const) {
        const [x, y] = std[tier];
        expect(row[tier], `${sector}.${tier}`).to.deep.equal({ employees: x, revenueFen: y === null ? null : wan(y) });
      }
      expect(row.micro, `${sector}.micro`).to.deep.equal(row.small);
    }
  });

  describe('boundaries, both sides of every threshold', () => {
    const tiers: readonly [keyof (typeof STANDARD)['industry'], SizeClass, SizeClass][] = [
      ['ceiling', 'not_sme', 'medium'],
      ['medium', 'medium', 'small'],
      ['small', 'small', 'micro'],
    ];
    for (const sector of SECTORS) {
      it(sector, () => {
        for (const [tier, atBound, oneBelow] of tiers) {
          const [x, y] = STANDARD[sector][tier];
          const yFen = y === null ? 0 : wan(y);
          const label = `${sector} ${tier} X=${x} Y=${yFen} fen`;
          // Revenue plays no part in 'other', so test it at zero there.
          expect(classOf(sector, x, yFen), `${label}: at the bound`).to.equal(atBound);
          expect(classOf(sector, x - 1, yFen), `${label}: one employee fewer`).to.equal(oneBelow);
          if (y !== null) expect(classOf(sector, x, yFen - 1), `${label}: one fen less`).to.equal(oneBelow);
        }
      });
    }
  });

  describe('worked cases', () => {
    const cases: [SmeSector, number, number, SizeClass][] = [
      ['industry', 500, yi(1), 'medium'], // SME (500 < 1000), medium (≥ 300 and ≥ 2000万)
      ['industry', 1500, yi(1), 'medium'], // SME on revenue alone, then medium
      ['industry', 5000, wan(1000), 'small'], // SME on revenue alone, too little revenue for medium
      ['industry', 50, yi(5), 'small'], // SME on headcount alone
      ['industry', 0, 0, 'micro'],
      ['software_it', 150, wan(800), 'small'], // medium headcount, small revenue
      ['software_it', 9, yi(5), 'micro'], // micro on headcount although revenue is above the ceiling
      ['information_transmission', 1999, yi(20), 'medium'],
      ['wholesale', 300, wan(1000), 'small'], // above the 200 ceiling, but revenue keeps it an SME
      ['wholesale', 4, yi(3), 'micro'],
      ['retail', 299, yi(2), 'medium'],
      ['retail', 300, yi(2), 'not_sme'],
    ];
    for (const [sector, x, y, expected] of cases) {
      it(`${sector}: ${x} employees, ${y} fen → ${expected}`, () => {
        expect(classOf(sector, x, y)).to.equal(expected);
      });
    }
  });

  describe('not_sme', () => {
    it('needs both ceilings reached (or the headcount ceiling for other)', () => {
      expect(classifySme({ sector: 'industry', employees: 1200, annualRevenueFen: yi(5) })).to.deep.equal({
        sizeClass: 'not_sme',
        reason: {
          key: 'sme.reason.not_sme',
          params: {
            employees: 1200, revenueFen: yi(5), revenueWan: '50000', revenueMillion: '500',
            employeesMin: 1000, revenueMinWan: '40000', revenueMinMillion: '400',
          },
        },
      });
      expect(classOf('information_transmission', 2000, yi(10))).to.equal('not_sme');
      expect(classOf('information_transmission', 2000, yi(10) - 1)).to.equal('medium');
      expect(classOf('other', 100, 0)).to.equal('not_sme');
    });
  });

  describe('revenue is in fen', () => {
    it('3,000,000 yuan (300 万元) is 300,000,000 fen', () => {
      expect(classOf('industry', 20, 300_000_000)).to.equal('small');
      expect(classOf('industry', 20, 299_999_999)).to.equal('micro');
      // The same amount passed in yuan by mistake is a hundred times too small.
      expect(classOf('industry', 20, 3_000_000)).to.equal('micro');
    });

    it('reports revenue exactly in 万元 and million yuan, never rounded or in exponent form', () => {
      const { reason } = classifySme({ sector: 'industry', employees: 20, annualRevenueFen: 299_999_999 });
      expect(reason.key).to.equal('sme.reason.micro_revenue');
      expect(reason.params).to.include({ revenueWan: '299.999999', revenueMillion: '2.99999999', revenueLimitWan: '300', revenueLimitMillion: '3' });
      const tiny = classifySme({ sector: 'retail', employees: 20, annualRevenueFen: 7 }).reason.params;
      expect(tiny).to.include({ revenueWan: '0.000007', revenueMillion: '0.00000007' });
      expect(classifySme({ sector: 'software_it', employees: 10, annualRevenueFen: wan(50) }).reason.params)
        .to.include({ revenueMinWan: '50', revenueMinMillion: '0.5' });
    });
  });

  describe("'other' (incl. R&D services): employees only", () => {
    it('ignores revenue entirely', () => {
      for (const revenue of [0, yi(1000)]) {
        expect(classOf('other', 99, revenue)).to.equal('medium');
        expect(classOf('other', 50, revenue)).to.equal('medium');
        expect(classOf('other', 49, revenue)).to.equal('small');
        expect(classOf('other', 10, revenue)).to.equal('small');
        expect(classOf('other', 9, revenue)).to.equal('micro');
      }
    });

    it('uses the employees-only reason keys without revenue thresholds', () => {
      expect(classifySme({ sector: 'other', employees: 60, annualRevenueFen: 0 }).reason).to.deep.equal({
        key: 'sme.reason.medium_employees_only',
        params: { employees: 60, revenueFen: 0, revenueWan: '0', revenueMillion: '0', employeesMin: 50 },
      });
      expect(classifySme({ sector: 'other', employees: 9, annualRevenueFen: 0 }).reason.key).to.equal('sme.reason.micro_employees');
      expect(classifySme({ sector: 'other', employees: 100, annualRevenueFen: 0 }).reason.key).to.equal('sme.reason.not_sme_employees_only');
    });
  });

  describe('reasons', () => {
    it('renders the micro headcount example in both languages', () => {
      const { sizeClass, reason } = classifySme({ sector: 'industry', employees: 8, annualRevenueFen: wan(1000) });
      expect(sizeClass).to.equal('micro');
      expect(reason.key).to.equal('sme.reason.micro_employees');
      expect(render(SME_REASON_TEMPLATES['zh-CN'][reason.key], reason.params)).to.equal('微型企业：从业人员 8 人，少于 20 人');
      expect(render(SME_REASON_TEMPLATES.en[reason.key], reason.params)).to.equal('Micro: 8 employees, fewer than 20');
    });

    it('names both micro bounds when both are missed', () => {
      const { reason } = classifySme({ sector: 'wholesale', employees: 3, annualRevenueFen: wan(10) });
      expect(reason.key).to.equal('sme.reason.micro_both');
      expect(render(SME_REASON_TEMPLATES.en[reason.key], reason.params))
        .to.equal('Micro: 3 employees, fewer than 5; revenue CNY 0.1 million, below CNY 10 million');
    });

    it('renders medium with both lower bounds', () => {
      const { reason } = classifySme({ sector: 'industry', employees: 500, annualRevenueFen: yi(1) });
      expect(render(SME_REASON_TEMPLATES['zh-CN'][reason.key], reason.params))
        .to.equal('中型企业：从业人员 500 人，不少于 300 人；营业收入 10000 万元，不低于 2000 万元');
    });

    it('has a template in each language for exactly the keys it uses', () => {
      for (const locale of ['zh-CN', 'en'] as const) {
        expect(Object.keys(SME_REASON_TEMPLATES[locale]).sort()).to.deep.equal([...SME_REASON_KEYS].sort());
      }
    });

    it('always supplies every placeholder its templates use', () => {
      const input = fc.record({
        sector: fc.constantFrom(...SECTORS),
        employees: fc.oneof(fc.nat(3000), fc.constantFrom(0, 5, 9, 10, 19, 20, 49, 50, 99, 100, 299, 300, 1000, 2000)),
        annualRevenueFen: fc.oneof(fc.nat(yi(20)), fc.constantFrom(0, wan(50) - 1, wan(300), wan(1000) - 1, yi(4))),
      });
      const seen = new Set<string>();
      fc.assert(fc.property(input, (i) => {
        const { reason } = classifySme(i);
        seen.add(reason.key);
        expect(SME_REASON_KEYS).to.include(reason.key);
        for (const locale of ['zh-CN', 'en'] as const) {
          const text = render(SME_REASON_TEMPLATES[locale][reason.key], reason.params);
          expect(text, `${locale} ${reason.key}`).not.to.match(/[{}]/);
        }
      }), { numRuns: 2000 });
      expect([...seen].sort()).to.deep.equal([...SME_REASON_KEYS].sort());
    });
  });

  describe('structure', () => {
    const anyFirm = fc.record({
      sector: fc.constantFrom(...SECTORS),
      employees: fc.nat(5000),
      annualRevenueFen: fc.nat(yi(20)),
    });

    it('never lowers the class when headcount or revenue grows', () => {
      fc.assert(fc.property(anyFirm, fc.nat(500), fc.nat(yi(1)), (firm, moreStaff, moreRevenue) => {
        const before = RANK[classifySme(firm).sizeClass];
        const after = RANK[classOf(firm.sector, firm.employees + moreStaff, firm.annualRevenueFen + moreRevenue)];
        expect(after).to.be.at.least(before);
      }));
    });

    it('classes a firm micro exactly when it is below either micro bound', () => {
      fc.assert(fc.property(anyFirm, ({ sector, employees, annualRevenueFen }) => {
        const [x, y] = STANDARD[sector].small;
        const belowMicro = employees < x || (y !== null && annualRevenueFen < wan(y));
        expect(classOf(sector, employees, annualRevenueFen) === 'micro').to.equal(belowMicro);
      }));
    });
  });

  describe('input validation', () => {
    const base = { sector: 'industry' as SmeSector, employees: 10, annualRevenueFen: 0 };
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      it(`rejects employees = ${bad}`, () => {
        expect(() => classifySme({ ...base, employees: bad })).to.throw(RangeError, /^employees must be a whole number ≥ 0 \(got /);
      });
      it(`rejects annualRevenueFen = ${bad}`, () => {
        expect(() => classifySme({ ...base, annualRevenueFen: bad })).to.throw(RangeError, /^annualRevenueFen must be a whole number ≥ 0 \(got /);
      });
    }

    it('rejects values that are not numbers and unknown sectors (untyped callers)', () => {
      expect(() => classifySme({ ...base, employees: '12' as unknown as number })).to.throw(RangeError, /employees/);
      expect(() => classifySme({ ...base, sector: 'mining' as SmeSector })).to.throw(RangeError, /sector must be one of .*other \(got mining\)/);
    });
  });
});
