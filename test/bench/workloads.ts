/**
 * The Mongoose side of the store benchmark: schemas, document generator,
 * client connections, and a timed runner that keeps N workers busy.
 */
import fs from 'node:fs';
import mongoose, { Schema, Types, type Connection, type Model } from 'mongoose';

export interface Item {
  _id: Types.ObjectId;
  k: number;
  group: number;
  name: string;
  createdAt: Date;
  amount: number;
}

// versionKey off: the documents stay exactly the six small fields described in the brief.
const itemSchema = new Schema<Item>(
  {
    k: { type: Number, index: true },
    group: { type: Number, index: true },
    name: String,
    createdAt: Date,
    amount: Number,
  },
  { versionKey: false },
);

export interface Ledger {
  from: Types.ObjectId;
  to: Types.ObjectId;
  amount: number;
  at: Date;
}

const ledgerSchema = new Schema<Ledger>(
  { from: Schema.Types.ObjectId, to: Schema.Types.ObjectId, amount: Number, at: Date },
  { versionKey: false },
);

export function makeItem(k: number): Item {
  return {
    _id: new Types.ObjectId(),
    k,
    group: k % 1000,
    name: `item ${k}`,
    createdAt: new Date(1_700_000_000_000 + k * 1000),
    amount: k % 100,
  };
}

export interface Client {
  conn: Connection;
  /** The collection the read/update/transaction workloads use (fixed size). */
  Item: Model<Item>;
  /** Same schema and indexes; insert workloads write here so `items` stays put. */
  Insert: Model<Item>;
  Ledger: Model<Ledger>;
}

export async function openClient(uri: string, maxPoolSize: number): Promise<Client> {
  // autoIndex/autoCreate off: indexes are built once, explicitly, by the setup code,
  // not 16 times over as each connection compiles its models.
  const conn = mongoose.createConnection(uri, {
    maxPoolSize,
    autoIndex: false,
    autoCreate: false,
    serverSelectionTimeoutMS: 10_000,
  });
  await conn.asPromise();
  return {
    conn,
    Item: conn.model<Item>('Item', itemSchema, 'items'),
    Insert: conn.model<Item>('Insert', itemSchema, 'items_ins'),
    Ledger: conn.model<Ledger>('Ledger', ledgerSchema, 'ledger'),
  };
}

/** Creates the collection with its two secondary indexes (k, group). */
export async function createWithIndexes(model: Model<Item>): Promise<void> {
  await model.createCollection();
  await model.createIndexes();
}

/**
 * Inserts items with k = first, first+1, ..., `parallel` batches of 1,000 in
 * flight, until `count` are in or `deadline` (performance.now() ms) passes;
 * resolves to how many were inserted (always a contiguous run of k).
 */
