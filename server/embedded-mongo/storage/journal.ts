/**
 * Durability for the in-memory store: an append-only log of commit records
 * plus periodic snapshots. The file format is described in record-file.ts,
 * the directory layout in journal-files.ts, recovery in journal-recovery.ts
 * and group commit in log-writer.ts.
 *
 * Compaction cuts the log at a sequence number: appends issued before
 * `compact()` go to the old log (and are in the engine's state), appends
 * issued after it are held and written to the new log once the snapshot is
 * committed. The snapshot is committed by an atomic rename; before that
 * point a failure leaves the old generation in charge, after it the new one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Document } from '../bson-values.js';
import { createLogFile, fsyncDir, logName, removeFiles, snapshotName } from './journal-files.js';
import { recoverJournal } from './journal-recovery.js';
import { acquireLock, type DirectoryLock } from './lock-file.js';
import { LogWriter } from './log-writer.js';
import { encodeRecord, HEADER_SIZE } from './record-file.js';
import { writeSnapshotFile } from './snapshot-writer.js';

export { JournalCorruptError, JournalLockedError } from './journal-errors.js';

/** One durable unit: everything one command or one transaction commit changed, applied atomically on replay. */
export interface CommitRecord {
  ops: Document[];
}

export interface JournalLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface JournalOptions {
  /** Compact when the log exceeds this many bytes AND is larger than 2x the last snapshot (default 64 MiB). */
  compactThresholdBytes?: number;
  /** Fsync before acknowledging (default true). Tests of throughput may set false; production never does. */
  fsync?: boolean;
  logger?: JournalLogger;
  /**
   * `--repair`: instead of refusing to open, copy each damaged file aside to
   * `<name>.corrupt-<timestamp>` and truncate it at its last good record.
   * Records after the damage are lost; the logger says how much.
   */
  repair?: boolean;
}

export interface JournalStats {
  logBytes: number;
  snapshotBytes: number;
  recordsReplayed: number;
  openMs: number;
  /** fdatasync calls on the log since open (group commit makes this far fewer than appends). */
  syncs: number;
  /** Records written to the log since open. */
  appends: number;
  /** Current generation: number of the snapshot the log continues (0 = none yet). */
  generation: number;
  compactions: number;
}

const DEFAULT_COMPACT_THRESHOLD = 64 * 1024 * 1024;

const consoleLogger: JournalLogger = {
  info: (msg) => console.log(`[journal] ${msg}`),
  warn: (msg) => console.warn(`[journal] WARNING: ${msg}`),
  error: (msg) => console.error(`[journal] ERROR: ${msg}`),
};

export class Journal {
  private readonly dir: string;
  private readonly lock: DirectoryLock;
  private readonly writer: LogWriter;
  private readonly logger: JournalLogger;
  private readonly threshold: number;
  private readonly recordsReplayed: number;
  private readonly openMs: number;
  private generation: number;
  private snapshotBytes: number;
  private compactions = 0;
  private compaction: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  private constructor(init: {
    dir: string; lock: DirectoryLock; writer: LogWriter; logger: JournalLogger; threshold: number;
    generation: number; snapshotBytes: number; recordsReplayed: number; openMs: number;
  }) {
    this.dir = init.dir;
    this.lock = init.lock;
    this.writer = init.writer;
    this.logger = init.logger;
    this.threshold = init.threshold;
    this.generation = init.generation;
    this.snapshotBytes = init.snapshotBytes;
    this.recordsReplayed = init.recordsReplayed;
    this.openMs = init.openMs;
  }

