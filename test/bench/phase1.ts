/**
 * Phase 1: throughput of the common Mongoose operations against a collection
 * of `docs` small documents (indexes on k and group), with `clients` separate
 * Mongoose connections each driven by one worker loop.
 */
import type { Types } from 'mongoose';
import { fsyncLatencyMs, makeDataDir, removeDataDir, startStore } from './store-process.js';
import { createWithIndexes, journalCounters, loadItems, makeItem, openClient, timedRun, type Client, type RunResult } from './workloads.js';

export interface Phase1Config {
  docs: number;
  seconds: number;
  warmupSeconds: number;
  reps: number;
  clients: number;
  nodeArgs: string[];
  /** Only the workloads whose name contains one of these (e.g. for profiling one of them); empty = all. */
  only: string[];
}

export interface OpResult {
  name: string;
  /** What the median counts: operations (or transactions) per second, or documents per second. */
  unit: 'ops/s' | 'txn/s' | 'docs/s';
  runs: RunResult[];
  median: number;
}

export interface Phase1Result {
  docs: number;
  clients: number;
  poolPerClient: number;
  emptyStoreReadyMs: number;
  /** Median write + fdatasync of 200 bytes on the data directory's disk, measured before the store starts. */
  fsyncMs: number;
  seedDocsPerSec: number;
  ops: OpResult[];
  storeRssMiB: number;
  storePeakMiB: number;
}

// One worker per connection: a pool of 2 leaves room for the driver to open a
// second socket if a retry or session cleanup overlaps, without inflating concurrency.
const POOL_PER_CLIENT = 2;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

interface Workload {
  name: string;
  unit: OpResult['unit'];
  /** Runs before every measured run (e.g. an empty target collection). */
  prepare?: () => Promise<void>;
  op: (c: Client) => Promise<number>;
}

function workloads(clients: Client[], ids: Types.ObjectId[]): Workload[] {
  const setup = clients[0];
  const rand = () => Math.floor(Math.random() * ids.length);
  let nextK = ids.length; // inserted documents continue the unique k sequence
  // Insert workloads write to their own collection, emptied before each run, so
  // `items` keeps exactly `docs` documents and every read run sees the same data.
  const freshInsertCollection = async () => {
    await setup.Insert.collection.drop().catch(() => undefined);
    await createWithIndexes(setup.Insert);
  };
  const must = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`${what}: not found`);
    return value;
  };
  return [
    { name: 'insertOne', unit: 'ops/s', prepare: freshInsertCollection, op: async (c) => {
      await c.Insert.insertOne(makeItem(nextK++));
      return 1;
    } },
    { name: 'insertMany (1,000/batch)', unit: 'docs/s', prepare: freshInsertCollection, op: async (c) => {
      const docs = Array.from({ length: 1000 }, () => makeItem(nextK++));
      // lean: like the loaders, skip building 1,000 Mongoose documents per call.
      await c.Insert.insertMany(docs, { lean: true });
      return docs.length;
    } },
    // Reads use lean(): hydrating Mongoose documents is client CPU, not store work,
    // and this process already shares the machine with the store.
    { name: 'findById', unit: 'ops/s', op: async (c) => {
      must(await c.Item.findById(ids[rand()]).lean(), 'findById');
      return 1;
    } },
    { name: 'findOne({k}) indexed', unit: 'ops/s', op: async (c) => {
      must(await c.Item.findOne({ k: rand() }).lean(), 'findOne({k})');
      return 1;
    } },
    { name: 'updateOne $inc by _id', unit: 'ops/s', op: async (c) => {
      const res = await c.Item.updateOne({ _id: ids[rand()] }, { $inc: { amount: 1 } });
      if (res.matchedCount !== 1) throw new Error('updateOne matched nothing');
      return 1;
    } },
    // A transfer: two updates in `items`, one ledger insert, committed together.
    // connection.transaction() retries on TransientTransactionError (write conflicts).
    { name: 'transaction (3 writes, 2 colls)', unit: 'txn/s', op: async (c) => {
      const from = ids[rand()];
      const to = ids[rand()];
      await c.conn.transaction(async (session) => {
        await c.Item.updateOne({ _id: from }, { $inc: { amount: -1 } }, { session });
        await c.Ledger.create([{ from, to, amount: 1, at: new Date() }], { session });
        await c.Item.updateOne({ _id: to }, { $inc: { amount: 1 } }, { session });
      });
      return 1;
    } },
  ];
}

