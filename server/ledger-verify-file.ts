/**
 * Verifying an export file on two threads (the CLI's path).
 *
 * The work splits by concern, then by range. The chain half (order, shape,
 * both hashes of every record, links, the Merkle tree, checkpoints and
 * signatures) is the heavier, and it runs on this thread from the top of the
 * file; the balances half (the replay with its constraints, pending and
 * reversal rules, totals, stored accounts), which must see every record in
 * order, runs on a worker thread over the whole file, ahead of this one,
 * and at a batch of lines it chooses while both run (ledger-verify-split.ts)
 * claims the rest of the chain too — the "tail", which it parses anyway.
 * This thread stops there; the worker hands back the tail's leaves, heads
 * and checkpoints, and this thread carries the tree and the checkpoints on
 * through them. Each thread reads and parses its lines itself; the halves
 * are LedgerVerifier's `part` option and beginTail()/resumeTail(): the same
 * code as the single-thread path and the console's check, so they cannot
 * disagree (the unit tests split every test journal at every line and
 * compare; the tamper drills split real exports and compare).
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ExportReader, finishReading, UnreadableExportError, verifyExport } from './domain/ledger-verify-read.js';
import { LedgerVerifier, type ChainTail, type VerifyOptions, type VerifyProblem, type VerifyResult } from './domain/ledger-verify.js';
import { ClaimPolicy, SplitPoint } from './ledger-verify-split.js';

/** A batch of whole lines and the bytes they span: [start, end). */
export interface LineBatch {
  lines: string[];
  start: number;
  end: number;
}

export const CHUNK_BYTES = 1 << 20;

/**
 * The file's lines, a chunk's worth at a time, with their byte offsets
 * (the same for any reader of the same file and chunk size: the threads of
 * a verification agree on batch starts). Read synchronously: a regulator's
 * export is on a local disk (usually in the page cache), and waiting for the
 * thread pool between small chunks left this thread idle for an eighth of
 * its time. An all-ASCII chunk — the usual case — is decoded as latin1,
 * several times faster than UTF-8; any other goes through a UTF-8 decoder
 * that carries a character split across chunks.
 */
export function* fileBatches(file: string, chunkBytes = CHUNK_BYTES): Generator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const fd = fs.openSync(file, 'r');
  let carry = '';
  let start = 0;
  let at = 0;
  try {
    for (let n = fs.readSync(fd, chunk, 0, chunkBytes, at); n > 0; n = fs.readSync(fd, chunk, 0, chunkBytes, at)) {
      const bytes = chunk.subarray(0, n);
      const text = isAscii(bytes) ? bytes.toString('latin1') : decoder.write(bytes);
      const lines: string[] = [];
      let from = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
        const line = from === 0 ? carry + text.slice(0, nl) : text.slice(from, nl);
        lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
        from = nl + 1;
      }
      carry = from === 0 ? carry + text : text.slice(from);
      const lastNl = bytes.lastIndexOf(10);
      const end = lastNl === -1 ? start : at + lastNl + 1;
      at += n;
      if (lines.length) yield { lines, start, end };
      start = end;
    }
  } finally {
    fs.closeSync(fd);
  }
  carry += decoder.end();
  if (carry) yield { lines: [carry], start, end: at };
}

async function* fileLines(file: string): AsyncGenerator<string[]> {
  for (const batch of fileBatches(file)) yield batch.lines;
}

/** The whole verification of `file` on this thread. */
export function verifyFileWhole(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  return verifyExport(() => fileLines(file), opts);
}

/** Tests: smaller batches, and the worker's tail fixed to begin at the first batch past a share of the bytes (not by its ClaimPolicy). */
export interface SplitOptions {
  chunkBytes?: number;
  claimShare?: number;
}

/** The batch start SplitOptions.claimShare names (past the first batch, which holds the header), or the file's end. */
function fixedClaim(file: string, split: SplitOptions): number | undefined {
  if (split.claimShare === undefined) return undefined;
  const size = fs.statSync(file).size;
  for (const batch of fileBatches(file, split.chunkBytes)) if (batch.start > 0 && batch.start >= split.claimShare * size) return batch.start;
  return size;
}

/** The chain half's share: the lines up to where the worker claims the rest. Returns where it stopped. */
function checkChain(reader: ExportReader, file: string, point: SplitPoint, chunkBytes: number): number {
  let end = 0;
  for (const batch of fileBatches(file, chunkBytes)) {
    if (!point.mayRead(batch.start)) {
      point.stop(batch.start);
      return batch.start;
    }
    for (const line of batch.lines) reader.text(line);
    end = batch.end;
  }
  point.stop(end);
  return end;
}

/**
 * The worker's share: the balances over the whole file, and the chain from
 * the batch where it claims the rest (see SplitPoint). Returns where its
 * tail began too, for the main thread to check against where it stopped.
 */
