/**
 * Durability for the in-memory store: an append-only log of commit records
 * plus periodic snapshots. The file format is described in record-file.ts,
 * the directory layout in journal-files.ts, recovery in journal-recovery.ts
 * and group commit in log-writer.ts.
 *
 * Compaction cuts the log at a sequence number: appends issued before
 * `compact()` go to the old log (and are in the engine's state), appends
 * issued after it go to a new log, created at the cut. Only the few
 * milliseconds of that switch hold appends back; the snapshot is written
 * beside the new log while appends continue, and committed by an atomic
 * rename. Until then the chain "old snapshot + old log + new log" is a
 * complete history, so a crash or failure at any step loses nothing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CommitRecord, JournalLogger, JournalOptions, JournalStats } from './journal-types.js';
import { createLogFile, fsyncDir, listJournalFiles, logName, removeFiles, snapshotName } from './journal-files.js';
import { recoverJournal } from './journal-recovery.js';
import { acquireLock, type DirectoryLock } from './lock-file.js';
import { LogWriter } from './log-writer.js';
import { encodeRecord, HEADER_SIZE } from './record-file.js';
import { writeSnapshotFile } from './snapshot-writer.js';

export { JournalCorruptError, JournalLockedError } from './journal-errors.js';

export type { CommitRecord, JournalLogger, JournalOptions, JournalStats } from './journal-types.js';

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
  /** Generation of the newest committed snapshot (0 = none) and of the log being appended to. */
  private snapshotGen: number;
  private logGen: number;
  private snapshotBytes: number;
  /** Bytes of the logs between the snapshot and the active log (non-zero while a snapshot is pending). */
  private olderLogBytes: number;
  private compactions = 0;
  private compaction: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private readonly closeSignal = new AbortController();

  private constructor(init: {
    dir: string; lock: DirectoryLock; writer: LogWriter; logger: JournalLogger; threshold: number;
    snapshotGen: number; logGen: number; snapshotBytes: number; olderLogBytes: number; recordsReplayed: number; openMs: number;
  }) {
    this.dir = init.dir;
    this.lock = init.lock;
    this.writer = init.writer;
    this.logger = init.logger;
    this.threshold = init.threshold;
    this.snapshotGen = init.snapshotGen;
    this.logGen = init.logGen;
    this.snapshotBytes = init.snapshotBytes;
    this.olderLogBytes = init.olderLogBytes;
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
      const { fh, path: logPath, size, generation } = recovered.active;
      const writer = new LogWriter(fh, logPath, size, recovered.lastSeq, options.fsync ?? true);
      const openMs = performance.now() - started;
      logger.info(`opened ${absDir}: replayed ${recovered.recordsReplayed} records in ${openMs.toFixed(0)} ms`);
      return new Journal({
        dir: absDir, lock, writer, logger, threshold: options.compactThresholdBytes ?? DEFAULT_COMPACT_THRESHOLD,
        snapshotGen: recovered.snapshotGen, logGen: generation, snapshotBytes: recovered.snapshotBytes,
        olderLogBytes: recovered.olderLogBytes, recordsReplayed: recovered.recordsReplayed, openMs,
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
    const logBytes = this.olderLogBytes + this.writer.size;
    return logBytes > this.threshold && logBytes > 2 * this.snapshotBytes;
  }

  /**
   * Writes a snapshot of `state()` and starts a fresh log. `state` is called
   * synchronously, before this returns, and must describe exactly the appends
   * issued so far; its iterable is consumed over many event-loop turns while
   * appends continue, so ideally it does not see later changes (or, like the
   * engine's, replays idempotently). A compact() while one is running joins
   * it without calling `state`. If the journal is closed meanwhile, the
   * snapshot is abandoned (nothing is lost: the logs hold everything).
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
    const cutSeq = this.writer.freeze();
    this.compaction = this.runCompaction(records, cutSeq).finally(() => {
      this.compaction = null;
    });
    return this.compaction;
  }

  private async runCompaction(records: Iterable<CommitRecord>, cutSeq: number): Promise<void> {
    const started = performance.now();
    const newGen = this.logGen + 1;
    await this.switchLog(newGen, cutSeq);

    const snapPath = path.join(this.dir, snapshotName(newGen));
    const tmpPath = `${snapPath}.tmp`;
    let snapBytes: number;
    try {
      snapBytes = await writeSnapshotFile(tmpPath, newGen, cutSeq, records, this.closeSignal.signal);
      // A lazily read state may include changes appended after the cut. Committing the snapshot only
      // once those appends are durable means it never holds a change the log could still lose
      // (half of a transaction, say, after a crash).
      await this.writer.durable();
      await fs.rename(tmpPath, snapPath);
      await fsyncDir(this.dir);
    } catch (err) {
      await fs.unlink(tmpPath).catch(() => undefined);
      if (this.closeSignal.signal.aborted) {
        this.logger.info(`abandoned ${snapshotName(newGen)}: the journal is closing (the logs hold every write)`);
        return;
      }
      // The log chain is still a complete history; the next compaction tries again.
      this.logger.error(`compaction failed, nothing is lost (the logs hold every write): ${(err as Error).message}`);
      throw err;
    }

    this.snapshotGen = newGen;
    this.snapshotBytes = snapBytes;
    this.olderLogBytes = 0;
    this.compactions++;
    await this.removeSuperseded(newGen);
    this.logger.info(`compacted ${this.dir} to ${snapshotName(newGen)} (${snapBytes} bytes) in ${(performance.now() - started).toFixed(0)} ms`);
  }

  /** Finishes the current log at `cutSeq` and sends the appends held since the cut to a new one. */
  private async switchLog(newGen: number, cutSeq: number): Promise<void> {
    const oldLog = this.writer.file;
    await this.writer.drain(); // the old log now holds every record up to cutSeq, synced
    let created: Awaited<ReturnType<typeof createLogFile>>;
    try {
      created = await createLogFile(this.dir, newGen, cutSeq);
    } catch (err) {
      await this.abandonLog(newGen, err as Error);
      this.writer.resume(); // the old log goes on
      throw err;
    }
    this.olderLogBytes += this.writer.size;
    this.writer.resume({ fh: created.fh, path: created.path, position: HEADER_SIZE });
    this.logGen = newGen;
    await oldLog.close();
  }

  /**
   * A new log that failed half-way must not survive: appends continuing in
   * the old log would then be followed, on replay, by a log claiming to
   * continue from the cut. If it cannot be removed, writing stops.
   */
  private async abandonLog(generation: number, cause: Error): Promise<void> {
    try {
      await removeFiles(this.dir, [logName(generation), `${logName(generation)}.tmp`]);
      await fsyncDir(this.dir);
    } catch (err) {
      const failure = new Error(
        `could not start a new log in ${this.dir} (${cause.message}) nor clean up after it (${(err as Error).message}); `
        + 'no further writes are accepted. Acknowledged data is safe; restart the store to recover.',
        { cause },
      );
      this.writer.fail(failure);
      this.logger.error(failure.message);
      throw failure;
    }
  }

  /** Deletes snapshots and logs older than the committed snapshot `generation` (best effort). */
  private async removeSuperseded(generation: number): Promise<void> {
    try {
      const files = await listJournalFiles(this.dir);
      const old = [...files.logs, ...files.snapshots].filter(([gen]) => gen < generation).map(([, name]) => name);
      await removeFiles(this.dir, old);
      await fsyncDir(this.dir);
    } catch (err) {
      this.logger.warn(`could not remove superseded journal files (they are removed at next open): ${(err as Error).message}`);
    }
  }

  /** Flushes pending appends (and any running compaction), closes files, releases the lock. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closeSignal.abort();
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
      logBytes: this.olderLogBytes + this.writer.size,
      snapshotBytes: this.snapshotBytes,
      recordsReplayed: this.recordsReplayed,
      openMs: this.openMs,
      syncs: this.writer.syncs,
      appends: this.writer.written,
      generation: this.snapshotGen,
      compactions: this.compactions,
    };
  }
}
