/**
 * The committed state of every database, and its durability: each change is
 * applied to memory and described by a journal op; a command's ops are
 * appended as one commit record, so a command (or a transaction) is replayed
 * after a crash entirely or not at all.
 */
import { UUID } from 'bson';
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { Journal, type CommitRecord, type JournalOptions } from '../storage/journal.js';
import { CollectionStore, idKeyOf } from './collection-store.js';
import { IndexStore, type IndexSpec } from './index-store.js';
import type { Txn } from './txn.js';

/** Journal op shapes (short names keep the journal small). */
export type JournalOp =
  | { op: 'c'; db: string; coll: string; options: Document; uuid: UUID }
  | { op: 'dc'; db: string; coll: string }
  | { op: 'dd'; db: string }
  | { op: 'ci'; db: string; coll: string; spec: IndexSpec }
  | { op: 'di'; db: string; coll: string; name: string }
  | { op: 'p'; db: string; coll: string; doc: Document }
  | { op: 'd'; db: string; coll: string; id: unknown };

interface HistoryEntry {
  /** The commit version that overwrote this image. */
  until: number;
  doc: Document | null;
}

export class Store {
  readonly dbs = new Map<string, Map<string, CollectionStore>>();
  /** Commit version: increases with every committed document write. */
  version = 0;
  readonly activeTxns = new Set<Txn>();
  /** Pre-images kept while transactions that may need them are open (snapshot reads). */
  readonly history = new Map<CollectionStore, Map<string, HistoryEntry[]>>();
  private journal: Journal | null = null;
  private compacting: Promise<void> | null = null;
  private failure: Error | null = null;
  private logger: JournalOptions['logger'];

  /** Opens the data directory and replays it, or runs purely in memory when `dir` is null. */
  static async open(dir: string | null, options: JournalOptions = {}): Promise<Store> {
    const store = new Store();
    store.logger = options.logger;
    if (dir) {
      store.journal = await Journal.open(dir, (rec) => store.replay(rec), options);
      // Indexes are built once at the end rather than kept up to date through every replayed write.
      const started = performance.now();
      let built = 0;
      for (const colls of store.dbs.values()) {
        for (const coll of colls.values()) {
          coll.rebuildIndexes();
          built += coll.indexes.size - 1;
        }
      }
      options.logger?.info(`built ${built} secondary indexes in ${(performance.now() - started).toFixed(0)} ms`);
    }
    return store;
  }

  collection(db: string, name: string): CollectionStore | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Creates the collection (recording the op) unless it exists. */
  ensureCollection(db: string, name: string, ops: JournalOp[], options: Document = {}): CollectionStore {
    const existing = this.collection(db, name);
    if (existing) return existing;
    const coll = new CollectionStore(db, name, options);
    this.attach(coll);
    ops.push({ op: 'c', db, coll: name, options, uuid: coll.uuid });
    return coll;
  }

  private attach(coll: CollectionStore): void {
    let db = this.dbs.get(coll.db);
    if (!db) this.dbs.set(coll.db, (db = new Map()));
    db.set(coll.name, coll);
  }

  dropCollection(db: string, name: string, ops: JournalOp[]): CollectionStore | undefined {
    const coll = this.collection(db, name);
    if (!coll) return undefined;
    this.dbs.get(db)!.delete(name);
    if (this.dbs.get(db)!.size === 0) this.dbs.delete(db);
    this.history.delete(coll);
    ops.push({ op: 'dc', db, coll: name });
    return coll;
  }

  dropDatabase(db: string, ops: JournalOp[]): void {
    const colls = this.dbs.get(db);
    if (!colls) return;
    for (const c of colls.values()) this.history.delete(c);
    this.dbs.delete(db);
    ops.push({ op: 'dd', db });
  }

  createIndex(coll: CollectionStore, spec: IndexSpec, ops: JournalOp[]): void {
    coll.addIndex(coll.buildIndex(spec));
    ops.push({ op: 'ci', db: coll.db, coll: coll.name, spec });
  }

  dropIndex(coll: CollectionStore, name: string, ops: JournalOp[]): void {
    coll.dropIndex(name);
    ops.push({ op: 'di', db: coll.db, coll: coll.name, name });
  }

  /**
   * Commits one document write (insert, replace or delete when `next` is
   * null). Keeps pre-images for open transactions whose snapshot predates it.
   */
  writeDocument(coll: CollectionStore, idKey: string, next: Document | null, ops: JournalOp[]): void {
    const version = ++this.version;
    // With no transaction open, no snapshot can predate this write, so neither
    // its version nor its pre-image needs keeping.
    const tracked = this.activeTxns.size > 0;
    const prev = coll.write(idKey, next, tracked ? version : 0);
    if (tracked) {
      let byId = this.history.get(coll);
      if (!byId) this.history.set(coll, (byId = new Map()));
      let entries = byId.get(idKey);
      if (!entries) byId.set(idKey, (entries = []));
      entries.push({ until: version, doc: prev });
    }
    if (next) ops.push({ op: 'p', db: coll.db, coll: coll.name, doc: next });
    else if (prev) ops.push({ op: 'd', db: coll.db, coll: coll.name, id: prev._id });
  }

  /** The committed image of a document as of `snapshot`. */
  snapshotDoc(coll: CollectionStore, idKey: string, snapshot: number): Document | null {
    const v = coll.versions.get(idKey) ?? 0;
    if (v <= snapshot) return coll.docs.get(idKey) ?? null;
    const entries = this.history.get(coll)?.get(idKey);
    if (entries) for (const e of entries) if (e.until > snapshot) return e.doc;
    return coll.docs.get(idKey) ?? null;
  }

