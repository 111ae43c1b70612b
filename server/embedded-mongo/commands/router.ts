/**
 * Dispatches a command document to its handler: resolves the database, the
 * session and its transaction, enforces what may run inside a transaction,
 * aborts the transaction when a statement in it fails (as MongoDB does), and
 * makes the command's writes durable before the reply goes out.
 */
import type { Document } from '../bson-values.js';
import { ErrorCodes, MongoError, notSupported } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import * as admin from './admin.js';
import { aggregate } from './aggregate.js';
import type { CommandEnv, CommandHandler } from './context.js';
import * as ddl from './ddl.js';
import { explain } from './explain.js';
import { findAndModify } from './find-and-modify.js';
import * as read from './read.js';
import { abortTransaction, commitTransaction } from './transactions.js';
import * as write from './write.js';

const handlers: Record<string, CommandHandler> = {
  hello: admin.hello,
  ismaster: admin.hello,
  isMaster: admin.hello,
  ping: admin.ping,
  buildInfo: admin.buildInfo,
  buildinfo: admin.buildInfo,
  serverStatus: admin.serverStatus,
  dbStats: admin.dbStats,
  collStats: admin.collStats,
  listDatabases: admin.listDatabases,
  getParameter: admin.getParameter,
  endSessions: admin.endSessions,
  killSessions: admin.endSessions,
  refreshSessions: admin.simple({}),
  startSession: admin.startSession,
  connectionStatus: admin.simple({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] } }),
  whatsmyuri: admin.simple({ you: '127.0.0.1' }),
  hostInfo: admin.simple({ system: { hostname: 'embedded' }, os: { type: process.platform } }),
  getCmdLineOpts: admin.simple({ argv: [], parsed: {} }),
  getLog: admin.simple({ names: [], log: [] }),
  getFreeMonitoringStatus: admin.simple({ state: 'disabled' }),
  insert: write.insert,
  update: write.update,
  delete: write.remove,
  find: read.find,
  getMore: read.getMore,
  killCursors: read.killCursors,
  count: read.count,
  distinct: read.distinct,
  findAndModify,
  findandmodify: findAndModify,
  aggregate,
  create: ddl.create,
  drop: ddl.drop,
  dropDatabase: ddl.dropDatabase,
  listCollections: ddl.listCollections,
  createIndexes: ddl.createIndexes,
  listIndexes: ddl.listIndexes,
  dropIndexes: ddl.dropIndexes,
  deleteIndexes: ddl.dropIndexes,
  commitTransaction,
  abortTransaction,
  explain,
};

/** Commands MongoDB accepts inside a multi-document transaction. */
const ALLOWED_IN_TXN = new Set([
  'find', 'getMore', 'killCursors', 'insert', 'update', 'delete', 'findAndModify', 'findandmodify',
  'aggregate', 'distinct', 'commitTransaction', 'abortTransaction', 'create', 'createIndexes',
]);

/** Commands MongoDB has that the embedded store deliberately lacks: named, not "not found". */
const KNOWN_UNSUPPORTED = new Set([
  'mapReduce', 'geoSearch', 'geoNear', 'renameCollection', 'collMod', 'convertToCapped', 'cloneCollectionAsCapped',
  'createUser', 'dropUser', 'updateUser', 'usersInfo', 'createRole', 'saslStart', 'saslContinue', 'authenticate',
  'replSetGetStatus', 'replSetInitiate', 'shardCollection', 'compact', 'validate', 'fsync', 'currentOp', 'killOp',
  'setParameter', 'bulkWrite', 'createSearchIndexes', 'shutdown', 'eval', 'applyOps', 'profile',
]);

/**
 * Runs one command. Returns the reply itself when the handler answered
 * synchronously and left nothing to make durable (reads), so the wire layer
 * can reply without a promise round trip; otherwise a promise of the reply.
 * Invalid commands throw synchronously.
 */
export function runCommand(engine: Engine, cmd: Document, connectionId: number): Document | Promise<Document> {
  const name = Object.keys(cmd)[0];
  if (name === undefined) throw new MongoError(ErrorCodes.CommandNotFound, 'no such command: empty command document');
  const handler = Object.prototype.hasOwnProperty.call(handlers, name) ? handlers[name] : undefined;
  if (!handler) {
    if (KNOWN_UNSUPPORTED.has(name)) throw notSupported(`the '${name}' command`);
    throw new MongoError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
  }
  const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
  const sessionKey = admin.sessionKeyOf(cmd.lsid as Document | undefined);
  if (sessionKey) engine.touchSession(sessionKey);
  const txn = engine.transactionFor(cmd, sessionKey, name);
  if (txn && !ALLOWED_IN_TXN.has(name)) {
    throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, `Cannot run '${name}' in a multi-document transaction.`);
  }
  const access = engine.access(txn);
  const env: CommandEnv = { engine, cmd, name, db, access, txn, sessionKey, connectionId };
  const failed = (err: unknown) => {
    if (txn && txn.state === 'active' && name !== 'commitTransaction') {
      engine.abort(txn, `a statement failed: ${(err as Error).message}`);
    }
  };
  let result: Document | Promise<Document>;
  try {
    result = handler(env);
  } catch (err) {
    failed(err);
    if (access.ops.length === 0) throw err;
    // Partial results of a failed command (e.g. ordered inserts before a duplicate) are still acknowledged state.
    return access.persist().then(() => Promise.reject(err));
  }
  if (!(result instanceof Promise)) {
    return access.ops.length === 0 ? result : access.persist().then(() => result);
  }
  return result.then(
    async (reply) => {
      await access.persist();
      return reply;
    },
    async (err: unknown) => {
      failed(err);
      await access.persist();
      throw err;
    },
  );
}
