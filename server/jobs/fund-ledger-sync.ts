/**
 * The scheduled fund-ledger sync (every minute, under the scheduler's
 * lease): posts the licensing events that have happened since the last run
 * and sends the cover-suspension notices. The work and its guarantees
 * (exactly once, fail closed) are in server/services/fund/subscriber.ts;
 * this is the job's shape, so the scheduler and tests start it the same way.
 * There is no separate start-up run: the first tick, a minute after start,
 * catches up with everything recorded while the app was down. Each run also
 * brings the day rollups up to the journal head (ledger-rollups.ts), so
 * they never lag by more than a minute of postings.
 */
import { projectRollups } from '../services/fund/ledger-rollups.js';
import { runFundLedgerSync, type FundSyncResult } from '../services/fund/subscriber.js';
import type { Mailer } from '../services/mail.js';

export const FUND_LEDGER_SYNC_EVERY_MS = 60_000;

export async function runFundLedgerSyncJob(deps: { mailer: Mailer; publicUrl: string; logger?: { error(msg: string, err?: unknown): void }; now?: Date }): Promise<FundSyncResult> {
  const result = await runFundLedgerSync({ mailer: deps.mailer, publicUrl: deps.publicUrl, logger: deps.logger, now: deps.now ?? new Date() });
  await projectRollups().catch((err) => deps.logger?.error('fund ledger: the day rollups could not be brought up to date', err));
  return result;
}
