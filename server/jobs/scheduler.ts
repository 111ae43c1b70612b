/**
 * Scheduled work of one app process: each job runs on its interval under a
 * lease, so however many instances run, one does the work. Errors are
 * logged and the next tick tries again; stop() ends the timers on shutdown.
 */
import { sendInvoiceReminders } from '../services/invoice-reminders.js';
import { advanceFreePeriods } from '../services/licensing.js';
import type { Mailer } from '../services/mail.js';
import { chaseLateReports } from '../services/revenue-reports.js';
import { daysOverdueBeforeDefault } from '../services/fund/fund-rules-admin.js';
import { runDefaultSweep } from './default-sweep.js';
import { runFundCheckpoint } from './fund-checkpoint.js';
import type { LedgerSigner } from '../services/fund/signing-key.js';
import { FUND_LEDGER_SYNC_EVERY_MS, runFundLedgerSyncJob } from './fund-ledger-sync.js';
import { withLease } from './lease.js';
import { runNeedDigest } from './need-digest.js';
import { runPatentLapseSweep } from './patent-lapse-sweep.js';

export interface Scheduler {
  stop(): void;
}

export function startScheduler(deps: { mailer: Mailer; publicUrl: string; defaultDaysOverdue?: number; ledgerSigner?: LedgerSigner | null; logger?: { error(msg: string, err?: unknown): void } }): Scheduler {
  const logger = deps.logger ?? console;
  const jobs: { name: string; everyMs: number; run: () => Promise<unknown> }[] = [
    { name: 'need-digest', everyMs: 60 * 60_000, run: () => runNeedDigest(deps) },
    // The fund rules in force say when an overdue invoice is in default; the configured value is the fallback before any exist.
    { name: 'default-sweep', everyMs: 60 * 60_000, run: async () => runDefaultSweep({ ...deps, daysToDefault: await daysOverdueBeforeDefault(deps.defaultDaysOverdue ?? 90) }) },
    { name: 'patent-lapse-sweep', everyMs: 24 * 60 * 60_000, run: () => runPatentLapseSweep(deps) },
    // Pay-later licences whose free period has ended start paying (bills per fee form).
    { name: 'free-periods', everyMs: 60 * 60_000, run: () => advanceFreePeriods(new Date()) },
    { name: 'invoice-reminders', everyMs: 60 * 60_000, run: () => sendInvoiceReminders(new Date(), deps.mailer, deps.publicUrl) },
    { name: 'late-revenue-reports', everyMs: 24 * 60 * 60_000, run: () => chaseLateReports(new Date(), deps.mailer) },
    // The fund ledger's signed checkpoint and reconciliation.
    { name: 'fund-checkpoint', everyMs: 24 * 60 * 60_000, run: () => runFundCheckpoint({ signer: deps.ledgerSigner ?? null, logger }) },
    { name: 'fund-ledger-sync', everyMs: FUND_LEDGER_SYNC_EVERY_MS, run: () => runFundLedgerSyncJob({ ...deps, logger }) },
  ];
  const timers = jobs.map((job) => {
    const tick = () => {
      withLease(job.name, 10 * 60_000, job.run).catch((err) => logger.error(`job ${job.name} failed`, err));
    };
    return setInterval(tick, job.everyMs).unref();
  });
  return { stop: () => timers.forEach(clearInterval) };
}
