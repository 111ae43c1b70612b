/**
 * Benchmark of the licensing batch work (not part of `npm test`):
 *
 *   npm run bench:licensing                      # 10,000 licences, 100,000 invoices, 3 runs
 *   npm run bench:licensing -- --quick           # 1,000 licences, 10,000 invoices
 *   npm run bench:licensing -- --licences 20000 --runs 5
 *   npm run bench:licensing -- --only sweep     # or --only invoicing
 *
 * On an embedded store in a temporary directory, with the demo organisations
 * and a generated catalogue:
 *
 * (a) A quarter's invoices: every one of the active running-royalty licences
 *     has reported its net sales for the quarter; one royalty invoice per
 *     report is issued through issueInvoicesInBulk (issueInvoice's rules,
 *     numbers, unique keys and invoice.issued events, 500 licences per
 *     transaction). Each run bills a different quarter. Target ≤ 30 s. A
 *     sample of 1,000 through one issueInvoice call each is timed too, for
 *     comparison.
 * (b) The default sweep over 100,000 invoices (10 per licence): 4 paid, 2
 *     open and not yet due, 3 open and 10–60 days past due (→ overdue, the
 *     licence → in arrears), 1 already overdue 100+ days (→ defaulted, the
 *     licence → defaulted): 40,000 invoice and 20,000 licence transitions,
 *     each with its event and audit record, plus the mails. Each run starts
 *     from freshly inserted invoices; a second sweep straight after (nothing
 *     to do) is timed too. Target ≤ 30 s.
 *
 * Reports medians (the machine is shared; it never fails on speed) and
 * writes test-output/bench-licensing.json.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mongoose, { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { RevenueReport } from '../../models/revenue-report.js';
import { User } from '../../models/user.js';
import { fenTimesRatio } from '../../server/domain/money.js';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { runDefaultSweep } from '../../server/jobs/default-sweep.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { issueInvoice, type InvoiceInput } from '../../server/services/invoice-issue.js';
import { issueInvoicesInBulk } from '../../server/services/invoice-issue-bulk.js';
import { createMailer } from '../../server/services/mail.js';
import { DAY, licenceDoc } from '../helpers/licensing-fixtures.js';

const { values } = parseArgs({ options: { licences: { type: 'string' }, quick: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' }, only: { type: 'string' } } });
const LICENCES = Number(values.licences ?? (values.quick ? 1_000 : 10_000));
const RUNS = Number(values.runs);
const INVOICES_PER_LICENCE = 10;
const PER_TRANSACTION = 500;
const ONE_BY_ONE_SAMPLE = 1_000;
const QUARTERS = ['2025Q2', '2025Q3', '2025Q4', '2026Q1', '2026Q2', '2026Q3', '2026Q4', '2027Q1'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const secs = (ms: number) => +(ms / 1000).toFixed(2);
const loadAvg = () => os.loadavg().map((x) => +x.toFixed(2));

function quarterBounds(q: string): [Date, Date] {
  const year = Number(q.slice(0, 4));
  const n = Number(q.slice(5));
  return [new Date(Date.UTC(year, (n - 1) * 3, 1)), new Date(Date.UTC(year, n * 3, 1) - 1)];
}

/** 10,000 live running-royalty licences over the demo holders' patents and the verified enterprises. */
async function seedLicences(): Promise<void> {
  const patents = await Patent.find({ 'listing.listed': true }).select('applicationNumber titleZh expiryDate holder').lean();
  const orgs = new Map((await Organization.find().select('nameZh kind verified').lean()).map((o) => [String(o._id), o]));
  const licensees = [...orgs.values()].filter((o) => o.kind === 'enterprise' && o.verified);
  const docs = Array.from({ length: LICENCES }, (_, i) => {
    const patent = patents[i % patents.length]!;
    return licenceDoc({ patent, licensorName: orgs.get(String(patent.holder))!.nameZh, licensee: licensees[i % licensees.length]!, state: 'paying', number: `LIC-B-${String(i + 1).padStart(7, '0')}` });
  });
  for (let i = 0; i < docs.length; i += 2_000) await Licence.insertMany(docs.slice(i, i + 2_000), { lean: true });
}

