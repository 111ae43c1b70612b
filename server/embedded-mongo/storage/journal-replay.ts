/**
 * Replaying one snapshot or one log file, and deciding what its damage
 * means: a torn final write is cut off with a warning, anything else is
 * refused (or, in repair mode, cut off after saving a copy of the file).
 */
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Document } from '../bson-values.js';
import { JournalCorruptError } from './journal-errors.js';
import { copyAside, readFully, writeFully } from './journal-files.js';
import { decodeHeader, encodeHeader, HEADER_SIZE, KIND_LOG, KIND_SNAPSHOT, type FileHeader } from './record-file.js';
import { findLaterBatch, scanFrames, type Damage } from './record-scan.js';

export type Logger = { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
export type OnRecord = (rec: { ops: Document[] }) => void;

export interface ReplayOptions {
  repair: boolean;
  logger: Logger;
}

export const RESTORE_ADVICE = 'Restore the data directory from a backup; --repair (JournalOptions.repair) cannot rebuild this.';

async function readHeader(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.min(size, HEADER_SIZE));
  await readFully(fh, buf, 0, buf.length, 0);
  return buf;
}

export async function replaySnapshot(
  filePath: string, generation: number, onRecord: OnRecord, opts: ReplayOptions,
): Promise<{ baseSeq: number; size: number; records: number }> {
  const fh = await fs.open(filePath, 'r+');
  try {
    const size = (await fh.stat()).size;
    const header = decodeHeader(await readHeader(fh, size), KIND_SNAPSHOT);
    if (typeof header === 'string') throw new JournalCorruptError(filePath, 0, `bad snapshot header: ${header}`, RESTORE_ADVICE);
    if (header.generation !== generation) {
      throw new JournalCorruptError(filePath, 16, `header says generation ${header.generation}, file name says ${generation}`, RESTORE_ADVICE);
    }
    const scan = await scanFrames({ fh, fileSize: size, start: HEADER_SIZE, firstSeq: 1, onRecord });
    // A snapshot is complete before it is renamed into place: any shortfall is damage, never a torn write.
    const damage: Damage | undefined = scan.damage ?? (scan.records !== header.recordCount
      ? { offset: scan.goodEnd, kind: 'incomplete', detail: `snapshot ends after ${scan.records} records but its header lists ${header.recordCount}` }
      : undefined);
    if (!damage) return { baseSeq: header.baseSeq, size, records: scan.records };
    if (!opts.repair) throw new JournalCorruptError(filePath, damage.offset, damage.detail);
    const aside = await copyAside(filePath);
    await fh.truncate(scan.goodEnd);
    const repaired: FileHeader = { ...header, recordCount: scan.records };
    await writeFully(fh, encodeHeader(repaired), 0);
    await fh.sync();
    opts.logger.error(`REPAIR: ${filePath} was damaged at byte ${damage.offset} (${damage.detail}); kept its first ${scan.records} `
      + `of ${header.recordCount} records, so the data is INCOMPLETE. The damaged file was saved as ${aside}.`);
    return { baseSeq: header.baseSeq, size: scan.goodEnd, records: scan.records };
  } finally {
    await fh.close();
  }
}

export interface LogReplay {
  /** Open handle (read-write) when the log is the last of the chain; closed otherwise. */
  fh: FileHandle | null;
  size: number;
  lastSeq: number;
  records: number;
  /** Repair cut this log short, so any later log no longer continues it. */
  repairedShort: boolean;
}

/**
 * Replays one log of the chain. Only the last log can end in a torn write:
 * an earlier one was synced in full before its successor was created.
 */
export async function replayLog(
  filePath: string, generation: number, baseSeq: number, isLast: boolean, onRecord: OnRecord, opts: ReplayOptions,
): Promise<LogReplay> {
  const fh = await fs.open(filePath, 'r+');
  try {
    const result = await replayOpenLog(fh, filePath, generation, baseSeq, isLast, onRecord, opts);
    if (!isLast) await fh.close();
    return { ...result, fh: isLast ? fh : null };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function replayOpenLog(
  fh: FileHandle, filePath: string, generation: number, baseSeq: number, isLast: boolean, onRecord: OnRecord, opts: ReplayOptions,
): Promise<Omit<LogReplay, 'fh'>> {
  const size = (await fh.stat()).size;
  const header = decodeHeader(await readHeader(fh, size), KIND_LOG);
  let problem = typeof header === 'string' ? `bad log header: ${header}` : undefined;
  if (typeof header !== 'string' && (header.generation !== generation || header.baseSeq !== baseSeq)) {
    problem = `log header (generation ${header.generation}, continuing sequence ${header.baseSeq}) does not match the `
      + `file name and the records before it (generation ${generation}, continuing sequence ${baseSeq})`;
  }
  if (problem) {
    if (!opts.repair) throw new JournalCorruptError(filePath, 0, problem);
    const aside = await copyAside(filePath);
    await fh.truncate(0);
    await writeFully(fh, encodeHeader({ kind: KIND_LOG, generation, baseSeq, recordCount: 0 }), 0);
    await fh.sync();
    opts.logger.error(`REPAIR: ${problem} in ${filePath}; started the log afresh, dropping ALL its records. `
      + `The damaged file was saved as ${aside}.`);
    return { size: HEADER_SIZE, lastSeq: baseSeq, records: 0, repairedShort: true };
  }

  const scan = await scanFrames({ fh, fileSize: size, start: HEADER_SIZE, firstSeq: baseSeq + 1, onRecord });
  const damage = scan.damage;
  if (!damage) return { size, lastSeq: scan.lastSeq, records: scan.records, repairedShort: false };

  let detail = damage.detail;
  let torn = false;
  if (!isLast) {
    detail += '; this log was complete before the next one was started, so this is not a torn write';
  } else if (damage.kind === 'incomplete' || damage.kind === 'bad-length' || damage.kind === 'bad-crc') {
    const later = await findLaterBatch(fh, size, damage.offset, scan.lastSeq + 1);
    if (later) detail += `; an intact later record (sequence ${later.seq}) follows at byte ${later.offset}, so this is not a torn final write`;
    else torn = true;
  }
  if (torn) {
    opts.logger.warn(`${filePath}: discarding ${size - damage.offset} bytes at the end from byte ${damage.offset} `
      + `(${detail}): a write cut short by a crash, never acknowledged`);
  } else if (!opts.repair) {
    throw new JournalCorruptError(filePath, damage.offset, detail);
  } else {
    const aside = await copyAside(filePath);
    opts.logger.error(`REPAIR: ${filePath} is damaged at byte ${damage.offset} (${detail}); truncating it after record `
      + `${scan.lastSeq}, dropping ${size - damage.offset} bytes of later records. The damaged file was saved as ${aside}.`);
  }
  await fh.truncate(damage.offset);
  await fh.sync();
  return { size: scan.goodEnd, lastSeq: scan.lastSeq, records: scan.records, repairedShort: !torn };
}
