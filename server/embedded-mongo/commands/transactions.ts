/**
 * `commitTransaction` and `abortTransaction` (sent to `admin`). The router has
 * already resolved the session's transaction, with MongoDB's errors for
 * unknown or stale transaction numbers.
 */
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { CommandEnv } from './context.js';

function requireTxn(env: CommandEnv) {
  if (!env.txn) throw new MongoError(ErrorCodes.InvalidOptions, `${env.name} must be run within a transaction (lsid, txnNumber and autocommit: false)`);
  return env.txn;
}

export async function commitTransaction(env: CommandEnv): Promise<Document> {
  await env.engine.commit(requireTxn(env));
  return { ok: 1 };
}

export function abortTransaction(env: CommandEnv): Document {
  const txn = requireTxn(env);
  if (txn.state === 'committed') throw new MongoError(ErrorCodes.TransactionCommitted, `Transaction ${txn.number} has been committed.`);
  env.engine.abort(txn, 'abortTransaction was called');
  return { ok: 1 };
}
