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
import { verifyBalancesAndTail } from './ledger-verify-file.js';

const { file, opts, tailFrom } = workerData as { file: string; opts: VerifyOptions; tailFrom: number };
verifyBalancesAndTail(file, opts, tailFrom).then(
  ({ result, tail }) => parentPort!.postMessage({ result, tail }, tailBuffers(tail)),
  (err: unknown) => parentPort!.postMessage(err instanceof UnreadableExportError
    ? { unreadable: { line: err.line, reason: err.reason } }
    : { error: (err as Error).message }),
);
