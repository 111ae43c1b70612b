/**
 * What every command handler receives, plus the argument helpers they share.
 */
import { ObjectId } from 'bson';
import { documentSize, isPlainObject, type Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { LockWait, type Access } from '../engine/access.js';
import type { CollectionStore } from '../engine/collection-store.js';
import type { Engine } from '../engine/engine.js';
import type { Txn } from '../engine/txn.js';

export const MAX_BSON_SIZE = 16 * 1024 * 1024;

export interface CommandEnv {
  engine: Engine;
  cmd: Document;
  /** The command's name as sent (its first key). */
  name: string;
  db: string;
  access: Access;
  txn: Txn | null;
  sessionKey: string | null;
  connectionId: number;
}

export type CommandHandler = (env: CommandEnv) => Promise<Document> | Document;

/** The collection named by the command's first field, validated. */
export function collectionName(env: CommandEnv): string {
  const name = env.cmd[env.name];
  if (typeof name !== 'string' || name.length === 0) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeof name}`);
  }
  validateCollectionName(name);
  return name;
}

export function validateCollectionName(name: string): void {
  if (name.includes('\0') || name.startsWith('.') || name.includes('$') || name.startsWith('system.')) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid collection name: ${name}`);
  }
}

export function validateDbName(name: string): void {
  if (!name || /[/\\. "$*<>:|?\0]/.test(name) || name.length > 63) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid database name: '${name}'`);
  }
}

export function optionalDocument(cmd: Document, field: string): Document | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw new MongoError(ErrorCodes.TypeMismatch, `BSON field '${field}' is the wrong type '${typeof v}', expected type 'object'`);
  return v;
}

/** A non-negative integer argument (any BSON numeric type). */
export function optionalCount(cmd: Document, field: string): number | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  const n = Number(typeof v === 'object' ? String(v) : v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    throw new MongoError(ErrorCodes.TypeMismatch, `BSON field '${field}' must be an integer`);
  }
  return n;
}

/**
 * Prepares a document for storage: `_id` first (generated when absent),
 * MongoDB's `_id` rules, and the 16 MB limit.
 */
export function prepareForInsert(doc: unknown): Document {
  if (!isPlainObject(doc)) throw new MongoError(ErrorCodes.TypeMismatch, 'document to insert must be an object');
  const id = doc._id === undefined ? new ObjectId() : doc._id;
  validateId(id);
  const out: Document = { _id: id };
  // Since MongoDB 5.0, inserts accept '$'-prefixed field names at any level (only replacements refuse them).
  for (const [k, v] of Object.entries(doc)) if (k !== '_id') out[k] = v;
  checkSize(out);
  return out;
}

export function validateId(id: unknown): void {
  if (Array.isArray(id)) throw new MongoError(ErrorCodes.InvalidIdField, `can't use an array for _id`);
  if (id === undefined) throw new MongoError(ErrorCodes.InvalidIdField, `can't use undefined for _id`);
  const t = (id as { _bsontype?: string } | null)?._bsontype;
  if (t === 'BSONRegExp') throw new MongoError(ErrorCodes.InvalidIdField, `can't use a regex for _id`);
  if (isPlainObject(id) && Object.keys(id).some((k) => k.startsWith('$'))) {
    throw new MongoError(ErrorCodes.DollarPrefixedFieldName, `_id fields may not contain '$'-prefixed fields`);
  }
}

export function checkSize(doc: Document): void {
  const size = documentSize(doc);
  if (size > MAX_BSON_SIZE) {
    throw new MongoError(ErrorCodes.BSONObjectTooLarge, `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_SIZE}`);
  }
}

/** Creates the collection on first write, as MongoDB does (not inside a transaction's writes). */
export function collectionForWrite(env: CommandEnv, name: string): CollectionStore {
  validateDbName(env.db);
  return env.engine.store.ensureCollection(env.db, name, env.access.ops);
}

/**
 * Runs one write statement, waiting (up to the transaction lifetime) while an
 * open transaction holds a document or key it needs, then running it afresh:
 * MongoDB makes non-transactional writers wait for the lock the same way.
 */
export async function withLockRetry<T>(fn: () => T): Promise<T> {
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof LockWait)) throw err;
      await err.txn.ended;
    }
  }
}
