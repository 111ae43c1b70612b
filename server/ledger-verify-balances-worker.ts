/**
 * The balances half of an export's verification, on a worker thread
 * (started by server/ledger-verify-file.ts, which says why): reads the file
 * given in workerData and posts back its result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UnreadableExportError } from './domain/ledger-verify-read.js';
import type { VerifyOptions } from './domain/ledger-verify.js';
import { verifyFilePart } from './ledger-verify-file.js';

const { file, opts } = workerData as { file: string; opts: VerifyOptions };
verifyFilePart(file, opts).then(
  (result) => parentPort!.postMessage({ result }),
  (err: unknown) => parentPort!.postMessage(err instanceof UnreadableExportError
    ? { unreadable: { line: err.line, reason: err.reason } }
    : { error: (err as Error).message }),
);
