/**
 * Writes a snapshot file from the engine's state.
 *
 * The state of a large store takes seconds to serialise, and the engine keeps
 * serving requests meanwhile, so records are encoded in slices bounded by
 * size and time, each followed by an awaited write that lets the event loop
 * run. The header is written last with the record count, so a snapshot that
 * is cut short (or not finished) never looks complete.
 */
import fs from 'node:fs/promises';
import type { Document } from '../bson-values.js';
import { writeFully } from './journal-files.js';
import { encodeHeader, encodeRecord, frameSize, HEADER_SIZE, KIND_SNAPSHOT, writeFrame, type EncodedRecord } from './record-file.js';

const SLICE_BYTES = 1024 * 1024;
const SLICE_MS = 10;

/**
 * Writes and syncs `filePath` (a temp name; the caller renames it). Returns
 * its size in bytes. Stops with an AbortError between slices once `signal`
 * is aborted (the journal is closing: the snapshot is optional, the log chain
 * already holds everything).
 */
export async function writeSnapshotFile(
  filePath: string, generation: number, baseSeq: number, records: Iterable<{ ops: Document[] }>, signal?: AbortSignal,
): Promise<number> {
  const fh = await fs.open(filePath, 'w');
  try {
    let position = HEADER_SIZE;
    let count = 0;
    let slice: EncodedRecord[] = [];
    let sliceBytes = 0;
    let sliceStarted = performance.now();

    const flush = async (): Promise<void> => {
      const buf = Buffer.allocUnsafe(sliceBytes);
      let offset = 0;
      for (const rec of slice) offset = writeFrame(buf, offset, rec, ++count, 0);
      slice = [];
      sliceBytes = 0;
      await writeFully(fh, buf, position);
      position += buf.length;
      signal?.throwIfAborted();
      sliceStarted = performance.now();
    };

    for (const rec of records) {
      const encoded = encodeRecord(rec.ops);
      slice.push(encoded);
      sliceBytes += frameSize(encoded);
      // The clock is checked per record (~50 ns) because one record may hold a thousand documents.
      if (sliceBytes >= SLICE_BYTES || performance.now() - sliceStarted > SLICE_MS) {
        await flush();
      }
    }
    await flush();
    await writeFully(fh, encodeHeader({ kind: KIND_SNAPSHOT, generation, baseSeq, recordCount: count }), 0);
    await fh.datasync();
    return position;
  } finally {
    await fh.close();
  }
}
