/** Shared helpers for the journal tests: temp directories, a capturing logger, file surgery. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Journal, type CommitRecord, type JournalOptions } from '../../server/embedded-mongo/storage/journal.js';
import { logName, snapshotName } from '../../server/embedded-mongo/storage/journal-files.js';
import { FRAME_HEADER_SIZE, HEADER_SIZE } from '../../server/embedded-mongo/storage/record-file.js';

export { FRAME_HEADER_SIZE, HEADER_SIZE };

const created: string[] = [];

export async function makeTempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-test-'));
  created.push(dir);
  return dir;
}

/** Removes every temp dir made so far (call from afterEach). */
export async function removeTempDirs(): Promise<void> {
  for (const dir of created.splice(0)) await fs.rm(dir, { recursive: true, force: true });
}

export class CaptureLogger {
  infos: string[] = [];
  warns: string[] = [];
  errors: string[] = [];
  info(msg: string): void { this.infos.push(msg); }
  warn(msg: string): void { this.warns.push(msg); }
  error(msg: string): void { this.errors.push(msg); }
}

export interface Opened {
  journal: Journal;
  records: CommitRecord[];
  logger: CaptureLogger;
}

export async function openJournal(dir: string, options: JournalOptions = {}): Promise<Opened> {
  const records: CommitRecord[] = [];
  const logger = new CaptureLogger();
  const journal = await Journal.open(dir, (rec) => records.push(rec), { logger, ...options });
  return { journal, records, logger };
}

/** Opens, collects the replayed records, and closes again. */
export async function replayAll(dir: string, options: JournalOptions = {}): Promise<Opened> {
  const opened = await openJournal(dir, options);
  await opened.journal.close();
  return opened;
}

/** A small numbered commit record. */
export function rec(n: number, pad = 0): CommitRecord {
  return { ops: [{ op: 'put', n, pad: 'x'.repeat(pad) }] };
}

/** The numbers of records made by rec(), in replay order. */
export function numbers(records: CommitRecord[]): number[] {
  return records.flatMap((r) => r.ops.map((op) => op.n as number));
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export function logFile(dir: string, generation = 0): string {
  return path.join(dir, logName(generation));
}

export function snapshotFile(dir: string, generation: number): string {
  return path.join(dir, snapshotName(generation));
}

/** Frame offsets and payload lengths of a journal file, read through the length fields only. */
export async function frameOffsets(file: string): Promise<Array<{ offset: number; length: number }>> {
  const buf = await fs.readFile(file);
  const frames: Array<{ offset: number; length: number }> = [];
  let offset = HEADER_SIZE;
  while (offset + FRAME_HEADER_SIZE <= buf.length) {
    const length = buf.readUInt32LE(offset);
    if (offset + FRAME_HEADER_SIZE + length > buf.length) break;
    frames.push({ offset, length });
    offset += FRAME_HEADER_SIZE + length;
  }
  return frames;
}

/** Overwrites bytes of a file in place. */
export async function patchFile(file: string, offset: number, bytes: Uint8Array): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, offset);
  } finally {
    await fh.close();
  }
}

/** Flips every bit of one byte. */
export async function flipByte(file: string, offset: number): Promise<void> {
  const buf = await fs.readFile(file);
  await patchFile(file, offset, Buffer.from([buf[offset] ^ 0xff]));
}

/** Appends `count` records one at a time, so each is its own group-commit batch. */
export async function appendSequentially(journal: Journal, from: number, count: number, pad = 0): Promise<void> {
  for (let n = from; n < from + count; n++) await journal.append(rec(n, pad));
}
