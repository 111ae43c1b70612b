/**
 * Scheduled work of one app process: each job runs on its interval under a
 * lease, so however many instances run, one does the work. Errors are
 * logged and the next tick tries again; stop() ends the timers on shutdown.
 */
import type { Mailer } from '../services/mail.js';
import { withLease } from './lease.js';
import { runNeedDigest } from './need-digest.js';

export interface Scheduler {
  stop(): void;
}

export function startScheduler(deps: { mailer: Mailer; publicUrl: string; logger?: { error(msg: string, err?: unknown): void } }): Scheduler {
  const logger = deps.logger ?? console;
  const jobs = [
    { name: 'need-digest', everyMs: 60 * 60_000, run: () => runNeedDigest(deps) },
  ];
  const timers = jobs.map((job) => {
    const tick = () => {
      withLease(job.name, 10 * 60_000, job.run).catch((err) => logger.error(`job ${job.name} failed`, err));
    };
    return setInterval(tick, job.everyMs).unref();
  });
  return { stop: () => timers.forEach(clearInterval) };
}
