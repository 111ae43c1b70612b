/**
 * Benchmark of the fund ledger (not part of `npm test`):
 *
 *   npm run bench:ledger                         # all three parts, 1,000,000-transfer journal, ~10 min
 *   npm run bench:ledger -- --quick              # smoke run: 2 s posting runs, 50,000 transfers
 *   npm run bench:ledger -- --only post          # or --only verify, --only console (verify and console share the journal)
 *   npm run bench:ledger -- --transfers 200000 --runs 5 --seconds 10 --posters 16
 *   npm run bench:ledger -- --only post --store child   # the store in its own process (a second core)
 *   npm run bench:ledger -- --only verify --data-dir /tmp/ledger-1m   # keep the store; a later run reuses its journal
 *   node --cpu-prof --cpu-prof-dir=test-output/prof --import tsx test/bench/ledger.bench.ts --only post
 *
 * On embedded stores over a temporary directory, fsync before every reply.
 * (a) runs on one started in this process, as server/db.ts runs it in
 * production (--store child: a separate process, store-process.ts). (b) and
 * (c) run on one in a child process with a --store-heap-mb heap (12 GiB;
 * --journal-store in-process to override): a million transfers, their
 * accounts and day rollups take about 6 GiB of JS heap in the store
 * (measured: ~650 MiB per 100,000 transfers), beyond Node's default heap of
 * about 4 GiB, so an in-process store runs out of memory near 850,000.
 *
 *
 * (a) transfers/s posted through post() by --posters concurrent posters, each
 *     awaiting its own post() in a loop (ledger-posting.ts). Target ≥ 1,000/s,
 *     median of --runs runs of --seconds each.
 * (b) a journal of --transfers transfers built fast — records computed and
 *     inserted with the driver (ledger-journal.ts), NOT posted through the
 *     service, since (a) measures posting — then exported as JSONL in the
 *     export service's format with a signed checkpoint, and the file
 *     verified offline by server/ledger-verify-cli.ts. Target ≤ 10 s for
 *     1,000,000. Up to --service-limit transfers (1,000,000) the checkpoint
 *     and export services are timed as well.
 * (c) the console pages over that journal as the demo regulator. Target
 *     ≤ 200 ms median each.
 *
 * Reports medians (the machine is shared; a miss is reported, never fatal)
 * with the load average, and writes test-output/bench-ledger.json.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerRollup } from '../../models/ledger-rollup.js';
import { User } from '../../models/user.js';
import { LEDGER } from '../../server/domain/ledger-chart.js';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { buildJournal, type BuiltJournal } from './ledger-journal.js';
import { postingRun, type PostingRun } from './ledger-posting.js';
import { startStore } from './store-process.js';
import { exportJournal, median, timeConsole, timeVerification, type ExportFile, type PageTiming, type VerifyTiming } from './ledger-verify-console.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, only: { type: 'string' }, transfers: { type: 'string' }, runs: { type: 'string', default: '3' },
    seconds: { type: 'string' }, posters: { type: 'string', default: '16' }, samples: { type: 'string', default: '9' }, store: { type: 'string', default: 'in-process' },
    'journal-store': { type: 'string', default: 'child' }, 'store-heap-mb': { type: 'string', default: '12288' }, 'service-limit': { type: 'string', default: '1000000' },
    'data-dir': { type: 'string' },
  },
});
const quick = values.quick;
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds ?? (quick ? 2 : 10));
const POSTERS = Number(values.posters);
const TRANSFERS = Number((values.transfers ?? (quick ? '50000' : '1000000')).replaceAll('_', ''));
const SAMPLES = Number(values.samples);
const only = values.only ?? 'all';
if (!['all', 'post', 'verify', 'console'].includes(only)) throw new Error('--only is post, verify or console');
for (const o of ['store', 'journal-store'] as const) if (!['in-process', 'child'].includes(values[o]!)) throw new Error(`--${o} is in-process or child`);
const STORE_HEAP_MB = Number(values['store-heap-mb']);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const loadAvg = () => os.loadavg().map((x) => +x.toFixed(2));
const log = (line: string) => console.log(line);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

interface OpenStore {
  uri: string;
  close(): Promise<unknown>;
  /** CPU seconds and memory of a store in its own process (undefined in process). */
  cpuSeconds?: () => number;
  memory?: () => { rssMiB: number; peakMiB: number };
}

