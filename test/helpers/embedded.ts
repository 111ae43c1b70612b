/**
 * Starts an embedded store for a test file: in a fresh temporary data
 * directory (so durability code runs too), on an ephemeral loopback port.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo, type EmbeddedMongoOptions } from '../../server/embedded-mongo/index.js';

export interface TestStore {
  store: EmbeddedMongo;
  client: MongoClient;
  dataDir: string;
  stop(): Promise<void>;
}

export async function tempDir(prefix = 'emb-mongo-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Store + connected driver client; `stop()` closes both and removes the data. */
export async function startTestStore(options: Partial<EmbeddedMongoOptions> = {}): Promise<TestStore> {
  const dataDir = await tempDir();
  const store = await startEmbeddedMongo({ dataDir, logger: { info() {}, warn() {}, error() {} }, ...options });
  const client = await MongoClient.connect(store.uri, { serverSelectionTimeoutMS: 5000 });
  return {
    store,
    client,
    dataDir,
    async stop() {
      await client.close();
      await store.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
