/**
 * Opening a data directory: choose the generation, replay its snapshot and
 * log, repair or refuse damage, and clear leftovers of interrupted
 * compactions.
 *
 * Compaction writes snapshot G+1 (temp file, sync, rename, directory sync)
 * before it creates journal G+1, and nothing is appended to journal G once
 * the snapshot is cut. So for the newest snapshot S:
 *   - every older file is fully contained in snapshot S and can be deleted;
 *   - a missing journal-S.log means the crash came right after the rename,
 *     and an empty log is the correct continuation;
 *   - a log newer than S names a snapshot that must exist: it is missing.
 * Temp files are never referenced by anything and are always deleted.
 */
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Document } from '../bson-values.js';
import { JournalCorruptError } from './journal-errors.js';
import {
  copyAside, createLogFile, fsyncDir, listJournalFiles, logName, readFully, removeFiles, snapshotName, writeFully,
} from './journal-files.js';
import { decodeHeader, encodeHeader, HEADER_SIZE, KIND_LOG, KIND_SNAPSHOT, type FileHeader } from './record-file.js';
import { findLaterBatch, scanFrames, type Damage } from './record-scan.js';

type Logger = { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
type OnRecord = (rec: { ops: Document[] }) => void;

export interface RecoveryOptions {
  repair: boolean;
  logger: Logger;
}

export interface RecoveredJournal {
  generation: number;
  log: { fh: FileHandle; path: string; size: number };
  /** Sequence number of the last record in the log (or of the snapshot, if the log is empty). */
  lastSeq: number;
  snapshotBytes: number;
  recordsReplayed: number;
}

const RESTORE_ADVICE = 'Restore the data directory from a backup; --repair (JournalOptions.repair) cannot rebuild this.';

export async function recoverJournal(dir: string, onRecord: OnRecord, opts: RecoveryOptions): Promise<RecoveredJournal> {
  const files = await listJournalFiles(dir);
  const removedTemps = await removeFiles(dir, files.temps);
  for (const name of removedTemps) opts.logger.info(`removed ${name}, left over from an interrupted compaction`);

  const snapshotGen = Math.max(0, ...files.snapshots.keys());
  const logGen = Math.max(-1, ...files.logs.keys());
  if (logGen > snapshotGen && logGen > 0) {
    throw new JournalCorruptError(path.join(dir, logName(logGen)), 0,
      `it continues ${snapshotName(logGen)}, which is missing`, RESTORE_ADVICE);
  }

  let baseSeq = 0;
  let snapshotBytes = 0;
  let recordsReplayed = 0;
  if (snapshotGen > 0) {
    const snap = await replaySnapshot(path.join(dir, snapshotName(snapshotGen)), snapshotGen, onRecord, opts);
    baseSeq = snap.baseSeq;
    snapshotBytes = snap.size;
    recordsReplayed += snap.records;
  }

  let log: RecoveredJournal['log'];
  let lastSeq = baseSeq;
  if (logGen === snapshotGen) {
    const replayed = await replayLog(path.join(dir, logName(logGen)), logGen, baseSeq, onRecord, opts);
    log = { fh: replayed.fh, path: replayed.path, size: replayed.size };
    lastSeq = replayed.lastSeq;
    recordsReplayed += replayed.records;
  } else {
    if (snapshotGen > 0) opts.logger.info(`${snapshotName(snapshotGen)} has no log yet (compaction was interrupted after writing it); starting one`);
    const created = await createLogFile(dir, snapshotGen, baseSeq);
    log = { ...created, size: HEADER_SIZE };
  }

  const stale = [...files.logs, ...files.snapshots].filter(([gen]) => gen < snapshotGen).map(([, name]) => name);
  if (stale.length > 0) {
    // Best effort: leftovers are harmless, the next open removes them again.
    try {
      await removeFiles(dir, stale);
      await fsyncDir(dir);
      opts.logger.info(`removed ${stale.join(', ')}, superseded by ${snapshotName(snapshotGen)}`);
    } catch (err) {
      opts.logger.warn(`could not remove superseded journal files ${stale.join(', ')}: ${(err as Error).message}`);
    }
  }
  return { generation: snapshotGen, log, lastSeq, snapshotBytes, recordsReplayed };
}

async function readHeader(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.min(size, HEADER_SIZE));
  await readFully(fh, buf, 0, buf.length, 0);
  return buf;
}

async function replaySnapshot(
  filePath: string, generation: number, onRecord: OnRecord, opts: RecoveryOptions,
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

async function replayLog(
  filePath: string, generation: number, baseSeq: number, onRecord: OnRecord, opts: RecoveryOptions,
): Promise<{ fh: FileHandle; path: string; size: number; lastSeq: number; records: number }> {
  const fh = await fs.open(filePath, 'r+');
  try {
    const size = (await fh.stat()).size;
    const header = decodeHeader(await readHeader(fh, size), KIND_LOG);
    let problem = typeof header === 'string' ? `bad log header: ${header}` : undefined;
    if (typeof header !== 'string' && (header.generation !== generation || header.baseSeq !== baseSeq)) {
      problem = `log header (generation ${header.generation}, continuing sequence ${header.baseSeq}) does not match `
        + `its snapshot (generation ${generation}, ending at sequence ${baseSeq})`;
    }
    if (problem) {
      if (!opts.repair) throw new JournalCorruptError(filePath, 0, problem);
      const aside = await copyAside(filePath);
      await fh.truncate(0);
      await writeFully(fh, encodeHeader({ kind: KIND_LOG, generation, baseSeq, recordCount: 0 }), 0);
      await fh.sync();
      opts.logger.error(`REPAIR: ${problem} in ${filePath}; started the log afresh, dropping ALL its records. `
        + `The damaged file was saved as ${aside}.`);
      return { fh, path: filePath, size: HEADER_SIZE, lastSeq: baseSeq, records: 0 };
    }

    const scan = await scanFrames({ fh, fileSize: size, start: HEADER_SIZE, firstSeq: baseSeq + 1, onRecord });
    const damage = scan.damage;
    if (damage) {
      let detail = damage.detail;
      let torn = false;
      if (damage.kind === 'incomplete' || damage.kind === 'bad-length' || damage.kind === 'bad-crc') {
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
    }
    return { fh, path: filePath, size: scan.goodEnd, lastSeq: scan.lastSeq, records: scan.records };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
