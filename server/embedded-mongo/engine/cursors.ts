/**
 * Server-side cursors: results are materialised when the query runs (as
 * references to immutable document images, so later writes don't disturb
 * them) and handed out in batches by `getMore`. Idle cursors are killed after
 * 10 minutes, as MongoDB's `cursorTimeoutMillis` default does.
 */
import { Long } from 'bson';
import { documentSize, type Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';

export const CURSOR_IDLE_TIMEOUT_MS = 10 * 60_000;
/** MongoDB's first-batch default for find and aggregate. */
export const DEFAULT_FIRST_BATCH = 101;
/** Batches stop growing once they reach this many bytes (16 MiB, like mongod). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface Cursor {
  id: Long;
  ns: string;
  docs: Document[];
  pos: number;
  lastUsed: number;
  noTimeout: boolean;
  /** The session that opened it: only that session may continue it. */
  sessionKey: string | null;
}

export class CursorRegistry {
  private readonly cursors = new Map<string, Cursor>();

  /**
   * Returns the reply for the first batch and keeps a cursor when documents remain.
   * `batchSize` undefined means the default first batch.
   */
  open(ns: string, docs: Document[], opts: { batchSize?: number; singleBatch?: boolean; noTimeout?: boolean; sessionKey?: string | null }): Document {
    const size = opts.batchSize === undefined ? DEFAULT_FIRST_BATCH : opts.batchSize;
    const { batch, next } = takeBatch(docs, 0, size);
    if (next >= docs.length || opts.singleBatch) {
      return { cursor: { firstBatch: batch, id: Long.ZERO, ns }, ok: 1 };
    }
    const id = this.newId();
    this.cursors.set(id.toString(), {
      id, ns, docs, pos: next, lastUsed: Date.now(), noTimeout: opts.noTimeout === true, sessionKey: opts.sessionKey ?? null,
    });
    return { cursor: { firstBatch: batch, id, ns }, ok: 1 };
  }

  getMore(id: Long, collection: string, db: string, batchSize: number | undefined, sessionKey: string | null): Document {
    const cursor = this.cursors.get(id.toString());
    if (!cursor) throw new MongoError(ErrorCodes.CursorNotFound, `cursor id ${id} not found`);
    if (cursor.ns !== `${db}.${collection}`) {
      throw new MongoError(ErrorCodes.Unauthorized, `Requested getMore on namespace '${db}.${collection}', but cursor belongs to a different namespace ${cursor.ns}`);
    }
    if (cursor.sessionKey && sessionKey && cursor.sessionKey !== sessionKey) {
      throw new MongoError(ErrorCodes.Unauthorized, `Cursor session id does not match this operation's session id`);
    }
    const { batch, next } = takeBatch(cursor.docs, cursor.pos, batchSize ?? 0);
    cursor.pos = next;
    cursor.lastUsed = Date.now();
    const exhausted = next >= cursor.docs.length;
    if (exhausted) this.cursors.delete(id.toString());
    return { cursor: { nextBatch: batch, id: exhausted ? Long.ZERO : cursor.id, ns: cursor.ns }, ok: 1 };
  }

  kill(ids: Long[]): Document {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) (this.cursors.delete(String(id)) ? killed : notFound).push(id);
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }

  /** Kills cursors idle for longer than the timeout; returns how many. */
  reap(now = Date.now()): number {
    let n = 0;
    for (const [key, c] of this.cursors) {
      if (!c.noTimeout && now - c.lastUsed > CURSOR_IDLE_TIMEOUT_MS) {
        this.cursors.delete(key);
        n++;
      }
    }
    return n;
  }

  get openCount(): number {
    return this.cursors.size;
  }

  private newId(): Long {
    // Positive 63-bit ids, as mongod's; never 0, which means "exhausted".
    for (;;) {
      const hi = Math.floor(Math.random() * 0x7fffffff);
      const lo = Math.floor(Math.random() * 0xffffffff);
      const id = Long.fromBits(lo | 0, hi, false);
      if (!id.isZero() && !this.cursors.has(id.toString())) return id;
    }
  }
}

/**
 * Up to `size` documents (0 = no count limit) and at most 16 MiB, but always at least one.
 * Sizes are measured only from the second document on: the first is taken
 * whatever its size, so a one-document batch (every point read) costs no
 * extra pass over the document.
 */
function takeBatch(docs: Document[], from: number, size: number): { batch: Document[]; next: number } {
  const batch: Document[] = [];
  let bytes = 0;
  let i = from;
  while (i < docs.length && (size === 0 || batch.length < size)) {
    // Each array element also costs a type byte, its index as a key and the
    // key's terminator: ~7 bytes that add up to >100 KB over ~17,000 small
    // documents, more than the reply's headroom above 16 MiB.
    // The first document always goes (a single document is at most 16 MiB);
    // its size is only needed once a second one might follow (point reads skip it).
    if (batch.length === 1) bytes = documentSize(batch[0]) + 3;
    if (batch.length > 0) {
      const s = documentSize(docs[i]) + 2 + String(batch.length).length;
      if (bytes + s > MAX_BATCH_BYTES) break;
      bytes += s;
    }
    batch.push(docs[i]);
    i++;
  }
  return { batch, next: i };
}