/** Every licence's net sales for `quarter` (what the licensees reported; not timed). */
async function seedReports(quarter: string, reporter: Types.ObjectId): Promise<void> {
  const [periodStart, periodEnd] = quarterBounds(quarter);
  const licences = await Licence.find({ state: 'paying' }).select('licensor licensee').lean();
  const docs = licences.map((l, i) => ({ licence: l._id, licensor: l.licensor, licensee: l.licensee, period: quarter, periodStart, periodEnd, netSalesFen: 1_000_000 + (i % 97) * 123_457, reportedAt: new Date(periodEnd.getTime() + 5 * DAY), reportedBy: reporter }));
  for (let i = 0; i < docs.length; i += 2_000) await RevenueReport.insertMany(docs.slice(i, i + 2_000), { lean: true });
}

/** The quarter's royalty invoices: one per report, PER_TRANSACTION licences per transaction, in bulk or one issueInvoice call at a time. */
async function issueQuarter(quarter: string, mode: 'bulk' | 'one-by-one', limit = Infinity): Promise<number> {
  const [, periodEnd] = quarterBounds(quarter);
  const issuedAt = new Date(periodEnd.getTime() + 10 * DAY);
  const dueAt = new Date(issuedAt.getTime() + 30 * DAY);
  const reports = (await RevenueReport.find({ period: quarter }).select('licence netSalesFen').lean()).slice(0, limit);
  const licences = new Map((await Licence.find({ _id: { $in: reports.map((r) => r.licence) } }).select('number licensor licensee terms').lean()).map((l) => [String(l._id), l]));
  let issued = 0;
  for (let i = 0; i < reports.length; i += PER_TRANSACTION) {
    const inputs: InvoiceInput[] = reports.slice(i, i + PER_TRANSACTION).map((r) => {
      const licence = licences.get(String(r.licence))!;
      const amountFen = fenTimesRatio(r.netSalesFen, (licence.terms as { royaltyBps: number }).royaltyBps, 10_000);
      return { licence, kind: 'royalty', amountFen, issuedAt, dueAt, key: `royalty:${r._id}`, revenueReport: r._id };
    });
    issued += await mongoose.connection.transaction(async (session) => {
      if (mode === 'bulk') return (await issueInvoicesInBulk(inputs, session)).length;
      for (const input of inputs) await issueInvoice(input, session);
      return inputs.length;
    });
  }
  return issued;
}

/** 100,000 invoices in the mix described above, the licences back in good standing. */
async function seedSweepInvoices(now: Date, run: number): Promise<void> {
  await Invoice.deleteMany({});
  await Licence.updateMany({}, { $set: { state: 'paying' } });
  const licences = await Licence.find().select('licensor licensee').lean();
  const mix: { status: string; dueDays: number }[] = [
    ...Array(4).fill({ status: 'paid', dueDays: -200 }), ...Array(2).fill({ status: 'open', dueDays: 20 }),
    { status: 'open', dueDays: -10 }, { status: 'open', dueDays: -35 }, { status: 'open', dueDays: -60 }, { status: 'overdue', dueDays: -120 },
  ];
  let batch: Record<string, unknown>[] = [];
  let n = 0;
  for (const l of licences) {
    for (const m of mix) {
      n++;
      const dueAt = new Date(now.getTime() + m.dueDays * DAY);
      batch.push({
        number: `INV-B${run}-${String(n).padStart(7, '0')}`, key: `${l._id}:bench:${run}:${n}`, licence: l._id, licensor: l.licensor, licensee: l.licensee, kind: 'royalty',
        amountFen: 500_000 + (n % 89) * 1_001, paidFen: m.status === 'paid' ? 500_000 + (n % 89) * 1_001 : 0, issuedAt: new Date(dueAt.getTime() - 30 * DAY), dueAt, status: m.status,
        overdueAt: m.status === 'overdue' ? new Date(dueAt.getTime() + DAY) : null, paidAt: m.status === 'paid' ? dueAt : null,
      });
      if (batch.length === 5_000) {
        await Invoice.insertMany(batch, { lean: true });
        batch = [];
      }
    }
  }
  if (batch.length) await Invoice.insertMany(batch, { lean: true });
}

