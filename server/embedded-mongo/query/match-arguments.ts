/**
 * Validation and parsing of query-operator arguments, with the server's
 * error messages (matcher/expression_parser.cpp), so that a malformed filter
 * fails the way it would against MongoDB instead of matching something.
 */
import { isPlainObject, type Document } from '../bson-values.js';
import { badValue, ErrorCodes, MongoError } from '../errors.js';
import { binaryParts, canonicalType, CanonicalType, isNumeric, regexParts, TYPE_CODES } from './compare.js';
import { BitsPredicate, InPredicate, ModPredicate, RegexPredicate, toInt64, type BitTest } from './match-predicates.js';
import { toBigIntIfIntegral, toJsNumber } from './numeric.js';
import { compileRegex } from './regex.js';

/** A regular expression value (BSON regex or JS RegExp). */
export function isRegexValue(v: unknown): boolean {
  return v instanceof RegExp || (v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'BSONRegExp');
}

export function regexPredicate(v: unknown): RegexPredicate {
  const { pattern, flags } = regexParts(v);
  return new RegexPredicate(compileRegex(pattern, flags));
}

/** MongoDB's BSONElement::trueValue, used by $exists. */
export function trueValue(v: unknown): boolean {
  if (v === false || v === null || v === undefined) return false;
  if (isNumeric(v)) return toJsNumber(v) !== 0;
  return true;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (isNumeric(v)) return String(toJsNumber(v));
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The $regex/$options pair of an operator document. */
export function parseRegexDocument(context: Document): RegexPredicate {
  let pattern = '';
  let options = '';
  for (const [key, value] of Object.entries(context)) {
    if (key === '$regex') {
      if (typeof value === 'string') {
        pattern = value;
      } else if (isRegexValue(value)) {
        const parts = regexParts(value);
        pattern = parts.pattern;
        if (parts.flags) {
          if (options) throw new MongoError(51074, 'options set in both $regex and $options');
          options = parts.flags;
        }
      } else {
        throw badValue('$regex has to be a string');
      }
    } else if (key === '$options') {
      if (typeof value !== 'string') throw badValue('$options has to be a string');
      if (options) throw new MongoError(51075, 'options set in both $regex and $options');
      options = value;
    }
  }
  return new RegexPredicate(compileRegex(pattern, options));
}

/** The members of $in/$nin, split into equalities and regexes. */
export function parseIn(arg: unknown, isOperatorDocument: (v: unknown) => boolean): InPredicate {
  if (!Array.isArray(arg)) throw badValue('$in needs an array');
  const values: unknown[] = [];
  const regexes: RegexPredicate[] = [];
  for (const raw of arg) {
    const v = raw === undefined ? null : raw;
    if (isOperatorDocument(v)) throw badValue('cannot nest $ under $in');
    if (isRegexValue(v)) regexes.push(regexPredicate(v));
    else values.push(v);
  }
  return new InPredicate(values, regexes);
}

const VALID_TYPE_CODES = new Set(Object.values(TYPE_CODES));

/** The type codes a $type argument names (an alias, a code, 'number', or an array of them). */
export function parseTypeSet(arg: unknown): Set<number> {
  const codes = new Set<number>();
  for (const t of Array.isArray(arg) ? arg : [arg]) {
    if (typeof t === 'string') {
      if (t === 'number') for (const c of [1, 16, 18, 19]) codes.add(c);
      else if (Object.hasOwn(TYPE_CODES, t)) codes.add(TYPE_CODES[t]);
      else throw badValue(`Unknown type name alias: ${t}`);
    } else if (isNumeric(t)) {
      const code = toBigIntIfIntegral(t);
      if (code === undefined || !VALID_TYPE_CODES.has(Number(code))) throw badValue(`Invalid numerical type code: ${show(t)}`);
      codes.add(Number(code));
    } else {
      throw new MongoError(ErrorCodes.TypeMismatch, 'type must be represented as a number or a string');
    }
  }
  if (codes.size === 0) throw new MongoError(ErrorCodes.FailedToParse, '$type must match at least one type');
  return codes;
}

export function parseMod(arg: unknown): ModPredicate {
  if (!Array.isArray(arg)) throw badValue('malformed mod, needs to be an array');
  if (arg.length < 1) throw badValue('malformed mod, not enough elements');
  if (!isNumeric(arg[0])) throw badValue('malformed mod, divisor not a number');
  if (arg.length < 2) throw badValue('malformed mod, not enough elements');
  if (!isNumeric(arg[1])) throw badValue('malformed mod, remainder not a number');
  if (arg.length > 2) throw badValue('malformed mod, too many elements');
  const divisor = toInt64(arg[0], true);
  if (divisor === undefined) throw badValue(`malformed mod, divisor value is invalid :: caused by :: ${show(arg[0])} cannot be represented as a 64-bit integer`);
  const remainder = toInt64(arg[1], true);
  if (remainder === undefined) throw badValue(`malformed mod, remainder value is invalid :: caused by :: ${show(arg[1])} cannot be represented as a 64-bit integer`);
  if (divisor === 0n) throw badValue('divisor cannot be 0');
  return new ModPredicate(divisor, remainder);
}

/** $size's argument: a non-negative whole number in int32 range. */
export function parseSize(arg: unknown): number {
  if (!isNumeric(arg)) throw badValue('$size needs a number');
  const n = toBigIntIfIntegral(arg);
  const bt = (arg as { _bsontype?: string })._bsontype;
  if (n === undefined) throw badValue('$size must be a whole number');
  if (n < -2147483648n || n > 2147483647n) {
    throw badValue(bt === 'Long' || typeof arg === 'bigint' ? '$size must be representable as a 32-bit integer' : '$size must be a whole number');
  }
  if (n < 0n) throw badValue('$size may not be negative');
  return Number(n);
}

const BIT_TESTS: Record<string, BitTest> = {
  $bitsAllSet: 'allSet', $bitsAllClear: 'allClear', $bitsAnySet: 'anySet', $bitsAnyClear: 'anyClear',
};

export function isBitTestOperator(op: string): boolean {
  return Object.hasOwn(BIT_TESTS, op);
}

export function parseBits(op: string, arg: unknown): BitsPredicate {
  const positions: number[] = [];
  if (Array.isArray(arg)) {
    for (const e of arg) {
      if (!isNumeric(e)) throw badValue(`bit positions must be an integer but got: ${show(e)}`);
      const n = toBigIntIfIntegral(e);
      if (n === undefined) throw badValue(`bit positions must be an integer but got: ${show(e)}`);
      if (n < -2147483648n || n > 2147483647n) throw badValue(`bit positions cannot be represented as a 32-bit signed integer: ${show(e)}`);
      if (n < 0n) throw badValue(`bit positions must be >= 0 but got: ${show(e)}`);
      positions.push(Number(n));
    }
  } else if (isNumeric(arg)) {
    const mask = toInt64(arg, false);
    if (mask === undefined) throw new MongoError(ErrorCodes.FailedToParse, `Expected an integer: ${show(arg)}`);
    if (mask < 0n) throw new MongoError(ErrorCodes.FailedToParse, `Expected a positive number in: ${show(arg)}`);
    for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) positions.push(bit);
  } else if (canonicalType(arg) === CanonicalType.Binary) {
    const { bytes } = binaryParts(arg);
    for (let bit = 0; bit < bytes.length * 8; bit++) if (bytes[bit >> 3] & (1 << (bit & 7))) positions.push(bit);
  } else {
    throw badValue(`${op} takes an Array, a number, or a BinData but received: ${show(arg)}`);
  }
  return new BitsPredicate(BIT_TESTS[op], positions);
}

/** Top-level first keys that make an $elemMatch argument a sub-filter rather than value operators. */
export const PATHLESS_OPERATORS = new Set([
  '$and', '$or', '$nor', '$expr', '$where', '$text', '$comment', '$jsonSchema', '$alwaysTrue', '$alwaysFalse',
  '$ref', '$id', '$db', '$sampleRate',
]);

/** MongoDB's isDBRefDocument: such objects are values, not operator documents. */
function isDBRefDocument(doc: Document, allowIncomplete: boolean): boolean {
  const ref = Object.hasOwn(doc, '$ref');
  const id = Object.hasOwn(doc, '$id');
  return allowIncomplete ? ref || id || Object.hasOwn(doc, '$db') : ref && id;
}

/** MongoDB's isExpressionDocument: a non-empty object whose first field is an operator. */
export function isOperatorDocument(v: unknown, allowIncompleteDBRef = false): v is Document {
  if (!isPlainObject(v)) return false;
  for (const first in v) return first.startsWith('$') && !isDBRefDocument(v, allowIncompleteDBRef);
  return false;
}
