/**
 * How documents are held in memory, and how they cross the wire.
 *
 * BSON has more numeric types than JavaScript, and clients notice when a
 * value comes back with another type than it was stored with (an Int64
 * becoming a Double, a Double 1.0 becoming an Int32). So documents are
 * decoded without promotion and then normalised to this representation:
 *
 * - Int32 and non-integral Doubles become plain JS numbers: `bson` writes a
 *   number back as Int32 when it is an integer in int32 range and as Double
 *   otherwise, which is exactly their original type.
 * - A Double that is integral and within int32 range (or -0) stays a `Double`
 *   wrapper, because as a plain number it would come back as an Int32.
 * - Int64 stays a `Long`, Decimal128 stays a `Decimal128`.
 * - Regular expressions stay `BSONRegExp` (MongoDB flags such as `x` and `l`
 *   have no JavaScript equivalent); the matcher converts them when it runs.
 * - Everything else is what `bson` produces: string, boolean, null, Date,
 *   ObjectId, Binary (UUID is a Binary of subtype 4), Timestamp, MinKey,
 *   MaxKey, Code, arrays and plain objects.
 *
 * Stored documents are never mutated: an update builds a new object.
 */
import { BSON, Double, Int32, type Document } from 'bson';

export type { Document };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const decodeOptions = { promoteValues: false, promoteBuffers: false, bsonRegExp: true } as const;

/** Decodes one BSON document into the in-memory representation. */
export function decodeDocument(bytes: Uint8Array): Document {
  return normaliseDocument(BSON.deserialize(bytes, decodeOptions));
}

/** Serialises a document for the wire or the journal, keeping `undefined` out. */
export function encodeDocument(doc: Document): Uint8Array {
  return BSON.serialize(doc, { ignoreUndefined: true });
}

/** Byte size of a document as MongoDB would count it (for the 16 MB limit). */
export function documentSize(doc: Document): number {
  return BSON.calculateObjectSize(doc, { ignoreUndefined: true });
}

/** Normalises decoded values in place (the object is fresh from the decoder). */
export function normaliseDocument(doc: Document): Document {
  for (const key of Object.keys(doc)) doc[key] = normaliseValue(doc[key]);
  return doc;
}

/** Normalises one value as described in the module comment. */
export function normaliseValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normaliseValue(value[i]);
    return value;
  }
  const type = (value as { _bsontype?: string })._bsontype;
  if (type === 'Int32') return (value as Int32).value;
  if (type === 'Double') {
    const n = (value as Double).value;
    return keepsDoubleWrapper(n) ? value : n;
  }
  if (type !== undefined) return value;
  if (value instanceof Date) return value;
  if (Object.getPrototypeOf(value) === Object.prototype) return normaliseDocument(value as Document);
  return value;
}

/** True when a double would change type if held as a plain JS number. */
export function keepsDoubleWrapper(n: number): boolean {
  return Object.is(n, -0) || (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX);
}

/** Makes a JS number that must stay a Double (e.g. the result of `$mul` on doubles). */
export function toDouble(n: number): number | Double {
  return keepsDoubleWrapper(n) ? new Double(n) : n;
}

/** Deep copy through BSON, the only copy that preserves every BSON type. */
export function cloneDocument(doc: Document): Document {
  return decodeDocument(encodeDocument(doc));
}

/** True for a plain embedded document (not an array, Date or BSON value class). */
export function isPlainObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    && Object.getPrototypeOf(value) === Object.prototype
    && (value as { _bsontype?: string })._bsontype === undefined;
}
