/**
 * The fund ledger's nightly job (daily, under a lease): sign a checkpoint at
 * the journal's head — unless nothing was posted since the last one — and
 * reconcile the stored counters and rollups against the journal. Failures
 * are loud: a journal that no longer verifies, or any reconciliation break,
 * is logged as an error naming what differs; nothing is corrected.
 */
import { LedgerCheckpoint } from '../../models/ledger-checkpoint.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { AppError } from '../errors.js';
import { LEDGER } from '../domain/ledger-chart.js';
import type { Ctx } from '../services/context.js';
import { issueCheckpoint } from '../services/fund/checkpoints.js';
import { runReconciliation, type ReconcileResult } from '../services/fund/reconcile.js';
import type { LedgerSigner } from '../services/fund/signing-key.js';

export interface FundCheckpointDeps {
  /** Null: no key was loaded, so only the reconciliation runs. */
  signer: LedgerSigner | null;
  logger?: { error(msg: string, err?: unknown): void; log?(msg: string): void };
  now?: Date;
}

const SYSTEM: Ctx = { actor: null, meta: { requestId: 'job:fund-checkpoint', ip: '' } };

export async function runFundCheckpoint(deps: FundCheckpointDeps): Promise<{ checkpointSeq: number | null; reconciliation: ReconcileResult }> {
  const logger = deps.logger ?? console;
  const now = deps.now ?? new Date();
  let checkpointSeq: number | null = null;
  if (deps.signer) {
    const [head, last] = await Promise.all([
      LedgerHead.findById(LEDGER).lean(),
      LedgerCheckpoint.findOne({ ledger: LEDGER }).sort({ seq: -1, time: -1 }).lean(),
    ]);
    if (head && head.seq > 0 && (!last || last.seq !== head.seq || last.headHash !== head.hash)) {
      try {
        checkpointSeq = (await issueCheckpoint(deps.signer, 'schedule', { now })).seq;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        logger.error(`LEDGER CHECKPOINT REFUSED: the journal does not verify (first bad seq ${String(err.params.seq)}, ${String(err.params.count)} problem(s)); no checkpoint was signed`);
      }
    }
  } else {
    logger.error('ledger checkpoint skipped: no signing key loaded');
  }
  const reconciliation = await runReconciliation(SYSTEM, now);
  if (reconciliation.breakCount) {
    const lines = reconciliation.breaks.slice(0, 10).map((b) => `  ${b.kind} ${b.subject} ${b.field}: stored ${b.stored}, journal ${b.expected}`);
    logger.error(`LEDGER RECONCILIATION: ${reconciliation.breakCount} break(s) through seq ${reconciliation.throughSeq}\n${lines.join('\n')}`);
  }
  return { checkpointSeq, reconciliation };
}
