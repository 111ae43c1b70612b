/**
 * Multi-document transactions with snapshot isolation, as MongoDB gives them:
 * reads see the committed state as of the transaction's first statement plus
 * the transaction's own writes; the first writer of a document wins and a
 * later conflicting writer gets WriteConflict (112) labelled
 * TransientTransactionError, which makes the driver retry the whole
 * transaction; commit applies every write at once, as one journal record.
 */
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { CollectionStore } from './collection-store.js';

export const TRANSACTION_LIFETIME_MS = 60_000;

export type TxnState = 'active' | 'committed' | 'aborted';

export class Txn {
  readonly sessionKey: string;
  readonly number: bigint;
  readonly snapshot: number;
  readonly startedAt = Date.now();
  state: TxnState = 'active';
  /** Why it was aborted, for the NoSuchTransaction message. */
  abortReason = '';
  /** The transaction's own writes: the new image, or null for a delete. */
  readonly writes = new Map<CollectionStore, Map<string, Document | null>>();
  /** Lock names held in Locks (documents and unique keys). */
  readonly held: string[] = [];
  /**
   * Unique-key lock name → the document of this transaction that last wrote
   * that key, so a later write of the same key checks one document instead
   * of every earlier write (which made a 10,000-row import quadratic).
   */
  readonly uniqueClaims = new Map<string, string>();
  private resolveEnded!: () => void;
  /** Settles when the transaction commits or aborts (non-transactional writers wait on it). */
  readonly ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));

  constructor(sessionKey: string, number: bigint, snapshot: number) {
    this.sessionKey = sessionKey;
    this.number = number;
    this.snapshot = snapshot;
  }

  ownWrite(coll: CollectionStore, idKey: string): Document | null | undefined {
    return this.writes.get(coll)?.get(idKey);
  }

  recordWrite(coll: CollectionStore, idKey: string, doc: Document | null): void {
    let byId = this.writes.get(coll);
    if (!byId) this.writes.set(coll, (byId = new Map()));
    byId.set(idKey, doc);
  }

  finish(state: 'committed' | 'aborted', reason = ''): void {
    this.state = state;
    this.abortReason = reason;
    this.resolveEnded();
  }

  get expired(): boolean {
    return Date.now() - this.startedAt > TRANSACTION_LIFETIME_MS;
  }
}

/** Document and unique-key locks held by open transactions. */
export class Locks {
  private readonly owners = new Map<string, Txn>();

  static docLock(coll: CollectionStore, idKey: string): string {
    return `d\u0000${coll.ns}\u0000${idKey}`;
  }

  static keyLock(coll: CollectionStore, index: string, key: string): string {
    return `k\u0000${coll.ns}\u0000${index}\u0000${key}`;
  }

  owner(name: string): Txn | undefined {
    return this.owners.get(name);
  }

  /** Takes a lock for `txn`, or throws WriteConflict if another transaction holds it. */
  acquire(name: string, txn: Txn): void {
    const owner = this.owners.get(name);
    if (owner === txn) return;
    if (owner) throw writeConflict();
    this.owners.set(name, txn);
    txn.held.push(name);
  }

  releaseAll(txn: Txn): void {
    for (const name of txn.held) if (this.owners.get(name) === txn) this.owners.delete(name);
    txn.held.length = 0;
  }
}

export function writeConflict(): MongoError {
  return new MongoError(
    ErrorCodes.WriteConflict,
    'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.',
    {},
    ['TransientTransactionError'],
  );
}

export function noSuchTransaction(number: bigint, reason = ''): MongoError {
  const why = reason ? ` (${reason})` : '';
  return new MongoError(
    ErrorCodes.NoSuchTransaction,
    `Transaction with { txnNumber: ${number} } has been aborted${why}.`,
    {},
    ['TransientTransactionError'],
  );
}
