/**
 * Process entry: config → database → app → listen. SIGTERM/SIGINT stop
 * accepting connections, let requests in flight finish, then close the
 * database (flushing the embedded store's journal), once only, with a
 * timeout.
 */
import http from 'node:http';
import path from 'node:path';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase } from './db.js';
import { createMailer } from './services/mail.js';
import { ensureSessionSecret } from './session-secret.js';
import { installLedgerSigner, loadLedgerSigner } from './services/fund/signing-key.js';
import { maybeSeedDemo } from './seed/auto-seed.js';
import { startScheduler } from './jobs/scheduler.js';
import { searchIndexes } from './services/search-index.js';
import { contractFont } from './services/contract-font.js';
import { warmLedgerSummary } from './services/fund/console-summary.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const db = await connectDatabase(config);
  const mailer = createMailer({ smtpUrl: config.smtpUrl, outboxDir: path.join(config.dataDir, 'outbox'), from: config.mailFrom });
  await maybeSeedDemo(config, db.embedded !== null);
  const sessionSecret = config.sessionSecret ?? (await ensureSessionSecret(config.dataDir));
  const ledgerSigner = await loadLedgerSigner({ configuredPem: config.ledgerSigningKey, dataDir: config.dataDir, retiredPems: config.ledgerRetiredKeys });
  installLedgerSigner(ledgerSigner);
  const app = createApp({ config: { ...config, sessionSecret }, mongoClient: db.connection.getClient() as never, mailer });
  const scheduler = startScheduler({ mailer, publicUrl: config.publicUrl, defaultDaysOverdue: config.defaultDaysOverdue, ledgerSigner });
  // Build the search indexes now rather than on the first catalogue request.
  searchIndexes.sync().catch((err) => console.error('search index build failed', err));
  // Find the PDF contract's CJK font now (a collection takes ~0.5 s to read), and say so if there is none.
  contractFont(config.contractFont).then(({ font, problem }) => {
    if (font) console.log(`PDF contracts: font ${font.postscriptName} (${font.file})`);
    else console.warn(problem === 'configured_unusable'
      ? `PDF contracts unavailable: CONTRACT_FONT (${config.contractFont}) cannot be read or has no Chinese glyphs`
      : 'PDF contracts unavailable: no Chinese font found; install fonts-noto-cjk or set CONTRACT_FONT');
  }).catch((err) => console.error('contract font lookup failed', err));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  const where = db.embedded ? `embedded store in ${path.join(config.dataDir, 'db')} (${db.embedded.uri})` : 'MONGODB_URI';
  console.log(`YRD Technology Licensing Exchange listening on ${config.publicUrl} — database: ${where}`);
  // The regulators' console reads an in-memory ledger summary; build it now (seconds at a million transfers), not on the first page view.
  const warmStart = performance.now();
  warmLedgerSummary().then(() => console.log(`fund ledger summary ready in ${((performance.now() - warmStart) / 1000).toFixed(1)} s`))
    .catch((err) => console.error('fund ledger summary could not be built (the console will try again on its first page)', err));

  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      console.log(`${signal}: shutting down`);
      const timer = setTimeout(() => {
        console.error('shutdown took longer than 10 s; exiting');
        process.exit(1);
      }, 10_000).unref();
      scheduler.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await db.close();
      clearTimeout(timer);
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    console.error('unhandled rejection', reason);
    shutdown('unhandledRejection');
  });
}

main().catch((err) => {
  console.error(`could not start: ${(err as Error).message}`);
  process.exit(1);
});