  /** Id keys written since `snapshot`, which a snapshot query must also consider. */
  *changedSince(coll: CollectionStore, snapshot: number): Generator<string> {
    const byId = this.history.get(coll);
    if (!byId) return;
    for (const [idKey, entries] of byId) if (entries[entries.length - 1].until > snapshot) yield idKey;
  }

  /** Drops pre-images no open transaction can read any more. */
  pruneHistory(): void {
    if (this.activeTxns.size === 0) {
      this.history.clear();
      for (const colls of this.dbs.values()) for (const c of colls.values()) c.versions.clear();
      return;
    }
    let oldest = Infinity;
    for (const t of this.activeTxns) oldest = Math.min(oldest, t.snapshot);
    for (const [coll, byId] of this.history) {
      for (const [idKey, entries] of byId) {
        const keep = entries.filter((e) => e.until > oldest);
        if (keep.length) byId.set(idKey, keep);
        else byId.delete(idKey);
      }
      if (byId.size === 0) this.history.delete(coll);
    }
  }

  /**
   * Makes a command's ops durable. Resolves once the journal has synced them;
   * if the journal fails, the store refuses all further writes, since memory
   * and disk no longer agree.
   */
  async persist(ops: JournalOp[]): Promise<void> {
    if (this.failure) throw this.failed();
    if (ops.length === 0 || !this.journal) return;
    try {
      await this.journal.append({ ops: ops as unknown as Document[] });
    } catch (err) {
      this.failure = err as Error;
      throw this.failed();
    }
    if (this.journal.wantsCompaction && !this.compacting) {
      const journal = this.journal;
      this.compacting = journal
        .compact(() => this.snapshotRecords())
        // A failed compaction loses nothing (the logs still hold every commit) and the journal stays writable.
        .catch((err) => this.logger?.error(`journal compaction failed, will retry later: ${(err as Error).message}`))
        .finally(() => (this.compacting = null));
    }
  }

  private failed(): MongoError {
    return new MongoError(ErrorCodes.InternalError, `the embedded store stopped accepting writes after a journal failure: ${this.failure?.message}`);
  }

  /**
   * The full committed state as commit records, for a journal snapshot. It is
   * read lazily while other commands keep writing; that is safe because every
   * op replays idempotently (a put is a whole document image), so a document
   * captured here and again in the new log ends in its latest image.
   */
  *snapshotRecords(): Generator<CommitRecord> {
    for (const colls of this.dbs.values()) {
      for (const coll of colls.values()) {
        const head: JournalOp[] = [{ op: 'c', db: coll.db, coll: coll.name, options: coll.options, uuid: coll.uuid }];
        for (const spec of coll.indexSpecs()) if (spec.name !== '_id_') head.push({ op: 'ci', db: coll.db, coll: coll.name, spec });
        yield { ops: head as unknown as Document[] };
        let batch: JournalOp[] = [];
        for (const doc of coll.docs.values()) {
          batch.push({ op: 'p', db: coll.db, coll: coll.name, doc });
          if (batch.length === 1000) {
            yield { ops: batch as unknown as Document[] };
            batch = [];
          }
        }
        if (batch.length) yield { ops: batch as unknown as Document[] };
      }
    }
  }

  /** The collection the last replayed document op named: a snapshot's ops come in long runs of one collection. */
  private replayTarget: { db: string; coll: string; store: CollectionStore | undefined } | null = null;

  private replayCollection(db: string, coll: string): CollectionStore | undefined {
    const last = this.replayTarget;
    if (last && last.db === db && last.coll === coll) return last.store;
    const store = this.collection(db, coll);
    this.replayTarget = { db, coll, store };
    return store;
  }

  /** Re-applies one journal record at start-up; the journal was valid when written, so no checks. */
  private replay(rec: CommitRecord): void {
    for (const raw of rec.ops) {
      const op = raw as unknown as JournalOp;
      switch (op.op) {
        case 'p':
          this.replayCollection(op.db, op.coll)?.replayWrite(idKeyOf(op.doc._id), op.doc);
          continue;
        case 'd':
          this.replayCollection(op.db, op.coll)?.replayWrite(idKeyOf(op.id), null);
          continue;
      }
      // Any other op changes which collections exist.
      this.replayTarget = null;
      switch (op.op) {
        case 'c':
          if (!this.collection(op.db, op.coll)) this.attach(new CollectionStore(op.db, op.coll, op.options, op.uuid));
          break;
        case 'dc':
          this.dbs.get(op.db)?.delete(op.coll);
          if (this.dbs.get(op.db)?.size === 0) this.dbs.delete(op.db);
          break;
        case 'dd':
          this.dbs.delete(op.db);
          break;
        case 'ci': {
          const coll = this.collection(op.db, op.coll);
          if (coll && !coll.indexes.has(op.spec.name)) coll.addIndex(new IndexStore(op.spec));
          break;
        }
        case 'di':
          this.collection(op.db, op.coll)?.indexes.delete(op.name);
          break;
      }
    }
    this.replayTarget = null; // holds no collection past the record (a later command may drop it)
  }

  async close(): Promise<void> {
    if (this.compacting) await this.compacting;
    await this.journal?.close();
    this.journal = null;
  }

  journalStats(): ReturnType<Journal['stats']> | null {
    return this.journal?.stats() ?? null;
  }
}
