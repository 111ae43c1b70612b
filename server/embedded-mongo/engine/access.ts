/**
 * Reads and writes for one command, inside a transaction or not. Commands go
 * through here so that the transaction rules (snapshot reads, own writes,
 * locks, conflicts) live in one place instead of in every command.
 */
import type { Document } from '../bson-values.js';
import { canonicalKey } from '../query/compare.js';
import { compileFilter, type CompiledFilter } from '../query/matcher.js';
import { idKeyOf, type CollectionStore } from './collection-store.js';
import { duplicateKeyError } from './index-store.js';
import { planQuery, type QueryPlan } from './planner.js';
import type { JournalOp, Store } from './store.js';
import { Locks, writeConflict, type Txn } from './txn.js';

/** Thrown when a non-transactional write meets a document or key an open transaction holds. */
export class LockWait extends Error {
  constructor(readonly txn: Txn) {
    super('waiting for a transaction to end');
  }
}

/** One document an update or delete statement will change. */
export interface PlannedWrite {
  idKey: string;
  before: Document | null;
  after: Document | null;
}

export class Access {
  readonly ops: JournalOp[] = [];
  /** Counters for explain/serverStatus. */
  keysExamined = 0;
  docsExamined = 0;
  lastPlan: QueryPlan | null = null;

  constructor(readonly store: Store, readonly locks: Locks, readonly txn: Txn | null) {}

  /** The image of one document this command can see. */
  get(coll: CollectionStore, idKey: string): Document | null {
    if (this.txn) {
      const own = this.txn.ownWrite(coll, idKey);
      if (own !== undefined) return own;
      return this.store.snapshotDoc(coll, idKey, this.txn.snapshot);
    }
    return coll.docs.get(idKey) ?? null;
  }

  /** Every visible document matching `filter`, in index or natural order. */
  find(coll: CollectionStore | undefined, filter: Document, compiled?: CompiledFilter, limit = 0): Document[] {
    if (!coll) return [];
    const matcher = compiled ?? compileFilter(filter);
    const plan = planQuery(coll, filter);
    this.lastPlan = plan;
    const out: Document[] = [];
    // Outside a transaction the plan's candidates are all there is to see, so
    // they are read straight from the committed map without the generator a
    // snapshot needs (a point read is one map probe).
    const ids = this.txn ? this.candidateIds(coll, plan) : plan.candidates ?? coll.docs.keys();
    const counted = plan.index !== null;
    for (const idKey of ids) {
      if (counted) this.keysExamined++;
      const doc = this.get(coll, idKey);
      this.docsExamined++;
      if (doc && matcher.matches(doc)) {
        out.push(doc);
        if (limit > 0 && out.length >= limit) break;
      }
    }
    return out;
  }

  /** A snapshot's candidates: the plan's, plus documents changed or deleted since it began, plus its own writes. */
  private *candidateIds(coll: CollectionStore, plan: QueryPlan): Generator<string> {
    const seen = new Set<string>();
    for (const id of plan.candidates ?? coll.docs.keys()) {
      seen.add(id);
      yield id;
    }
    const own = this.txn!.writes.get(coll)?.keys() ?? [];
    for (const source of [this.store.changedSince(coll, this.txn!.snapshot), own]) {
      for (const id of source) {
        if (seen.has(id)) continue;
        seen.add(id);
        yield id;
      }
    }
  }

  /**
   * Checks every planned write can proceed before any is applied, so a
   * statement that must wait for a transaction never runs half-way.
   */
  checkWrites(coll: CollectionStore, writes: PlannedWrite[]): void {
    for (const w of writes) {
      if (this.txn) {
        this.checkTxnWrite(coll, w.idKey);
      } else {
        const owner = this.locks.owner(Locks.docLock(coll, w.idKey));
        if (owner) throw new LockWait(owner);
        if (w.after) this.checkKeyLocks(coll, w.after);
      }
    }
  }

