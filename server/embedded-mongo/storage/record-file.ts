/**
 * On-disk format shared by the log and the snapshot files.
 *
 * File header (48 bytes, little-endian):
 *   0  magic "EMDBJRNL"       8  u32 format version     12 u32 kind (1 log, 2 snapshot)
 *   16 u64 generation         24 u64 base sequence      32 u64 record count (snapshots; 0 in logs)
 *   40 u32 reserved (0)       44 u32 CRC32 of bytes 0-43
 *
 * Then frames, one per commit record (20-byte frame header, then payload):
 *   0  u32 payload length     4  u32 CRC32 of bytes 8 to the end (sequence, batch index, payload)
 *   8  u64 sequence number    16 u32 batch index
 *   20 payload: BSON document {ops: [...]}
 *
 * Sequence numbers make a log self-checking: log generation G continues
 * snapshot G, whose header holds the last sequence number folded into it, so
 * the log's first record must be base+1 and every next one +1. A snapshot
 * numbers its own records 1..count and records the count in its header, so a
 * truncated or spliced snapshot is detected. The batch index is the record's
 * position within the group-commit write that carried it; recovery uses it to
 * tell a torn final write (only the last batch can be torn, because each batch
 * is synced before the next is written) from damage to an older batch.
 */
import zlib from 'node:zlib';
import { encodeDocument, type Document } from '../bson-values.js';

export const MAGIC = Buffer.from('EMDBJRNL', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 48;
export const FRAME_HEADER_SIZE = 20;
export const KIND_LOG = 1;
export const KIND_SNAPSHOT = 2;

const TWO_32 = 2 ** 32;

export interface FileHeader {
  kind: number;
  generation: number;
  /** Log: sequence number of the last record in its snapshot. Snapshot: same, i.e. the last log record folded in. */
  baseSeq: number;
  /** Number of records in a snapshot (0 in a log, whose length is open-ended). */
  recordCount: number;
}

/** A record's payload, serialised once at append time so a batch write only copies bytes. */
export interface EncodedRecord {
  payload: Uint8Array;
}

export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE(value % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32;
}

export function encodeHeader(header: FileHeader): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(FORMAT_VERSION, 8);
  buf.writeUInt32LE(header.kind, 12);
  writeU64(buf, header.generation, 16);
  writeU64(buf, header.baseSeq, 24);
  writeU64(buf, header.recordCount, 32);
  buf.writeUInt32LE(zlib.crc32(buf.subarray(0, 44)), 44);
  return buf;
}

/** Parses a header, returning a description of the problem instead when it is not valid. */
export function decodeHeader(buf: Buffer, expectedKind: number): FileHeader | string {
  if (buf.length < HEADER_SIZE) return `file is ${buf.length} bytes, shorter than the ${HEADER_SIZE}-byte header`;
  if (!buf.subarray(0, 8).equals(MAGIC)) return 'bad magic number (not a journal file)';
  if (buf.readUInt32LE(44) !== zlib.crc32(buf.subarray(0, 44))) return 'header checksum mismatch';
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) return `unsupported format version ${version} (this build reads ${FORMAT_VERSION})`;
  const kind = buf.readUInt32LE(12);
  if (kind !== expectedKind) return `file kind ${kind} where ${expectedKind} was expected`;
  return { kind, generation: readU64(buf, 16), baseSeq: readU64(buf, 24), recordCount: readU64(buf, 32) };
}

/**
 * Serialises `{ops}` by hand around individually encoded ops: `BSON.serialize`
 * refuses documents over ~17 MB, and a transaction touching many documents
 * can legitimately exceed that while each op stays under the 16 MB limit.
 */
export function encodeRecord(ops: Document[]): EncodedRecord {
  if (!Array.isArray(ops)) throw new TypeError('commit record ops must be an array');
  const parts = ops.map((op) => encodeDocument(op));
  let arraySize = 4 + 1;
  for (let i = 0; i < parts.length; i++) arraySize += 2 + String(i).length + parts[i].length;
  const total = 4 + 1 + 4 + arraySize + 1; // length, type byte, "ops\0", array, terminator
  if (total > 0x7fffffff) throw new RangeError(`commit record of ${total} bytes exceeds the BSON limit`);
  const buf = Buffer.allocUnsafe(total);
  let o = buf.writeInt32LE(total, 0);
  buf[o++] = 0x04;
  o += buf.write('ops\0', o, 'latin1');
  o = buf.writeInt32LE(arraySize, o);
  for (let i = 0; i < parts.length; i++) {
    buf[o++] = 0x03;
    o += buf.write(`${i}\0`, o, 'latin1');
    buf.set(parts[i], o);
    o += parts[i].length;
  }
  buf[o++] = 0;
  buf[o++] = 0;
  return { payload: buf };
}

/** Bytes a frame occupies on disk. */
export function frameSize(rec: EncodedRecord): number {
  return FRAME_HEADER_SIZE + rec.payload.length;
}

/**
 * Writes one frame into `buf` at `offset`, returning the offset after it.
 * The checksummed bytes are contiguous, so one crc32 call covers them: at a
 * million records per open, the per-call overhead is what counts.
 */
export function writeFrame(buf: Buffer, offset: number, rec: EncodedRecord, seq: number, batchIndex: number): number {
  const end = offset + FRAME_HEADER_SIZE + rec.payload.length;
  buf.writeUInt32LE(rec.payload.length, offset);
  writeU64(buf, seq, offset + 8);
  buf.writeUInt32LE(batchIndex, offset + 16);
  buf.set(rec.payload, offset + FRAME_HEADER_SIZE);
  buf.writeUInt32LE(zlib.crc32(buf.subarray(offset + 8, end)), offset + 4);
  return end;
}

/** Checks the CRC of a frame whose header and payload are both in `buf`. */
export function frameCrcMatches(buf: Buffer, offset: number, length: number): boolean {
  return zlib.crc32(buf.subarray(offset + 8, offset + FRAME_HEADER_SIZE + length)) === buf.readUInt32LE(offset + 4);
}
