/**
 * MongoDB's total order over BSON values (the order used by sort, range
 * predicates, indexes and unique constraints), plus a hash key that agrees
 * with it and the `$type` names and codes.
 *
 * Values are in the in-memory representation described in bson-values.ts;
 * JS `undefined` stands for a missing value. Numeric comparison is exact
 * across types (see numeric.ts).
 */
import type { Binary, BSONRegExp, Code, DBRef, ObjectId, Timestamp } from 'bson';
import { isPlainObject, type Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { compareNumbers, numericKey } from './numeric.js';

export { isNumeric, compareNumbers, toExact, toJsNumber, type ExactNumber } from './numeric.js';
export { bsonTypeCode, bsonTypeName, TYPE_CODES } from './type-names.js';

/**
 * MongoDB's canonical type numbers (bsontypes.cpp `canonicalizeBSONType`):
 * values of different canonical types never compare equal, and the number
 * orders them. Missing is 0 and null 5: the matcher needs to tell them apart.
 */
export const CanonicalType = {
  MinKey: -1, Missing: 0, Null: 5, Number: 10, String: 15, Object: 20, Array: 25, Binary: 30,
  ObjectId: 35, Boolean: 40, Date: 45, Timestamp: 47, Regex: 50, Code: 60, CodeWithScope: 65, MaxKey: 127,
} as const;

function unsupportedValue(v: unknown): MongoError {
  const name = (v as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof v;
  return new MongoError(ErrorCodes.BadValue, `value of type ${name} cannot be stored in BSON`);
}

/** The canonical type of a value (undefined = missing). Throws for non-BSON JS values. */
export function canonicalType(v: unknown): number {
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return CanonicalType.Number;
    case 'string':
      return CanonicalType.String;
    case 'boolean':
      return CanonicalType.Boolean;
    case 'undefined':
      return CanonicalType.Missing;
    case 'object':
      break;
    default:
      throw unsupportedValue(v);
  }
  if (v === null) return CanonicalType.Null;
  if (Array.isArray(v)) return CanonicalType.Array;
  const bt = (v as { _bsontype?: string })._bsontype;
  if (bt === undefined) {
    if (v instanceof Date) return CanonicalType.Date;
    if (v instanceof RegExp) return CanonicalType.Regex;
    if (v instanceof Uint8Array) return CanonicalType.Binary;
    return CanonicalType.Object;
  }
  switch (bt) {
    case 'Double': case 'Int32': case 'Long': case 'Decimal128': return CanonicalType.Number;
    case 'BSONSymbol': return CanonicalType.String;
    case 'DBRef': return CanonicalType.Object;
    case 'Binary': return CanonicalType.Binary;
    case 'ObjectId': return CanonicalType.ObjectId;
    case 'Timestamp': return CanonicalType.Timestamp;
    case 'BSONRegExp': return CanonicalType.Regex;
    case 'Code': return (v as Code).scope ? CanonicalType.CodeWithScope : CanonicalType.Code;
    case 'MinKey': return CanonicalType.MinKey;
    case 'MaxKey': return CanonicalType.MaxKey;
    default: throw unsupportedValue(v);
  }
}

/** Sort/range bracket: like canonicalType but missing sorts with null. */
function bracket(v: unknown): number {
  return v === undefined ? CanonicalType.Null : canonicalType(v);
}

/** Views a plain object or DBRef as a document; undefined for anything else. */
export function asDocument(v: unknown): Document | undefined {
  if (isPlainObject(v)) return v;
  if (v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'DBRef') {
    const ref = v as DBRef;
    const doc: Document = { $ref: ref.collection, $id: ref.oid };
    if (ref.db) doc.$db = ref.db;
    return Object.assign(doc, ref.fields);
  }
  return undefined;
}

/** The string content of a string or BSONSymbol. */
export function stringValue(v: unknown): string {
  return typeof v === 'string' ? v : (v as { value: string }).value;
}

/** Compares strings by Unicode code point, i.e. as MongoDB compares their UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only between surrogates
    // (astral characters) and U+E000..U+FFFF; shift surrogates above them.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Bytes and subtype of a Binary (or raw Uint8Array, which BSON writes as subtype 0). */
export function binaryParts(v: unknown): { bytes: Uint8Array; subtype: number } {
  if (v instanceof Uint8Array) return { bytes: v, subtype: 0 };
  const bin = v as Binary;
  return { bytes: bin.buffer.subarray(0, bin.position), subtype: bin.sub_type };
}

/** Pattern and flags of a BSONRegExp or JS RegExp (JS-only flags dropped). */
export function regexParts(v: unknown): { pattern: string; flags: string } {
  if (v instanceof RegExp) {
    const flags = [...v.flags].filter((f) => 'ims'.includes(f)).sort().join('');
    return { pattern: v.source, flags };
  }
  const re = v as BSONRegExp;
  return { pattern: re.pattern, flags: re.options };
}

function definedKeys(doc: Document): string[] {
  const keys = Object.keys(doc);
  // Undefined-valued fields are dropped when a document is serialised, so they do not exist.
  for (const k of keys) if (doc[k] === undefined) return keys.filter((key) => doc[key] !== undefined);
  return keys;
}

function compareDocuments(a: Document, b: Document): number {
  const ka = definedKeys(a);
  const kb = definedKeys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]];
    const vb = b[kb[i]];
    const ta = bracket(va);
    const tb = bracket(vb);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const names = compareStrings(ka[i], kb[i]);
    if (names !== 0) return names;
    const c = compareValues(va, vb);
    if (c !== 0) return c;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

