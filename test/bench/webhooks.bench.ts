/**
 * Benchmark of Stripe webhook handling (not part of `npm test`):
 *
 *   npm run bench:webhooks                           # 2,000 events, 16 in flight
 *   npm run bench:webhooks -- --quick                # 300 events
 *   npm run bench:webhooks -- --events 5000 --concurrency 32
 *
 * Each event is a signed `checkout.session.completed` for its own pending
 * payment, so every delivery does the whole job: signature check, the
 * exactly-once event record, the payment, the invoice credit, the licensing
 * event and the audit entries, in one transaction on the embedded store.
 * Deliveries go over HTTP on loopback to the real app. A second pass
 * redelivers every event (duplicates, as Stripe retries) to time the
 * already-handled path. Target (issue 5): ≥ 200 events/s.
 * Results: test-output/bench-webhooks.json. runWebhookBench() is exported
 * for the licensing benchmark to call.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import mongoose, { Types } from 'mongoose';
import Stripe from 'stripe';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { Payment } from '../../models/payment.js';
import { User } from '../../models/user.js';
import { createApp } from '../../server/app.js';
import type { StripeConfig } from '../../server/config.js';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { createMailer } from '../../server/services/mail.js';

export interface WebhookBenchResult {
  events: number;
  concurrency: number;
  seconds: number;
  eventsPerSecond: number;
  duplicateSeconds: number;
  duplicatesPerSecond: number;
  /** Every payment credited exactly once, every invoice paid. */
  correct: boolean;
}

const STRIPE: StripeConfig = Object.freeze({
  secretKey: 'sk_test_bench', webhookSecret: 'whsec_bench_0123456789', host: '127.0.0.1', port: 9, protocol: 'http', paymentMethods: ['card'],
});

/** Invoices with a pending Stripe payment each, written in bulk (the billing path itself is not what is timed). */
async function seedPayments(n: number): Promise<{ paymentId: string; sessionId: string; amount: number }[]> {
  const orgOf = async (email: string) => (await User.findOne({ email }).lean())!.organization;
  const [licensor, licensee] = [await orgOf('tto.sh@demo.yrd-exchange.cn'), await orgOf('sme.micro@demo.yrd-exchange.cn')];
  const now = new Date();
  // One licence per invoice, as in a quarter's billing run: payments of different licences, in any order.
  const rows = Array.from({ length: n }, (_, i) => ({
    licenceId: new Types.ObjectId(), invoiceId: new Types.ObjectId(), paymentId: new Types.ObjectId(), sessionId: `cs_test_bench_${i}`, amount: 10_000 + i,
  }));
  await Licence.insertMany(rows.map((r, i) => ({
    _id: r.licenceId, number: `LIC-BENCH-${i}`, kind: 'open', state: 'active', offer: new Types.ObjectId(), patent: new Types.ObjectId(), licensor, licensee,
    terms: { feeForm: 'lump_sum' }, snapshot: { applicationNumber: '202110000001.X', patentTitleZh: '基准专利', patentExpiry: new Date('2040-01-01'), licensorNameZh: '甲', licenseeNameZh: '乙' },
    effectiveAt: now,
  })));
  await Invoice.insertMany(rows.map((r, i) => ({
    _id: r.invoiceId, number: `INV-BENCH-${i}`, key: `bench:${i}`, licence: r.licenceId, licensor, licensee, kind: 'lump_sum',
    amountFen: r.amount, issuedAt: now, dueAt: new Date(now.getTime() + 30 * 86_400_000),
  })));
  await Payment.insertMany(rows.map((r) => ({
    _id: r.paymentId, invoice: r.invoiceId, licence: r.licenceId, payer: licensee, payee: licensor, provider: 'stripe', amountFen: r.amount,
    status: 'pending', providerRef: r.sessionId, idempotencyKey: `checkout:${r.paymentId}`,
  })));
  return rows.map((r) => ({ paymentId: String(r.paymentId), sessionId: r.sessionId, amount: r.amount }));
}

async function deliverAll(url: string, events: { body: string; signature: string }[], concurrency: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let failures = 0;
  const post = (e: { body: string; signature: string }) => new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'stripe-signature': e.signature, 'content-length': Buffer.byteLength(e.body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(e.body);
  });
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < events.length) {
      const status = await post(events[next++]!);
      if (status !== 200) failures++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (failures) throw new Error(`${failures} deliveries were not answered 200`);
  return seconds;
}

/** Runs the benchmark against an embedded store in a temporary directory; cleans up after itself. */
export async function runWebhookBench(opts: { events?: number; concurrency?: number } = {}): Promise<WebhookBenchResult> {
  const events = opts.events ?? 2_000;
  const concurrency = opts.concurrency ?? 16;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yrd-bench-webhooks-'));
  const store = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), logger: { info() {}, warn() {}, error() {} } });
  const server = http.createServer();
  try {
    await mongoose.connect(`${store.uri}yrd_bench_webhooks`);
    await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
    await loadDemo();
    const payments = await seedPayments(events);
    const app = createApp({
      config: { sessionSecret: 'b'.repeat(40), publicUrl: 'http://localhost:3000', trustProxy: 0, nodeEnv: 'production', stripe: STRIPE },
      mongoClient: mongoose.connection.getClient() as never,
      mailer: createMailer({ smtpUrl: null, outboxDir: path.join(dir, 'outbox'), from: 'bench@localhost' }),
      logger: { error: (m, e) => console.error(m, e) },
    });
    server.on('request', app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
    const signed = payments.map((p, i) => {
      const body = JSON.stringify({
        id: `evt_bench_${i}`, object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000), livemode: false,
        data: { object: { id: p.sessionId, object: 'checkout.session', payment_status: 'paid', status: 'complete', currency: 'cny', amount_total: p.amount, metadata: { paymentId: p.paymentId } } },
      });
      return { body, signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE.webhookSecret }) };
    });
    const seconds = await deliverAll(url, signed, concurrency);
    const duplicateSeconds = await deliverAll(url, signed, concurrency);
    const [paid, succeeded] = await Promise.all([Invoice.countDocuments({ status: 'paid' }), Payment.countDocuments({ status: 'succeeded', $expr: { $eq: ['$appliedFen', '$amountFen'] } })]);
    return {
      events, concurrency, seconds, eventsPerSecond: events / seconds, duplicateSeconds, duplicatesPerSecond: events / duplicateSeconds,
      correct: paid === events && succeeded === events,
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await mongoose.disconnect();
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, concurrency: { type: 'string' }, quick: { type: 'boolean', default: false } } });
  const result = await runWebhookBench({ events: Number(values.events ?? (values.quick ? 300 : 2_000)), concurrency: Number(values.concurrency ?? 16) });
  const line = `webhooks: ${result.events} events, ${result.concurrency} in flight — ${result.eventsPerSecond.toFixed(0)} events/s `
    + `(${result.seconds.toFixed(2)} s); redeliveries ${result.duplicatesPerSecond.toFixed(0)}/s; ${result.correct ? 'all credited once' : 'WRONG TOTALS'}; target ≥ 200 events/s`;
  console.log(line);
  await fs.mkdir('test-output', { recursive: true });
  await fs.writeFile('test-output/bench-webhooks.json', JSON.stringify({ ...result, loadavg: os.loadavg(), at: new Date().toISOString() }, null, 2));
  if (!result.correct) process.exitCode = 1;
}
