/**
 * How update errors describe values. MongoDB's messages embed its BSON debug
 * rendering ("Cannot create field 'b' in element {a: 5}", "_id: ObjectId('…')"),
 * and drivers, tests and application code match on those strings, so the
 * shapes are reproduced here rather than using JSON.
 */
import { MongoError } from '../errors.js';
import { isPlainObject, type Document } from '../bson-values.js';
import { bsonTypeName } from './compare.js';

/**
 * Codes MongoDB raises during updates that the shared table in errors.ts
 * does not list; the codeName must still be MongoDB's, not "Location<n>".
 */
export const UpdateCodes = {
  CannotBackfillArray: [34, 'CannotBackfillArray'],
  EmptyFieldName: [56, 'EmptyFieldName'],
  NotExactValueField: [111, 'NotExactValueField'],
  StageNotSingleField: [40323, 'Location40323'],
  UnrecognizedStage: [40324, 'Location40324'],
} as const;

/** An error with a code from errors.ts, or a `[code, codeName]` pair from UpdateCodes. */
export function updateError(code: number | readonly [number, string], message: string): MongoError {
  if (typeof code === 'number') return new MongoError(code, message);
  const error = new MongoError(code[0], message);
  Object.defineProperty(error, 'codeName', { value: code[1] });
  return error;
}

/** MongoDB's type alias for a value ("int", "double", "string", "object", ...). */
export function typeNameOf(value: unknown): string {
  return bsonTypeName(value);
}

function formatNumber(n: number, double: boolean): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (double && Number.isInteger(n) && Math.abs(n) < 1e21) return `${Object.is(n, -0) ? '-0' : n}.0`;
  return String(n);
}

function bsonType(value: object): string | undefined {
  return (value as { _bsontype?: string })._bsontype;
}

/** A value rendered as BSONElement::toString renders it. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'number') return formatNumber(value, typeNameOf(value) === 'double');
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[ ${value.map(formatValue).join(', ')} ]`;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    return keys.length === 0 ? '{}' : `{ ${keys.map((k) => formatElement(k, value[k])).join(', ')} }`;
  }
  const v = value as Record<string, unknown> & { toString(radix?: number): string };
  switch (bsonType(value)) {
    case 'Double': return formatNumber(v.value as number, true);
    case 'Int32': return String(v.value);
    case 'Long': return v.toString();
    case 'Decimal128': return `NumberDecimal("${v.toString()}")`;
    case 'ObjectId': return `ObjectId('${(v as unknown as { toHexString(): string }).toHexString()}')`;
    case 'Timestamp': return `Timestamp(${v.t}, ${v.i})`;
    case 'BSONRegExp': return `/${v.pattern}/${v.options}`;
    case 'Binary': return `BinData(${v.sub_type}, ${(v as unknown as { toString(e: string): string }).toString('hex').toUpperCase()})`;
    case 'MinKey': return 'MinKey';
    case 'MaxKey': return 'MaxKey';
    case 'Code': return String(v.code);
    default: return String(value);
  }
}

/** A named element rendered as BSONElement::toString renders it: `a: 5`. */
export function formatElement(name: string, value: unknown): string {
  return `${name}: ${formatValue(value)}`;
}

/** The `_id` element MongoDB quotes in per-document errors, or "no id". */
export function idElement(doc: Document): string {
  return Object.hasOwn(doc, '_id') ? formatElement('_id', doc._id) : 'no id';
}