/** The store in this process (as production runs it), or as a child process with its own heap. */
async function openStore(kind: string, dataDir: string): Promise<OpenStore> {
  if (kind === 'in-process') return startEmbeddedMongo({ dataDir, logger: { info() {}, warn() {}, error() {} } });
  // Opening a kept million-transfer journal replays it: minutes, not seconds.
  const p = await startStore({ dataDir, nodeArgs: [`--max-old-space-size=${STORE_HEAP_MB}`], readyTimeoutMs: 900_000 });
  if (p.readyMs > 10_000) log(`  the store took ${(p.readyMs / 1000).toFixed(0)} s to open ${dataDir}`);
  return { uri: p.uri, close: () => p.stop(), cpuSeconds: () => p.cpuSeconds(), memory: () => p.memory() };
}

async function connect(uri: string): Promise<void> {
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000 });
  await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
}

/** (a): a warm-up run, then RUNS timed runs, each on an emptied ledger. */
async function posting(dir: string): Promise<PostingRun[]> {
  const store = await openStore(values.store!, path.join(dir, 'post-db'));
  const runs: PostingRun[] = [];
  try {
    await connect(`${store.uri}yrd_bench_post`);
    log(`\n(a) posting: ${POSTERS} posters, ${RUNS} runs of ${SECONDS} s (store ${values.store}) after an untimed warm-up run (the first seconds run at half speed while V8 compiles)`);
    const opts = { posters: POSTERS, licencesPerPoster: 250, storeCpuSeconds: store.cpuSeconds };
    await postingRun(RUNS, { ...opts, seconds: Math.min(3, SECONDS) });
    for (let run = 0; run < RUNS; run++) {
      const r = await postingRun(run, { ...opts, seconds: SECONDS });
      runs.push(r);
      log(`  run ${run + 1}: ${r.perSec} transfers/s (${r.transfers} in ${r.seconds} s; p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; ${r.perTransaction} per transaction; `
        + `CPU ${r.cpu}${r.storeCpu === null ? '' : ` + store ${r.storeCpu}`}, ${r.cpuUsPerTransfer} µs per transfer; refused ${r.refused}; rollups projected through ${r.projected} of ${r.head} in the background); load ${loadAvg().join(' ')}`);
    }
  } finally {
    await mongoose.disconnect();
    await store.close();
  }
  return runs;
}