async function main(): Promise<void> {
  const loadAvgAtStart = loadAvg();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yrd-bench-licensing-'));
  const store = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), logger: { info() {}, warn() {}, error() {} } });
  const mailer = createMailer({ smtpUrl: null, outboxDir: path.join(dir, 'outbox'), from: 'bench@localhost' });
  try {
    await mongoose.connect(`${store.uri}yrd_bench`, { serverSelectionTimeoutMS: 5000 });
    await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
    await loadDemo();
    await loadDemoCatalogue({ patents: 400 });
    const t0 = performance.now();
    await seedLicences();
    const reporter = (await User.findOne({ role: 'sme' }).lean())!._id;
    console.log(`seeded ${await Licence.countDocuments()} licences in ${secs(performance.now() - t0)} s; load ${loadAvgAtStart.join(' ')}`);

    const invoicing: { quarter: string; invoices: number; seconds: number }[] = [];
    for (let run = 0; run < (values.only === 'sweep' ? 0 : RUNS); run++) {
      const quarter = QUARTERS[run % QUARTERS.length]!;
      await seedReports(quarter, reporter);
      const start = performance.now();
      const invoices = await issueQuarter(quarter, 'bulk');
      invoicing.push({ quarter, invoices, seconds: secs(performance.now() - start) });
      console.log(`quarter ${quarter}: ${invoices} invoices in ${invoicing.at(-1)!.seconds} s`);
    }
    // For comparison, the one-call-per-invoice path on a sample (six round trips per invoice).
    const sampleQuarter = QUARTERS[RUNS % QUARTERS.length]!;
    await seedReports(sampleQuarter, reporter);
    const sampleStart = performance.now();
    const sample = values.only === 'sweep' ? 0 : await issueQuarter(sampleQuarter, 'one-by-one', ONE_BY_ONE_SAMPLE);
    const oneByOne = { invoices: sample, seconds: secs(performance.now() - sampleStart), msPerInvoice: sample ? +((performance.now() - sampleStart) / sample).toFixed(2) : null };
    console.log(`one issueInvoice call per invoice: ${sample} in ${oneByOne.seconds} s (${oneByOne.msPerInvoice} ms each)`);

    const sweeps: Record<string, number>[] = [];
    for (let run = 0; run < (values.only === 'invoicing' ? 0 : RUNS); run++) {
      const now = new Date();
      await seedSweepInvoices(now, run);
      const [events, audits] = await Promise.all([LicensingEvent.countDocuments(), AuditEvent.countDocuments()]);
      const start = performance.now();
      const r = await runDefaultSweep({ mailer, daysToDefault: 90, now, publicUrl: 'http://localhost:3000' });
      const seconds = secs(performance.now() - start);
      const again = performance.now();
      const second = await runDefaultSweep({ mailer, daysToDefault: 90, now, publicUrl: 'http://localhost:3000' });
      const secondSeconds = secs(performance.now() - again);
      if (second.overdue + second.defaulted !== 0) throw new Error('the second sweep found work: not idempotent');
      sweeps.push({
        invoices: await Invoice.countDocuments(), seconds, secondRunSeconds: secondSeconds, ...r,
        eventsWritten: (await LicensingEvent.countDocuments()) - events, auditsWritten: (await AuditEvent.countDocuments()) - audits,
      });
      console.log(`sweep ${run + 1}: ${JSON.stringify(sweeps.at(-1))}`);
    }

    const summary = {
      at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAvgAtStart, loadAvgAtEnd: loadAvg(), licences: LICENCES, runs: RUNS,
      quarterInvoicing: { perTransaction: PER_TRANSACTION, medianSeconds: median(invoicing.map((x) => x.seconds)), targetSeconds: 30, runs: invoicing, oneByOneSample: oneByOne },
      defaultSweep: { invoices: LICENCES * INVOICES_PER_LICENCE, medianSeconds: median(sweeps.map((x) => x.seconds!)), medianSecondRunSeconds: median(sweeps.map((x) => x.secondRunSeconds!)), targetSeconds: 30, runs: sweeps },
    };
    console.log(`\nquarter's invoices (${LICENCES} licences): median ${summary.quarterInvoicing.medianSeconds} s (target ≤ 30 s)`);
    console.log(`default sweep (${summary.defaultSweep.invoices} invoices): median ${summary.defaultSweep.medianSeconds} s, second run ${summary.defaultSweep.medianSecondRunSeconds} s (target ≤ 30 s)`);
    await fs.mkdir('test-output', { recursive: true });
    await fs.writeFile('test-output/bench-licensing.json', `${JSON.stringify(summary, null, 2)}\n`);
    console.log('written to test-output/bench-licensing.json');
  } finally {
    await mongoose.disconnect();
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