export async function loadItems(
  model: Model<Item>,
  first: number,
  count: number,
  parallel: number,
  options: { keepIds?: Types.ObjectId[]; deadline?: number } = {},
): Promise<number> {
  let next = first;
  const end = first + count;
  const worker = async (): Promise<void> => {
    while (next < end && performance.now() < (options.deadline ?? Infinity)) {
      const start = next;
      next = Math.min(end, next + 1000);
      const docs: Item[] = [];
      for (let k = start; k < next; k++) docs.push(makeItem(k));
      if (options.keepIds) for (const d of docs) options.keepIds[d.k - first] = d._id;
      // lean: skip hydrating 1,000 Mongoose documents per batch; the driver does the real work.
      await model.insertMany(docs, { lean: true });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return next - first; // every batch handed out has completed
}

/** CPU seconds all cores of the machine have spent busy since boot (Linux /proc/stat, USER_HZ = 100). */
function machineBusySeconds(): number {
  const [, ...ticks] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks; // idle and iowait are not busy
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** The store's journal counters, from serverStatus (group commit shows as appends per sync). */
export async function journalCounters(c: Client): Promise<{ syncs: number; appends: number }> {
  const status = await c.conn.db!.admin().command({ serverStatus: 1 });
  return { syncs: Number(status.journal?.syncs ?? NaN), appends: Number(status.journal?.appends ?? NaN) };
}

export interface RunResult {
  ops: number;
  units: number;
  seconds: number;
  opsPerSec: number;
  unitsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string;
  /**
   * Share of one core used by the store / by the benchmark's client
   * processes together during the run (up to `clientProcs` cores).
   */
  storeCpu: number;
  benchCpu: number;
  /** How many processes the client connections were spread over. */
  clientProcs: number;
  /**
   * Store CPU microseconds per unit (operation or document); 1e6 / it is
   * roughly the rate the store could reach with a whole core to itself. It
   * rises too when the machine is contended (per-wakeup costs are shared by
   * fewer operations), but far less than ops/s falls.
   */
  storeCpuUsPerUnit: number;
  /** Journal fdatasync calls per second and commit records per sync (group commit) during the run. */
  syncsPerSec?: number;
  recordsPerSync?: number;
  /**
   * CPU used by everything else on the machine during the run, in cores (from
   * /proc/stat minus the store and the client processes): the machine is shared, and a
   * run with other work competing for its cores is slower for reasons outside the store.
   */
  otherCpu: number;
}

/** What one client process measured in a run: raw samples, merged by timedRun. */
export interface LoopResult {
  latencies: number[];
  units: number;
  errors: number;
  firstError?: string;
  seconds: number;
  /** CPU seconds this process used during the run. */
  cpuSeconds: number;
}

/**
 * Runs `op(worker)` back to back in `workers` concurrent loops for `seconds`;
 * op resolves to how many units (documents) it handled. In-flight operations
 * at the deadline are finished and counted, and time is taken when they end.
 */
export async function runLoops(workers: number, seconds: number, op: (worker: number) => Promise<number>): Promise<LoopResult> {
  const latencies: number[] = [];
  let units = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        // Not `units += await op(w)`: that reads `units` before the await and loses
        // the other workers' increments made meanwhile.
        const done = await op(w);
        units += done;
        latencies.push(performance.now() - t);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        // A broken workload must not spin: back off so the error count stays meaningful.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  const cpu = process.cpuUsage(cpu0);
  return { latencies, units, errors, firstError, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/**
 * Runs every client process's share of a run at once (`parts`, each resolving
 * to its LoopResult) and merges them: rates over the longest part, latency
 * percentiles over all samples, CPU of all client processes together.
 */
export async function timedRun(parts: Array<() => Promise<LoopResult>>, storeCpuSeconds: () => number): Promise<RunResult> {
  const machine0 = machineBusySeconds();
  const storeCpu0 = storeCpuSeconds();
  const started = performance.now();
  const own0 = process.cpuUsage();
  const results = await Promise.all(parts.map((run) => run()));
  const ownCpu = process.cpuUsage(own0);
  const elapsed = Math.max((performance.now() - started) / 1000, ...results.map((r) => r.seconds));
  const storeCpu = storeCpuSeconds() - storeCpu0;
  const machineBusy = machineBusySeconds() - machine0;
  // In one process the part's CPU is this process's; with client processes it is
  // theirs, plus this coordinating process's own (small) share.
  const benchCpu = parts.length === 1 ? results[0].cpuSeconds : results.reduce((s, r) => s + r.cpuSeconds, (ownCpu.user + ownCpu.system) / 1e6);
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const units = results.reduce((s, r) => s + r.units, 0);
  const errors = results.reduce((s, r) => s + r.errors, 0);
  const pct = (p: number) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN;
  return {
    ops: latencies.length,
    units,
    seconds: elapsed,
    opsPerSec: latencies.length / elapsed,
    unitsPerSec: units / elapsed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    errors,
    firstError: results.find((r) => r.firstError)?.firstError,
    storeCpu: storeCpu / elapsed,
    benchCpu: benchCpu / elapsed,
    clientProcs: parts.length,
    storeCpuUsPerUnit: (storeCpu * 1e6) / Math.max(1, units),
    otherCpu: Math.max(0, machineBusy - storeCpu - benchCpu) / elapsed,
  };
}
