/**
 * Benchmark of catalogue search and matching on a realistic catalogue (not
 * part of `npm test`):
 *
 *   npm run bench:catalogue                      # 20,000 patents
 *   npm run bench:catalogue -- --quick           # 2,000 patents
 *   npm run bench:catalogue -- --patents 50000 --runs 40 --needs 500
 *
 * Loads the demo organisations and a generated catalogue (loadDemoCatalogue:
 * patents across the demo universities and institutes, published offers so
 * `listing` is set, plus a few hundred SME needs) into an embedded store in a
 * temporary directory, then times, all in this one process: the in-memory
 * index build from empty, a sync with nothing changed, catalogue searches
 * and matching, and the memory the index takes. The machine is shared, so
 * it reports medians and p95 of repeated runs with the load average at start
 * and end, and never fails on speed. Results: test-output/bench-catalogue.json.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import mongoose from 'mongoose';
import { Demand } from '../../models/demand.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { User } from '../../models/user.js';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { rankPatentsForNeed } from '../../server/search/matching.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { generateNeeds } from '../../server/seed/patent-generator.js';
import { searchCatalogue, type CatalogueQuery } from '../../server/services/catalogue.js';
import type { Ctx } from '../../server/services/context.js';
import { needForMatching, patentsForDemand } from '../../server/services/matching.js';
import { searchIndexes } from '../../server/services/search-index.js';

const { values } = parseArgs({
  options: {
    patents: { type: 'string' }, quick: { type: 'boolean', default: false },
    runs: { type: 'string' }, needs: { type: 'string', default: '300' },
  },
});
const PATENTS = Number(values.patents ?? (values.quick ? 2_000 : 20_000));
const RUNS = Number(values.runs ?? (values.quick ? 10 : 25));
const NEEDS = Number(values.needs);
const BUILDS = 3;
/** Needs ranked per matching pass (each pass ranks every one of them once). */
const MATCH_NEEDS = 100;
/** search-index.ts re-reads changes stamped within this window of its watermark (OVERLAP_MS there). */
const OVERLAP_MS = 5_000;

// Heap figures are only comparable after a full collection; tsx gives no way
// to pass --expose-gc through the npm script, so the flag is set at run time.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Stats { runs: number; medianMs: number; p95Ms: number; minMs: number; maxMs: number }

/** Nearest-rank percentiles: with 3 samples p95 is the slowest, which is what it should mean. */
function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  const r = (x: number) => +x.toFixed(2);
  return { runs: s.length, medianMs: r(at(0.5)), p95Ms: r(at(0.95)), minMs: r(s[0]!), maxMs: r(s.at(-1)!) };
}

async function time<T>(fn: () => Promise<T>): Promise<[Awaited<T>, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

/** `n` timed calls after one untimed warm-up (the first call after a change pays for JIT and caches). */
async function repeat<T>(n: number, fn: () => Promise<T>): Promise<{ last: Awaited<T>; stats: Stats }> {
  let last = await fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) [last, ms[i]] = await time(fn);
  return { last, stats: stats(ms) };
}

const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
const loadAvg = () => os.loadavg().map((x) => +x.toFixed(2));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const BASE: CatalogueQuery = { q: '', fields: [], ipc: [], regions: [], kinds: [], types: [], price: [], trlMin: null, holder: null, sort: 'relevance', page: 1 };
const SME_QUERY = '我们厂的电池用一段时间就鼓包，冬天续航掉得厉害，想找能改进的技术';
const QUERIES: { name: string; query: CatalogueQuery }[] = [
  { name: 'short zh 锂电池', query: { ...BASE, q: '锂电池' } },
  { name: 'SME long zh', query: { ...BASE, q: SME_QUERY } },
  { name: 'en battery thermal management', query: { ...BASE, q: 'battery thermal management' } },
  { name: 'empty + new_energy/JS/deferred', query: { ...BASE, fields: ['new_energy'], regions: ['JS'], kinds: ['deferred'] } },
  { name: 'empty, sort entry_fee', query: { ...BASE, sort: 'entry_fee' } },
  { name: '10,000-char query', query: { ...BASE, q: SME_QUERY.repeat(Math.ceil(10_000 / SME_QUERY.length)).slice(0, 10_000) } },
  { name: 'operator-like {"$gt":""} .*', query: { ...BASE, q: '{"$gt":""} .*' } },
];

