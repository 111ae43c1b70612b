/**
 * Journal benchmark (not part of the test run):
 *   npx tsx test/bench/journal.bench.ts [docs=1000000] [seconds=5]
 *
 * 1. Acknowledged appends/s with fsync on, for 1, 16 and 64 concurrent appenders.
 * 2. A snapshot of `docs` small documents: compaction time and the longest
 *    event-loop stall during it, then open (replay) time, with records of
 *    1000 documents (as the engine writes them) and of one document each.
 *    CPU time is printed beside wall time: on a shared machine it is the
 *    steadier figure (open is CPU-bound; reads overlap decoding).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ObjectId } from 'bson';
import { Journal, type CommitRecord } from '../../server/embedded-mongo/storage/journal.js';

const DOCS = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 5);
const quiet = { info() {}, warn: console.warn, error: console.error };

/** Wall and CPU milliseconds of `fn`. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const value = await fn();
  const cpu = process.cpuUsage(cpu0);
  return { value, wall: performance.now() - wall0, cpu: (cpu.user + cpu.system) / 1000 };
}

const ms = (t: { wall: number; cpu: number }): string => `${t.wall.toFixed(0)} ms (cpu ${t.cpu.toFixed(0)} ms)`;

function smallDoc(i: number): Record<string, unknown> {
  return { _id: new ObjectId(), n: i, name: `user ${i}`, email: `user${i}@example.com`, age: 20 + (i % 50), active: i % 3 !== 0, createdAt: new Date(1_700_000_000_000 + i) };
}

async function appendThroughput(appenders: number): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-bench-'));
  const journal = await Journal.open(dir, () => undefined, { logger: quiet });
  const deadline = performance.now() + SECONDS * 1000;
  let acked = 0;
  let i = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await journal.append({ ops: [{ op: 'p', db: 'bench', coll: 'c', doc: smallDoc(i++) }] });
      acked++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: appenders }, worker));
  const seconds = (performance.now() - started) / 1000;
  const { syncs } = journal.stats();
  await journal.close();
  await fs.rm(dir, { recursive: true });
  console.log(`appenders=${appenders}: ${Math.round(acked / seconds)} acked appends/s, ${Math.round(syncs / seconds)} fdatasync/s, `
    + `${(acked / syncs).toFixed(1)} records per sync`);
}

function* state(perRecord: number): Generator<CommitRecord> {
  yield { ops: [{ op: 'c', db: 'bench', coll: 'c', options: {} }] };
  let batch: Record<string, unknown>[] = [];
  for (let i = 0; i < DOCS; i++) {
    batch.push({ op: 'p', db: 'bench', coll: 'c', doc: smallDoc(i) });
    if (batch.length === perRecord) {
      yield { ops: batch };
      batch = [];
    }
  }
  if (batch.length) yield { ops: batch };
}

async function snapshotAndOpen(perRecord: number): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-bench-'));
  const journal = await Journal.open(dir, () => undefined, { logger: quiet });
  let maxStall = 0;
  let last = performance.now();
  const monitor = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - last);
    last = now;
  }, 1);
  const compaction = await timed(() => journal.compact(() => state(perRecord)));
  clearInterval(monitor);
  const { snapshotBytes } = journal.stats();
  await journal.close();

  // Once counting only (the journal's own cost), once keeping every document
  // in a Map keyed by _id, roughly what the engine does (and what makes the GC work).
  let counted = 0;
  const countOpen = await timed(async () => {
    const j = await Journal.open(dir, (rec) => (counted += rec.ops.length), { logger: quiet });
    await j.close();
    return j.stats().recordsReplayed;
  });
  const byId = new Map<string, unknown>();
  const mapOpen = await timed(async () => {
    const j = await Journal.open(dir, (rec) => {
      for (const op of rec.ops) if (op.op === 'p') byId.set((op.doc._id as ObjectId).toHexString(), op.doc);
    }, { logger: quiet });
    await j.close();
  });
  await fs.rm(dir, { recursive: true });
  if (byId.size !== DOCS || counted !== DOCS + 1) throw new Error(`replayed ${byId.size}/${counted} documents, expected ${DOCS}`);
  console.log(`snapshot of ${DOCS} docs, ${perRecord} per record (${countOpen.value} records, `
    + `${(snapshotBytes / 1048576).toFixed(1)} MiB): compaction ${ms(compaction)}, longest event-loop stall ${maxStall.toFixed(0)} ms; `
    + `open ${ms(countOpen)} counting, ${ms(mapOpen)} building a Map of the documents`);
}

for (const n of [1, 16, 64]) await appendThroughput(n);
await snapshotAndOpen(1000);
await snapshotAndOpen(1);
