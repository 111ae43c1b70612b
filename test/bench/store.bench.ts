/**
 * Benchmark of the embedded MongoDB-wire-compatible store (not part of `npm test`):
 *
 *   npm run bench:store                      # phase 1 (100k docs) + phase 2 (1M docs), ~4 min on 2 cores
 *   npm run bench:store -- --quick           # smoke run of both phases, < 1 min
 *   npm run bench:store -- --docs 0          # phase 1 only (BENCH_STORE_DOCS=0 works too)
 *
 * Options: --docs N (phase 2 size, default 1,000,000; 0 skips it), --only 1|2,
 * --seconds S per run (5), --reps R (3), --clients C (16), --phase1-docs N (100,000),
 * --timeout S (whole-run watchdog, 600), --load-budget S (phase 2 loading stops after S s, 180), --ops findById,insertMany (phase 1 workloads whose
 * name contains one of these; default all), --client-procs P (phase 1 connections spread over P client
 * processes, default 2: one Node process per core, as a 2-core deployment runs; 1 keeps them all in this process).
 * BENCH_STORE_NODE_ARGS="--cpu-prof --cpu-prof-dir=test-output/prof" adds node flags to
 * the store child, e.g. to profile it (a profile is written when the child exits).
 *
 * The store runs as a child process (store-process.ts); results are printed and
 * written to test-output/bench-store.json. Only loopback traffic.
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import { runPhase1, type Phase1Result } from './phase1.js';
import { runPhase2, type Phase2Result } from './phase2.js';
import { evaluateTargets, formatReport, machineInfo, writeJson } from './report.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    docs: { type: 'string' },
    only: { type: 'string' },
    ops: { type: 'string' },
    seconds: { type: 'string' },
    reps: { type: 'string' },
    clients: { type: 'string' },
    'client-procs': { type: 'string' },
    'phase1-docs': { type: 'string' },
    timeout: { type: 'string' },
    'load-budget': { type: 'string' },
  },
});

function num(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number (got "${value}")`);
  return n;
}

const quick = values.quick;
const config = {
  quick,
  phase1Docs: num(values['phase1-docs'], quick ? 10_000 : 100_000, 'phase1-docs'),
  seconds: num(values.seconds, quick ? 1 : 5, 'seconds'),
  warmupSeconds: quick ? 0.25 : 1,
  reps: Math.max(1, num(values.reps, 3, 'reps')),
  clients: Math.max(1, num(values.clients, 16, 'clients')),
  clientProcs: Math.max(1, num(values['client-procs'], 2, 'client-procs')),
  phase2Docs: num(values.docs ?? process.env.BENCH_STORE_DOCS, quick ? 20_000 : 1_000_000, 'docs'),
  phase2Parallel: 4,
  // Loading 1M takes ~1 min on 2 quiet cores; past this, phase 2 goes on with what is loaded.
  loadBudgetSeconds: num(values['load-budget'], quick ? 30 : 180, 'load-budget'),
  only: values.only,
  ops: (values.ops ?? '').split(',').filter(Boolean),
  timeoutSeconds: num(values.timeout, quick ? 120 : 600, 'timeout'),
  storeNodeArgs: (process.env.BENCH_STORE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
};

const log = (line: string) => console.log(line);

const machine = machineInfo();
const started = new Date();
let p1: Phase1Result | null = null;
let p2: Phase2Result | null = null;
const errors: string[] = [];

/** Prints the report and writes the JSON from whatever was measured, even after a failure. */
function finish(): void {
  const targets = evaluateTargets(p1, p2);
  const durationSeconds = (Date.now() - started.getTime()) / 1000;
  log('');
  log(formatReport(p1, p2, targets));
  for (const e of errors) log(`ERROR: ${e}`);
  const file = writeJson({
    startedAt: started.toISOString(),
    durationSeconds,
    command: `npm run bench:store -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { ...machine, loadAvgAtEnd: os.loadavg().map((x) => +x.toFixed(2)) },
    setup: {
      store: 'child process: node --import tsx server/embedded-mongo/cli.ts --port 0 --dbpath <tmp>; fsync on (default)',
      clients: `${config.clients} separate mongoose.createConnection() connections (maxPoolSize 2), one worker loop each, `
        + `spread over ${config.clientProcs} client process(es)`,
      reads: 'lean() queries (no Mongoose document hydration)',
      inserts: 'insertOne / insertMany({lean:true}) into a separate collection with the same indexes, emptied before each run',
      median: `median of ${config.reps} interleaved repetitions of ${config.seconds} s each`,
    },
    config,
    phase1: p1,
    phase2: p2,
    targets,
    errors,
  });
  log(`\nwritten to ${file} (${durationSeconds.toFixed(0)} s total)`);
}

// The run must end by itself even if the store hangs: report what was measured and
// exit (children are SIGKILLed on exit).
const watchdog = setTimeout(() => {
  errors.push(`still running after ${config.timeoutSeconds} s (--timeout); stopped`);
  finish();
  process.exit(1);
}, config.timeoutSeconds * 1000);
watchdog.unref();

/** Runs a phase; a failure is reported with the results of the other phase rather than losing them. */
async function phase<T>(name: string, run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (err) {
    errors.push(`${name} failed: ${(err as Error).stack ?? err}`);
    log(`${name} failed: ${(err as Error).message}`);
    return null;
  }
}

async function main(): Promise<void> {
  log(`bench:store on ${machine.cpus} x ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAvgAtStart.join(' ')}`);
  log(`config: ${JSON.stringify(config)}`);
  if (config.only !== '2') {
    p1 = await phase('phase 1', () => runPhase1({
      docs: config.phase1Docs, seconds: config.seconds, warmupSeconds: config.warmupSeconds,
      reps: config.reps, clients: config.clients, clientProcs: config.clientProcs, nodeArgs: config.storeNodeArgs, only: config.ops,
    }, log));
  }
  if (config.only !== '1' && config.phase2Docs > 0) {
    p2 = await phase('phase 2', () => runPhase2({
      docs: config.phase2Docs, parallel: config.phase2Parallel, loadBudgetSeconds: config.loadBudgetSeconds, nodeArgs: config.storeNodeArgs,
    }, log));
  }
  finish();
}

main().then(
  () => process.exit(errors.length ? 1 : 0),
  (err) => {
    console.error(`bench:store failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
