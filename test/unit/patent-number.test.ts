/**
 * Chinese patent application numbers. The check examples are real numbers or
 * worked in reference/domain.md §5 and in public descriptions of the format;
 * the weights are written out here, not read from the module.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { checkCharacter, parseApplicationNumber, PATENT_NUMBER_KEYS } from '../../server/domain/patent-number.js';

const NOW = new Date('2026-03-01T04:00:00Z');
const parse = (s: string) => parseApplicationNumber(s, NOW);

/** Weights as printed in descriptions of the standard: 2..9, then 2, 3, 4, 5 again. */
const WEIGHTS_12 = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
function referenceCheck(digits: string): string {
  const sum = [...digits].reduce((s, d, i) => s + Number(d) * WEIGHTS_12[i]!, 0);
  return sum % 11 === 10 ? 'X' : String(sum % 11);
}

const digit = fc.constantFrom(...'0123456789');
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((a) => a.join(''));
const typeDigit = fc.constantFrom('1', '2', '3', '8', '9');
const modernDigits = fc.tuple(fc.integer({ min: 2003, max: 2026 }), typeDigit, digits(7)).map(([y, t, s]) => `${y}${t}${s}`);
const legacyYear = fc.constantFrom('89', '90', '95', '99', '00', '01', '02', '03');
const legacyDigits = fc.tuple(legacyYear, typeDigit, digits(5)).map(([y, t, s]) => `${y}${t}${s}`);