/** Tops the demo's handful of needs up to `total`, spread over the verified SMEs. */
async function addNeeds(total: number): Promise<void> {
  const missing = total - (await Demand.countDocuments());
  const smes = await Organization.find({ kind: 'enterprise', verified: true }).sort({ uscc: 1 }).lean();
  if (missing <= 0 || !smes.length) return;
  const admins = new Map((await User.find({ organization: { $in: smes.map((o) => o._id) }, orgAdmin: true }).lean()).map((u) => [String(u.organization), u._id]));
  await Demand.insertMany(generateNeeds(missing, 11).map(({ need }, i) => {
    const org = smes[i % smes.length]!;
    return { title: need.title, problem: need.problem, fields: need.fields, budgetFen: need.budgetFen, region: org.region, organization: org._id, createdBy: admins.get(String(org._id)) };
  }));
}

/**
 * Moves the sync watermarks onto one fresh edit each, as in a catalogue whose
 * last change was an ordinary edit rather than a bulk insert. Waits out the
 * overlap window first so the bulk insert falls outside it.
 */
async function touchOne(loadedAt: number): Promise<void> {
  await sleep(Math.max(0, loadedAt + OVERLAP_MS + 500 - Date.now()));
  const [p, d] = await Promise.all([Patent.findOne().select('_id').lean(), Demand.findOne().select('_id').lean()]);
  await Patent.updateOne({ _id: p!._id }, { $set: { updatedAt: new Date() } }, { timestamps: false });
  await Demand.updateOne({ _id: d!._id }, { $set: { updatedAt: new Date() } }, { timestamps: false });
}

/** How many patents the overlap window after the newest change covers: what every "no change" sync re-reads. */
async function patentsInWindow(): Promise<number> {
  const newest = await Patent.findOne().sort({ updatedAt: -1 }).select('updatedAt').lean();
  return newest ? Patent.countDocuments({ updatedAt: { $gte: new Date(newest.updatedAt.getTime() - OVERLAP_MS) } }) : 0;
}

