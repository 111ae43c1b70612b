/**
 * Verifying an export file on two threads (the CLI's path).
 *
 * The work splits by concern, then by range. The chain half (order, shape,
 * both hashes of every record, links, the Merkle tree, checkpoints and
 * signatures) is the heavier, and it runs on this thread over the first
 * part of the file; the balances half (the replay with its constraints,
 * pending and reversal rules, totals, stored accounts), which must see every
 * record in order, runs on a worker thread over the whole file and also
 * checks the hashes and links of the last part — the "tail", which it has
 * parsed anyway. The worker hands back the tail's leaves, heads and
 * checkpoints, and this thread carries the tree and the checkpoints on
 * through them. Each thread reads and parses its lines itself; the halves
 * are LedgerVerifier's `part` option and beginTail()/resumeTail(): the same
 * code as the single-thread path and the console's check, so they cannot
 * disagree (the unit tests split every test journal at every line and
 * compare).
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ExportReader, UnreadableExportError, verifyExport } from './domain/ledger-verify-read.js';
import { LedgerVerifier, type ChainTail, type VerifyOptions, type VerifyProblem, type VerifyResult } from './domain/ledger-verify.js';

/**
 * The lines of the file's bytes [from, to), a megabyte's worth at a time
 * (`from` must be where a line starts). Read synchronously: a regulator's
 * export is on a local disk (usually in the page cache), and waiting for the
 * thread pool between small chunks left this thread idle for an eighth of
 * its time. An all-ASCII chunk — the usual case — is decoded as latin1,
 * several times faster than UTF-8; any other goes through a UTF-8 decoder
 * that carries a character split across chunks.
 */
export async function* fileLines(file: string, from = 0, to = Number.POSITIVE_INFINITY): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, 'r');
  let carry = '';
  let at = from;
  const read = () => (at < to ? fs.readSync(fd, chunk, 0, Math.min(chunk.length, to - at), at) : 0);
  try {
    for (let n = read(); n > 0; n = read()) {
      at += n;
      const bytes = chunk.subarray(0, n);
      const text = isAscii(bytes) ? bytes.toString('latin1') : decoder.write(bytes);
      const lines: string[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        const line = start === 0 ? carry + text.slice(0, nl) : text.slice(start, nl);
        lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
        start = nl + 1;
      }
      carry = start === 0 ? carry + text : text.slice(start);
      yield lines;
    }
  } finally {
    fs.closeSync(fd);
  }
  carry += decoder.end();
  if (carry) yield [carry];
}

/** The whole verification of `file` on this thread. */
export function verifyFileWhole(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  return verifyExport(() => fileLines(file), opts);
}

async function feed(reader: ExportReader, file: string, from: number, to?: number): Promise<void> {
  for await (const batch of fileLines(file, from, to)) for (const line of batch) reader.text(line);
}

/** The worker's share: the balances over the whole file, and the chain's tail from byte `tailFrom` on. */
export async function verifyBalancesAndTail(file: string, opts: VerifyOptions, tailFrom: number): Promise<{ result: VerifyResult; tail: ChainTail }> {
  const verifier = new LedgerVerifier({ ...opts, part: 'balances' });
  const reader = new ExportReader(verifier);
  await feed(reader, file, 0, tailFrom);
  verifier.beginTail();
  await feed(reader, file, tailFrom);
  return { result: verifier.finish(), tail: verifier.takeTail()! };
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
  done: Promise<{ result: VerifyResult; tail: ChainTail }>;
  stop: () => void;
}

function onWorker(file: string, opts: VerifyOptions, tailFrom: number): WorkerShare {
  const workerData = { file, opts, tailFrom };
  const worker = FROM_SOURCE
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(fileURLToPath(WORKER_URL))});`, { eval: true, workerData })
    : new Worker(WORKER_URL, { workerData });
  const done = new Promise<{ result: VerifyResult; tail: ChainTail }>((resolve, reject) => {
    worker.once('message', (m: { result?: VerifyResult; tail?: ChainTail; unreadable?: { line: number; reason: string }; error?: string }) => {
      if (m.result && m.tail) resolve({ result: m.result, tail: m.tail });
      else if (m.unreadable) reject(new UnreadableExportError(m.unreadable.line, m.unreadable.reason));
      else reject(new Error(m.error ?? 'the verification worker failed'));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the verification worker stopped (exit ${code})`)));
  });
  return { done, stop: () => void worker.terminate() };
}

/**
 * The share of the file's bytes whose chain the worker checks. Per record
 * the chain half costs about 8 µs (parse, canonical text, two digests, the
 * tree) and the balances half about 6 µs (parse, replay); the chain work on
 * a record the worker has already parsed costs it about 4 µs more. The two
 * threads finish together when 8(1 − s) = 6 + 4s, so s ≈ 0.2.
 */
export const TAIL_SHARE = 0.12;

/** Where the tail starts: the first line starting at or after the share's byte offset (the file's end if none). */
function tailStart(file: string, share: number): number {
  const size = fs.statSync(file).size;
  const buf = Buffer.allocUnsafe(1 << 16);
  const fd = fs.openSync(file, 'r');
  try {
    for (let at = Math.floor(size * (1 - share)); at < size;) {
      const n = fs.readSync(fd, buf, 0, buf.length, at);
      if (n <= 0) break;
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl !== -1) return at + nl + 1;
      at += n;
    }
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

/** One pass on two threads (null: the worker could not run). */
async function twoThreads(file: string, opts: VerifyOptions, tailShare: number): Promise<VerifyResult | null> {
  const tailFrom = tailStart(file, tailShare);
  const worker = onWorker(file, opts, tailFrom);
  const verifier = new LedgerVerifier({ ...opts, part: 'chain' });
  const mine = feed(new ExportReader(verifier), file, 0, tailFrom).catch((err: unknown) => {
    worker.stop();
    throw err;
  });
  // Settled either way before anything is thrown, so a failed worker never leaves a rejection unhandled.
  const [own, theirs] = await Promise.allSettled([mine, worker.done]);
  if (own.status === 'rejected') throw own.reason;
  if (theirs.status === 'rejected') {
    if (theirs.reason instanceof UnreadableExportError) throw theirs.reason;
    return null;
  }
  verifier.resumeTail(theirs.value.tail);
  return mergeResults(verifier.finish(), theirs.value.result, opts.maxProblems ?? 100);
}

/**
 * Verifies `file`: the chain half here and the balances half, with the
 * chain's tail, on a worker thread (with `threads: 1`, or when a worker
 * cannot be started, all of it here — same result, slower). Checkpoints
 * found after their seq are checked in a second pass, as verifyExport does.
 */
export async function verifyFile(file: string, opts: VerifyOptions, threads: 1 | 2 = 2, tailShare = TAIL_SHARE): Promise<VerifyResult> {
  if (threads === 1) return verifyFileWhole(file, opts);
  const first = await twoThreads(file, opts, tailShare);
  if (!first) return verifyFileWhole(file, opts);
  if (!first.misplaced.length) return first;
  const again = await twoThreads(file, { ...opts, checkpoints: [...(opts.checkpoints ?? []), ...first.misplaced] }, tailShare);
  return again ?? verifyFileWhole(file, opts);
}