describe('patent application numbers', () => {
  describe('checkCharacter', () => {
    it('computes the known check characters', () => {
      expect(checkCharacter('202110123456')).to.equal('7');
      expect(checkCharacter('202311000005')).to.equal('X');
      expect(checkCharacter('201710601862')).to.equal('3');
      expect(checkCharacter('88100001')).to.equal('9');
      expect(checkCharacter('97101765')).to.equal('4');
      expect(checkCharacter('95115608')).to.equal('X');
      expect(checkCharacter('88201465')).to.equal('X');
    });

    it('agrees with the written-out weights', () => {
      fc.assert(fc.property(fc.oneof(digits(12), digits(8)), (d) => {
        expect(checkCharacter(d)).to.equal(referenceCheck(d));
      }));
    });

    it('refuses anything but ASCII digits', () => {
      expect(() => checkCharacter('')).to.throw(RangeError);
      expect(() => checkCharacter('2021101234５6')).to.throw(RangeError);
      expect(() => checkCharacter('20211012345X')).to.throw(RangeError);
    });
  });

  describe('parseApplicationNumber: accepted', () => {
    it('parses modern numbers with type, year, PCT flag and display form', () => {
      expect(parse('202110123456.7')).to.deep.equal({
        ok: true, normalized: '202110123456.7', display: '2021 1 0123456.7', type: 'invention', year: 2021, pct: false,
      });
      expect(parse('202311000005.X')).to.include({ ok: true, normalized: '202311000005.X' });
      const types: [string, string, boolean][] = [['1', 'invention', false], ['2', 'utility_model', false], ['3', 'design', false],
        ['8', 'invention', true], ['9', 'utility_model', true]];
      for (const [t, type, pct] of types) {
        const d = `2022${t}0000123`;
        expect(parse(`${d}.${referenceCheck(d)}`), t).to.include({ ok: true, type, pct, year: 2022 });
      }
    });

    it('parses legacy 8-digit numbers, with the check digit optional only before 1989', () => {
      expect(parse('97101765.4')).to.deep.equal({
        ok: true, normalized: '97101765.4', display: '97 1 01765.4', type: 'invention', year: 1997, pct: false,
      });
      expect(parse('ZL95115608.X')).to.include({ ok: true, normalized: '95115608.X', year: 1995 });
      expect(parse('88201465.X')).to.include({ ok: true, type: 'utility_model', year: 1988 });
      expect(parse('88100001')).to.include({ ok: true, normalized: '88100001.9', year: 1988 });
      expect(parse('02300001.' + referenceCheck('02300001'))).to.include({ ok: true, type: 'design', year: 2002 });
    });

    it('ignores prefixes, spaces, full-width forms, 。 and lower-case x', () => {
      for (const input of ['ZL 2021 1 0123456.7', 'CN202110123456.7', 'zl202110123456.7', ' 2021 1 0123456 . 7 ',
        '２０２１１０１２３４５６．７', 'ＺＬ２０２１１０１２３４５６。７', '2021\u30001\u30000123456.7', '2021101234567']) {
        expect(parse(input), input).to.include({ ok: true, normalized: '202110123456.7' });
      }
      expect(parse('CN 2023 1 1000005.x')).to.include({ ok: true, normalized: '202311000005.X' });
      expect(parse('202311000005X')).to.include({ ok: true, normalized: '202311000005.X' });
    });

    it('accepts every well-formed number with its computed check character', () => {
      fc.assert(fc.property(fc.oneof(modernDigits, legacyDigits), (d) => {
        const result = parse(`${d}.${checkCharacter(d)}`);
        expect(result, d).to.include({ ok: true, normalized: `${d}.${checkCharacter(d)}` });
      }));
    });
  });

  describe('parseApplicationNumber: problems', () => {
    it('empty input', () => {
      expect(parse('  ')).to.deep.equal({ ok: false, key: 'patent.number.empty', params: {} });
    });

    it('a character that is not a digit, with its position as typed', () => {
      expect(parse('2021-10123456.7')).to.deep.equal({ ok: false, key: 'patent.number.invalid_character', params: { position: 5, char: '-' } });
      expect(parse('ZL 2021 1 O123456.7')).to.deep.include({ key: 'patent.number.invalid_character', params: { position: 11, char: 'O' } });
      expect(parse('2021X0123456.7')).to.deep.include({ params: { position: 5, char: 'X' } });
      expect(parse('202110123456.A')).to.deep.include({ params: { position: 14, char: 'A' } });
      expect(parse('US202110123456.7')).to.deep.include({ params: { position: 1, char: 'U' } });
    });

    it('a second dot', () => {
      expect(parse('2021.10123456.7')).to.deep.equal({ ok: false, key: 'patent.number.multiple_dots', params: { position: 14 } });
    });

    it('the wrong number of digits (12 or 8 expected)', () => {
      expect(parse('20211012345.6')).to.deep.equal({ ok: false, key: 'patent.number.length', params: { count: 11 } });
      expect(parse('2021101234561.7')).to.deep.include({ params: { count: 13 } });
      expect(parse('8910322')).to.deep.include({ params: { count: 7 } });
      // 13 digits whose last is not the check character of the first 12: a length problem, not a guess.
      expect(parse('2021101234568')).to.deep.include({ key: 'patent.number.length', params: { count: 13 } });
    });

    it('more than one character after the dot', () => {
      expect(parse('202110123456.77')).to.deep.equal({ ok: false, key: 'patent.number.check_length', params: { count: 2 } });
    });

    it('a year in the future or before the format existed', () => {
      const future = '202710123456';
      expect(parse(`${future}.${referenceCheck(future)}`)).to.deep.equal({ ok: false, key: 'patent.number.year_future', params: { year: 2027, currentYear: 2026 } });
      expect(parse('198410123456.1')).to.deep.equal({ ok: false, key: 'patent.number.year_before_1985', params: { year: 1984 } });
      expect(parse('199810123456.1')).to.deep.equal({ ok: false, key: 'patent.number.year_before_2003', params: { year: 1998, yy: '98' } });
      expect(parse('50100001.1')).to.deep.equal({ ok: false, key: 'patent.number.legacy_year', params: { yy: '50' } });
      expect(parse('04100001.1')).to.deep.include({ key: 'patent.number.legacy_year' });
    });

    it('counts "this year" in Beijing time', () => {
      const d = '202710123456';
      const newYearsEveUtc = new Date('2026-12-31T16:30:00Z'); // already 2027-01-01 in Beijing
      expect(parseApplicationNumber(`${d}.${referenceCheck(d)}`, newYearsEveUtc)).to.include({ ok: true, year: 2027 });
    });

    it('an unknown type digit (5th of 12, 3rd of 8)', () => {
      expect(parse('202150123456.1')).to.deep.equal({ ok: false, key: 'patent.number.type_digit', params: { position: 5, digit: '5' } });
      expect(parse('97401765.4')).to.deep.equal({ ok: false, key: 'patent.number.type_digit', params: { position: 3, digit: '4' } });
    });

    it('a missing check character, saying what it should be', () => {
      expect(parse('202110123456')).to.deep.equal({ ok: false, key: 'patent.number.check_missing', params: { expected: '7', normalized: '202110123456.7' } });
      expect(parse('ZL 2021 1 0123456.')).to.deep.include({ key: 'patent.number.check_missing' });
      expect(parse('97101765')).to.deep.include({ key: 'patent.number.check_missing', params: { expected: '4', normalized: '97101765.4' } });
    });

    it('a wrong check character: what was typed, what the digits imply, where it is', () => {
      expect(parse('202110123456.8')).to.deep.equal({ ok: false, key: 'patent.number.check_digit', params: { typed: '8', expected: '7', position: 14 } });
      expect(parse('202311000005.0')).to.deep.include({ params: { typed: '0', expected: 'X', position: 14 } });
      // A mistyped digit earlier is reported the same way: the check character no longer matches.
      expect(parse('202110123465.7')).to.deep.include({ key: 'patent.number.check_digit', params: { typed: '7', expected: referenceCheck('202110123465'), position: 14 } });
      expect(parse('88100001.8')).to.deep.include({ key: 'patent.number.check_digit' });
    });

    it('rejects every single-digit substitution', () => {
      const change = fc.tuple(fc.oneof(modernDigits, legacyDigits), fc.nat(11), fc.integer({ min: 1, max: 9 }));
      fc.assert(fc.property(change, ([d, i, shift]) => {
        const at = i % d.length;
        const mutated = d.slice(0, at) + String((Number(d[at]) + shift) % 10) + d.slice(at + 1);
        expect(parse(`${mutated}.${checkCharacter(d)}`).ok, mutated).to.equal(false);
      }), { numRuns: 500 });
    });

    it('rejects every swap of two adjacent different digits', () => {
      fc.assert(fc.property(fc.oneof(modernDigits, legacyDigits), fc.nat(10), (d, i) => {
        const at = i % (d.length - 1);
        fc.pre(d[at] !== d[at + 1]);
        const swapped = d.slice(0, at) + d[at + 1] + d[at] + d.slice(at + 2);
        expect(parse(`${swapped}.${checkCharacter(d)}`).ok, swapped).to.equal(false);
      }), { numRuns: 500 });
    });

    it('only returns declared keys', () => {
      fc.assert(fc.property(fc.string({ maxLength: 20 }), (s) => {
        const r = parse(s);
        if (!r.ok) expect(PATENT_NUMBER_KEYS).to.include(r.key);
      }));
    });
  });
});
