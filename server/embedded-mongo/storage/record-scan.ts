/**
 * Reading frames back: a chunked scanner for replay, and the forward search
 * recovery uses to decide whether damage is a torn final write.
 *
 * Files are read in multi-megabyte chunks because opening a store replays
 * millions of records and a syscall per record would dominate start-up time.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Document } from '../bson-values.js';
import { readFully } from './journal-files.js';
import { decodeRecord } from './record-decode.js';
import { FRAME_HEADER_SIZE, frameCrcMatches, readU64 } from './record-file.js';

const READ_CHUNK = 8 * 1024 * 1024;
/**
 * Room left before each chunk's data for the unread tail of the previous
 * chunk (a frame cut by the chunk boundary), so joining them copies only
 * that tail rather than the whole chunk. Snapshot frames are ~100 KB.
 */
const HEADROOM = 1024 * 1024;
const SEARCH_WINDOW = 4 * 1024 * 1024;

/**
 * `incomplete`, `bad-length` and `bad-crc` are what an interrupted write can
 * leave behind; `bad-seq` and `bad-bson` come with a valid checksum, so they
 * were written that way and can never be a torn write.
 */
export type DamageKind = 'incomplete' | 'bad-length' | 'bad-crc' | 'bad-seq' | 'bad-bson';

export interface Damage {
  offset: number;
  kind: DamageKind;
  detail: string;
}

export interface ScanResult {
  records: number;
  /** Offset just past the last good frame: where a truncation would cut. */
  goodEnd: number;
  /** Sequence number of the last good frame (firstSeq - 1 when there was none). */
  lastSeq: number;
  damage?: Damage;
}

export interface ScanInput {
  fh: FileHandle;
  fileSize: number;
  start: number;
  firstSeq: number;
  onRecord: (rec: { ops: Document[] }) => void;
}

/**
 * Sequential chunks of a file region with one read always in flight, so the
 * disk works on the next chunk while the current one is decoded.
 */
class ReadAhead {
  private next: number;
  private pending: Promise<Buffer> | null = null;

  constructor(private readonly fh: FileHandle, start: number, private readonly end: number) {
    this.next = start;
    this.startRead();
  }

  private startRead(): void {
    if (this.next >= this.end) {
      this.pending = null;
      return;
    }
    const length = Math.min(READ_CHUNK, this.end - this.next);
    const buf = Buffer.allocUnsafe(HEADROOM + length);
    this.pending = readFully(this.fh, buf, HEADROOM, length, this.next).then(() => buf);
    // Nobody may await a read-ahead (the scan can stop at damage first): keep its failure from going unhandled.
    this.pending.catch(() => undefined);
    this.next += length;
  }

  /** The next chunk: its data starts at HEADROOM. */
  async take(): Promise<Buffer> {
    if (!this.pending) throw new Error(`unexpected end of file at byte ${this.next}`);
    const chunk = await this.pending;
    this.startRead();
    return chunk;
  }

  /** Waits for a read still in flight, so the caller can close or truncate the file safely. */
  async settle(): Promise<void> {
    await this.pending?.catch(() => undefined);
  }
}

/** Replays frames from `start`, stopping at the first damaged one. */
export async function scanFrames(input: ScanInput): Promise<ScanResult> {
  const reader = new ReadAhead(input.fh, input.start, input.fileSize);
  try {
    return await scan(input, reader);
  } finally {
    await reader.settle();
  }
}

