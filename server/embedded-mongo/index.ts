/**
 * The embedded MongoDB-wire-compatible store: starts the engine over a data
 * directory and serves it on a loopback port, so Mongoose and the unchanged
 * `mongodb` driver talk to it exactly as they would to mongod.
 */
import { runCommand } from './commands/router.js';
import { Engine, type Logger } from './engine/engine.js';
import type { JournalOptions } from './storage/journal.js';
import { WireServer } from './wire/server.js';

export { MongoError, ErrorCodes } from './errors.js';
export { JournalCorruptError, JournalLockedError } from './storage/journal-errors.js';

export interface EmbeddedMongoOptions {
  /** Where data lives; null keeps it in memory only (lost on exit). */
  dataDir: string | null;
  /** Loopback address to listen on (default 127.0.0.1); anything else is refused. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  logger?: Logger;
  journal?: JournalOptions;
  ttlMonitorIntervalMs?: number;
}

export interface EmbeddedMongo {
  /** Connection string for the driver, e.g. mongodb://127.0.0.1:40211/ */
  readonly uri: string;
  readonly port: number;
  readonly engine: Engine;
  /** Stops accepting connections, finishes in-flight commands, flushes and closes the journal. */
  close(): Promise<void>;
}

const quietLogger: Logger = {
  info: () => {},
  warn: (m) => console.warn(`[embedded-mongo] ${m}`),
  error: (m) => console.error(`[embedded-mongo] ${m}`),
};

export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const logger = options.logger ?? quietLogger;
  const engine = await Engine.open({
    dataDir: options.dataDir,
    logger,
    journal: options.journal,
    ttlMonitorIntervalMs: options.ttlMonitorIntervalMs,
  });
  let server: WireServer;
  try {
    server = await WireServer.listen({
      host: options.host,
      port: options.port ?? 0,
      logger,
      handler: (cmd, ctx) => runCommand(engine, cmd, ctx.connectionId),
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    uri: server.uri,
    port: server.port,
    engine,
    close() {
      closing ??= (async () => {
        await server.close();
        await engine.close();
      })();
      return closing;
    },
  };
}
