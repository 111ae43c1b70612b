/**
 * Decoding commit records at start-up straight into the in-memory
 * representation (bson-values.ts), without the `bson` package's general
 * deserialiser.
 *
 * Opening a store decodes every document it holds, and with `bson` each one
 * is first built with wrapper objects (an `Int32` per integer, a `Double` per
 * double) that normalisation then throws away, plus fresh strings for field
 * names that every document repeats. That garbage, and the collections it
 * causes while a million live documents are being built, was most of the
 * start-up time. This decoder reads the common types directly, reuses field
 * name strings, and reads from the scanner's chunk without copying it (it
 * keeps no view of its input).
 *
 * Any op holding a type it does not read (Binary, Int64, Decimal128,
 * Timestamp, regex, ...) or a `$`-prefixed or `__proto__` field name (DBRef
 * and the like) is decoded by `decodeDocument` instead, from a copy of its
 * bytes, so the result is always exactly what `decodeDocument` gives.
 * Malformed BSON throws, as `bson` does.
 */
import { Double, ObjectId } from 'bson';
import { decodeDocument, keepsDoubleWrapper, type Document } from '../bson-values.js';

/** Thrown (never escapes this module) when a value needs the general decoder. */
const UNSUPPORTED = new Error('unsupported BSON type for the fast decoder');

const KEY_CACHE_SLOTS = 1024;
const MAX_CACHED_KEY = 32;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const EMPTY = Buffer.alloc(0);

// The decoder's cursor: module state rather than returned pairs, so reading a value allocates only the value.
let buf: Buffer = EMPTY;
let at = 0;
const keyCache: (string | undefined)[] = Array.from({ length: KEY_CACHE_SLOTS }, () => undefined);
const idBytes = new Uint8Array(12);

function malformed(detail: string): Error {
  return new Error(`malformed BSON at byte ${at}: ${detail}`);
}

function int32(): number {
  const v = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
  at += 4;
  return v;
}

