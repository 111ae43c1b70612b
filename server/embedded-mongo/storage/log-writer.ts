/**
 * Group commit: appends that arrive while a write+fdatasync is in flight
 * queue up, and the next write takes all of them, so N concurrent appenders
 * cost one sync per batch rather than one each. Everything goes through
 * `fs.promises`, so a sync never blocks the event loop.
 *
 * Order is fixed at append time (sequence numbers are assigned in call
 * order), batches are written one after another, and a batch's promises are
 * resolved in order after its sync, so resolution order = call order =
 * replay order.
 *
 * Compaction needs a cut: `freeze()` marks everything appended so far as
 * belonging to the current log; later appends are held (not written) until
 * `resume()` says which file they go to.
 *
 * A failed write or sync poisons the writer for good. After a failed fsync
 * the kernel may have dropped the dirty pages and a retry can "succeed"
 * without the data being on disk, so the only safe answer is to refuse
 * further writes and let a restart recover from what is really there.
 */
import type { FileHandle } from 'node:fs/promises';
import { writeFully } from './journal-files.js';
import { frameSize, writeFrame, type EncodedRecord } from './record-file.js';

/** Upper bound on one write, to keep single allocations and copies modest. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface Pending {
  rec: EncodedRecord;
  seq: number;
  resolve(): void;
  reject(err: Error): void;
}

export class LogWriter {
  private fh: FileHandle;
  private filePath: string;
  private position: number;
  private readonly fsync: boolean;
  private lastSeq: number;
  /** Highest sequence number written and synced. */
  private durableSeq: number;
  private durableWaiters: Array<{ seq: number; resolve(): void; reject(err: Error): void }> = [];
  private queue: Pending[] = [];
  private held: Pending[] = [];
  private frozen = false;
  private writing = false;
  private failure: Error | null = null;
  private drainWaiters: Array<{ resolve(): void; reject(err: Error): void }> = [];
  /** Counters for stats(): fdatasync calls, write batches, records written. */
  syncs = 0;
  batches = 0;
  written = 0;

  constructor(fh: FileHandle, filePath: string, position: number, lastSeq: number, fsync: boolean) {
    this.fh = fh;
    this.filePath = filePath;
    this.position = position;
    this.lastSeq = lastSeq;
    this.durableSeq = lastSeq;
    this.fsync = fsync;
  }

  /** Bytes in the current log file. */
  get size(): number {
    return this.position;
  }

  get failed(): Error | null {
    return this.failure;
  }

  get file(): FileHandle {
    return this.fh;
  }

  append(rec: EncodedRecord): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.lastSeq;
    return new Promise<void>((resolve, reject) => {
      if (this.frozen) {
        this.held.push({ rec, seq, resolve, reject });
      } else {
        this.queue.push({ rec, seq, resolve, reject });
        this.kick();
      }
    });
  }

  /** Stops writing appends made from now on; returns the sequence number of the last one before the cut. */
  freeze(): number {
    this.frozen = true;
    return this.lastSeq;
  }

  /** Resolves once everything queued for the current file is written and synced. */
  drain(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /**
   * Resolves once every append made so far is durable, without waiting for
   * the queue to run empty (under steady load it never does).
   */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.lastSeq;
    if (this.durableSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => this.durableWaiters.push({ seq, resolve, reject }));
  }

  /** Releases held appends, into a new file if one is given (the handle of the old one is the caller's). */
  resume(next?: { fh: FileHandle; path: string; position: number }): void {
    if (next) {
      this.fh = next.fh;
      this.filePath = next.path;
      this.position = next.position;
    }
    this.frozen = false;
    if (this.failure) return; // held appends were rejected when it failed
    this.queue.push(...this.held);
    this.held = [];
    this.kick();
  }

  /** Rejects every pending and future append with `err`. */
  fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const p of this.queue.splice(0)) p.reject(this.failure);
    for (const p of this.held.splice(0)) p.reject(this.failure);
    for (const w of this.drainWaiters.splice(0)) w.reject(this.failure);
    for (const w of this.durableWaiters.splice(0)) w.reject(this.failure);
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = true;
    // Starting on the next check phase rather than now lets every append made
    // by this turn's I/O callbacks (e.g. commands from several connections)
    // join the first batch instead of the first one going out alone.
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    // The queue check and `writing = false` run in the same synchronous step
    // after the last await, so an append can never slip in between unseen.
    while (this.queue.length > 0 && !this.failure) {
      let bytes = 0;
      let count = 0;
      while (count < this.queue.length && (count === 0 || bytes + frameSize(this.queue[count].rec) <= MAX_BATCH_BYTES)) {
        bytes += frameSize(this.queue[count].rec);
        count++;
      }
      await this.writeBatch(this.queue.splice(0, count), bytes);
    }
    this.writing = false;
    if (!this.failure) for (const w of this.drainWaiters.splice(0)) w.resolve();
  }

  private async writeBatch(batch: Pending[], bytes: number): Promise<void> {
    try {
      const buf = Buffer.allocUnsafe(bytes);
      let offset = 0;
      for (let i = 0; i < batch.length; i++) offset = writeFrame(buf, offset, batch[i].rec, batch[i].seq, i);
      await writeFully(this.fh, buf, this.position);
      if (this.fsync) {
        await this.fh.datasync();
        this.syncs++;
      }
    } catch (err) {
      const failure = new Error(
        `journal write to ${this.filePath} failed (${(err as Error).message}); no further writes are accepted. `
        + 'Acknowledged data is safe on disk; restart the store to recover.',
        { cause: err },
      );
      for (const p of batch) p.reject(failure);
      this.fail(failure);
      return;
    }
    this.position += bytes;
    this.batches++;
    this.written += batch.length;
    this.durableSeq = batch[batch.length - 1].seq;
    for (const p of batch) p.resolve();
    if (this.durableWaiters.length > 0) {
      const ready = this.durableWaiters.filter((w) => w.seq <= this.durableSeq);
      this.durableWaiters = this.durableWaiters.filter((w) => w.seq > this.durableSeq);
      for (const w of ready) w.resolve();
    }
  }
}