function compareArrays(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function cmp(x: number, y: number): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * MongoDB's BSON order (-1, 0, 1): MinKey < null/missing < numbers < strings
 * < objects < arrays < BinData < ObjectId < booleans < dates < timestamps
 * < regexes < code < MaxKey. Missing and null are equal here (as in sort).
 */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = bracket(a);
  const tb = bracket(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case CanonicalType.Number:
      return compareNumbers(a, b);
    case CanonicalType.String:
      return compareStrings(stringValue(a), stringValue(b));
    case CanonicalType.Object:
      return compareDocuments(asDocument(a) ?? (a as Document), asDocument(b) ?? (b as Document));
    case CanonicalType.Array:
      return compareArrays(a as unknown[], b as unknown[]);
    case CanonicalType.Binary: {
      const x = binaryParts(a);
      const y = binaryParts(b);
      return cmp(x.bytes.length, y.bytes.length) || cmp(x.subtype, y.subtype) || compareBytes(x.bytes, y.bytes);
    }
    case CanonicalType.ObjectId:
      return compareBytes((a as ObjectId).id, (b as ObjectId).id);
    case CanonicalType.Boolean:
      return cmp(Number(a), Number(b));
    case CanonicalType.Date:
      return compareDates(a as Date, b as Date);
    case CanonicalType.Timestamp:
      return cmp((a as Timestamp).t, (b as Timestamp).t) || cmp((a as Timestamp).i, (b as Timestamp).i);
    case CanonicalType.Regex: {
      const x = regexParts(a);
      const y = regexParts(b);
      return compareStrings(x.pattern, y.pattern) || compareStrings(x.flags, y.flags);
    }
    case CanonicalType.Code:
      return compareStrings((a as Code).code, (b as Code).code);
    case CanonicalType.CodeWithScope:
      return compareStrings((a as Code).code, (b as Code).code)
        || compareDocuments((a as Code).scope as Document, (b as Code).scope as Document);
    default:
      return 0; // MinKey, null/missing, MaxKey: one value per bracket.
  }
}

function compareDates(a: Date, b: Date): number {
  const x = a.getTime();
  const y = b.getTime();
  // An invalid Date cannot be serialised; order it first so the order stays total.
  if (x !== x || y !== y) return x !== x && y !== y ? 0 : x !== x ? -1 : 1;
  return cmp(x, y);
}

/** compareValues(a, b) === 0: 1, Double(1), Long(1) and Decimal128("1.0") are all equal. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareValues(a, b) === 0;
}

/**
 * A string key with canonicalKey(a) === canonicalKey(b) exactly when
 * valuesEqual(a, b); for hash sets in unique indexes, distinct and $in.
 */
export function canonicalKey(v: unknown): string {
  const t = bracket(v);
  switch (t) {
    case CanonicalType.MinKey: return '_';
    case CanonicalType.Null: return 'z';
    case CanonicalType.MaxKey: return '~';
    case CanonicalType.Number: return `n${numericKey(v)}`;
    case CanonicalType.String: return `s${JSON.stringify(stringValue(v))}`;
    case CanonicalType.Boolean: return v ? 't' : 'f';
    case CanonicalType.Date: return `d${(v as Date).getTime()}`;
    case CanonicalType.ObjectId: return `o${(v as ObjectId).toHexString()}`;
    case CanonicalType.Timestamp: return `T${(v as Timestamp).t}:${(v as Timestamp).i}`;
    case CanonicalType.Array: return `[${(v as unknown[]).map(canonicalKey).join(',')}]`;
    case CanonicalType.Object: {
      const doc = asDocument(v) ?? (v as Document);
      return `{${definedKeys(doc).map((k) => `${JSON.stringify(k)}:${canonicalKey(doc[k])}`).join(',')}}`;
    }
    case CanonicalType.Binary: {
      const { bytes, subtype } = binaryParts(v);
      return `b${subtype}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`;
    }
    case CanonicalType.Regex: {
      const { pattern, flags } = regexParts(v);
      return `r${JSON.stringify(pattern)}${JSON.stringify(flags)}`;
    }
    case CanonicalType.Code: return `c${JSON.stringify((v as Code).code)}`;
    default: return `C${JSON.stringify((v as Code).code)}${canonicalKey((v as Code).scope)}`;
  }
}
