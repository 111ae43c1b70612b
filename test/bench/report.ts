/**
 * Targets, the printed results table, and the JSON written to
 * test-output/bench-store.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OpResult, Phase1Result } from './phase1.js';
import type { Phase2Result } from './phase2.js';
import { repoRoot } from './store-process.js';
import type { RunResult } from './workloads.js';

export interface TargetResult {
  name: string;
  target: string;
  measured: string;
  status: 'PASS' | 'MISS' | 'N/A';
  how: string;
}

const TARGET_DOCS = 1_000_000;

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadAvgAtStart: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

function op(p1: Phase1Result, name: string): OpResult | undefined {
  return p1.ops.find((o) => o.name.startsWith(name));
}

/** The run whose rate is closest to the median: its latency and CPU columns are the ones shown. */
export function medianRun(o: OpResult): RunResult {
  const rate = (r: RunResult) => (o.unit === 'docs/s' ? r.unitsPerSec : r.opsPerSec);
  return o.runs.reduce((best, r) => (Math.abs(rate(r) - o.median) < Math.abs(rate(best) - o.median) ? r : best));
}

/**
 * What held a run back, from who was using the CPU: a process near a full
 * core is the bottleneck (each is single-threaded JS); failing that, other
 * tenants of the machine; failing that, waiting (fsync, round trips).
 */
export function boundBy(r: RunResult): string {
  if (r.storeCpu >= 0.9) return 'store CPU';
  // Each client process is one core at most; older JSON files have no clientProcs.
  if (r.benchCpu / (r.clientProcs ?? 1) >= 0.9) return 'client CPU';
  if (r.otherCpu >= 0.5) return 'other load';
  return 'latency';
}

/** The lower of two operations' medians, and what bounded the lower one. */
function lower(p1: Phase1Result, a: string, b: string): { value: number; bound: string } {
  const [x, y] = [op(p1, a), op(p1, b)];
  const low = !x ? y : !y ? x : x.median <= y.median ? x : y;
  return low ? { value: low.median, bound: `${low.name.split(' ')[0]}: ${boundBy(medianRun(low))}` } : { value: NaN, bound: '' };
}

export function evaluateTargets(p1: Phase1Result | null, p2: Phase2Result | null): TargetResult[] {
  const out: TargetResult[] = [];
  const verdict = (ok: boolean, measured: boolean): TargetResult['status'] => (!measured ? 'N/A' : ok ? 'PASS' : 'MISS');
  if (p1) {
    const reads = lower(p1, 'findById', 'findOne({k})');
    out.push({ name: 'indexed point reads', target: '>= 5,000 ops/s', measured: `${reads.value.toFixed(0)} ops/s`,
      status: verdict(reads.value >= 5000, true), how: `lower median of findById and findOne({k}) (${reads.bound})` });
    const writes = lower(p1, 'insertOne', 'updateOne');
    out.push({ name: 'durable single-document writes', target: '>= 2,000 ops/s', measured: `${writes.value.toFixed(0)} ops/s`,
      status: verdict(writes.value >= 2000, true), how: `lower median of insertOne and updateOne, fsync on (${writes.bound})` });
  }
  if (p2) {
    const at1M = p2.docs >= TARGET_DOCS;
    const note = at1M ? '' : ` (only ${p2.docs} docs loaded; target is for 1M)`;
    out.push({ name: 'restart with 1M documents', target: '<= 10 s', measured: `${(p2.restartFirstQueryMs / 1000).toFixed(2)} s`,
      status: verdict(p2.restartFirstQueryMs <= 10_000, at1M), how: `spawn to first answered query${note}` });
    const rss = Math.max(p2.rssAfterLoadMiB, p2.rssAfterRestartMiB);
    out.push({ name: 'store RSS at 1M documents', target: '<= 2 GB', measured: `${rss.toFixed(0)} MiB`,
      status: verdict(rss <= 2048, at1M), how: `larger of RSS after load and after restart${note}` });
  }
  return out;
}

