/**
 * Connects Mongoose: to MONGODB_URI when it is set, otherwise to the embedded
 * store started in this process over DATA_DIR. The application code is the
 * same in both cases; only the connection string differs.
 */
import path from 'node:path';
import mongoose from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from './embedded-mongo/index.js';
import type { Config } from './config.js';

export interface Database {
  readonly connection: mongoose.Connection;
  /** The embedded store when one was started, else null. */
  readonly embedded: EmbeddedMongo | null;
  /** Closes Mongoose's connections, then the embedded store (flushing its journal). */
  close(): Promise<void>;
}

export async function connectDatabase(config: Pick<Config, 'mongodbUri' | 'dataDir' | 'dbName'>): Promise<Database> {
  let embedded: EmbeddedMongo | null = null;
  let uri = config.mongodbUri;
  if (!uri) {
    embedded = await startEmbeddedMongo({ dataDir: path.join(config.dataDir, 'db') });
    uri = `${embedded.uri}${config.dbName}`;
  }
  const connection = mongoose.connection;
  try {
    await mongoose.connect(uri, { serverSelectionTimeoutMS: 10_000 });
  } catch (err) {
    await embedded?.close();
    throw err;
  }
  return {
    connection,
    embedded,
    async close() {
      await mongoose.disconnect();
      await embedded?.close();
    },
  };
}
