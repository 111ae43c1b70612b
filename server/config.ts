/**
 * The only reader of `process.env`. Every variable is validated at start-up
 * and a bad one is named in the error, so a misconfigured deployment fails
 * at once with a message instead of later with a stack trace.
 */
import path from 'node:path';

export interface Config {
  /** Set: connect to this MongoDB. Unset: run the embedded store. */
  readonly mongodbUri: string | null;
  /** Where the embedded store (and other local files) live. */
  readonly dataDir: string;
  /** Database name used in embedded mode (a MONGODB_URI names its own). */
  readonly dbName: string;
  readonly port: number;
  readonly nodeEnv: 'development' | 'production' | 'test';
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const mongodbUri = env.MONGODB_URI?.trim() || null;
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    problems.push('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  const portRaw = env.PORT ?? '3000';
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port > 65535) problems.push(`PORT must be a whole number from 0 to 65535 (got "${portRaw}")`);
  const nodeEnv = (env.NODE_ENV ?? 'development') as Config['nodeEnv'];
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    problems.push(`NODE_ENV must be development, production or test (got "${nodeEnv}")`);
  }
  const dbName = env.DB_NAME ?? 'yrd_exchange';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(dbName)) problems.push('DB_NAME may use letters, digits, _ and - (at most 63)');
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze({
    mongodbUri,
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    dbName,
    port,
    nodeEnv,
  });
}