  /** Takes the lock, reads the snapshot then the log in order, calling onRecord for each commit record, and returns the open journal. */
  static async open(dir: string, onRecord: (rec: CommitRecord) => void, options: JournalOptions = {}): Promise<Journal> {
    const started = performance.now();
    const logger = options.logger ?? consoleLogger;
    const absDir = path.resolve(dir);
    await fs.mkdir(absDir, { recursive: true });
    const lock = await acquireLock(absDir, logger);
    try {
      const recovered = await recoverJournal(absDir, onRecord, { repair: options.repair ?? false, logger });
      const { fh, path: logPath, size } = recovered.log;
      const writer = new LogWriter(fh, logPath, size, recovered.lastSeq, options.fsync ?? true);
      const openMs = performance.now() - started;
      logger.info(`opened ${absDir}: replayed ${recovered.recordsReplayed} records in ${openMs.toFixed(0)} ms`);
      return new Journal({
        dir: absDir, lock, writer, logger, threshold: options.compactThresholdBytes ?? DEFAULT_COMPACT_THRESHOLD,
        generation: recovered.generation, snapshotBytes: recovered.snapshotBytes,
        recordsReplayed: recovered.recordsReplayed, openMs,
      });
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * Durably appends one commit record; resolves after it is fdatasynced.
   * Concurrent appends share one write and one sync (group commit), and
   * resolve in call order, which is also their replay order.
   */
  append(rec: CommitRecord): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`journal ${this.dir} is closed`));
    try {
      // Encoded now, in the caller's turn: fixes the content even if the caller reuses objects, and
      // surfaces unserialisable records to the caller that made them.
      return this.writer.append(encodeRecord(rec.ops));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** True when the log is big enough that the engine should call compact(). */
  get wantsCompaction(): boolean {
    if (this.compaction || this.closing || this.writer.failed) return false;
    const logBytes = this.writer.size;
    return logBytes > this.threshold && logBytes > 2 * this.snapshotBytes;
  }

  /**
   * Writes a snapshot of `state()` and starts a fresh log. `state` is called
   * synchronously, before this returns, and must describe exactly the appends
   * issued so far; its iterable is consumed over many event-loop turns, so it
   * must not see later changes (the engine's documents are immutable, so a
   * shallow copy of its collections is enough). A compact() while one is
   * running joins it without calling `state`.
   */
  compact(state: () => Iterable<CommitRecord>): Promise<void> {
    if (this.compaction) return this.compaction;
    if (this.closing) return Promise.reject(new Error(`journal ${this.dir} is closed`));
    if (this.writer.failed) return Promise.reject(this.writer.failed);
    let records: Iterable<CommitRecord>;
    try {
      records = state();
    } catch (err) {
      return Promise.reject(err);
    }
    const baseSeq = this.writer.freeze();
    this.compaction = this.runCompaction(records, baseSeq).finally(() => {
      this.compaction = null;
    });
    return this.compaction;
  }

  private async runCompaction(records: Iterable<CommitRecord>, baseSeq: number): Promise<void> {
    const started = performance.now();
    const oldGen = this.generation;
    const newGen = oldGen + 1;
    const oldLog = this.writer.file;
    await this.writer.drain(); // the old log now holds every record up to baseSeq, synced

    const snapPath = path.join(this.dir, snapshotName(newGen));
    const tmpPath = `${snapPath}.tmp`;
    let snapBytes: number;
    try {
      snapBytes = await writeSnapshotFile(tmpPath, newGen, baseSeq, records);
    } catch (err) {
      // Nothing is committed yet: the old generation stays authoritative and held appends go to its log.
      await fs.unlink(tmpPath).catch(() => undefined);
      this.writer.resume();
      this.logger.error(`compaction failed before its snapshot was committed; continuing with the current log: ${(err as Error).message}`);
      throw err;
    }

    try {
      await fs.rename(tmpPath, snapPath);
      await fsyncDir(this.dir);
      // From here a restart uses the new snapshot and ignores the old log, so nothing may be appended to it.
      const created = await createLogFile(this.dir, newGen, baseSeq);
      this.writer.resume({ fh: created.fh, path: created.path, position: HEADER_SIZE });
    } catch (err) {
      const failure = new Error(
        `compaction of ${this.dir} failed after its snapshot was committed (${(err as Error).message}); `
        + 'no further writes are accepted. Acknowledged data is safe; restart the store to recover.',
        { cause: err },
      );
      this.writer.fail(failure);
      this.logger.error(failure.message);
      throw failure;
    }

    this.generation = newGen;
    this.snapshotBytes = snapBytes;
    this.compactions++;
    await oldLog.close();
    const superseded = [logName(oldGen), ...(oldGen > 0 ? [snapshotName(oldGen)] : [])];
    try {
      await removeFiles(this.dir, superseded);
      await fsyncDir(this.dir);
    } catch (err) {
      this.logger.warn(`could not remove superseded ${superseded.join(', ')} (removed at next open): ${(err as Error).message}`);
    }
    this.logger.info(`compacted ${this.dir} to ${snapshotName(newGen)} (${snapBytes} bytes) in ${(performance.now() - started).toFixed(0)} ms`);
  }

  /** Flushes pending appends (and any running compaction), closes files, releases the lock. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (this.compaction) await this.compaction.catch(() => undefined);
    // A failed writer has already rejected every pending append; closing must still release the lock.
    await this.writer.drain().catch(() => undefined);
    try {
      await this.writer.file.close();
    } finally {
      await this.lock.release();
    }
  }

  /** Sizes for stats: log bytes, snapshot bytes, records replayed at open, time taken to open (ms), and counters. */
  stats(): JournalStats {
    return {
      logBytes: this.writer.size,
      snapshotBytes: this.snapshotBytes,
      recordsReplayed: this.recordsReplayed,
      openMs: this.openMs,
      syncs: this.writer.syncs,
      appends: this.writer.written,
      generation: this.generation,
      compactions: this.compactions,
    };
  }
}