export function verifyBalancesAndTail(file: string, opts: VerifyOptions, point: SplitPoint, split: SplitOptions = {}): { result: VerifyResult; tail: ChainTail; tailFrom: number } {
  const verifier = new LedgerVerifier({ ...opts, part: 'balances' });
  const reader = new ExportReader(verifier);
  const size = fs.statSync(file).size;
  const policy = new ClaimPolicy(size);
  let tailFrom = point.fixedClaim();
  let begun = false;
  for (const batch of fileBatches(file, split.chunkBytes)) {
    // Claims fall on a batch start past the first (which holds the header: the chain half needs it).
    if (tailFrom === -1 && batch.start > 0 && policy.claimHere(batch.start, point.mainAt())) tailFrom = point.claim(batch.start);
    if (!begun && batch.start === tailFrom) {
      verifier.beginTail();
      begun = true;
    }
    for (const line of batch.lines) reader.text(line);
  }
  // No claim, or one the main thread only saw at the end: it checked the whole chain, and the tail is empty.
  if (!begun) {
    if (tailFrom === -1) tailFrom = point.claim(size);
    verifier.beginTail();
  }
  return { result: finishReading(reader), tail: verifier.takeTail()!, tailFrom };
}

/** Problems of both halves in seq order (problems of the export as a whole last), each half's own order kept. */
function mergeProblems(a: VerifyProblem[], b: VerifyProblem[]): VerifyProblem[] {
  const key = (p: VerifyProblem) => p.seq ?? Number.POSITIVE_INFINITY;
  const out: VerifyProblem[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && key(a[i]!) <= key(b[j]!)) ? a[i++]! : b[j++]!);
  return out;
}

/** The two halves' results as one, as the single-thread verifier would give them. */
export function mergeResults(chain: VerifyResult, balances: VerifyResult, maxProblems: number): VerifyResult {
  const firsts = [chain.firstBadSeq, balances.firstBadSeq].filter((s): s is number => s !== null);
  return {
    ...chain,
    ok: chain.ok && balances.ok,
    accountsCompared: balances.accountsCompared,
    firstBadSeq: firsts.length ? Math.min(...firsts) : null,
    problemCount: chain.problemCount + balances.problemCount,
    problems: mergeProblems(chain.problems, balances.problems).slice(0, maxProblems),
  };
}

// Run from source (tsx) the worker is the .ts file beside this one, and a worker does not inherit tsx's
// loader hooks on Node 20, so it installs tsx's require hook before loading it; compiled, it is the .js file.
// The plain require hook, not tsx/cjs/api: that one starts Node's module-hooks thread as well, and the
// worker then took half a second to start rather than a sixth.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./ledger-verify-balances-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

interface WorkerShare {
  done: Promise<{ result: VerifyResult; tail: ChainTail; tailFrom: number }>;
  stop: () => void;
}

function onWorker(file: string, opts: VerifyOptions, point: SplitPoint, split: SplitOptions): WorkerShare {
  const workerData = { file, opts, point: point.buffer, split };
  const worker = FROM_SOURCE
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(fileURLToPath(WORKER_URL))});`, { eval: true, workerData })
    : new Worker(WORKER_URL, { workerData });
  const done = new Promise<{ result: VerifyResult; tail: ChainTail; tailFrom: number }>((resolve, reject) => {
    worker.once('message', (m: { result?: VerifyResult; tail?: ChainTail; tailFrom?: number; unreadable?: { line: number; reason: string }; error?: string }) => {
      if (m.result && m.tail && m.tailFrom !== undefined) resolve({ result: m.result, tail: m.tail, tailFrom: m.tailFrom });
      else if (m.unreadable) reject(new UnreadableExportError(m.unreadable.line, m.unreadable.reason));
      else reject(new Error(m.error ?? 'the verification worker failed'));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the verification worker stopped (exit ${code})`)));
  });
  return { done, stop: () => void worker.terminate() };
}

/** One pass on two threads (null: the worker could not run). */
async function twoThreads(file: string, opts: VerifyOptions, split: SplitOptions): Promise<VerifyResult | null> {
  const point = SplitPoint.create(fixedClaim(file, split));
  const worker = onWorker(file, opts, point, split);
  worker.done.catch(() => undefined); // judged below, once this thread's share is done
  const verifier = new LedgerVerifier({ ...opts, part: 'chain' });
  const reader = new ExportReader(verifier);
  let stoppedAt: number;
  try {
    stoppedAt = checkChain(reader, file, point, split.chunkBytes ?? CHUNK_BYTES);
  } catch (err) {
    point.stop(0); // wakes a worker waiting to hear where this thread stopped
    worker.stop();
    throw err;
  }
  let theirs;
  try {
    theirs = await worker.done;
  } catch (err) {
    if (err instanceof UnreadableExportError) throw err;
    return null;
  }
  if (theirs.tailFrom !== stoppedAt) throw new Error(`the threads disagree on the split: this one stopped at byte ${stoppedAt}, the worker's tail began at ${theirs.tailFrom}`);
  verifier.resumeTail(theirs.tail);
  return mergeResults(finishReading(reader), theirs.result, opts.maxProblems ?? 100);
}

/**
 * Verifies `file`: the chain half here and the balances half, with the
 * chain's tail, on a worker thread (with `threads: 1`, or when a worker
 * cannot be started, all of it here — same result, slower). Checkpoints
 * found after their seq are checked in a second pass, as verifyExport does.
 */
export async function verifyFile(file: string, opts: VerifyOptions, threads: 1 | 2 = 2, split: SplitOptions = {}): Promise<VerifyResult> {
  if (threads === 1) return verifyFileWhole(file, opts);
  const first = await twoThreads(file, opts, split);
  if (!first) return verifyFileWhole(file, opts);
  if (!first.misplaced.length) return first;
  const again = await twoThreads(file, { ...opts, checkpoints: [...(opts.checkpoints ?? []), ...first.misplaced] }, split);
  return again ?? verifyFileWhole(file, opts);
}
