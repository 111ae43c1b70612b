/**
 * MongoDB's names and numeric codes for BSON types, as `$type` (query and
 * expression) uses them. A plain JS number is an int when it is an integer
 * in int32 range and a double otherwise, matching how bson-values.ts stores
 * numbers; a bigint is written as an Int64.
 */
import type { Code } from 'bson';
import { canonicalType, CanonicalType } from './compare.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** MongoDB's `$type` alias of a value; 'missing' for undefined, as MongoDB names an absent value. */
export function bsonTypeName(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0) ? 'int' : 'double';
    case 'bigint': return 'long';
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'undefined': return 'missing';
    default: break;
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch ((v as { _bsontype?: string })._bsontype) {
    case 'Double': return 'double';
    case 'Int32': return 'int';
    case 'Long': return 'long';
    case 'Decimal128': return 'decimal';
    case 'BSONSymbol': return 'symbol';
    case 'Code': return (v as Code).scope ? 'javascriptWithScope' : 'javascript';
    default: break;
  }
  switch (canonicalType(v)) {
    case CanonicalType.Object: return 'object';
    case CanonicalType.Binary: return 'binData';
    case CanonicalType.ObjectId: return 'objectId';
    case CanonicalType.Date: return 'date';
    case CanonicalType.Timestamp: return 'timestamp';
    case CanonicalType.Regex: return 'regex';
    case CanonicalType.MinKey: return 'minKey';
    default: return 'maxKey';
  }
}

/** `$type` aliases and their numeric codes. */
export const TYPE_CODES: Readonly<Record<string, number>> = {
  double: 1, string: 2, object: 3, array: 4, binData: 5, undefined: 6, objectId: 7, bool: 8, date: 9,
  null: 10, regex: 11, dbPointer: 12, javascript: 13, symbol: 14, javascriptWithScope: 15, int: 16,
  timestamp: 17, long: 18, decimal: 19, minKey: -1, maxKey: 127,
};

/** MongoDB's numeric BSON type code of a value (6 for undefined, which only arrays can hold). */
export function bsonTypeCode(v: unknown): number {
  const name = bsonTypeName(v);
  return name === 'missing' ? TYPE_CODES.undefined : TYPE_CODES[name];
}
