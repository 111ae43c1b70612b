/**
 * Turns one update statement (`q`, `u`, `multi`, `upsert`, `arrayFilters`)
 * into the document writes it implies, without applying them. Shared by the
 * `update` and `findAndModify` commands.
 */
import { ObjectId } from 'bson';
import { encodeDocument as encode, isPlainObject, type Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { Access, PlannedWrite } from '../engine/access.js';
import { idKeyOf, type CollectionStore } from '../engine/collection-store.js';
import { compileFilter } from '../query/matcher.js';
import { compileSort } from '../query/sort.js';
import { applyUpdate, buildUpsertSeed, classifyUpdate } from '../query/update.js';
import { valuesEqual } from '../query/compare.js';
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
  const kind = classifyUpdate(stmt.u);
  if (kind === 'replacement' && stmt.multi) {
    throw new MongoError(ErrorCodes.FailedToParse, 'multi update is not supported for replacement-style update');
  }
  const matcher = compileFilter(stmt.q, { variables: stmt.variables });
  let targets = access.find(coll, stmt.q, matcher, stmt.multi || stmt.sort ? 0 : 1);
  if (stmt.sort && Object.keys(stmt.sort).length) targets = [...targets].sort(compileSort(stmt.sort));
  if (!stmt.multi) targets = targets.slice(0, 1);
  const writes: PlannedWrite[] = [];
  for (const before of targets) {
    const after = updatedImage(before, stmt, kind, false);
    if (after) writes.push({ idKey: idKeyOf(before._id), before, after });
  }
  if (targets.length > 0 || !stmt.upsert) return { matched: targets.length, writes };
  const doc = upsertImage(stmt, kind);
  return { matched: 0, writes: [{ idKey: idKeyOf(doc._id), before: null, after: doc }], upserted: doc };
}

/** The new image of `before`, or null when the update changes nothing. */
function updatedImage(before: Document, stmt: UpdateStatement, kind: string, isInsert: boolean): Document | null {
  let after: Document;
  if (kind === 'replacement') {
    after = replacementImage(before._id, stmt.u as Document);
    if (sameBytes(before, after)) return null;
  } else {
    const res = applyUpdate(before, stmt.u, { arrayFilters: stmt.arrayFilters, query: stmt.q, isInsert, variables: stmt.variables });
    if (!res.modified) return null;
    after = res.doc;
  }
  checkSize(after);
  return after;
}

function replacementImage(id: unknown, replacement: Document): Document {
  if (replacement._id !== undefined && !valuesEqual(replacement._id, id)) {
    throw new MongoError(ErrorCodes.ImmutableField, `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${String(replacement._id)}`);
  }
  const out: Document = { _id: id };
  for (const [k, v] of Object.entries(replacement)) {
    if (k === '_id') continue;
    if (k.startsWith('$')) throw new MongoError(ErrorCodes.DollarPrefixedFieldName, `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document.`);
    out[k] = v;
  }
  return out;
}

/** The document an upsert inserts: the query's equalities, then the update (with `$setOnInsert`). */
function upsertImage(stmt: UpdateStatement, kind: string): Document {
  const seed = buildUpsertSeed(stmt.q);
  let doc: Document;
  if (kind === 'replacement') {
    const u = stmt.u as Document;
    doc = replacementImage(seed._id ?? u._id ?? new ObjectId(), u);
  } else {
    doc = applyUpdate(seed, stmt.u, { arrayFilters: stmt.arrayFilters, query: stmt.q, isInsert: true, variables: stmt.variables }).doc;
  }
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
  else if (Object.keys(doc)[0] !== '_id') doc = { _id: doc._id, ...doc };
  validateId(doc._id);
  checkSize(doc);
  return doc;
}

function sameBytes(a: Document, b: Document): boolean {
  return Buffer.compare(Buffer.from(encode(a)), Buffer.from(encode(b))) === 0;
}
