/**
 * Parts (b) and (c) of bench:ledger, run over the journal ledger-journal.ts
 * built:
 *
 * (b) an export of the journal (JSONL, the export service's format, with a
 *     checkpoint at the head signed by a key made for the run) verified
 *     offline by the regulator's CLI (server/ledger-verify-cli.ts, a child
 *     process, as a regulator runs it), wall and CPU time;
 *     on smaller journals the checkpoint and export services are timed too;
 * (c) the regulators' console pages over that journal, through createApp()
 *     and supertest, signed in as the demo regulator.
 *
 * Each is a separate function that reports why it could not run (a
 * service, the verifier or the console routes missing) instead of failing
 * the bench.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { LedgerCheckpoint } from '../../models/ledger-checkpoint.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { createApp } from '../../server/app.js';
import { LEDGER } from '../../server/domain/ledger-chart.js';
import { checkpointText } from '../../server/domain/ledger-checkpoint-text.js';
import { canonical, type JournalRecord } from '../../server/domain/ledger-record.js';
import { MerkleBuilder } from '../../server/domain/merkle.js';
import { DEMO_PASSWORD } from '../../server/seed/demo-data.js';
import { createMailer } from '../../server/services/mail.js';

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const ms = (t0: number) => +(performance.now() - t0).toFixed(1);

export interface ExportFile {
  file: string;
  publicKeyFile: string;
  publicKey: string;
  bytes: number;
  /** Writing the file with one cursor (the bench's writer, always). */
  seconds: number;
  /** The services' own times, when they were run (null: not run, or failed — see the log). */
  serviceCheckpointSeconds: number | null;
  serviceExportSeconds: number | null;
}

/**
 * The export file the verifier is timed on, and (up to `serviceLimit`
 * transfers) the checkpoint and export services timed on the same journal.
 *
 * The file is written here with ONE cursor over the journal — header and
 * account totals from the export service's planExport(), records converted
 * by its journalRecordFromDoc(), and a checkpoint at the head signed with a
 * key made for the run (Merkle root computed as the records stream by) — so
 * it is the export service's format, written without the services' own
 * work (the checkpoint service re-verifies the whole journal before it
 * signs). The services page by seq windows (ledger-export.ts journalPages),
 * so they are linear too; they are timed separately up to `serviceLimit`.
 */
export async function exportJournal(dir: string, serviceLimit: number, log: (line: string) => void): Promise<ExportFile | string> {
  let services;
  try {
    services = await Promise.all([import('../../server/services/fund/signing-key.js'), import('../../server/services/fund/checkpoints.js'), import('../../server/services/fund/ledger-export.js')]);
  } catch (err) {
    return `the checkpoint or export service is not available (${(err as Error).message})`;
  }
  const [{ generateSigningKeyPem, signerFromPem }, { issueCheckpoint }, { planExport, exportJsonl, journalRecordFromDoc }] = services;
  const signer = signerFromPem(generateSigningKeyPem());
  // A kept journal may hold checkpoints of an earlier run, signed by another key: the export must verify against this one.
  await LedgerCheckpoint.deleteMany({});
  const file = path.join(dir, 'ledger-export.jsonl');
  const publicKeyFile = path.join(dir, 'ledger-key.pem');
  fs.writeFileSync(publicKeyFile, signer.publicKeyPem);
  const secs = (t0: number) => +((performance.now() - t0) / 1000).toFixed(1);
  let serviceCheckpointSeconds: number | null = null;
  let serviceExportSeconds: number | null = null;
  const transfers = await LedgerTransfer.estimatedDocumentCount();
  if (transfers <= serviceLimit) {
    let t0 = performance.now();
    try {
      await issueCheckpoint(signer, 'bench');
      serviceCheckpointSeconds = secs(t0);
      log(`  checkpoint service: verified the journal and signed its head in ${serviceCheckpointSeconds} s`);
    } catch (err) {
      log(`  checkpoint service failed: ${(err as Error).message}`);
    }
    t0 = performance.now();
    const out = fs.openSync(file, 'w');
    for await (const chunk of exportJsonl(await planExport(null, signer))) fs.writeSync(out, chunk);
    fs.closeSync(out);
    serviceExportSeconds = secs(t0);
    log(`  export service: ${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB in ${serviceExportSeconds} s`);
    await LedgerCheckpoint.deleteMany({});
  } else {
    log(`  checkpoint and export services not timed above ${serviceLimit.toLocaleString('en')} transfers (--service-limit)`);
  }

  const t0 = performance.now();
  const plan = await planExport(null, signer);
  const out = fs.openSync(file, 'w');
  let buffer = `${JSON.stringify(plan.header)}\n`;
  const merkle = new MerkleBuilder();
  let last: JournalRecord | null = null;
  for await (const doc of LedgerTransfer.collection.find({ seq: { $lte: plan.header.exportedThroughSeq } }, { sort: { seq: 1 }, batchSize: 5_000 })) {
    const { prevHash: _p, hash: _h, ...body } = (last = journalRecordFromDoc(doc));
    merkle.add(canonical(body));
    buffer += `${JSON.stringify({ type: 'transfer', ...last })}\n`;
    if (buffer.length > 4_000_000) {
      fs.writeSync(out, buffer);
      buffer = '';
    }
  }
  if (last) {
    const cp = { ledger: LEDGER, seq: last.seq, root: merkle.root().toString('hex'), headHash: last.hash, time: new Date().toISOString() };
    buffer += `${JSON.stringify({ type: 'checkpoint', ...cp, signature: signer.sign(checkpointText(cp)), keyId: signer.keyId, publicKey: signer.publicKeyPem, issuedBy: 'bench' })}\n`;
  }
  for (const a of plan.accounts ?? []) buffer += `${JSON.stringify(a)}\n`;
  fs.writeSync(out, buffer);
  fs.closeSync(out);
  const bytes = fs.statSync(file).size;
  const seconds = secs(t0);
  log(`  export file: ${(bytes / 2 ** 20).toFixed(0)} MiB written with one cursor in ${seconds} s, with a checkpoint signed at seq ${last?.seq ?? 0}`);
  return { file, publicKeyFile, publicKey: signer.publicKeyPem, bytes, seconds, serviceCheckpointSeconds, serviceExportSeconds };
}

