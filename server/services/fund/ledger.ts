/**
 * The fund ledger's front door.
 *
 * - `postInTransaction` joins the caller's transaction: the transfer commits
 *   with the business change it records, or neither does.
 * - `post` is for a transfer that stands alone. Calls arriving together are
 *   group-committed: one transaction carries everything queued while the
 *   previous one was committing, each command still checked on its own (a
 *   refused one fails alone). The head of the journal is one document every
 *   posting must move, so posting one transaction per call from many
 *   concurrent callers would only make them conflict and retry; queueing
 *   them in-process turns that contention into batching. Across processes
 *   the conditional head update keeps it correct. Every PROJECT_EVERY
 *   transfers posted here, the day rollups are brought up to date in the
 *   background (ledger-rollups.ts): thousands of transfers per projecting
 *   transaction instead of two rollup writes per transfer in the posting one.
 */
import mongoose, { type ClientSession } from 'mongoose';
import { applyCommands, type KnownState, type Outcome, type PostedRecord } from './ledger-post.js';
import { offerCommitted, projectRollups } from './ledger-rollups.js';
import type { LedgerCommand } from './ledger-commands.js';

export type { LedgerCommand, TransferCommand, ResolveCommand, ReverseCommand } from './ledger-commands.js';
export type { PostedRecord } from './ledger-post.js';

/** All of `commands`, in order, in `session`; the first refusal throws (and should abort the caller's transaction). */
export async function postInTransaction(commands: LedgerCommand[], session: ClientSession): Promise<PostedRecord[]> {
  // The head and accounts are about to move outside the poster's view.
  known = null;
  const outcomes = await applyCommands(commands, session);
  return outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return o.record;
  });
}

const MAX_BATCH = 512;

interface Waiting {
  command: LedgerCommand;
  resolve: (r: PostedRecord) => void;
  reject: (e: unknown) => void;
}

let queue: Waiting[] = [];
let running = false;

/**
 * What the last committed batch left (head and accounts), so the next need
 * not read them: ledger-post.ts's KnownState says why a stale belief is
 * safe. Dropped on any failure and whenever postInTransaction writes; kept
 * to a bounded number of accounts.
 */
let known: KnownState | null = null;
const MAX_KNOWN_ACCOUNTS = 20_000;

function remember(state: KnownState): void {
  if (!known || known.accounts.size + state.accounts.size > MAX_KNOWN_ACCOUNTS) known = { head: null, accounts: new Map() };
  known.head = state.head;
  for (const [k, a] of state.accounts) known.accounts.set(k, a);
}

const PROJECT_EVERY = 2_000;
let postedSinceProjection = 0;
let projecting = false;

function maybeProject(posted: number): void {
  postedSinceProjection += posted;
  if (projecting || postedSinceProjection < PROJECT_EVERY) return;
  projecting = true;
  postedSinceProjection = 0;
  // Not awaited: posting goes on meanwhile (the projection writes only rollups and their cursor). A failure
  // (the journal altered behind the service) is left for the job, the console and reconciliation to report.
  projectRollups().catch(() => undefined).finally(() => {
    projecting = false;
  });
}

async function commitBatch(batch: Waiting[]): Promise<Outcome[]> {
  const believed = known;
  let learned: KnownState | null = null;
  try {
    const outcomes = await mongoose.connection.transaction((session) => {
      learned = null;
      return applyCommands(batch.map((w) => w.command), session, { isolate: true, known: believed, learn: (s) => (learned = s) });
    });
    if (learned && known === believed) remember(learned);
    return outcomes;
  } catch (err) {
    known = null;
    throw err;
  }
}

async function drain(): Promise<void> {
  running = true;
  try {
    while (queue.length) {
      // Let the callers the last batch answered queue their next command first: batches stay full.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      let outcomes: Outcome[];
      try {
        // A batch that failed on a believed head and accounts is tried once more reading them afresh: the belief may
        // have gone stale (another process, postInTransaction, a restored database) — its conditional writes refused it.
        const believed = known !== null;
        outcomes = await commitBatch(batch).catch((err) => {
          if (believed) return commitBatch(batch);
          throw err;
        });
      } catch (err) {
        // The batch as a whole failed (e.g. another process claimed a key first): settle each on its own.
        if (batch.length === 1) {
          batch[0]!.reject(err);
          continue;
        }
        outcomes = [];
        for (const w of batch) {
          try {
            outcomes.push((await commitBatch([w]))[0]!);
          } catch (e) {
            outcomes.push({ ok: false, error: e });
          }
        }
      }
      outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.record) : batch[i]!.reject(o.error)));
      offerCommitted(outcomes.flatMap((o) => (o.ok && !o.record.replayed ? [o.record] : [])));
      maybeProject(outcomes.filter((o) => o.ok && !o.record.replayed).length);
    }
  } finally {
    running = false;
  }
}

/** Posts one command durably in its own (possibly shared) transaction; a replay of its key returns the original. */
export function post(command: LedgerCommand): Promise<PostedRecord> {
  return new Promise<PostedRecord>((resolve, reject) => {
    queue.push({ command, resolve, reject });
    if (!running) void drain();
  });
}
