/**
 * Phase 1: throughput of the common Mongoose operations against a collection
 * of `docs` small documents (indexes on k and group), with `clients` separate
 * Mongoose connections each driven by one worker loop.
 */
import type { Types } from 'mongoose';
import { startClientProcs, type ClientProc } from './client-procs.js';
import { phase1Workloads, type OpUnit, type Workload } from './phase1-ops.js';
import { fsyncLatencyMs, makeDataDir, removeDataDir, startStore } from './store-process.js';
import { createWithIndexes, journalCounters, loadItems, openClient, runLoops, timedRun, type Client, type LoopResult, type RunResult } from './workloads.js';

export interface Phase1Config {
  docs: number;
  seconds: number;
  warmupSeconds: number;
  reps: number;
  clients: number;
  /** Processes the client connections are spread over (1: all in this process). */
  clientProcs: number;
  nodeArgs: string[];
  /** Only the workloads whose name contains one of these (e.g. for profiling one of them); empty = all. */
  only: string[];
}

export interface OpResult {
  name: string;
  /** What the median counts: operations (or transactions) per second, or documents per second. */
  unit: OpUnit;
  runs: RunResult[];
  median: number;
}

export interface Phase1Result {
  docs: number;
  clients: number;
  clientProcs: number;
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

export async function runPhase1(cfg: Phase1Config, log: (line: string) => void): Promise<Phase1Result> {
  const dataDir = await makeDataDir('bench-store-p1-');
  const fsyncMs = await fsyncLatencyMs(dataDir);
  log(`phase 1: disk write+fdatasync ${fsyncMs.toFixed(2)} ms (median of 200)`);
  const store = await startStore({ dataDir, nodeArgs: cfg.nodeArgs });
  const clients: Client[] = [];
  let procs: ClientProc[] = [];
  try {
    log(`phase 1: store pid ${store.pid} ready in ${store.readyMs.toFixed(0)} ms at ${store.uri} (data in ${dataDir})`);
    // With client processes, this process keeps one connection for set-up and counters only.
    const local = cfg.clientProcs > 1 ? 1 : cfg.clients;
    for (let i = 0; i < local; i++) clients.push(await openClient(store.uri, POOL_PER_CLIENT));
    const setup = clients[0];

    await createWithIndexes(setup.Item);
    await setup.Ledger.createCollection(); // transactions may not create collections implicitly
    const ids: Types.ObjectId[] = []; // filled by k, so ids[k] is the _id of document k
    const seedStart = performance.now();
    await loadItems(setup.Item, 0, cfg.docs, 4, { keepIds: ids });
    const seedDocsPerSec = cfg.docs / ((performance.now() - seedStart) / 1000);
    log(`phase 1: seeded ${cfg.docs} documents at ${seedDocsPerSec.toFixed(0)} docs/s`);

    if (cfg.clientProcs > 1) {
      procs = await startClientProcs({ uri: store.uri, procs: cfg.clientProcs, connections: cfg.clients, pool: POOL_PER_CLIENT, ids, firstK: cfg.docs });
      log(`phase 1: ${cfg.clients} connections over ${cfg.clientProcs} client processes (${procs.map((p) => p.pid).join(', ')})`);
    }
    const list = phase1Workloads(setup, ids, cfg.docs).filter((w) => cfg.only.length === 0 || cfg.only.some((o) => w.name.includes(o)));
    const results: OpResult[] = list.map((w) => ({ name: w.name, unit: w.unit, runs: [], median: NaN }));
    const run = async (w: Workload, seconds: number) => {
      const before = await journalCounters(setup);
      const parts: Array<() => Promise<LoopResult>> = procs.length
        ? procs.map((p) => () => p.run(w.name, seconds))
        : [() => runLoops(cfg.clients, seconds, (i) => w.op(clients[i]))];
      const r = await timedRun(parts, store.cpuSeconds);
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
      clientProcs: Math.max(1, cfg.clientProcs),
      poolPerClient: POOL_PER_CLIENT,
      emptyStoreReadyMs: store.readyMs,
      fsyncMs,
      seedDocsPerSec,
      ops: results,
      storeRssMiB: mem.rssMiB,
      storePeakMiB: mem.peakMiB,
    };
  } finally {
    await Promise.all([...procs.map((p) => p.close()), ...clients.map((c) => c.conn.close())]);
    const { code } = await store.stop();
    if (code !== 0) log(`phase 1: store exited with code ${code}\n${store.stderrTail()}`);
    await removeDataDir(dataDir);
  }
}
