/**
 * Opening a data directory: find the newest snapshot and the chain of logs
 * after it, replay them, and clear what interrupted compactions left.
 *
 * Compaction at generation G creates journal-(G+1).log at the cut (so
 * appends continue at once), then writes snapshot-(G+1).snap beside it and
 * commits it by an atomic rename. Hence, for the newest snapshot K (0 = none):
 *   - files older than K are fully contained in snapshot K: deleted;
 *   - logs K, K+1, ..., L must all exist, each continuing the sequence
 *     numbers where the previous one (or snapshot K) ended. More than one
 *     log means a snapshot was never committed; replaying the chain is
 *     exactly as correct, just slower;
 *   - only the last log can end in a torn write.
 * Temp files are never referenced by anything and are always deleted.
 */
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { JournalCorruptError } from './journal-errors.js';
import { createLogFile, fsyncDir, listJournalFiles, logName, moveAside, removeFiles, snapshotName } from './journal-files.js';
import { replayLog, replaySnapshot, RESTORE_ADVICE, type OnRecord, type ReplayOptions } from './journal-replay.js';
import { HEADER_SIZE } from './record-file.js';

export interface RecoveredJournal {
  snapshotGen: number;
  /** The last log of the chain, open for appending. */
  active: { fh: FileHandle; path: string; generation: number; size: number };
  /** Bytes in the logs of the chain before the active one. */
  olderLogBytes: number;
  /** Sequence number of the last record replayed (or of the snapshot, if there were none after it). */
  lastSeq: number;
  snapshotBytes: number;
  recordsReplayed: number;
}

export async function recoverJournal(dir: string, onRecord: OnRecord, opts: ReplayOptions): Promise<RecoveredJournal> {
  const files = await listJournalFiles(dir);
  const removedTemps = await removeFiles(dir, files.temps);
  for (const name of removedTemps) opts.logger.info(`removed ${name}, left over from an interrupted compaction`);

  const snapshotGen = Math.max(0, ...files.snapshots.keys());
  const chain = [...files.logs.keys()].filter((gen) => gen >= snapshotGen).sort((a, b) => a - b);
  chain.forEach((gen, i) => {
    if (gen === snapshotGen + i) return;
    const missing = i === 0 && snapshotGen > 0
      ? `${logName(snapshotGen)}, which continues ${snapshotName(snapshotGen)}, is missing`
      : `the records before it are missing: neither ${snapshotName(gen)} nor ${logName(gen - 1)} exists`;
    throw new JournalCorruptError(path.join(dir, logName(gen)), 0, missing, RESTORE_ADVICE);
  });

  let lastSeq = 0;
  let snapshotBytes = 0;
  let recordsReplayed = 0;
  if (snapshotGen > 0) {
    const snap = await replaySnapshot(path.join(dir, snapshotName(snapshotGen)), snapshotGen, onRecord, opts);
    lastSeq = snap.baseSeq;
    snapshotBytes = snap.size;
    recordsReplayed += snap.records;
  }

  let active: RecoveredJournal['active'] | null = null;
  let olderLogBytes = 0;
  for (let i = 0; i < chain.length && !active; i++) {
    const gen = chain[i];
    const logPath = path.join(dir, logName(gen));
    const replayed = await replayLog(logPath, gen, lastSeq, i === chain.length - 1, onRecord, opts);
    lastSeq = replayed.lastSeq;
    recordsReplayed += replayed.records;
    if (replayed.fh) {
      active = { fh: replayed.fh, path: logPath, generation: gen, size: replayed.size };
    } else if (replayed.repairedShort) {
      // Repair cut this log short, so the later ones no longer continue it: they are set aside, and this log goes on.
      for (const later of chain.slice(i + 1)) {
        const aside = await moveAside(path.join(dir, logName(later)));
        opts.logger.error(`REPAIR: ${logName(later)} no longer continues the repaired ${logName(gen)}; moved it to ${aside}`);
      }
      active = { fh: await fs.open(logPath, 'r+'), path: logPath, generation: gen, size: replayed.size };
    } else {
      olderLogBytes += replayed.size;
    }
  }
  if (!active) active = await startMissingLog(dir, snapshotGen, lastSeq, opts);

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
  return { snapshotGen, active, olderLogBytes, lastSeq, snapshotBytes, recordsReplayed };
}

/**
 * No log continues the newest snapshot. In a new directory that is normal.
 * After a snapshot it is not: its log is created before it, so the log was
 * deleted, with whatever was appended after the snapshot.
 */
async function startMissingLog(
  dir: string, snapshotGen: number, baseSeq: number, opts: ReplayOptions,
): Promise<RecoveredJournal['active']> {
  if (snapshotGen > 0) {
    const detail = `${logName(snapshotGen)}, which holds the writes made after this snapshot, is missing`;
    if (!opts.repair) throw new JournalCorruptError(path.join(dir, snapshotName(snapshotGen)), 0, detail);
    opts.logger.error(`REPAIR: ${detail}; starting an empty one, so writes made after the snapshot are LOST`);
  }
  const created = await createLogFile(dir, snapshotGen, baseSeq);
  return { ...created, generation: snapshotGen, size: HEADER_SIZE };
}
