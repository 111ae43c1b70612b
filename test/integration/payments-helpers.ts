/**
 * Shared steps for the payment suites: the demo organisations as licensor
 * and licensees, licences written straight to the database (the licensing
 * flows are tested elsewhere; here only their shape matters), invoices
 * issued through the one billing path, and an app with Stripe configured
 * listening on loopback so the fake Stripe can deliver webhooks to it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import mongoose, { Types } from 'mongoose';
import request from 'supertest';
import { Licence } from '../../models/licence.js';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { createApp } from '../../server/app.js';
import type { StripeConfig } from '../../server/config.js';
import type { LicenceState } from '../../server/domain/licence-states.js';
import { issueInvoice } from '../../server/services/invoice-issue.js';
import type { AppHarness } from '../helpers/app-harness.js';
import { login, type Agent } from './helpers.js';

export const USERS = {
  tto: 'tto.sh@demo.yrd-exchange.cn',
  otherTto: 'tto.js@demo.yrd-exchange.cn',
  sme: 'sme.micro@demo.yrd-exchange.cn',
  otherSme: 'sme.small@demo.yrd-exchange.cn',
} as const;

export interface Parties {
  licensor: Types.ObjectId;
  licensee: Types.ObjectId;
  otherLicensee: Types.ObjectId;
}

export async function orgOf(email: string): Promise<Types.ObjectId> {
  const u = await User.findOne({ email }).lean();
  if (!u) throw new Error(`no demo user ${email}`);
  return u.organization;
}

export async function demoParties(): Promise<Parties> {
  return { licensor: await orgOf(USERS.tto), licensee: await orgOf(USERS.sme), otherLicensee: await orgOf(USERS.otherSme) };
}

let serial = 0;
const DAY_MS = 86_400_000;

export interface LicenceOptions {
  kind?: 'open' | 'deferred' | 'negotiated';
  state?: LicenceState;
  feeForm?: string;
  royaltyBps?: number;
  trigger?: string | null;
  effectiveAt?: Date;
  freePeriodEndsAt?: Date | null;
  endsAt?: Date | null;
  licensee?: Types.ObjectId;
}

/** A licence in the given state, as the licensing service would have left it. */
export async function makeLicence(p: Parties, o: LicenceOptions = {}) {
  const licensee = o.licensee ?? p.licensee;
  const [licensor, lic] = await Promise.all([Organization.findById(p.licensor).lean(), Organization.findById(licensee).lean()]);
  const effectiveAt = o.effectiveAt ?? new Date('2025-01-10T02:00:00Z');
  return Licence.create({
    number: `LIC-T-${Date.now()}-${++serial}`, kind: o.kind ?? 'open', state: o.state ?? 'active',
    offer: new Types.ObjectId(), patent: new Types.ObjectId(), licensor: p.licensor, licensee,
    terms: { feeForm: o.feeForm ?? 'royalty', royaltyBps: o.royaltyBps ?? 500, termMonths: 60, trigger: o.trigger ?? null, entryFeeFen: 0, lumpSumFen: 0 },
    snapshot: {
      applicationNumber: '202110000001.X', patentTitleZh: '测试专利', patentExpiry: new Date('2040-01-01'),
      licensorNameZh: licensor!.nameZh, licenseeNameZh: lic!.nameZh,
    },
    effectiveAt, endsAt: o.endsAt === undefined ? new Date(effectiveAt.getTime() + 5 * 365 * DAY_MS) : o.endsAt,
    freePeriodEndsAt: o.freePeriodEndsAt ?? null,
  });
}

/** An invoice issued through issueInvoice (the only way to bill). */
export async function makeInvoice(licence: Awaited<ReturnType<typeof makeLicence>>, amountFen: number, o: { dueInDays?: number; issuedAt?: Date; kind?: 'lump_sum' | 'royalty' | 'entry_fee' | 'instalment' } = {}) {
  const issuedAt = o.issuedAt ?? new Date(Date.now() - DAY_MS);
  return mongoose.connection.transaction((session) => issueInvoice({
    licence, kind: o.kind ?? 'lump_sum', amountFen, issuedAt, dueAt: new Date(issuedAt.getTime() + (o.dueInDays ?? 30) * DAY_MS), key: `test:${++serial}`,
  }, session));
}

export interface BillingApp {
  app: Express;
  /** Base URL of the app on loopback (for the fake Stripe's webhook deliveries). */
  url: string;
  agent(): Agent;
  signedIn(email: string): Promise<Agent>;
  close(): Promise<void>;
}

/** The app as main.ts builds it, with `stripe` configured (or not), over the harness's database and outbox. */
export async function startBillingApp(h: AppHarness, stripe: StripeConfig | null): Promise<BillingApp> {
  const app = createApp({
    config: { sessionSecret: 'y'.repeat(40), publicUrl: 'http://localhost:3000', trustProxy: 0, nodeEnv: 'test', stripe },
    mongoClient: mongoose.connection.getClient() as never,
    mailer: h.mailer,
    logger: { error: (m, e) => console.error(m, e) },
    rateLimits: { login: 1000, signup: 1000, reset: 1000 },
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = () => request.agent(app);
  return {
    app, url, agent,
    async signedIn(email) {
      const a = agent();
      const res = await login(a, email);
      if (res.status !== 302) throw new Error(`login ${email} failed: ${res.status}`);
      return a;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** The CSRF token on a page the agent can open. */
export async function tokenOn(agent: Agent, path: string): Promise<string> {
  const res = await agent.get(path);
  const m = /name="_csrf" value="([^"]+)"/.exec(res.text);
  if (!m) throw new Error(`no CSRF token on ${path} (status ${res.status})`);
  return m[1]!;
}
