/**
 * Verifying an export file on two threads (the CLI's path).
 *
 * The work splits cleanly by concern rather than by range: the chain half
 * (order, shape, both hashes of every record, links, the Merkle tree,
 * checkpoints and signatures) runs on this thread, and the balances half
 * (the replay with its constraints, pending and reversal rules, totals,
 * stored accounts) on a worker thread reading the same file. Each half
 * reads and parses every line itself, so nothing crosses between threads
 * but the two results, merged here problem by problem in seq order. The
 * halves are LedgerVerifier's `part` option: the same code as the
 * single-thread path and the console's check, so they cannot disagree.
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UnreadableExportError, verifyExport } from './domain/ledger-verify-read.js';
import type { VerifyOptions, VerifyProblem, VerifyResult } from './domain/ledger-verify.js';

/**
 * The file's lines, a megabyte's worth at a time. Read synchronously: a
 * regulator's export is on a local disk (usually in the page cache), and
 * waiting for the thread pool between small chunks left this thread idle
 * for an eighth of its time. An all-ASCII chunk — the usual case — is
 * decoded as latin1, several times faster than UTF-8; any other goes
 * through a UTF-8 decoder that carries a character split across chunks.
 */
export async function* fileLines(file: string): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, 'r');
  let carry = '';
  try {
    for (let n = fs.readSync(fd, chunk); n > 0; n = fs.readSync(fd, chunk)) {
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

/** One half of the verification of `file` on this thread. */
export function verifyFilePart(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  return verifyExport(() => fileLines(file), opts);
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
// loader hooks on Node 20, so it registers them before importing; compiled, it is the .js file.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./ledger-verify-balances-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

function balancesOnWorker(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  const workerData = { file, opts: { ...opts, part: 'balances' } };
  const worker = FROM_SOURCE
    ? new Worker(`require('tsx/cjs/api').require(${JSON.stringify(fileURLToPath(WORKER_URL))}, __filename);`, { eval: true, workerData })
    : new Worker(WORKER_URL, { workerData });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { result?: VerifyResult; unreadable?: { line: number; reason: string }; error?: string }) => {
      if (m.result) resolve(m.result);
      else if (m.unreadable) reject(new UnreadableExportError(m.unreadable.line, m.unreadable.reason));
      else reject(new Error(m.error ?? 'the balances worker failed'));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the balances worker stopped (exit ${code})`)));
  });
}

/**
 * Verifies `file`: the chain half here and the balances half on a worker
 * thread (with `threads: 1`, or when a worker cannot be started, both here,
 * one after the other — same result, slower).
 */
export async function verifyFile(file: string, opts: VerifyOptions, threads: 1 | 2 = 2): Promise<VerifyResult> {
  const maxProblems = opts.maxProblems ?? 100;
  if (threads === 1) return verifyFilePart(file, opts);
  const balances = balancesOnWorker(file, opts);
  // Settled either way before anything is thrown, so a failed worker never leaves a rejection unhandled.
  const [chain, bal] = await Promise.allSettled([verifyFilePart(file, { ...opts, part: 'chain' }), balances]);
  if (chain.status === 'rejected') throw chain.reason;
  const balancesResult = bal.status === 'fulfilled' ? bal.value : await verifyFilePart(file, { ...opts, part: 'balances' });
  return mergeResults(chain.value, balancesResult, maxProblems);
}
