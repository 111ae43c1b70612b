/**
 * Phase 2: memory and restart at `docs` small documents. Loads them through
 * the driver into a fresh store, records the store's RSS, stops it with
 * SIGTERM, starts the CLI again on the same directory and times how long it
 * takes to print its connection string and to answer a first query.
 */
import { dirBytes, makeDataDir, removeDataDir, startStore, type StoreProcess } from './store-process.js';
import { createWithIndexes, loadItems, openClient } from './workloads.js';

export interface Phase2Config {
  docs: number;
  /** insertMany batches of 1,000 in flight at once while loading. */
  parallel: number;
  /**
   * Loading stops after this long even if fewer than `docs` are in (the rest of
   * the phase then runs on what was loaded, and the 1M targets read N/A), so a
   * slow or badly contended machine still gets a bounded run with results.
   */
  loadBudgetSeconds: number;
  nodeArgs: string[];
}

export interface Phase2Result {
  /** Documents actually loaded (fewer than asked if the load budget ran out). */
  docs: number;
  requestedDocs: number;
  loadSeconds: number;
  loadDocsPerSec: number;
  rssAfterLoadMiB: number;
  peakDuringLoadMiB: number;
  shutdownMs: number;
  diskMiB: number;
  /** spawn -> `mongodb://` line on stdout (journal/snapshot replayed, indexes rebuilt, listening). */
  restartReadyMs: number;
  /** Part of restartReadyMs spent in Journal.open (snapshot + log replay), from the store's log. */
  journalOpenMs: number;
  /** Part of restartReadyMs spent building the secondary indexes after the replay, from the store's log. */
  indexBuildMs: number;
  recordsReplayed: number;
  /**
   * CPU seconds the restarted store had used when it printed its connection
   * string: the restart's cost independent of other load on a shared machine.
   */
  restartCpuSeconds: number;
  /** spawn -> first findOne({k}) answered through a new Mongoose connection. */
  restartFirstQueryMs: number;
  rssAfterRestartMiB: number;
  peakAfterRestartMiB: number;
  countAfterRestart: number;
}

const MiB = 1024 * 1024;

/** RSS right after a burst of writes includes garbage not yet collected; give V8 a moment. */
async function settledMemory(store: StoreProcess): Promise<{ rssMiB: number; peakMiB: number }> {
  await new Promise((r) => setTimeout(r, 2000));
  return store.memory();
}

export async function runPhase2(cfg: Phase2Config, log: (line: string) => void): Promise<Phase2Result> {
  const dataDir = await makeDataDir('bench-store-p2-');
  let store: StoreProcess | null = null;
  try {
    store = await startStore({ dataDir, nodeArgs: cfg.nodeArgs });
    log(`phase 2: store pid ${store.pid} at ${store.uri}; loading ${cfg.docs} documents, ${cfg.parallel} batches in flight`);
    const loader = await openClient(store.uri, cfg.parallel);
    await createWithIndexes(loader.Item);
    const loadStart = performance.now();
    const progress = setInterval(() => log(`  ... ${((performance.now() - loadStart) / 1000).toFixed(0)} s, `
      + `store RSS ${store!.memory().rssMiB.toFixed(0)} MiB`), 10_000);
    let docs: number;
    try {
      docs = await loadItems(loader.Item, 0, cfg.docs, cfg.parallel, { deadline: loadStart + cfg.loadBudgetSeconds * 1000 });
    } finally {
      clearInterval(progress);
    }
    const loadSeconds = (performance.now() - loadStart) / 1000;
    if (docs < cfg.docs) log(`phase 2: load budget of ${cfg.loadBudgetSeconds} s ran out; continuing with ${docs} documents`);
    log(`phase 2: loaded ${docs} in ${loadSeconds.toFixed(1)} s (${(docs / loadSeconds).toFixed(0)} docs/s)`);
    if (docs === 0) throw new Error('phase 2: nothing was loaded');
    await loader.conn.close();
    const afterLoad = await settledMemory(store);
    log(`phase 2: store RSS ${afterLoad.rssMiB.toFixed(0)} MiB (peak ${afterLoad.peakMiB.toFixed(0)} MiB)`);

    const shutdown = await store.stop();
    if (shutdown.code !== 0) throw new Error(`store exited with code ${shutdown.code} on SIGTERM\n${store.stderrTail()}`);
    const diskMiB = dirBytes(dataDir) / MiB;
    log(`phase 2: SIGTERM shutdown took ${shutdown.ms.toFixed(0)} ms; ${diskMiB.toFixed(0)} MiB on disk`);

    store = await startStore({ dataDir, nodeArgs: cfg.nodeArgs });
    const restartReadyMs = store.readyMs;
    const restartCpuSeconds = store.cpuSeconds();
    const opened = store.logMatch(/replayed (\d+) records in (\d+) ms/);
    const indexed = store.logMatch(/built \d+ secondary indexes in (\d+) ms/);
    const client = await openClient(store.uri, 1);
    const probeK = docs - 1; // the last document loaded must have survived the restart
    const found = await client.Item.findOne({ k: probeK }).lean();
    const restartFirstQueryMs = performance.now() - store.spawnedAt;
    if (!found) throw new Error(`after restart, no document with k=${probeK}`);
    const countAfterRestart = await client.Item.countDocuments({});
    await client.conn.close();
    const afterRestart = await settledMemory(store);
    log(`phase 2: restart ready in ${restartReadyMs.toFixed(0)} ms (journal open ${opened?.[2] ?? '?'} ms, `
      + `index build ${indexed?.[1] ?? '?'} ms, `
      + `${restartCpuSeconds.toFixed(1)} CPU s), first query at ${restartFirstQueryMs.toFixed(0)} ms, `
      + `${countAfterRestart} documents, RSS ${afterRestart.rssMiB.toFixed(0)} MiB (peak ${afterRestart.peakMiB.toFixed(0)} MiB)`);
    if (countAfterRestart !== docs) throw new Error(`after restart ${countAfterRestart} documents, expected ${docs}`);

    return {
      docs,
      requestedDocs: cfg.docs,
      loadSeconds,
      loadDocsPerSec: docs / loadSeconds,
      rssAfterLoadMiB: afterLoad.rssMiB,
      peakDuringLoadMiB: afterLoad.peakMiB,
      shutdownMs: shutdown.ms,
      diskMiB,
      restartReadyMs,
      restartCpuSeconds,
      journalOpenMs: opened ? Number(opened[2]) : NaN,
      indexBuildMs: indexed ? Number(indexed[1]) : NaN,
      recordsReplayed: opened ? Number(opened[1]) : NaN,
      restartFirstQueryMs,
      rssAfterRestartMiB: afterRestart.rssMiB,
      peakAfterRestartMiB: afterRestart.peakMiB,
      countAfterRestart,
    };
  } finally {
    if (store) {
      const { code } = await store.stop();
      if (code !== 0 && code !== null) log(`phase 2: store exited with code ${code}\n${store.stderrTail()}`);
    }
    await removeDataDir(dataDir);
  }
}
