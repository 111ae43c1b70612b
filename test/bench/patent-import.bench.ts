/**
 * Benchmark of the portfolio import (not part of `npm test`):
 *
 *   npm run bench:import                 # 10,000 rows, 3 runs, median reported
 *   npm run bench:import -- --rows 20000 --runs 5
 *
 * Generates a realistic CSV (valid numbers with computed check characters,
 * Chinese titles, all columns filled) and times, against the embedded store
 * the app uses by default: upload (parse + dry run, the batch stored),
 * reopening the report (parse + dry run again), and the commit (re-parse,
 * re-validate, insertMany and audit in one transaction). Target: the whole
 * import of 10,000 rows in under 60 s. Results go to test-output/bench-import.json.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { User } from '../../models/user.js';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { checkCharacter } from '../../server/domain/patent-number.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import type { Ctx } from '../../server/services/context.js';
import { IMPORT_COLUMNS } from '../../server/services/import-columns.js';
import { commitImport, dryRun, startImport } from '../../server/services/patent-import.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const TARGET_MS = 60_000;

const FIELDS = ['集成电路', '生物医药', '人工智能', '新材料', '传感与仪器'];
const TITLES = ['一种低功耗存算一体芯片的数据调度方法', '基于石墨烯的柔性压力传感器及其制备方法', '一种用于肿瘤早筛的多肽探针', '面向工业视觉的缺陷检测模型训练方法'];

/** `rows` valid register rows; `run` keeps each run's numbers distinct so every commit imports them all. */
function portfolioCsv(rows: number, run: number): Buffer {
  const header = IMPORT_COLUMNS.map((c) => c.zh);
  const lines = [header.join(',')];
  for (let i = 0; i < rows; i++) {
    const year = 2015 + (i % 9);
    const digits = `${year}1${String(run * 1_000_000 + i).padStart(7, '0')}`;
    const row: Record<string, string> = {
      applicationNumber: `${digits}.${checkCharacter(digits)}`, titleZh: `${TITLES[i % TITLES.length]}（${i}）`, titleEn: `Method ${i}`,
      abstractZh: '本发明公开了一种方法，'.repeat(8), problem: '功耗高', application: '可穿戴设备', advantage: '功耗降低约40%',
      ipc: 'G06F15/78; H01L21/02', fields: `${FIELDS[i % FIELDS.length]}、${FIELDS[(i + 1) % FIELDS.length]}`, inventors: '王明、李华、张伟',
      coOwners: i % 10 === 0 ? '某某研究院:同意' : '', filingDate: `${year}-0${1 + (i % 9)}-1${i % 10}`, grantDate: `${year + 2}-06-30`, legalStatus: '授权',
      annualFeePaidThrough: '2026-12-31', pledged: '否', pledgeeConsent: '否', exclusiveLicence: '无', suspended: '否', evaluationReport: '否',
      trl: String(1 + (i % 9)), assetRef: `HD-${run}-${i}`,
    };
    lines.push(IMPORT_COLUMNS.map((c) => row[c.field] ?? '').join(','));
  }
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yrd-bench-import-'));
  const store = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), logger: { info() {}, warn() {}, error() {} } });
  try {
    await mongoose.connect(`${store.uri}yrd_bench`, { serverSelectionTimeoutMS: 5000 });
    await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
    await loadDemo();
    const user = (await User.findOne({ email: 'tto.sh@demo.yrd-exchange.cn' }).lean())!;
    const org = (await Organization.findById(user.organization).lean())!;
    const ctx: Ctx = {
      actor: { userId: user._id, email: user.email, role: 'tto', orgId: org._id, orgVerified: true, orgAdmin: true },
      meta: { requestId: 'bench', ip: '127.0.0.1' },
    };
    const runs: { upload: number; reopen: number; commit: number; total: number }[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const file = portfolioCsv(ROWS, run);
      const [report, upload] = await time(() => startImport(ctx, { originalname: `bench-${run}.csv`, buffer: file }));
      if (report.valid !== ROWS) throw new Error(`run ${run}: ${report.valid} of ${ROWS} valid; first error ${JSON.stringify(report.errors[0])}`);
      const [, reopen] = await time(() => dryRun(ctx, report.batch.id));
      const [result, commit] = await time(() => commitImport(ctx, report.batch.id));
      if (result.imported !== ROWS) throw new Error(`run ${run}: imported ${result.imported}`);
      runs.push({ upload, reopen, commit, total: upload + commit });
      console.log(`run ${run}: ${(file.length / 1e6).toFixed(1)} MB, upload+dry run ${(upload / 1000).toFixed(2)} s, reopen report ${(reopen / 1000).toFixed(2)} s, commit ${(commit / 1000).toFixed(2)} s`);
    }
    const summary = {
      rows: ROWS, runs: RUNS, patentsStored: await Patent.countDocuments(),
      medianMs: { upload: median(runs.map((r) => r.upload)), reopen: median(runs.map((r) => r.reopen)), commit: median(runs.map((r) => r.commit)), total: median(runs.map((r) => r.total)) },
      targetMs: TARGET_MS, node: process.version, cpus: os.cpus().length, at: new Date().toISOString(), all: runs,
    };
    const ok = summary.medianMs.total < TARGET_MS;
    console.log(`median of ${RUNS}: upload+dry run ${(summary.medianMs.upload / 1000).toFixed(2)} s, commit ${(summary.medianMs.commit / 1000).toFixed(2)} s, ` +
      `total ${(summary.medianMs.total / 1000).toFixed(2)} s — target < ${TARGET_MS / 1000} s: ${ok ? 'met' : 'MISSED'}`);
    await fs.mkdir('test-output', { recursive: true });
    await fs.writeFile('test-output/bench-import.json', `${JSON.stringify(summary, null, 2)}\n`);
    if (!ok) process.exitCode = 1;
  } finally {
    await mongoose.disconnect();
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
