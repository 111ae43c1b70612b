/** The journal's public types, kept apart so journal.ts holds only behaviour. */
import type { Document } from '../bson-values.js';

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
  /** Bytes of the logs not yet folded into a snapshot (one log, or two while a snapshot is being written). */
  logBytes: number;
  snapshotBytes: number;
  recordsReplayed: number;
  openMs: number;
  /** fdatasync calls on the log since open (group commit makes this far fewer than appends). */
  syncs: number;
  /** Records written to the log since open. */
  appends: number;
  /** Generation of the newest committed snapshot (0 = none yet). */
  generation: number;
  compactions: number;
}
