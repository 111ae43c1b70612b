/**
 * The worker's share of an export's verification (started by
 * server/ledger-verify-file.ts, which says why): the balances over the whole
 * file given in workerData and the chain's tail; posts back its result and
 * the tail.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UnreadableExportError } from './domain/ledger-verify-read.js';
import type { VerifyOptions } from './domain/ledger-verify.js';
import { tailBuffers } from './domain/ledger-verify-tail.js';
import { verifyBalancesAndTail, type SplitOptions } from './ledger-verify-file.js';
import { SplitPoint } from './ledger-verify-split.js';

const { file, opts, point, split } = workerData as { file: string; opts: VerifyOptions; point: SharedArrayBuffer; split: SplitOptions };
try {
  const { result, tail, tailFrom } = verifyBalancesAndTail(file, opts, new SplitPoint(point), split);
  parentPort!.postMessage({ result, tail, tailFrom }, tailBuffers(tail));
} catch (err) {
  parentPort!.postMessage(err instanceof UnreadableExportError
    ? { unreadable: { line: err.line, reason: err.reason } }
    : { error: (err as Error).message });
}