export interface VerifyTiming {
  cliSeconds: number[];
  /** The CLI's CPU seconds (user + system): steadier than wall time on a shared machine. */
  cliCpuSeconds: number[];
  verdict: string;
  skipped: string | null;
}

/** The CLI's wall time (node start, tsx load, read, verify), CPU time (bash's `time`) and verdict line. */
function runCli(repoRoot: string, exp: ExportFile): Promise<{ seconds: number; cpu: number; code: number | null; verdict: string }> {
  const t0 = performance.now();
  const args = ['-c', 'TIMEFORMAT="cpu-seconds %U %S"; time "$0" "$@"', process.execPath, 'server/verify-ledger.cjs', exp.file, '--public-key', exp.publicKeyFile];
  const child = spawn('bash', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => {
    const cpu = /cpu-seconds ([\d.]+) ([\d.]+)/.exec(text);
    resolve({
      seconds: +((performance.now() - t0) / 1000).toFixed(2), code, cpu: cpu ? +(Number(cpu[1]) + Number(cpu[2])).toFixed(2) : NaN,
      verdict: (/(VERDICT|UNREADABLE)[^\n]*/.exec(text)?.[0] ?? text.trim().split('\n').slice(-3).join(' | ')).slice(0, 300),
    });
  }));
}

/** (b): `runs` verifications of the export by the CLI, which must say it verifies (exit 0). */
export async function timeVerification(repoRoot: string, exp: ExportFile, runs: number, log: (line: string) => void): Promise<VerifyTiming> {
  const timing: VerifyTiming = { cliSeconds: [], cliCpuSeconds: [], verdict: '', skipped: null };
  if (!fs.existsSync(path.join(repoRoot, 'server/ledger-verify-cli.ts'))) {
    timing.skipped = 'the offline verifier (server/ledger-verify-cli.ts) is not there yet';
    return timing;
  }
  for (let i = 0; i < runs; i++) {
    const cli = await runCli(repoRoot, exp);
    timing.verdict = cli.verdict;
    log(`  CLI run ${i + 1}: ${cli.seconds} s, CPU ${cli.cpu} s, exit ${cli.code}: ${cli.verdict}`);
    if (cli.code !== 0) throw new Error(`the verifier rejected the export (exit ${cli.code}): ${cli.verdict}`);
    timing.cliSeconds.push(cli.seconds);
    timing.cliCpuSeconds.push(cli.cpu);
  }
  return timing;
}

export interface PageTiming {
  path: string;
  status: number;
  firstMs: number;
  medianMs: number;
  samplesMs: number[];
  bytes: number;
}

export const CONSOLE_PAGES = ['/fund', '/fund/ledger', '/fund/ledger?code=PAYMENT', '/fund/ledger?code=COMPENSATION', '/fund/trial-balance'];

/** (c): each page once cold, then `samples` times; a page that 404s is reported as not there yet. */
export async function timeConsole(mongoClient: unknown, dataDir: string, samples: number, log: (line: string) => void): Promise<{ pages: PageTiming[]; skipped: string | null }> {
  const app = createApp({
    config: { sessionSecret: 'b'.repeat(40), publicUrl: 'http://localhost:3000', trustProxy: 0, nodeEnv: 'test', stripe: null },
    mongoClient: mongoClient as never,
    mailer: createMailer({ smtpUrl: null, outboxDir: path.join(dataDir, 'outbox'), from: 'bench@localhost' }),
    logger: { error: (m, e) => console.error(m, e) },
    rateLimits: { login: 1000, signup: 1000, reset: 1000 },
  });
  const agent = request.agent(app);
  const loginPage = await agent.get('/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(loginPage.text)?.[1];
  const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'regulator@demo.yrd-exchange.cn', password: DEMO_PASSWORD });
  if (res.status !== 302) return { pages: [], skipped: `could not sign in as the demo regulator (HTTP ${res.status})` };
  const pages: PageTiming[] = [];
  const missing: string[] = [];
  for (const p of CONSOLE_PAGES) {
    let t0 = performance.now();
    const first = await agent.get(p);
    const firstMs = ms(t0);
    if (first.status === 404) {
      missing.push(p);
      continue;
    }
    const samplesMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      t0 = performance.now();
      const r = await agent.get(p);
      samplesMs.push(ms(t0));
      if (r.status !== first.status) throw new Error(`${p} answered ${first.status}, then ${r.status}`);
    }
    pages.push({ path: p, status: first.status, firstMs, medianMs: median(samplesMs), samplesMs, bytes: first.text.length });
    log(`  GET ${p}: HTTP ${first.status}, first ${firstMs} ms, median ${median(samplesMs)} ms of ${samples}`);
  }
  return { pages, skipped: missing.length ? `not there yet (404): ${missing.join(', ')}` : null };
}
