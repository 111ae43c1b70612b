/**
 * The engine behind the commands: committed state, sessions and their
 * transactions, cursors, and background work (transaction lifetime, idle
 * cursors, TTL indexes).
 */
import type { Long } from 'bson';
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { JournalOptions } from '../storage/journal.js';
import { Access } from './access.js';
import { CursorRegistry } from './cursors.js';
import { Store } from './store.js';
import { Locks, noSuchTransaction, Txn } from './txn.js';
import { runTtlPass } from './ttl.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface EngineOptions {
  /** Data directory; null keeps everything in memory (tests of the engine alone). */
  dataDir: string | null;
  logger?: Logger;
  journal?: JournalOptions;
  /** How often the TTL monitor runs (MongoDB: 60 s). */
  ttlMonitorIntervalMs?: number;
}

interface SessionState {
  txn: Txn | null;
  lastUsed: number;
}

export class Engine {
  readonly locks = new Locks();
  readonly cursors = new CursorRegistry();
  readonly sessions = new Map<string, SessionState>();
  readonly startedAt = new Date();
  readonly logger: Logger;
  private timers: NodeJS.Timeout[] = [];

  private constructor(readonly store: Store, options: EngineOptions) {
    this.logger = options.logger ?? { info() {}, warn() {}, error() {} };
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const store = await Store.open(options.dataDir, { logger: options.logger, ...options.journal });
    const engine = new Engine(store, options);
    engine.timers.push(setInterval(() => engine.housekeeping(), 1000).unref());
    const ttlEvery = options.ttlMonitorIntervalMs ?? 60_000;
    engine.timers.push(setInterval(() => void engine.runTtl(), ttlEvery).unref());
    return engine;
  }

  /** Reads and writes for a command outside any transaction. */
  access(txn: Txn | null = null): Access {
    return new Access(this.store, this.locks, txn);
  }

  /**
   * Resolves the transaction a command belongs to from its `lsid`,
   * `txnNumber`, `autocommit` and `startTransaction` fields, starting one when
   * asked, with MongoDB's errors for stale or finished transactions.
   */
  transactionFor(cmd: Document, sessionKey: string | null, commandName: string): Txn | null {
    if (cmd.autocommit === undefined) return null;
    if (cmd.autocommit !== false) throw new MongoError(ErrorCodes.InvalidOptions, 'autocommit must be false when specified');
    if (!sessionKey || cmd.txnNumber === undefined) {
      throw new MongoError(ErrorCodes.InvalidOptions, 'a transaction needs lsid and txnNumber');
    }
    const number = BigInt(String(cmd.txnNumber as Long));
    const session = this.session(sessionKey);
    const current = session.txn;
    if (cmd.startTransaction === true) {
      if (current && current.number >= number) {
        throw new MongoError(ErrorCodes.ConflictingOperationInProgress, `Cannot start transaction ${number} on session because a newer transaction ${current.number} has already started`);
      }
      if (current?.state === 'active') this.abort(current, 'a newer transaction started on the session');
      const txn = new Txn(sessionKey, number, this.store.version);
      session.txn = txn;
      this.store.activeTxns.add(txn);
      return txn;
    }
    if (!current || current.number !== number) {
      if (current && number < current.number) {
        throw new MongoError(ErrorCodes.TransactionTooOld, `txnNumber ${number} is less than last txnNumber ${current.number} seen in session`);
      }
      throw noSuchTransaction(number);
    }
    if (current.state === 'active' && current.expired) this.abort(current, 'it exceeded the 60 second transaction lifetime');
    if (current.state === 'aborted') throw noSuchTransaction(number, current.abortReason);
    if (current.state === 'committed' && commandName !== 'commitTransaction') {
      throw new MongoError(ErrorCodes.TransactionCommitted, `Transaction ${number} has been committed.`);
    }
    return current;
  }

  /** Applies a transaction's writes as one commit and makes them durable. */
  async commit(txn: Txn): Promise<void> {
    if (txn.state === 'committed') return; // a retried commit is acknowledged again
    if (txn.state === 'aborted') throw noSuchTransaction(txn.number, txn.abortReason);
    if (txn.expired) {
      this.abort(txn, 'it exceeded the 60 second transaction lifetime');
      throw noSuchTransaction(txn.number, txn.abortReason);
    }
    const access = this.access();
    for (const [coll, writes] of txn.writes) {
      if (this.store.collection(coll.db, coll.name) !== coll) {
        this.abort(txn, `collection ${coll.ns} was dropped`);
        throw noSuchTransaction(txn.number, txn.abortReason);
      }
      for (const [idKey, doc] of writes) this.store.writeDocument(coll, idKey, doc, access.ops);
    }
    this.end(txn, 'committed');
    await access.persist();
  }

  abort(txn: Txn, reason = 'it was aborted'): void {
    if (txn.state !== 'active') return;
    this.end(txn, 'aborted', reason);
  }

  private end(txn: Txn, state: 'committed' | 'aborted', reason = ''): void {
    this.locks.releaseAll(txn);
    this.store.activeTxns.delete(txn);
    txn.finish(state, reason);
    this.store.pruneHistory();
  }

  /** `endSessions`: aborts their open transactions and forgets them. */
  endSessions(keys: string[]): void {
    for (const key of keys) {
      const s = this.sessions.get(key);
      if (s?.txn) this.abort(s.txn, 'its session ended');
      this.sessions.delete(key);
    }
  }

  private session(key: string): SessionState {
    let s = this.sessions.get(key);
    if (!s) this.sessions.set(key, (s = { txn: null, lastUsed: Date.now() }));
    s.lastUsed = Date.now();
    return s;
  }

  touchSession(key: string): void {
    this.session(key);
  }

  /** Aborts transactions past their lifetime, kills idle cursors, forgets idle sessions (30 min). */
  private housekeeping(): void {
    for (const txn of this.store.activeTxns) {
      if (txn.expired) this.abort(txn, 'it exceeded the 60 second transaction lifetime');
    }
    this.cursors.reap();
    const cutoff = Date.now() - 30 * 60_000;
    for (const [key, s] of this.sessions) if (s.lastUsed < cutoff && s.txn?.state !== 'active') this.sessions.delete(key);
  }

  /** One pass of the TTL monitor; exposed so tests need not wait a minute. */
  async runTtl(now = new Date()): Promise<number> {
    try {
      return await runTtlPass(this, now);
    } catch (err) {
      this.logger.error(`TTL monitor failed: ${(err as Error).message}`);
      return 0;
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const txn of this.store.activeTxns) this.abort(txn, 'the server is shutting down');
    await this.store.close();
  }
}
