/**
 * The fund ledger's subscriber to licensing events (models/licensing-event.ts):
 * takes the unposted events in (occurredAt, _id) order, in batches, and posts
 * each batch's transfers (subscriber-postings.ts) and stamps the events
 * `postedAt` in ONE transaction — so an event is posted exactly once:
 *
 * - The stamp is conditional on `postedAt: null` and must hit every event the
 *   batch handled; the transfers carry keys derived from the event's key, so
 *   a second or concurrent run either conflicts and retries (then finds the
 *   events posted) or replays keys that change nothing.
 * - Fail closed: if the ledger refuses a posting (a receivable would be
 *   over-settled, a claim's rights over-released…), the run stops AT that
 *   event. The events before it are posted, it and everything after it stay
 *   unposted, and FundSyncStatus records which event and why, for the
 *   regulators' console (fundSyncStatus). Nothing is skipped; every run
 *   retries from the blocked event, so once the cause is corrected (e.g. a
 *   reversal posted) the books catch up by themselves.
 *
 * A batch is first tried whole (one postInTransaction); when it is refused
 * the culprit is found by trying the batch again one event at a time, and
 * the events before it are then posted on their own. Batches stay small
 * (200 events, well inside the store's 60-second transaction limit).
 *
 * After the postings commit, pay-later licences refused cover because it is
 * suspended are notified (cover.ts), never inside the transaction.
 */
import mongoose, { type Types } from 'mongoose';
import { FundSyncStatus } from '../../../models/fund-sync-status.js';
import { LicensingEvent } from '../../../models/licensing-event.js';
import { AppError, ConflictError, type MessageParams } from '../../errors.js';
import { recordAudits } from '../audit.js';
import { systemCtx } from '../licensing-common.js';
import type { Mailer } from '../mail.js';
import { notifySuspendedCovers } from './cover.js';
import { flush, newSyncTx, postEvent, prefetch, type SyncEvent } from './subscriber-postings.js';

export const SYNC_STATUS_ID = 'fund-ledger-sync';
const BATCH_SIZE = 200;
/** Times a batch is retried after losing a race outside the transaction's own retries. */
const RACE_RETRIES = 3;

export interface FundSyncDeps {
  /** Without a mailer, suspension notices wait for a run that has one (the scheduled job). */
  mailer?: Mailer;
  publicUrl?: string;
  now?: Date;
  batchSize?: number;
  logger?: { error(msg: string, err?: unknown): void };
}

export interface SyncBlock {
  event: string;
  key: string;
  type: string;
  occurredAt: Date;
  reason: string;
  params: MessageParams;
  detail: string;
  since: Date;
  lastTriedAt: Date;
}

export interface FundSyncResult {
  /** Events stamped posted, fresh transfers written, cover decisions made, suspension e-mails sent. */
  events: number;
  transfers: number;
  covers: number;
  notified: number;
  /** Set when the run stopped at an event the ledger refused. */
  blocked: SyncBlock | null;
}

interface Counts {
  events: number;
  transfers: number;
  covers: number;
}

interface Failure {
  event: SyncEvent;
  error: unknown;
}

type Attempt = { done: Counts } | { failure: Failure | null; error: unknown; order: SyncEvent[] };

/** Lost a race with another run or writer (not a refusal of the event): try the batch again. */
function isRace(err: unknown): boolean {
  if (err instanceof AppError) return err.key === 'ledger.concurrent_change' || err.key === 'fund.subscriber.concurrent';
  return (err as { code?: number }).code === 11000;
}

/** One transaction over the still-unposted events of `ids`; `oneByOne` flushes after each event so a refusal names it. */
async function attempt(ids: Types.ObjectId[], oneByOne: boolean, now: Date): Promise<Attempt> {
  const seen: { failure: Failure | null; order: SyncEvent[] } = { failure: null, order: [] };
  try {
    const done = await mongoose.connection.transaction(async (session) => {
      seen.failure = null;
      const tx = newSyncTx(session, systemCtx(`fund-ledger-sync:${now.toISOString()}`), now);
      const events = await LicensingEvent.find({ _id: { $in: ids }, postedAt: null }).sort({ occurredAt: 1, _id: 1 }).session(session).lean<SyncEvent[]>();
      seen.order = events;
      await prefetch(tx, events);
      let current: SyncEvent | null = null;
      try {
        for (const ev of events) {
          if (tx.handled.has(String(ev._id))) continue;
          current = ev;
          await postEvent(tx, ev);
          if (oneByOne) await flush(tx);
        }
        current = null;
        await flush(tx);
      } catch (error) {
        // Only one by one is the queue empty when an event starts, so only then is a refusal surely the current event's.
        if (oneByOne && current && !isRace(error)) seen.failure = { event: current, error };
        throw error;
      }
      const stamped = tx.stamp.map((e) => e._id);
      if (stamped.length) {
        const r = await LicensingEvent.updateMany({ _id: { $in: stamped }, postedAt: null }, { $set: { postedAt: now } }, { session });
        if (r.modifiedCount !== stamped.length) throw new ConflictError('fund.subscriber.concurrent');
      }
      await recordAudits(tx.audits, session);
      return { events: stamped.length, transfers: tx.transfers, covers: tx.covers };
    });
    return { done };
  } catch (error) {
    return { failure: seen.failure, error, order: seen.order };
  }
}

