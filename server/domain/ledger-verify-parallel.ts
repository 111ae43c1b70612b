/**
 * Verifying an export file on several cores. Parsing a line and hashing a
 * record need nothing from earlier records (a record's hash is checked
 * against its own stated prevHash), so worker threads do that for blocks of
 * the file while the main thread does what is sequential by nature: seqs,
 * the prevHash links, the balance replay, the Merkle tree, the checkpoints.
 * The verdict and the problems are those of the single-thread path
 * (verifyExport in ledger-verify-read.ts): the main thread consumes the
 * blocks in file order through the same ExportReader and LedgerVerifier, and
 * any line that is not an ordinary transfer is handed to it whole.
 *
 * The main thread reads the file in blocks cut at a newline and transfers
 * each block's memory to a worker (round robin, a few blocks ahead per
 * worker, so memory stays bounded whatever the file's size).
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { decodeBlock, type BlockResult, type BlockSink } from './ledger-verify-block.js';
import { ExportReader } from './ledger-verify-read.js';
import { LedgerVerifier, type VerifyOptions, type VerifyResult } from './ledger-verify.js';

/** Bytes per block: large enough that messaging costs nothing, small enough to spread a modest file over the workers. */
const BLOCK = 2 << 20;
/** Blocks in flight per worker. */
const AHEAD = 3;

/** How many workers `verifyFile` starts by default: one per core (none if there is only one). */
export function defaultWorkers(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores > 1 ? Math.min(cores, 8) : 0;
}

// Compiled, the worker is the .js beside this file. Run from source (tsx), it is the .ts one, and a
// worker does not inherit tsx's loader hooks on Node 20: it registers them before importing.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./ledger-verify-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

function startWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`, { eval: true });
}

/** Whole-line blocks of the file, in order; the last may lack its final newline. */
function* blocks(file: string): Generator<Buffer> {
  const fd = fs.openSync(file, 'r');
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      // Unpooled memory: a block's ArrayBuffer is transferred to a worker whole.
      const buf = Buffer.allocUnsafeSlow(carry.length + BLOCK);
      carry.copy(buf);
      const n = fs.readSync(fd, buf, carry.length, BLOCK, null);
      const len = carry.length + n;
      if (n === 0) {
        if (len) yield buf.subarray(0, len);
        return;
      }
      const nl = buf.lastIndexOf(10, len - 1);
      if (nl === -1) {
        carry = buf.subarray(0, len);
        continue;
      }
      carry = Buffer.from(buf.subarray(nl + 1, len));
      yield buf.subarray(0, nl + 1);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** One pass over the file with `workers` threads. */
async function pass(file: string, workers: number, opts: VerifyOptions): Promise<VerifyResult> {
  const reader = new ExportReader(new LedgerVerifier(opts));
  const sink: BlockSink = { blank: () => reader.blank(), raw: (line) => reader.text(line), hashed: (r, ok, leaf) => reader.hashed(r, ok, leaf) };
  const pool = Array.from({ length: workers }, () => startWorker());
  const tables: string[][] = pool.map(() => []);
  const waiting = new Map<number, { resolve: (r: BlockResult) => void; reject: (e: unknown) => void }>();
  const results = new Map<number, Promise<BlockResult>>();
  let failure: unknown = null;
  pool.forEach((w) => {
    w.on('message', (res: BlockResult) => {
      waiting.get(res.id)?.resolve(res);
      waiting.delete(res.id);
    });
    w.on('error', (err) => {
      failure ??= err;
      for (const p of waiting.values()) p.reject(err);
      waiting.clear();
    });
  });
  const source = blocks(file);
  let sent = 0;
  let done = false;
  const send = () => {
    const next = source.next();
    if (next.done) {
      done = true;
      return;
    }
    const id = sent++;
    const buf = next.value;
    results.set(id, new Promise((resolve, reject) => {
      if (failure) reject(failure);
      else waiting.set(id, { resolve, reject });
    }));
    pool[id % workers]!.postMessage({ id, buffer: buf.buffer, length: buf.length }, [buf.buffer as ArrayBuffer]);
  };
  try {
    while (!done && sent < workers * AHEAD) send();
    for (let id = 0; id < sent; id++) {
      const res = await results.get(id)!;
      results.delete(id);
      if (!done) send();
      decodeBlock(res, tables[id % workers]!, sink);
    }
    return reader.verifier.finish();
  } finally {
    source.return(undefined);
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/**
 * verifyExport over a JSONL file, parsing and hashing on `workers` threads
 * (default: one per core). Same result, same UnreadableExportError for input
 * that is not an export; read again if a checkpoint came after its seq.
 */
export async function verifyFile(file: string, opts: VerifyOptions = {}, workers = defaultWorkers()): Promise<VerifyResult> {
  const n = Math.max(1, workers);
  const first = await pass(file, n, opts);
  if (!first.misplaced.length) return first;
  return pass(file, n, { ...opts, checkpoints: [...(opts.checkpoints ?? []), ...first.misplaced] });
}
