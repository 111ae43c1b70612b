/**
 * File naming and the small filesystem steps the journal relies on for
 * crash safety (full writes, directory fsync, creating a log atomically).
 *
 * A data directory holds, for the newest snapshot generation G:
 *   snapshot-G.snap   state as of the last compaction (absent for G = 0)
 *   journal-G.log     commit records appended since that snapshot
 *   mongod.lock       the owning process (lock-file.ts)
 * While a compaction runs there is also journal-(G+1).log (appends after
 * its cut) and snapshot-(G+1).snap.tmp. Generation numbers are padded so
 * that a directory listing sorts in replay order.
 */
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeHeader, KIND_LOG } from './record-file.js';

const NAME_PATTERN = /^(journal|snapshot)-(\d{10,})\.(log|snap)(\.tmp)?$/;

export function logName(generation: number): string {
  return `journal-${String(generation).padStart(10, '0')}.log`;
}

export function snapshotName(generation: number): string {
  return `snapshot-${String(generation).padStart(10, '0')}.snap`;
}

export interface JournalDirListing {
  logs: Map<number, string>;
  snapshots: Map<number, string>;
  /** Temporary files of an interrupted compaction: never referenced, always safe to delete. */
  temps: string[];
}

export async function listJournalFiles(dir: string): Promise<JournalDirListing> {
  const listing: JournalDirListing = { logs: new Map(), snapshots: new Map(), temps: [] };
  for (const name of await fs.readdir(dir)) {
    const match = NAME_PATTERN.exec(name);
    if (!match) continue;
    if (match[4]) listing.temps.push(name);
    else if (match[1] === 'journal' && match[3] === 'log') listing.logs.set(Number(match[2]), name);
    else if (match[1] === 'snapshot' && match[3] === 'snap') listing.snapshots.set(Number(match[2]), name);
  }
  return listing;
}

/** Reads exactly `length` bytes or fails: a short read means the file changed under us. */
export async function readFully(fh: FileHandle, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Writes all of `buf` at `position` (positional writes may be partial). */
export async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Makes renames, creations and deletions in `dir` durable. Without it a
 * crash can undo a rename that the journal already relied on.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Creates `journal-G.log` holding just its header, atomically (temp file,
 * sync, rename, directory sync), so a log that exists always has a valid
 * header and a bad header is real damage rather than an interrupted creation.
 * Returns the file opened for appending.
 */
export async function createLogFile(dir: string, generation: number, baseSeq: number): Promise<{ fh: FileHandle; path: string }> {
  const finalPath = path.join(dir, logName(generation));
  const tmpPath = `${finalPath}.tmp`;
  const tmp = await fs.open(tmpPath, 'w');
  try {
    await writeFully(tmp, encodeHeader({ kind: KIND_LOG, generation, baseSeq, recordCount: 0 }), 0);
    await tmp.datasync();
  } finally {
    await tmp.close();
  }
  await fs.rename(tmpPath, finalPath);
  await fsyncDir(dir);
  return { fh: await fs.open(finalPath, 'r+'), path: finalPath };
}

/**
 * Copies a damaged file to `<name>.corrupt-<timestamp>` and syncs the copy,
 * so that repair's truncation never destroys the only copy of the evidence.
 */
export async function copyAside(filePath: string): Promise<string> {
  const target = `${filePath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await fs.copyFile(filePath, target);
  const fh = await fs.open(target, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(path.dirname(filePath));
  return target;
}

/** Renames a file that can no longer be used to `<name>.corrupt-<timestamp>`, durably. */
export async function moveAside(filePath: string): Promise<string> {
  const target = `${filePath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await fs.rename(filePath, target);
  await fsyncDir(path.dirname(filePath));
  return target;
}

/** Deletes files, tolerating ones that are already gone. */
export async function removeFiles(dir: string, names: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    try {
      await fs.unlink(path.join(dir, name));
      removed.push(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return removed;
}