export async function runPhase1(cfg: Phase1Config, log: (line: string) => void): Promise<Phase1Result> {
  const dataDir = await makeDataDir('bench-store-p1-');
  const fsyncMs = await fsyncLatencyMs(dataDir);
  log(`phase 1: disk write+fdatasync ${fsyncMs.toFixed(2)} ms (median of 200)`);
  const store = await startStore({ dataDir, nodeArgs: cfg.nodeArgs });
  const clients: Client[] = [];
  try {
    log(`phase 1: store pid ${store.pid} ready in ${store.readyMs.toFixed(0)} ms at ${store.uri} (data in ${dataDir})`);
    for (let i = 0; i < cfg.clients; i++) clients.push(await openClient(store.uri, POOL_PER_CLIENT));
    const setup = clients[0];

    await createWithIndexes(setup.Item);
    await setup.Ledger.createCollection(); // transactions may not create collections implicitly
    const ids: Types.ObjectId[] = []; // filled by k, so ids[k] is the _id of document k
    const seedStart = performance.now();
    await loadItems(setup.Item, 0, cfg.docs, 4, { keepIds: ids });
    const seedDocsPerSec = cfg.docs / ((performance.now() - seedStart) / 1000);
    log(`phase 1: seeded ${cfg.docs} documents at ${seedDocsPerSec.toFixed(0)} docs/s`);

    const list = workloads(clients, ids).filter((w) => cfg.only.length === 0 || cfg.only.some((o) => w.name.includes(o)));
    const results: OpResult[] = list.map((w) => ({ name: w.name, unit: w.unit, runs: [], median: NaN }));
    const run = async (w: Workload, seconds: number) => {
      const before = await journalCounters(setup);
      const r = await timedRun(cfg.clients, seconds, (i) => w.op(clients[i]), store.cpuSeconds);
      const after = await journalCounters(setup);
      r.syncsPerSec = (after.syncs - before.syncs) / r.seconds;
      r.recordsPerSync = (after.appends - before.appends) / Math.max(1, after.syncs - before.syncs);
      return r;
    };

    // Repetitions are interleaved (rep 1 of every op, then rep 2, ...) so a burst of
    // noise from other tenants of this shared machine hits one run of several ops
    // rather than every run of one op.
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const [i, w] of list.entries()) {
        if (rep === 0 && cfg.warmupSeconds > 0) {
          await w.prepare?.(); // warm-up: JIT on both sides, pools fully open
          await run(w, cfg.warmupSeconds);
        }
        await w.prepare?.();
        const r = await run(w, cfg.seconds);
        results[i].runs.push(r);
        const rate = w.unit === 'docs/s' ? r.unitsPerSec : r.opsPerSec;
        log(`  run ${rep + 1} ${w.name.padEnd(32)} ${rate.toFixed(0).padStart(7)} ${w.unit}  `
          + `p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  `
          + `store CPU ${(r.storeCpu * 100).toFixed(0)}% (${r.storeCpuUsPerUnit.toFixed(0)} us/${w.unit === 'docs/s' ? 'doc' : 'op'})  `
          + `bench CPU ${(r.benchCpu * 100).toFixed(0)}%  others ${(r.otherCpu * 100).toFixed(0)}%`
          + (r.syncsPerSec ? `  fdatasync ${r.syncsPerSec.toFixed(0)}/s x ${r.recordsPerSync!.toFixed(1)} records` : '')
          + (r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''));
      }
    }
    for (const r of results) r.median = median(r.runs.map((x) => (r.unit === 'docs/s' ? x.unitsPerSec : x.opsPerSec)));

    const mem = store.memory();
    return {
      docs: cfg.docs,
      clients: cfg.clients,
      poolPerClient: POOL_PER_CLIENT,
      emptyStoreReadyMs: store.readyMs,
      fsyncMs,
      seedDocsPerSec,
      ops: results,
      storeRssMiB: mem.rssMiB,
      storePeakMiB: mem.peakMiB,
    };
  } finally {
    await Promise.all(clients.map((c) => c.conn.close()));
    const { code } = await store.stop();
    if (code !== 0) log(`phase 1: store exited with code ${code}\n${store.stderrTail()}`);
    await removeDataDir(dataDir);
  }
}