async function main(): Promise<void> {
  const loadAvgAtStart = loadAvg();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yrd-bench-catalogue-'));
  const store = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), logger: { info() {}, warn() {}, error() {} } });
  try {
    await mongoose.connect(`${store.uri}yrd_bench`, { serverSelectionTimeoutMS: 5000 });
    await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
    await loadDemo();
    const [seeded, seedMs] = await time(() => loadDemoCatalogue({ patents: PATENTS }));
    await addNeeds(NEEDS);
    const loadedAt = Date.now();
    const counts = { patents: seeded.patents, listed: await Patent.countDocuments({ 'listing.listed': true }), offers: seeded.offers, needs: await Demand.countDocuments() };
    console.log(`seeded ${counts.patents} patents (${counts.listed} listed, ${counts.offers} offers), ${counts.needs} needs in ${(seedMs / 1000).toFixed(1)} s; load ${loadAvgAtStart.join(' ')}`);

    // (a) Initial build from empty; the heap is measured around the last one.
    const buildMs: number[] = [];
    let heapBefore = 0;
    for (let i = 0; i < BUILDS; i++) {
      searchIndexes.reset();
      gc();
      heapBefore = process.memoryUsage().heapUsed;
      buildMs.push((await time(() => searchIndexes.sync()))[1]);
    }
    gc();
    const mem = process.memoryUsage();
    const memory = { rssMiB: mib(mem.rss), heapUsedMiB: mib(mem.heapUsed), indexHeapMiB: mib(mem.heapUsed - heapBefore), indexedPatents: searchIndexes.entries.size, indexedNeeds: searchIndexes.needs.size };
    console.log(`index build: median ${stats(buildMs).medianMs.toFixed(0)} ms; RSS ${memory.rssMiB} MiB, heap ${memory.heapUsedMiB} MiB (index ≈ ${memory.indexHeapMiB} MiB)`);

    // (b) Sync with nothing changed: first straight after the bulk insert (the
    // whole insert sits inside the overlap window), then after one ordinary edit.
    // Only 3 runs after the bulk insert: each re-indexes the whole window (seconds at 20,000).
    const windowAfterBulk = await patentsInWindow();
    const afterBulk = await repeat(Math.min(RUNS, 3), () => searchIndexes.sync());
    await touchOne(loadedAt);
    await searchIndexes.sync();
    const windowSteady = await patentsInWindow();
    const steady = await repeat(RUNS, () => searchIndexes.sync());
    console.log(`no-change sync: after bulk insert ${afterBulk.stats.medianMs} ms (${windowAfterBulk} patents in window), steady ${steady.stats.medianMs} ms (${windowSteady})`);

    // (c) Searches, anonymous as on the public catalogue; each includes its sync.
    const anon: Ctx = { actor: null, meta: { requestId: 'bench', ip: '' } };
    const search = [];
    for (const { name, query } of QUERIES) {
      const { last, stats: s } = await repeat(RUNS, () => searchCatalogue(anon, query));
      search.push({ name, queryChars: query.q.length, total: last.total, sort: last.sort, ...s });
    }

    // (d) Matching for stored needs, as the SME sees it (service: sync + size
    // class lookup + ranking) and the ranking alone.
    const sme = (await User.findOne({ email: 'sme.small@demo.yrd-exchange.cn' }).lean())!;
    const smeOrg = (await Organization.findById(sme.organization).lean())!;
    const smeCtx: Ctx = { actor: { userId: sme._id, email: sme.email, role: 'sme', orgId: smeOrg._id, orgVerified: true, orgAdmin: true }, meta: { requestId: 'bench', ip: '' } };
    const needs = await Demand.find({ status: 'open' }).sort({ _id: 1 }).limit(MATCH_NEEDS).lean();
    const shaped = await Promise.all(needs.map((d) => needForMatching(d)));
    const listed = (id: string) => searchIndexes.entries.get(id)?.listed === true;
    const serviceMs: number[] = [];
    const rankMs: number[] = [];
    let matchedEmpty = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const [i, d] of needs.entries()) {
        const [found, ms] = await time(() => patentsForDemand(smeCtx, d));
        if (pass === 0 && !found.length) matchedEmpty++;
        serviceMs.push(ms);
        const t0 = performance.now();
        rankPatentsForNeed(shaped[i]!, searchIndexes.catalogue, { limit: 10, filter: listed });
        rankMs.push(performance.now() - t0);
      }
    }
    const matching = { needs: needs.length, passes: 2, needsWithNoMatch: matchedEmpty, service: stats(serviceMs), rankOnly: stats(rankMs) };

    const loadAvgAtEnd = loadAvg();
    const summary = {
      at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAvgAtStart, loadAvgAtEnd, runs: RUNS, ...counts, seedMs: Math.round(seedMs),
      build: stats(buildMs), memory,
      syncNoChange: { afterBulkInsert: { patentsInWindow: windowAfterBulk, ...afterBulk.stats }, steady: { patentsInWindow: windowSteady, ...steady.stats } },
      search, matching,
    };
    console.log(formatTable(summary));
    await fs.mkdir('test-output', { recursive: true });
    await fs.writeFile('test-output/bench-catalogue.json', `${JSON.stringify(summary, null, 2)}\n`);
    console.log('written to test-output/bench-catalogue.json');
  } finally {
    await mongoose.disconnect();
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

interface Row { name: string; detail: string; s: Stats }

function formatTable(r: {
  patents: number; listed: number; needs: number; loadAvgAtStart: number[]; loadAvgAtEnd: number[]; cpus: number; build: Stats;
  syncNoChange: { afterBulkInsert: Stats & { patentsInWindow: number }; steady: Stats & { patentsInWindow: number } };
  search: (Stats & { name: string; total: number })[]; matching: { needs: number; service: Stats; rankOnly: Stats };
  memory: { rssMiB: number; heapUsedMiB: number; indexHeapMiB: number };
}): string {
  const rows: Row[] = [
    { name: 'index build from empty', detail: `${r.patents} patents, ${r.needs} needs`, s: r.build },
    { name: 'sync, no change (after bulk)', detail: `${r.syncNoChange.afterBulkInsert.patentsInWindow} in window`, s: r.syncNoChange.afterBulkInsert },
    { name: 'sync, no change (steady)', detail: `${r.syncNoChange.steady.patentsInWindow} in window`, s: r.syncNoChange.steady },
    ...r.search.map((q) => ({ name: `search: ${q.name}`, detail: `${q.total} hits`, s: q as Stats })),
    { name: 'match need → patents (service)', detail: `${r.matching.needs} needs`, s: r.matching.service },
    { name: 'match need → patents (rank only)', detail: `${r.matching.needs} needs`, s: r.matching.rankOnly },
  ];
  const w = Math.max(...rows.map((x) => x.name.length));
  const lines = [
    `catalogue: ${r.patents} patents (${r.listed} listed), ${r.needs} needs; ${r.cpus} CPUs; load avg ${r.loadAvgAtStart.join(' ')} → ${r.loadAvgAtEnd.join(' ')}`,
    `${'what'.padEnd(w)}  ${'median ms'.padStart(10)}  ${'p95 ms'.padStart(10)}  runs  detail`,
    ...rows.map((x) => `${x.name.padEnd(w)}  ${x.s.medianMs.toFixed(2).padStart(10)}  ${x.s.p95Ms.toFixed(2).padStart(10)}  ${String(x.s.runs).padStart(4)}  ${x.detail}`),
    `memory after build: RSS ${r.memory.rssMiB} MiB (store in-process), heap used ${r.memory.heapUsedMiB} MiB, index ≈ ${r.memory.indexHeapMiB} MiB`,
  ];
  return lines.join('\n');
}

await main();