/** A field name: reused from the cache when the same bytes were seen before (names repeat in every document). */
function readName(): string {
  const start = at;
  let hash = 0;
  let ascii = true;
  while (at < buf.length && buf[at] !== 0) {
    const b = buf[at++];
    if (b >= 0x80) ascii = false;
    hash = (Math.imul(hash, 31) + b) | 0;
  }
  if (at >= buf.length) throw malformed('field name not terminated');
  const len = at - start;
  at++;
  // Field names are not UTF-8-validated by `bson` either.
  if (!ascii || len > MAX_CACHED_KEY) return buf.toString('utf8', start, start + len);
  const slot = (hash ^ len) & (KEY_CACHE_SLOTS - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (cached.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const name = buf.toString('latin1', start, start + len);
  keyCache[slot] = name;
  return name;
}

/** A string value, UTF-8-validated as `bson` does. */
function readString(end: number): string {
  const size = int32();
  if (size <= 0 || size > end - at || buf[at + size - 1] !== 0) throw malformed('bad string length');
  const s = buf.toString('utf8', at, at + size - 1);
  // Invalid UTF-8 shows as U+FFFD; only then is the (slower) strict decoder asked whether it was real.
  if (s.includes('\uFFFD')) strictUtf8.decode(buf.subarray(at, at + size - 1));
  at += size;
  return s;
}

/** A string value through the name cache when it is short and ASCII (which needs no UTF-8 validation). */
function readInternedString(end: number): string {
  const size = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
  if (size <= 0 || size > end - at - 4 || buf[at + 4 + size - 1] !== 0 || size - 1 > MAX_CACHED_KEY) return readString(end);
  for (let i = at + 4; i < at + 3 + size; i++) if (buf[i] === 0 || buf[i] >= 0x80) return readString(end);
  at += 4;
  return readName();
}

function readValue(type: number, end: number): unknown {
  switch (type) {
    case 0x01: {
      const n = buf.readDoubleLE(at);
      at += 8;
      return keepsDoubleWrapper(n) ? new Double(n) : n;
    }
    case 0x02: return readString(end);
    case 0x03: return readObject(end);
    case 0x04: return readArray(end);
    case 0x07: {
      // ObjectId reads the 12 bytes into numbers and keeps no reference, so one scratch array serves every id.
      for (let i = 0; i < 12; i++) idBytes[i] = buf[at + i];
      at += 12;
      return new ObjectId(idBytes);
    }
    case 0x08: {
      const b = buf[at++];
      if (b !== 0 && b !== 1) throw malformed('illegal boolean value');
      return b === 1;
    }
    case 0x09: {
      const low = int32();
      const high = int32();
      // What Long(low, high).toNumber() computes.
      return new Date(high * 4294967296 + (low >>> 0));
    }
    case 0x0a: return null;
    case 0x10: return int32();
    default: throw UNSUPPORTED;
  }
}

/** Opens an embedded document or array at `at`, returning the offset just past it. */
function enter(outer: number): number {
  if (at + 4 > outer) throw malformed('truncated document');
  const size = int32();
  const end = at - 4 + size;
  if (size < 5 || end > outer) throw malformed(`bad embedded document length ${size}`);
  if (buf[end - 1] !== 0) throw malformed('document not terminated');
  return end;
}

/**
 * `interned`: short ASCII strings are read like field names, through the
 * cache. Used for an op's own fields (its kind, database and collection
 * names), which every op of a snapshot repeats.
 */
function readObject(outer: number, interned = false): Document {
  const end = enter(outer);
  const doc: Document = {};
  for (let type = buf[at++]; type !== 0; type = buf[at++]) {
    const name = readName();
    if (name.charCodeAt(0) === 0x24 || name === '__proto__') throw UNSUPPORTED;
    doc[name] = interned && type === 0x02 ? readInternedString(end) : readValue(type, end);
    if (at >= end) throw malformed('document overruns its length');
  }
  if (at !== end) throw malformed('document not properly terminated');
  return doc;
}

function readArray(outer: number): unknown[] {
  const end = enter(outer);
  const arr: unknown[] = [];
  // Array keys are "0", "1", ...; like `bson`, the position is what counts.
  for (let type = buf[at++]; type !== 0; type = buf[at++]) {
    while (at < end && buf[at] !== 0) at++;
    at++;
    arr.push(readValue(type, end));
    if (at >= end) throw malformed('array overruns its length');
  }
  if (at !== end) throw malformed('array not properly terminated');
  return arr;
}

/** One op: fast when it can be, else through `decodeDocument` on a copy of its bytes. */
function readOp(end: number): Document {
  const start = at;
  try {
    return readObject(end, true);
  } catch (err) {
    if (err !== UNSUPPORTED) throw err;
    at = start;
    const opEnd = enter(end);
    at = opEnd;
    return decodeDocument(Buffer.from(buf.subarray(start, opEnd)));
  }
}

/**
 * Decodes the commit record `{ops: [...]}` in `source[start, start+length)`.
 * Throws when the bytes are not a well-formed commit record.
 */
export function decodeRecord(source: Buffer, start: number, length: number): { ops: Document[] } {
  buf = source;
  at = start;
  try {
    return readRecord(start + length) ?? decodeGeneral(source, start, length);
  } finally {
    buf = EMPTY; // keeps no reference to the scanner's chunk
  }
}

/** The usual shape, a document holding only an `ops` array of documents; null for any other. */
function readRecord(end: number): { ops: Document[] } | null {
  if (end - at < 5 || int32() !== end - at + 4 || buf[end - 1] !== 0) throw malformed('record length does not match its frame');
  if (buf[at++] !== 0x04 || readName() !== 'ops') return null;
  const arrEnd = enter(end);
  if (arrEnd !== end - 1) return null;
  const ops: Document[] = [];
  for (let type = buf[at++]; type !== 0; type = buf[at++]) {
    if (type !== 0x03) return null;
    while (at < arrEnd && buf[at] !== 0) at++;
    at++;
    ops.push(readOp(arrEnd));
    if (at >= arrEnd) throw malformed('ops array overruns its length');
  }
  if (at !== arrEnd) throw malformed('ops array not properly terminated');
  return { ops };
}

/** Any other record, as the general decoder reads it. */
function decodeGeneral(source: Buffer, start: number, length: number): { ops: Document[] } {
  const doc = decodeDocument(Buffer.from(source.subarray(start, start + length)));
  if (!Array.isArray(doc.ops)) throw new Error('no ops array');
  return doc as { ops: Document[] };
}