  /** Applies one write: committed at once, or recorded in the transaction. */
  apply(coll: CollectionStore, w: PlannedWrite): void {
    if (w.after) coll.checkIndexable(w.after);
    // A planned insert (an insert, or an upsert whose filter matched nothing)
    // must not land on an existing _id: the unique checks below skip the
    // document's own id key, so without this it would silently replace it.
    // MongoDB answers E11000 here (its upsert retry applies only to pure
    // equality filters on the key, which would have matched the document).
    if (w.after && !w.before && this.get(coll, w.idKey)) throw duplicateKeyError(coll.ns, coll.indexes.get('_id_')!, [w.after._id]);
    if (this.txn) {
      this.checkTxnWrite(coll, w.idKey);
      if (w.after) this.checkTxnUnique(coll, w.idKey, w.after);
      this.locks.acquire(Locks.docLock(coll, w.idKey), this.txn);
      this.txn.recordWrite(coll, w.idKey, w.after);
      return;
    }
    if (w.after) {
      this.checkKeyLocks(coll, w.after);
      coll.checkUnique(w.idKey, w.after);
    }
    this.store.writeDocument(coll, w.idKey, w.after, this.ops);
  }

  /** Inserts a new document (its `_id` already set and validated). */
  insert(coll: CollectionStore, doc: Document): void {
    const idKey = idKeyOf(doc._id);
    const w = { idKey, before: null, after: doc };
    this.checkWrites(coll, [w]);
    this.apply(coll, w);
  }

  /** First writer wins: a document changed since our snapshot, or held by another transaction, conflicts. */
  private checkTxnWrite(coll: CollectionStore, idKey: string): void {
    const txn = this.txn!;
    if (txn.ownWrite(coll, idKey) !== undefined) return;
    if ((coll.versions.get(idKey) ?? 0) > txn.snapshot) throw writeConflict();
    const owner = this.locks.owner(Locks.docLock(coll, idKey));
    if (owner && owner !== txn) throw writeConflict();
  }

  /**
   * Unique indexes inside a transaction: a key visible in the snapshot is a
   * duplicate; a key committed or claimed by others since is a conflict.
   */
  private checkTxnUnique(coll: CollectionStore, idKey: string, doc: Document): void {
    const txn = this.txn!;
    for (const index of coll.indexes.values()) {
      if (!index.unique) continue;
      for (const values of index.keysFor(doc)) {
        for (const other of index.lookup(values)) {
          if (other === idKey) continue;
          const own = txn.ownWrite(coll, other);
          if (own !== undefined) continue; // checked below against our own image
          if ((coll.versions.get(other) ?? 0) > txn.snapshot) throw writeConflict();
          throw duplicateKeyError(coll.ns, index, values);
        }
        // Our own earlier writes: only the document that last claimed this key
        // can still hold it, if its current image has not moved off the key.
        const key = canonicalKey(values);
        const lock = Locks.keyLock(coll, index.name, key);
        const claimant = txn.uniqueClaims.get(lock);
        if (claimant !== undefined && claimant !== idKey) {
          const otherDoc = txn.ownWrite(coll, claimant);
          if (otherDoc && index.keysFor(otherDoc).some((k) => canonicalKey(k) === key)) throw duplicateKeyError(coll.ns, index, values);
        }
        this.locks.acquire(lock, txn);
        txn.uniqueClaims.set(lock, idKey);
      }
    }
  }

  /** A non-transactional write waits while a transaction holds one of its unique keys. */
  private checkKeyLocks(coll: CollectionStore, doc: Document): void {
    for (const index of coll.indexes.values()) {
      if (!index.unique) continue;
      for (const values of index.keysFor(doc)) {
        const owner = this.locks.owner(Locks.keyLock(coll, index.name, canonicalKey(values)));
        if (owner && owner !== this.txn) throw new LockWait(owner);
      }
    }
  }

  /** Makes this command's writes durable (transactions persist at commit instead). */
  async persist(): Promise<void> {
    if (this.ops.length) await this.store.persist(this.ops.splice(0));
  }
}
