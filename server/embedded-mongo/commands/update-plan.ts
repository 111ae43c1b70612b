/**
 * Turns one update statement (`q`, `u`, `multi`, `upsert`, `arrayFilters`)
 * into the document writes it implies, without applying them. Shared by the
 * `update` and `findAndModify` commands.
 */
import { ObjectId } from 'bson';
import { isPlainObject, type Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { Access, PlannedWrite } from '../engine/access.js';
import { idKeyOf, type CollectionStore } from '../engine/collection-store.js';
import { compileFilter } from '../query/matcher.js';
import { compileSort } from '../query/sort.js';
import { buildUpsertSeed, validateUpdate, type PreparedUpdate } from '../query/update.js';
import { checkSize, validateId } from './context.js';

export interface UpdateStatement {
  q: Document;
  u: Document | Document[];
  multi?: boolean;
  upsert?: boolean;
  arrayFilters?: Document[];
  sort?: Document;
  variables?: Document;
}

export interface UpdatePlan {
  matched: number;
  /** The first matched document as it was (findAndModify returns it even when nothing changed). */
  first: Document | null;
  writes: PlannedWrite[];
  /** Set when the statement upserts. */
  upserted?: Document;
}

export function parseStatement(raw: unknown, variables?: Document): UpdateStatement {
  if (!isPlainObject(raw)) throw new MongoError(ErrorCodes.TypeMismatch, 'update statement must be an object');
  const q = raw.q ?? {};
  if (!isPlainObject(q)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'update.updates.q' is the wrong type, expected type 'object'");
  if (raw.u === undefined) throw new MongoError(ErrorCodes.FailedToParse, "BSON field 'update.updates.u' is missing but a required field");
  const arrayFilters = raw.arrayFilters as Document[] | undefined;
  if (arrayFilters !== undefined && !Array.isArray(arrayFilters)) throw new MongoError(ErrorCodes.TypeMismatch, 'arrayFilters must be an array');
  return { q, u: raw.u as Document, multi: raw.multi === true, upsert: raw.upsert === true, arrayFilters, variables };
}

export function planUpdate(access: Access, coll: CollectionStore | undefined, stmt: UpdateStatement): UpdatePlan {
  // Parsed once per statement, so a bad update fails before any document is touched.
  const prepared = validateUpdate(stmt.u, { arrayFilters: stmt.arrayFilters, query: stmt.q, variables: stmt.variables });
  if (prepared.kind === 'replacement' && stmt.multi) {
    throw new MongoError(ErrorCodes.FailedToParse, 'multi update is not supported for replacement-style update');
  }
  const matcher = compileFilter(stmt.q, { variables: stmt.variables });
  let targets = access.find(coll, stmt.q, matcher, stmt.multi || stmt.sort ? 0 : 1);
  if (stmt.sort && Object.keys(stmt.sort).length) targets = [...targets].sort(compileSort(stmt.sort));
  if (!stmt.multi) targets = targets.slice(0, 1);
  const writes: PlannedWrite[] = [];
  for (const before of targets) {
    const res = prepared.apply(before);
    if (!res.modified) continue;
    checkSize(res.doc);
    writes.push({ idKey: idKeyOf(before._id), before, after: res.doc });
  }
  if (targets.length > 0 || !stmt.upsert) return { matched: targets.length, first: targets[0] ?? null, writes };
  const doc = upsertImage(stmt, prepared);
  return { matched: 0, first: null, writes: [{ idKey: idKeyOf(doc._id), before: null, after: doc }], upserted: doc };
}

/** The document an upsert inserts: the query's equalities, then the update (with `$setOnInsert`). */
function upsertImage(stmt: UpdateStatement, prepared: PreparedUpdate): Document {
  const seed = buildUpsertSeed(stmt.q, prepared.kind);
  let doc: Document;
  if (prepared.kind === 'replacement') {
    // A replacement keeps only the query's _id; its own _id, if any, must agree.
    const u = stmt.u as Document;
    doc = prepared.apply({ _id: seed._id ?? u._id ?? new ObjectId() }).doc;
  } else {
    doc = prepared.apply(seed, { isInsert: true }).doc;
  }
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
  else if (Object.keys(doc)[0] !== '_id') doc = { _id: doc._id, ...doc };
  validateId(doc._id);
  checkSize(doc);
  return doc;
}
