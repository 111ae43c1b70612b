/**
 * The TTL monitor: removes documents whose indexed date field is older than
 * the index's `expireAfterSeconds`, as mongod's background TTL thread does
 * (every 60 s by default; deletion is not immediate, as in MongoDB).
 */
import type { Document } from '../bson-values.js';
import { LockWait } from './access.js';
import type { Engine } from './engine.js';

/** The earliest date in a TTL field (arrays expire on their earliest date), or null. */
function expiryDate(value: unknown): Date | null {
  if (value instanceof Date) return value;
  if (Array.isArray(value)) {
    const dates = value.filter((v): v is Date => v instanceof Date);
    if (dates.length) return new Date(Math.min(...dates.map((d) => d.getTime())));
  }
  return null;
}

export async function runTtlPass(engine: Engine, now: Date): Promise<number> {
  let removed = 0;
  for (const colls of engine.store.dbs.values()) {
    for (const coll of colls.values()) {
      for (const index of coll.indexes.values()) {
        const seconds = index.spec.expireAfterSeconds;
        if (typeof seconds !== 'number' || index.fields.length !== 1) continue;
        const field = index.fields[0];
        const cutoff = now.getTime() - seconds * 1000;
        const access = engine.access();
        for (const [idKey, doc] of coll.docs) {
          const date = expiryDate(readPath(doc, field));
          if (!date || date.getTime() > cutoff) continue;
          const w = { idKey, before: doc, after: null };
          try {
            access.checkWrites(coll, [w]);
          } catch (err) {
            if (err instanceof LockWait) continue; // held by a transaction: next pass
            throw err;
          }
          access.apply(coll, w);
          removed++;
        }
        await access.persist();
      }
    }
  }
  return removed;
}

function readPath(doc: Document, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Document)[part];
  }
  return cur;
}
