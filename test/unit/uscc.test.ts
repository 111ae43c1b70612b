/**
 * The USCC validator against real codes, each failure kind, and the property
 * that makes the check character worth having: 31 is prime and no weight is
 * 0 mod 31, so every single-character substitution changes the sum mod 31.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { USCC_ALPHABET, usccCheckCharacter, validateUscc } from '../../server/domain/uscc.js';

// Written out from GB 32100 rather than derived, so a wrong weight formula in the module is caught.
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

function referenceCheck(body: string): string {
  const sum = [...body].reduce((s, c, i) => s + USCC_ALPHABET.indexOf(c) * WEIGHTS[i]!, 0);
  const r = 31 - (sum % 31);
  return USCC_ALPHABET[r === 31 ? 0 : r]!;
}

const alphabetChar = fc.constantFrom(...USCC_ALPHABET);
const digit = fc.constantFrom(...'0123456789');
/** A 17-character body that validateUscc accepts once checked: positions 3–8 digits. */
const validBody = fc
  .tuple(fc.array(alphabetChar, { minLength: 2, maxLength: 2 }), fc.array(digit, { minLength: 6, maxLength: 6 }),
    fc.array(alphabetChar, { minLength: 9, maxLength: 9 }))
  .map(([a, b, c]) => [...a, ...b, ...c].join(''));

describe('USCC (GB 32100-2015)', () => {
  describe('usccCheckCharacter', () => {
    it('computes the check characters of real codes', () => {
      expect(usccCheckCharacter('91350100M000100Y4')).to.equal('3');
      expect(usccCheckCharacter('91110000600037341')).to.equal('L');
    });

    it('maps a remainder of 0 to "0", not to a 32nd character', () => {
      expect(usccCheckCharacter('00000000000000000')).to.equal('0');
      expect(validateUscc('000000000000000000')).to.deep.equal({ ok: true, value: '000000000000000000' });
    });

    it('accepts lower case and surrounding spaces like validateUscc does', () => {
      expect(usccCheckCharacter(' 91350100m000100y4 ')).to.equal('3');
    });

    it('rejects anything but 17 alphabet characters with a RangeError', () => {
      expect(() => usccCheckCharacter('9135010')).to.throw(RangeError, /exactly 17 characters, got 7/);
      expect(() => usccCheckCharacter('91350100M000100Y43')).to.throw(RangeError, /got 18/);
      expect(() => usccCheckCharacter('91350100M0001I0Y4')).to.throw(RangeError, /"I" at position 14/);
    });

    it('agrees with the weights written out in the standard', () => {
      fc.assert(fc.property(fc.array(alphabetChar, { minLength: 17, maxLength: 17 }), (chars) => {
        const body = chars.join('');
        expect(usccCheckCharacter(body)).to.equal(referenceCheck(body));
      }));
    });
  });

  describe('validateUscc', () => {
    it('accepts real codes and returns the normalised value', () => {
      expect(validateUscc('91350100M000100Y43')).to.deep.equal({ ok: true, value: '91350100M000100Y43' });
      expect(validateUscc('91110000600037341L')).to.deep.equal({ ok: true, value: '91110000600037341L' });
      expect(validateUscc('  91350100m000100y43\n')).to.deep.equal({ ok: true, value: '91350100M000100Y43' });
    });

    it('reports a wrong length', () => {
      for (const input of ['', '   ', '91350100M000100Y4', '91350100M000100Y433', '9135 0100M000100Y43']) {
        expect(validateUscc(input), JSON.stringify(input)).to.deep.equal({ ok: false, reason: 'length' });
      }
    });

    it('reports each excluded letter (I, O, Z, S, V) with its 1-based position', () => {
      const valid = '91350100M000100Y43';
      for (const [i, bad] of [[0, 'I'], [1, 'O'], [9, 'Z'], [15, 'S'], [16, 'V']] as const) {
        const input = valid.slice(0, i) + bad + valid.slice(i + 1);
        expect(validateUscc(input), input).to.deep.equal({ ok: false, reason: 'charset', position: i + 1 });
      }
    });

    it('reports the first bad character when there are several', () => {
      expect(validateUscc('91350100M0O01-0Y43')).to.deep.equal({ ok: false, reason: 'charset', position: 11 });
    });

    it('reports a bad check character position (18) as charset', () => {
      expect(validateUscc('91350100M000100Y4I')).to.deep.equal({ ok: false, reason: 'charset', position: 18 });
    });

    it('requires digits in the administrative-division code (positions 3–8)', () => {
      expect(validateUscc('91A50100M000100Y43')).to.deep.equal({ ok: false, reason: 'charset', position: 3 });
      expect(validateUscc('9135010YM000100Y43')).to.deep.equal({ ok: false, reason: 'charset', position: 8 });
      // Letters are fine right outside that range.
      const body = 'Y1350100M000100Y4';
      expect(validateUscc(body + usccCheckCharacter(body)).ok).to.equal(true);
    });

    it('counts positions by character as the user sees them (astral characters, ß)', () => {
      expect(validateUscc('91350100M000100Y4😀')).to.deep.equal({ ok: false, reason: 'charset', position: 18 });
      // 'ß'.toUpperCase() is 'SS': upper-casing it would shift position 12 and change the length.
      expect(validateUscc('91350100M00ß100Y43')).to.deep.equal({ ok: false, reason: 'charset', position: 12 });
    });

    it('reports a checksum mismatch with the expected check character', () => {
      expect(validateUscc('91350100M000100Y44')).to.deep.equal({ ok: false, reason: 'checksum', expected: '3' });
      expect(validateUscc('91110000600037341M')).to.deep.equal({ ok: false, reason: 'checksum', expected: 'L' });
      // Mistyped body character: the expected character is recomputed from the body as typed.
      const typo = '91350100M000101Y4';
      expect(validateUscc(typo + '3')).to.deep.equal({ ok: false, reason: 'checksum', expected: referenceCheck(typo) });
    });

    it('accepts every body once its check character is appended', () => {
      fc.assert(fc.property(validBody, (body) => {
        const code = body + usccCheckCharacter(body);
        expect(validateUscc(code)).to.deep.equal({ ok: true, value: code });
      }));
    });

    it('rejects every single-character substitution', () => {
      const substitution = fc.tuple(validBody, fc.nat(17), fc.integer({ min: 1, max: 30 }));
      fc.assert(fc.property(substitution, ([body, index, shift]) => {
        const code = body + usccCheckCharacter(body);
        const replacement = USCC_ALPHABET[(USCC_ALPHABET.indexOf(code[index]!) + shift) % 31]!;
        const mutated = code.slice(0, index) + replacement + code.slice(index + 1);
        const result = validateUscc(mutated);
        expect(result.ok, mutated).to.equal(false);
        const inDivision = index >= 2 && index <= 7;
        if (inDivision && !/\d/.test(replacement)) {
          expect(result).to.deep.equal({ ok: false, reason: 'charset', position: index + 1 });
        } else {
          expect(result).to.include({ reason: 'checksum' });
        }
      }), { numRuns: 500 });
    });
  });
});
