/**
 * The application under test: a real embedded store (temporary data
 * directory), Mongoose's global connection to a fresh database, and
 * createApp() with an outbox mailer, so tests drive HTTP and then check the
 * database and the sent mail.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Express } from 'express';
import mongoose from 'mongoose';
import request from 'supertest';
import { createApp } from '../../server/app.js';
import type { StripeConfig } from '../../server/config.js';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { createMailer, type Mailer } from '../../server/services/mail.js';
import { searchIndexes } from '../../server/services/search-index.js';
import { tempDir } from './embedded.js';

export interface AppHarness {
  app: Express;
  mailer: Mailer;
  store: EmbeddedMongo;
  dir: string;
  /** A supertest agent that keeps cookies, like one browser. */
  agent(): ReturnType<typeof request.agent>;
  /** The newest outbox message to `to`, as raw text. */
  lastMailTo(to: string): Promise<string | null>;
  /** Empties every collection between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions {
  rateLimits?: { login: number; signup: number; reset: number };
  /** The app's own address, as its links and Stripe's return URLs name it (default http://localhost:3000). */
  publicUrl?: string;
  /** Stripe Checkout settings (e.g. a fake Stripe's); without them the app offers bank transfer only. */
  stripe?: StripeConfig | null;
}

export async function startApp(options: AppOptions = {}): Promise<AppHarness> {
  const dir = await tempDir('yrd-app-');
  // The search indexes live for the process; each harness has a fresh database, so they start empty too.
  searchIndexes.reset();
  const store = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), logger: { info() {}, warn() {}, error() {} } });
  await mongoose.connect(`${store.uri}yrd_test`, { serverSelectionTimeoutMS: 5000 });
  await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
  const mailer = createMailer({ smtpUrl: null, outboxDir: path.join(dir, 'outbox'), from: 'test@localhost' });
  const app = createApp({
    config: { sessionSecret: 'x'.repeat(40), publicUrl: options.publicUrl ?? 'http://localhost:3000', trustProxy: 0, nodeEnv: 'test', stripe: options.stripe ?? null },
    mongoClient: mongoose.connection.getClient() as never,
    mailer,
    logger: { error: (m, e) => console.error(m, e) },
    rateLimits: options.rateLimits ?? { login: 1000, signup: 1000, reset: 1000 },
  });
  return {
    app, mailer, store, dir,
    agent: () => request.agent(app),
    async lastMailTo(to) {
      for (const entry of await mailer.listOutbox()) {
        if (entry.to === to) return (await mailer.readOutbox(entry.id))?.raw ?? null;
      }
      return null;
    },
    async reset() {
      for (const c of await mongoose.connection.db!.collections()) await c.deleteMany({});
      // Deletions are invisible to the indexes' updatedAt sync; start them afresh with the database.
      searchIndexes.reset();
      await fs.rm(path.join(dir, 'outbox'), { recursive: true, force: true });
    },
    async stop() {
      await mongoose.disconnect();
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** The CSRF token in a fetched page's forms. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in page');
  return m[1];
}