async function attemptRacing(ids: Types.ObjectId[], oneByOne: boolean, now: Date): Promise<Attempt> {
  let a = await attempt(ids, oneByOne, now);
  for (let i = 0; i < RACE_RETRIES && 'error' in a && !a.failure && isRace(a.error); i++) a = await attempt(ids, oneByOne, now);
  return a;
}

/** Posts what it can of one batch: everything, or everything before the event the ledger refuses. */
async function settleBatch(ids: Types.ObjectId[], now: Date): Promise<{ done: Counts; failure: Failure | null }> {
  const none: Counts = { events: 0, transfers: 0, covers: 0 };
  let a = await attemptRacing(ids, false, now);
  if ('done' in a) return { done: a.done, failure: null };
  // Refused somewhere in the batch: again, one event at a time, to find which.
  a = await attemptRacing(ids, true, now);
  if ('done' in a) return { done: a.done, failure: null };
  if (!a.failure) throw a.error;
  const failure = a.failure;
  const at = a.order.findIndex((e) => e._id.equals(failure.event._id));
  const before = a.order.slice(0, Math.max(0, at)).map((e) => e._id);
  if (!before.length) return { done: none, failure };
  // Those before it are posted on their own (should one of them now be refused, that one is where the run stops).
  const b = await settleBatch(before, now);
  return { done: b.done, failure: b.failure ?? failure };
}

/** Upserts the status document; two runs creating it at once collide on _id, and the loser simply updates it. */
async function saveStatus(set: Record<string, unknown>): Promise<void> {
  try {
    await FundSyncStatus.updateOne({ _id: SYNC_STATUS_ID }, { $set: set }, { upsert: true });
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    await FundSyncStatus.updateOne({ _id: SYNC_STATUS_ID }, { $set: set });
  }
}

async function recordBlock(failure: Failure, now: Date, logger: NonNullable<FundSyncDeps['logger']>): Promise<SyncBlock> {
  const { event, error } = failure;
  const known = error instanceof AppError;
  const reason = known ? error.key : 'fund.subscriber.internal_error';
  const prev = (await FundSyncStatus.findById(SYNC_STATUS_ID).lean())?.blocked;
  const same = !!prev && prev.event === String(event._id) && prev.reason === reason;
  const block: SyncBlock = {
    event: String(event._id), key: event.key, type: event.type, occurredAt: event.occurredAt, reason, params: known ? error.params : {},
    detail: known ? '' : String((error as Error)?.message ?? error).slice(0, 500), since: same ? prev.since : now, lastTriedAt: now,
  };
  await saveStatus({ blocked: block, lastRunAt: now });
  // Logged when it starts (or its reason changes), not on every minute's retry.
  if (!same) logger.error(`fund ledger sync blocked at event ${event.key} (${String(event._id)}): ${reason} ${JSON.stringify(block.params)}`, known ? undefined : error);
  return block;
}

/** Posts every unposted licensing event it can, in order; stops at the first the ledger refuses. */
export async function runFundLedgerSync(deps: FundSyncDeps = {}): Promise<FundSyncResult> {
  const now = deps.now ?? new Date();
  const size = deps.batchSize ?? BATCH_SIZE;
  const logger = deps.logger ?? console;
  const result: FundSyncResult = { events: 0, transfers: 0, covers: 0, notified: 0, blocked: null };
  for (;;) {
    const ids = (await LicensingEvent.find({ postedAt: null }).sort({ occurredAt: 1, _id: 1 }).limit(size).select('_id').lean()).map((e) => e._id);
    if (!ids.length) break;
    const { done, failure } = await settleBatch(ids, now);
    result.events += done.events;
    result.transfers += done.transfers;
    result.covers += done.covers;
    if (failure) {
      result.blocked = await recordBlock(failure, now, logger);
      break;
    }
    // Nothing left of this batch for us: a concurrent run posted it.
    if (!done.events) break;
  }
  if (!result.blocked) {
    await saveStatus({ blocked: null, lastRunAt: now, ...(result.events ? { lastPostedAt: now } : {}) });
  } else if (result.events) {
    await saveStatus({ lastPostedAt: now });
  }
  if (deps.mailer) result.notified = await notifySuspendedCovers({ mailer: deps.mailer, publicUrl: deps.publicUrl ?? '' }, now);
  return result;
}

/** For the regulators' console: is the ledger up to date with licensing, and if not, where and why did it stop. */
export async function fundSyncStatus(): Promise<{ blocked: SyncBlock | null; lastRunAt: Date | null; lastPostedAt: Date | null; unposted: number; oldestUnpostedAt: Date | null }> {
  const doc = await FundSyncStatus.findById(SYNC_STATUS_ID).lean();
  const unposted = await LicensingEvent.countDocuments({ postedAt: null });
  const oldest = unposted ? await LicensingEvent.findOne({ postedAt: null }).sort({ occurredAt: 1, _id: 1 }).select('occurredAt').lean() : null;
  return {
    blocked: (doc?.blocked as SyncBlock | null | undefined) ?? null, lastRunAt: doc?.lastRunAt ?? null, lastPostedAt: doc?.lastPostedAt ?? null,
    unposted, oldestUnpostedAt: oldest?.occurredAt ?? null,
  };
}