async function scan(input: ScanInput, reader: ReadAhead): Promise<ScanResult> {
  const { fileSize, onRecord } = input;
  let buf: Buffer = Buffer.alloc(0);
  let bufStart = input.start; // file offset of buf[0]
  let pos = 0; // position in buf of the next frame
  let seq = input.firstSeq;
  let records = 0;
  const stop = (kind: DamageKind, detail: string): ScanResult =>
    ({ records, goodEnd: bufStart + pos, lastSeq: seq - 1, damage: { offset: bufStart + pos, kind, detail } });

  // Makes `need` bytes from `pos` available; the caller has checked the file holds them.
  const ensure = async (need: number): Promise<void> => {
    while (buf.length - pos < need) {
      const chunk = await reader.take();
      const kept = buf.length - pos;
      let next: Buffer;
      if (kept <= HEADROOM) {
        buf.copy(chunk, HEADROOM - kept, pos);
        next = chunk.subarray(HEADROOM - kept);
      } else {
        next = Buffer.allocUnsafe(kept + chunk.length - HEADROOM);
        buf.copy(next, 0, pos);
        chunk.copy(next, kept, HEADROOM);
      }
      bufStart += pos;
      buf = next;
      pos = 0;
    }
  };

  while (bufStart + pos < fileSize) {
    const remaining = fileSize - (bufStart + pos);
    if (remaining < FRAME_HEADER_SIZE) {
      return stop('incomplete', `only ${remaining} bytes of a ${FRAME_HEADER_SIZE}-byte record header before end of file`);
    }
    // Awaited only when a chunk is needed: an await per record would cost a microtask hop each.
    if (buf.length - pos < FRAME_HEADER_SIZE) await ensure(FRAME_HEADER_SIZE);
    const length = buf.readUInt32LE(pos);
    if (length < 5) return stop('bad-length', `impossible record length ${length}`);
    if (FRAME_HEADER_SIZE + length > remaining) {
      return stop('incomplete', `record of ${length} bytes runs past the end of the file (${remaining - FRAME_HEADER_SIZE} present)`);
    }
    if (buf.length - pos < FRAME_HEADER_SIZE + length) await ensure(FRAME_HEADER_SIZE + length);
    if (!frameCrcMatches(buf, pos, length)) return stop('bad-crc', `checksum mismatch in a record of ${length} bytes`);
    const gotSeq = readU64(buf, pos + 8);
    if (gotSeq !== seq) {
      return stop('bad-seq', `sequence number ${gotSeq} where ${seq} was expected (records missing, reordered or from another journal)`);
    }
    let rec: { ops: Document[] };
    try {
      // Decoded in place: the decoder copies what it keeps, so no document pins the chunk.
      rec = decodeRecord(buf, pos + FRAME_HEADER_SIZE, length);
    } catch (err) {
      return stop('bad-bson', `record has a valid checksum but is not a commit record (${(err as Error).message})`);
    }
    pos += FRAME_HEADER_SIZE + length;
    seq++;
    records++;
    onRecord(rec);
  }
  return { records, goodEnd: bufStart + pos, lastSeq: seq - 1 };
}

/**
 * Looks past damage at `from` (where the frame with `expectedSeq` should be)
 * for an intact frame from a LATER group-commit batch. Each batch is synced
 * before the next is written, so if one exists the damaged record's batch was
 * complete and probably acknowledged: that is corruption, not a torn write.
 * Intact frames of the damaged record's own batch are skipped over: pages of
 * one unsynced write can reach the disk in any order.
 * Returns the offset and sequence number found, or null.
 */
export async function findLaterBatch(
  fh: FileHandle, fileSize: number, from: number, expectedSeq: number,
): Promise<{ offset: number; seq: number } | null> {
  let win: Buffer = Buffer.alloc(0);
  let winStart = 0;
  let q = from + 1;
  while (q + FRAME_HEADER_SIZE <= fileSize) {
    if (q + FRAME_HEADER_SIZE > winStart + win.length) {
      win = Buffer.allocUnsafe(Math.min(fileSize - q, SEARCH_WINDOW + FRAME_HEADER_SIZE));
      winStart = q;
      await readFully(fh, win, 0, win.length, q);
    }
    const i = q - winStart;
    const length = win.readUInt32LE(i);
    // Cheap filters first, so scanning megabytes of zeros or payload is fast.
    if (length < 5 || q + FRAME_HEADER_SIZE + length > fileSize) { q++; continue; }
    const seq = readU64(win, i + 8);
    const batchIndex = win.readUInt32LE(i + 16);
    if (seq < expectedSeq || seq - expectedSeq > 2 ** 32 || batchIndex > seq) { q++; continue; }
    let frame = win;
    let at = i;
    if (i + FRAME_HEADER_SIZE + length > win.length) {
      frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + length);
      at = 0;
      await readFully(fh, frame, 0, frame.length, q);
    }
    // A BSON document starts with its own length, which must match the frame's.
    if (frame.readInt32LE(at + FRAME_HEADER_SIZE) !== length || !frameCrcMatches(frame, at, length)) { q++; continue; }
    if (seq - batchIndex > expectedSeq) return { offset: q, seq };
    q += FRAME_HEADER_SIZE + length;
  }
  return null;
}