async function main(): Promise<void> {
  const loadAvgAtStart = loadAvg();
  log(`bench:ledger on ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadAvgAtStart.join(' ')}`);
  const keep = values['data-dir'] ? path.resolve(values['data-dir']) : null;
  const dir = keep ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'yrd-bench-ledger-')));
  if (keep) await fs.mkdir(keep, { recursive: true });
  let postingRuns: PostingRun[] = [];
  let journal: BuiltJournal | null = null;
  let storeMemory: { rssMiB: number; peakMiB: number } | null = null;
  let verify: VerifyTiming | null = null;
  let exportInfo: ExportFile | null = null;
  let console_: { pages: PageTiming[]; skipped: string | null } | null = null;
  try {
    if (only === 'all' || only === 'post') postingRuns = await posting(dir);
    if (only !== 'post') {
      const store = await openStore(values['journal-store']!, path.join(dir, 'db'));
      try {
        await connect(`${store.uri}yrd_bench`);
        const head = await LedgerHead.findById(LEDGER).lean();
        if (head?.seq === TRANSFERS) {
          journal = { transfers: head.seq, accounts: await LedgerAccount.countDocuments(), rollups: await LedgerRollup.countDocuments(), seconds: 0, head: { seq: head.seq, hash: head.hash } };
          log(`\n(b) reusing the journal of ${TRANSFERS.toLocaleString('en')} transfers in ${dir}`);
        } else {
          log(`\n(b) building a journal of ${TRANSFERS.toLocaleString('en')} transfers (computed and inserted with the driver, not posted; store ${values['journal-store']})`);
          journal = await buildJournal(TRANSFERS, log);
          log(`  ${journal.transfers} transfers, ${journal.accounts} accounts, ${journal.rollups} rollups in ${journal.seconds} s`);
        }
        storeMemory = store.memory?.() ?? null;
        if (storeMemory) log(`  store process RSS ${storeMemory.rssMiB.toFixed(0)} MiB (peak ${storeMemory.peakMiB.toFixed(0)} MiB)`);
        if (only === 'all' || only === 'verify') {
          const exp = await exportJournal(dir, Number(values['service-limit']), log);
          if (typeof exp === 'string') verify = { cliSeconds: [], cliCpuSeconds: [], verdict: '', skipped: exp };
          else {
            exportInfo = exp;
            verify = await timeVerification(repoRoot, exp, RUNS, log);
            if (!keep) await fs.rm(exp.file, { force: true });
          }
          if (verify.skipped) log(`  verification skipped: ${verify.skipped}`);
        }
        if (only === 'all' || only === 'console') {
          log(`\n(c) console pages over ${journal.transfers.toLocaleString('en')} transfers, signed in as the demo regulator (store ${values['journal-store']})`);
          if (!(await User.exists({ email: 'regulator@demo.yrd-exchange.cn' }))) await loadDemo();
          console_ = await timeConsole(mongoose.connection.getClient(), dir, SAMPLES, log);
          if (console_.skipped) log(`  console: ${console_.skipped}`);
        }
      } finally {
        await mongoose.disconnect();
        await store.close();
      }
    }
  } finally {
    if (!keep) await fs.rm(dir, { recursive: true, force: true });
  }

  const rows = [['measure', 'median', 'target', 'result', 'runs']];
  if (postingRuns.length) {
    const m = median(postingRuns.map((r) => r.perSec));
    rows.push([`(a) post(), ${POSTERS} posters, durable`, `${m} transfers/s`, '≥ 1,000/s', m >= 1000 ? 'PASS' : 'MISS', postingRuns.map((r) => r.perSec).join(' ')]);
    rows.push(['    CPU per transfer (all processes)', `${median(postingRuns.map((r) => r.cpuUsPerTransfer))} µs`, '', '', postingRuns.map((r) => r.cpuUsPerTransfer).join(' ')]);
  }
  if (verify && !verify.skipped) {
    const cli = median(verify.cliSeconds);
    const at1M = (journal?.transfers ?? 0) >= 1_000_000;
    if (exportInfo) {
      rows.push(['    export file (one cursor)', `${exportInfo.seconds} s`, '', '', `${(exportInfo.bytes / 2 ** 20).toFixed(0)} MiB`]);
      rows.push(['    checkpoint service (verify + sign)', exportInfo.serviceCheckpointSeconds === null ? 'not run' : `${exportInfo.serviceCheckpointSeconds} s`, '', '', 'once']);
      rows.push(['    export service (exportJsonl)', exportInfo.serviceExportSeconds === null ? 'not run' : `${exportInfo.serviceExportSeconds} s`, '', '', 'once']);
    }
    rows.push([`(b) verify CLI, ${journal!.transfers.toLocaleString('en')} transfers`, `${cli} s`, '≤ 10 s at 1M', at1M ? (cli <= 10 ? 'PASS' : 'MISS') : 'N/A', verify.cliSeconds.join(' ')]);
    rows.push(['    its CPU time', `${median(verify.cliCpuSeconds)} s`, '', '', verify.cliCpuSeconds.join(' ')]);
  } else if (journal && (only === 'all' || only === 'verify')) rows.push(['(b) verify', 'not run', '≤ 10 s', 'N/A', verify?.skipped ?? '']);
  for (const p of console_?.pages ?? []) {
    rows.push([`(c) GET ${p.path} (HTTP ${p.status})`, `${p.medianMs} ms`, '≤ 200 ms', p.status === 200 && p.medianMs <= 200 ? 'PASS' : 'MISS', `first ${p.firstMs} ms`]);
  }
  if (console_?.skipped) rows.push(['(c) console', 'not run', '≤ 200 ms', 'N/A', console_.skipped]);
  log(`\n${table(rows)}`);
  const summary = {
    at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAvgAtStart, loadAvgAtEnd: loadAvg(),
    config: { quick, runs: RUNS, seconds: SECONDS, posters: POSTERS, transfers: TRANSFERS, samples: SAMPLES, only, store: values.store, journalStore: values['journal-store'], storeHeapMb: STORE_HEAP_MB },
    posting: { medianPerSec: postingRuns.length ? median(postingRuns.map((r) => r.perSec)) : null, targetPerSec: 1000, runs: postingRuns },
    journal, storeMemory, export: exportInfo, verify, console: console_,
  };
  await fs.mkdir(path.join(repoRoot, 'test-output'), { recursive: true });
  await fs.writeFile(path.join(repoRoot, 'test-output/bench-ledger.json'), `${JSON.stringify(summary, null, 2)}\n`);
  log('written to test-output/bench-ledger.json');
}

await main();
