/**
 * `npm run db -- --port <n> --dbpath <dir>`: runs the embedded store on its
 * own so mongosh, Compass or a script can look at the data. Prints the
 * connection string on a line of its own once ready; SIGTERM/SIGINT close
 * it cleanly (journal flushed, lock released).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from './index.js';

const usage = 'usage: npm run db -- [--port <n>] [--dbpath <dir>] [--repair]';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '27017' },
        dbpath: { type: 'string', default: './data' },
        repair: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a whole number from 0 to 65535 (got "${values.port}")\n${usage}`);
    process.exit(2);
  }
  const dataDir = path.resolve(values.dbpath);
  const logger = {
    info: (m: string) => console.error(`[embedded-mongo] ${m}`),
    warn: (m: string) => console.error(`[embedded-mongo] warning: ${m}`),
    error: (m: string) => console.error(`[embedded-mongo] error: ${m}`),
  };
  const store = await startEmbeddedMongo({ dataDir, port, logger, journal: { repair: values.repair } });
  console.error(`[embedded-mongo] serving ${dataDir}`);
  console.log(store.uri);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`[embedded-mongo] ${signal}: shutting down`);
    store.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`[embedded-mongo] shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(`[embedded-mongo] could not start: ${(err as Error).message}`);
  process.exit(1);
});
