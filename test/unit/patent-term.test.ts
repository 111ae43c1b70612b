/**
 * Patent terms (Patent Law Art. 42) and the month arithmetic behind licence
 * terms. Calendar dates are UTC midnight of the Beijing date.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  addMonths,
  beijingDate,
  computeExpiry,
  formatCalendarDate,
  latestTermMonths,
  monthsUntil,
  termYears,
} from '../../server/domain/patent-term.js';

const d = (iso: string) => new Date(iso);
const day = (date: Date) => formatCalendarDate(date);

describe('patent terms', () => {
  describe('computeExpiry', () => {
    it('ends the day before the anniversary: invention 20 y, utility model 10 y', () => {
      expect(day(computeExpiry(d('2021-01-05'), 'invention'))).to.equal('2041-01-04');
      expect(day(computeExpiry(d('2021-01-05'), 'utility_model'))).to.equal('2031-01-04');
      expect(day(computeExpiry(d('2020-01-01'), 'invention'))).to.equal('2039-12-31');
    });

    it('gives designs 15 years from 1 June 2021 and 10 years before', () => {
      expect(day(computeExpiry(d('2021-06-01'), 'design'))).to.equal('2036-05-31');
      expect(day(computeExpiry(d('2021-05-31'), 'design'))).to.equal('2031-05-30');
      expect(termYears('design', d('2021-05-31'))).to.equal(10);
      expect(termYears('design', d('2021-06-01'))).to.equal(15);
    });

    it('handles 29 February filings', () => {
      // 2040 is a leap year: the anniversary exists.
      expect(day(computeExpiry(d('2020-02-29'), 'invention'))).to.equal('2040-02-28');
      // 2030 and 2035 are not: the term still runs the full years, through 28 February.
      expect(day(computeExpiry(d('2020-02-29'), 'utility_model'))).to.equal('2030-02-28');
      expect(day(computeExpiry(d('2024-02-29'), 'design'))).to.equal('2039-02-28');
      // 2100 is not a leap year either (divisible by 100, not by 400).
      expect(day(computeExpiry(d('2080-02-29'), 'invention'))).to.equal('2100-02-28');
      // Filed 1 March: the day before the anniversary is the last day of February.
      expect(day(computeExpiry(d('2020-03-01'), 'invention'))).to.equal('2040-02-29');
    });

    it('always returns a calendar date one day short of the full years', () => {
      const filing = fc.date({ min: d('1985-04-01'), max: d('2099-12-31'), noInvalidDate: true })
        .map((t) => new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate())));
      const type = fc.constantFrom('invention', 'utility_model', 'design' as const);
      fc.assert(fc.property(filing, type, (f, t) => {
        const expiry = computeExpiry(f, t);
        expect(expiry.getTime() % 86_400_000).to.equal(0);
        const years = termYears(t, f);
        expect(expiry.getUTCFullYear() - f.getUTCFullYear()).to.be.oneOf([years, years - 1]);
        // The next day is the anniversary (or 1 March for a 29 February filing).
        const next = new Date(expiry.getTime() + 86_400_000);
        expect(monthsUntil(f, next)).to.equal(years * 12);
        const leapDay = f.getUTCMonth() === 1 && f.getUTCDate() === 29;
        // (29 Feb + N years clamps to 28 Feb, which is the expiry day itself when the anniversary is missing.)
        if (!leapDay || next.getUTCMonth() === 1) expect(monthsUntil(f, expiry)).to.equal(years * 12 - 1);
      }));
    });

    it('refuses a clock time instead of silently shifting a day', () => {
      expect(() => computeExpiry(d('2021-01-05T08:00:00+08:00'), 'invention')).to.not.throw();
      expect(() => computeExpiry(d('2021-01-05T09:00:00+08:00'), 'invention')).to.throw(RangeError, /UTC midnight/);
      expect(() => computeExpiry(new Date(Number.NaN), 'invention')).to.throw(RangeError);
      expect(() => computeExpiry(d('2021-01-05'), 'trademark' as never)).to.throw(RangeError, /unknown patent type/);
    });
  });

  describe('beijingDate', () => {
    it('takes the calendar date in UTC+8', () => {
      expect(day(beijingDate(d('2024-06-30T15:59:59Z')))).to.equal('2024-06-30');
      expect(day(beijingDate(d('2024-06-30T16:00:00Z')))).to.equal('2024-07-01');
      expect(beijingDate(d('2024-06-30T16:00:00Z')).toISOString()).to.equal('2024-07-01T00:00:00.000Z');
      expect(day(beijingDate(d('1969-12-31T20:00:00Z')))).to.equal('1970-01-01');
    });
  });

  describe('addMonths / monthsUntil', () => {
    it('clamps to the end of a shorter month (民法典 Art. 202)', () => {
      expect(day(addMonths(d('2024-01-31'), 1))).to.equal('2024-02-29');
      expect(day(addMonths(d('2023-01-31'), 1))).to.equal('2023-02-28');
      expect(day(addMonths(d('2024-03-31'), -1))).to.equal('2024-02-29');
      expect(day(addMonths(d('2024-11-30'), 3))).to.equal('2025-02-28');
      expect(day(addMonths(d('2024-05-15'), 12))).to.equal('2025-05-15');
    });

    it('counts whole months', () => {
      expect(monthsUntil(d('2024-01-05'), d('2025-01-05'))).to.equal(12);
      expect(monthsUntil(d('2024-01-05'), d('2025-01-04'))).to.equal(11);
      expect(monthsUntil(d('2024-01-31'), d('2024-02-29'))).to.equal(1);
      expect(monthsUntil(d('2024-01-31'), d('2024-02-28'))).to.equal(0);
      expect(monthsUntil(d('2024-03-10'), d('2024-03-10'))).to.equal(0);
      expect(monthsUntil(d('2024-03-10'), d('2024-02-10'))).to.equal(-1);
      expect(monthsUntil(d('2024-03-10'), d('2024-02-11'))).to.equal(-1);
    });

    it('is the largest m with addMonths(from, m) ≤ to', () => {
      const date = fc.date({ min: d('2000-01-01'), max: d('2100-01-01'), noInvalidDate: true });
      fc.assert(fc.property(date, date, (from, to) => {
        const m = monthsUntil(from, to);
        expect(addMonths(from, m).getTime()).to.be.at.most(to.getTime());
        expect(addMonths(from, m + 1).getTime()).to.be.greaterThan(to.getTime());
      }));
    });
  });

  describe('latestTermMonths', () => {
    it('lets a term run through the expiry date itself', () => {
      const expiry = d('2041-01-04');
      expect(latestTermMonths(expiry, d('2040-01-05T02:00:00Z'))).to.equal(12);
      expect(latestTermMonths(expiry, d('2040-01-06T02:00:00Z'))).to.equal(11);
      // 23:30 on 4 January in Beijing is still the 4th there: 12 months + 1 day left.
      expect(latestTermMonths(expiry, d('2040-01-04T15:30:00Z'))).to.equal(12);
      expect(latestTermMonths(expiry, d('2041-01-05T02:00:00Z'))).to.equal(0);
    });
  });
});
