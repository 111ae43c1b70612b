/**
 * A fake Stripe on loopback for the tests: the app's real SDK talks to it
 * over HTTP (STRIPE_API_HOST/PORT/PROTOCOL). It implements what the app
 * calls — POST and GET /v1/checkout/sessions — checks the secret key and
 * records every request with its form-encoded parameters and idempotency
 * key, and serves a hosted-checkout page whose "pay" button (or pay() from
 * a test) completes the session and POSTs a `checkout.session.completed`
 * event to the app's webhook, signed with the SDK's own test-header helper.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { StripeConfig } from '../../server/config.js';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string;
  idempotencyKey: string;
  /** Form parameters flattened as the SDK encodes them: `metadata[invoiceId]`, `line_items[0][quantity]`. */
  params: Record<string, string>;
}

interface FakeSession {
  id: string;
  object: 'checkout.session';
  mode: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid';
  currency: string;
  amount_total: number;
  metadata: Record<string, string>;
  client_reference_id: string | null;
  payment_intent: string | null;
  success_url: string;
  cancel_url: string;
  url: string;
  created: number;
  livemode: false;
}

export interface FakeStripe {
  config: StripeConfig;
  requests: RecordedRequest[];
  sessions: Map<string, FakeSession>;
  /** Where signed events are POSTed (the app's /webhooks/stripe on a listening server). */
  webhookUrl: string;
  /** Completes a session and delivers `checkout.session.completed`; resolves to the webhook's HTTP status. */
  pay(sessionId: string): Promise<number>;
  /** A signed event of `type` about `object`, as Stripe would send it (body and header). */
  signedEvent(type: string, object: object, id?: string): { body: string; signature: string };
  /** POSTs a body with a signature header to the webhook URL. */
  deliver(body: string, signature: string | null): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

const SECRET_KEY = 'sk_test_fake_0123456789';
const WEBHOOK_SECRET = 'whsec_fake_0123456789abcdef';
const id = (prefix: string) => `${prefix}_test_${randomBytes(12).toString('hex')}`;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
  res.end(JSON.stringify(body));
}

export async function startFakeStripe(options: { paymentMethods?: string[] } = {}): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const sessions = new Map<string, FakeSession>();
  const byIdempotencyKey = new Map<string, FakeSession>();
  let base = '';

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    if (url.pathname.startsWith('/v1/')) {
      const rec: RecordedRequest = {
        method: req.method ?? '', path: url.pathname, authorization: String(req.headers.authorization ?? ''),
        idempotencyKey: String(req.headers['idempotency-key'] ?? ''), params: Object.fromEntries(new URLSearchParams(raw)),
      };
      requests.push(rec);
      if (rec.authorization !== `Bearer ${SECRET_KEY}`) {
        json(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
        return;
      }
      if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
        const again = rec.idempotencyKey ? byIdempotencyKey.get(rec.idempotencyKey) : undefined;
        if (again) return json(res, 200, again);
        const p = rec.params;
        const amount = Number(p['line_items[0][price_data][unit_amount]']) * Number(p['line_items[0][quantity]'] ?? '1');
        if (p.mode !== 'payment' || !Number.isSafeInteger(amount) || amount < 1 || !p.success_url) {
          json(res, 400, { error: { type: 'invalid_request_error', message: 'missing or invalid parameters' } });
          return;
        }
        const metadata = Object.fromEntries(Object.entries(p).flatMap(([k, v]) => {
          const m = /^metadata\[(\w+)\]$/.exec(k);
          return m ? [[m[1]!, v]] : [];
        }));
        const sid = id('cs');
        const session: FakeSession = {
          id: sid, object: 'checkout.session', mode: 'payment', status: 'open', payment_status: 'unpaid',
          currency: p['line_items[0][price_data][currency]'] ?? '', amount_total: amount, metadata,
          client_reference_id: p.client_reference_id ?? null, payment_intent: null, success_url: p.success_url, cancel_url: p.cancel_url ?? '',
          url: `${base}/pay/${sid}`, created: Math.floor(Date.now() / 1000), livemode: false,
        };
        sessions.set(sid, session);
        if (rec.idempotencyKey) byIdempotencyKey.set(rec.idempotencyKey, session);
        return json(res, 200, session);
      }
      const m = /^\/v1\/checkout\/sessions\/(cs_\w+)$/.exec(url.pathname);
      if (req.method === 'GET' && m && sessions.has(m[1]!)) return json(res, 200, sessions.get(m[1]!));
      return json(res, 404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${url.pathname})` } });
    }
    // The hosted checkout page: GET shows it, POST pays (as a customer's browser would), then back to success_url.
    const pay = /^\/pay\/(cs_\w+)$/.exec(url.pathname);
    const session = pay ? sessions.get(pay[1]!) : undefined;
    if (!session) {
      res.writeHead(404).end('no such session');
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><link rel="icon" href="data:,"><title>Fake Checkout</title><h1>Pay ¥${(session.amount_total / 100).toFixed(2)}</h1>`
        + `<form method="post"><button type="submit" id="pay">Pay</button></form><a id="cancel" href="${session.cancel_url}">Cancel</a>`);
      return;
    }
    await fake.pay(session.id);
    res.writeHead(303, { location: session.success_url }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  const fake: FakeStripe = {
    config: Object.freeze({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, host: '127.0.0.1', port, protocol: 'http', paymentMethods: options.paymentMethods ?? ['card'] }),
    requests,
    sessions,
    webhookUrl: '',
    signedEvent(type, object, eventId = id('evt')) {
      const body = JSON.stringify({
        id: eventId, object: 'event', api_version: Stripe.API_VERSION, created: Math.floor(Date.now() / 1000), type, livemode: false,
        pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object },
      });
      return { body, signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET }) };
    },
    async deliver(body, signature) {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (signature !== null) headers['stripe-signature'] = signature;
      const res = await fetch(fake.webhookUrl, { method: 'POST', headers, body });
      return { status: res.status, text: await res.text() };
    },
    async pay(sessionId) {
      const s = sessions.get(sessionId);
      if (!s) throw new Error(`fake stripe: no session ${sessionId}`);
      s.status = 'complete';
      s.payment_status = 'paid';
      s.payment_intent ??= id('pi');
      const { body, signature } = fake.signedEvent('checkout.session.completed', s);
      return (await fake.deliver(body, signature)).status;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  return fake;
}
