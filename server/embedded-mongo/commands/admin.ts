/**
 * Handshake, diagnostics and session commands. The store presents itself as
 * a standalone mongod 7.0 (wire version 21) that still accepts sessions and
 * transactions: see reference/mongo-wire.md §1 for why `setName` and
 * `topologyVersion` stay out of the hello reply.
 */
import os from 'node:os';
import { Binary, Long } from 'bson';
import type { Document } from '../bson-values.js';
import { documentSize } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { collectionName, type CommandEnv } from './context.js';

export const SERVER_VERSION = '7.0.0';

export function hello(env: CommandEnv): Document {
  const reply: Document = {
    helloOk: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: env.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
  if (env.name === 'hello') return { isWritablePrimary: true, ...reply };
  return { ismaster: true, ...reply };
}

export function ping(): Document {
  return { ok: 1 };
}

export function buildInfo(): Document {
  return {
    version: SERVER_VERSION,
    gitVersion: 'embedded',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['embedded-journal'],
    javascriptEngine: 'none',
    modules: [],
    ok: 1,
  };
}

export function serverStatus(env: CommandEnv): Document {
  const mem = process.memoryUsage();
  const journal = env.engine.store.journalStats();
  return {
    host: os.hostname(),
    version: SERVER_VERSION,
    process: 'embedded-mongo',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor((Date.now() - env.engine.startedAt.getTime()) / 1000),
    localTime: new Date(),
    mem: { bits: 64, resident: Math.round(mem.rss / 1048576), virtual: Math.round(mem.heapTotal / 1048576) },
    metrics: { cursor: { open: { total: env.engine.cursors.openCount } } },
    transactions: { currentActive: env.engine.store.activeTxns.size },
    storageEngine: { name: 'embedded-journal', persistent: journal !== null },
    journal: journal ?? {},
    ok: 1,
  };
}

function statsOf(docs: Iterable<Document>): { count: number; size: number } {
  let count = 0;
  let size = 0;
  for (const d of docs) {
    count++;
    size += documentSize(d);
  }
  return { count, size };
}

export function dbStats(env: CommandEnv): Document {
  const colls = [...(env.engine.store.dbs.get(env.db)?.values() ?? [])];
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  for (const c of colls) {
    const s = statsOf(c.docs.values());
    objects += s.count;
    dataSize += s.size;
    indexes += c.indexes.size;
  }
  return { db: env.db, collections: colls.length, views: 0, objects, avgObjSize: objects ? dataSize / objects : 0, dataSize, storageSize: dataSize, indexes, ok: 1 };
}

export function collStats(env: CommandEnv): Document {
  const name = collectionName(env);
  const coll = env.engine.store.collection(env.db, name);
  if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `Collection [${env.db}.${name}] not found.`);
  const s = statsOf(coll.docs.values());
  const indexSizes: Document = {};
  for (const i of coll.indexes.values()) indexSizes[i.name] = i.size;
  return { ns: coll.ns, count: s.count, size: s.size, avgObjSize: s.count ? s.size / s.count : 0, storageSize: s.size, nindexes: coll.indexes.size, indexSizes, ok: 1 };
}

export function listDatabases(env: CommandEnv): Document {
  const databases: Document[] = [];
  let total = 0;
  for (const [name, colls] of env.engine.store.dbs) {
    let size = 0;
    for (const c of colls.values()) size += statsOf(c.docs.values()).size;
    total += size;
    databases.push(env.cmd.nameOnly === true ? { name } : { name, sizeOnDisk: size, empty: size === 0 });
  }
  return { databases, totalSize: total, ok: 1 };
}

export function getParameter(env: CommandEnv): Document {
  const reply: Document = { ok: 1 };
  if (env.cmd.featureCompatibilityVersion !== undefined || env.cmd.getParameter === '*') reply.featureCompatibilityVersion = { version: '7.0' };
  if (env.cmd.transactionLifetimeLimitSeconds !== undefined || env.cmd.getParameter === '*') reply.transactionLifetimeLimitSeconds = 60;
  return reply;
}

export function endSessions(env: CommandEnv): Document {
  const list = env.cmd[env.name];
  if (!Array.isArray(list)) throw new MongoError(ErrorCodes.TypeMismatch, `${env.name} expects an array of session ids`);
  env.engine.endSessions(list.map((s) => sessionKeyOf(s as Document)).filter((k): k is string => k !== null));
  return { ok: 1 };
}

export function startSession(): Document {
  return { id: { id: new Binary(crypto.getRandomValues(new Uint8Array(16)), 4) }, timeoutMinutes: 30, ok: 1 };
}

/** The key sessions are tracked under: the hex of `lsid.id`. */
export function sessionKeyOf(lsid: Document | undefined): string | null {
  const id = lsid?.id as Binary | undefined;
  if (!id || id._bsontype !== 'Binary') return null;
  return Buffer.from(id.buffer).toString('hex');
}

export function simple(fields: Document): () => Document {
  return () => ({ ...fields, ok: 1 });
}