function table(rows: string[][], alignRight: boolean[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (alignRight[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function formatReport(p1: Phase1Result | null, p2: Phase2Result | null, targets: TargetResult[]): string {
  const parts: string[] = [];
  if (p1) {
    const reps = p1.ops[0]?.runs.length ?? 0;
    const head = ['operation', ...Array.from({ length: reps }, (_, i) => `run ${i + 1}`), 'median', 'unit', 'p50 ms', 'p99 ms', 'store CPU', 'store us/unit', 'bench CPU', 'other CPU', 'syncs/s', 'recs/sync', 'bound by', 'errors'];
    const rows = p1.ops.map((o) => {
      const vals = o.runs.map((r) => (o.unit === 'docs/s' ? r.unitsPerSec : r.opsPerSec));
      const mid = medianRun(o);
      return [o.name, ...vals.map((v) => v.toFixed(0)), o.median.toFixed(0), o.unit, mid.p50Ms.toFixed(2), mid.p99Ms.toFixed(2),
        `${(mid.storeCpu * 100).toFixed(0)}%`, mid.storeCpuUsPerUnit.toFixed(0), `${(mid.benchCpu * 100).toFixed(0)}%`,
        `${(mid.otherCpu * 100).toFixed(0)}%`, mid.syncsPerSec ? mid.syncsPerSec.toFixed(0) : '-',
        mid.syncsPerSec ? mid.recordsPerSync!.toFixed(1) : '-', boundBy(mid), String(o.runs.reduce((s, r) => s + r.errors, 0))];
    });
    const others = p1.ops.flatMap((o) => o.runs.map((r) => r.otherCpu)).sort((a, b) => a - b);
    const othersMedian = others[others.length >> 1] ?? 0;
    if (othersMedian > 0.5) {
      parts.push(`WARNING: other processes used ${othersMedian.toFixed(2)} of ${os.cpus().length} cores (median over runs) during phase 1; `
        + 'throughput here understates the store (see "other CPU" and "store us/unit").', '');
    }
    parts.push(`Phase 1: ${p1.docs} documents, ${p1.clients} Mongoose connections (maxPoolSize ${p1.poolPerClient}, one worker each) `
      + `in ${p1.clientProcs ?? 1} client process(es); bench CPU is theirs together`,
      table([head, ...rows], head.map((h, i) => i !== 0 && i !== reps + 2 && h !== 'bound by')),
      `disk write+fdatasync ${p1.fsyncMs.toFixed(2)} ms; empty store ready in ${p1.emptyStoreReadyMs.toFixed(0)} ms; seeding ${p1.seedDocsPerSec.toFixed(0)} docs/s; `
        + `store RSS ${p1.storeRssMiB.toFixed(0)} MiB (peak ${p1.storePeakMiB.toFixed(0)} MiB)`, '');
  }
  if (p2) {
    const rows = [
      ['measure', 'value'],
      ['documents loaded', p2.docs < p2.requestedDocs ? `${p2.docs} of ${p2.requestedDocs} (load budget ran out)` : String(p2.docs)],
      ['load (insertMany 1,000/batch)', `${p2.loadSeconds.toFixed(1)} s, ${p2.loadDocsPerSec.toFixed(0)} docs/s`],
      ['store RSS after load', `${p2.rssAfterLoadMiB.toFixed(0)} MiB (peak ${p2.peakDuringLoadMiB.toFixed(0)} MiB)`],
      ['SIGTERM shutdown', `${p2.shutdownMs.toFixed(0)} ms`],
      ['data on disk', `${p2.diskMiB.toFixed(0)} MiB`],
      ['restart: spawn -> mongodb:// line', `${p2.restartReadyMs.toFixed(0)} ms`],
      ['  store CPU time until then', `${p2.restartCpuSeconds.toFixed(1)} s`],
      ['  of which journal open (replay)', `${p2.journalOpenMs.toFixed(0)} ms (${p2.recordsReplayed} records)`],
      ['restart: spawn -> first query', `${p2.restartFirstQueryMs.toFixed(0)} ms`],
      ['store RSS after restart', `${p2.rssAfterRestartMiB.toFixed(0)} MiB (peak ${p2.peakAfterRestartMiB.toFixed(0)} MiB)`],
    ];
    parts.push(`Phase 2: restart and memory`, table(rows, [false, true]), '');
  }
  const trows = [['target', 'threshold', 'measured', 'result', 'how'], ...targets.map((t) => [t.name, t.target, t.measured, t.status, t.how])];
  parts.push('Targets', table(trows, [false, false, true, false, false]));
  return parts.join('\n');
}

export function writeJson(data: unknown): string {
  const file = path.join(repoRoot, 'test-output/bench-store.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}
