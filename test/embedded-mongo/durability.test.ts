/**
 * Durability of the embedded store: clean restarts, the data-directory lock,
 * a SIGKILL in the middle of concurrent writes and transactions, clean CLI
 * shutdown on signals, and refusing to start over a corrupted journal.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { tempDir } from '../helpers/embedded.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const silent = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
const stores: EmbeddedMongo[] = [];
const children: ChildProcess[] = [];

async function newDir(): Promise<string> {
  const d = await tempDir('emb-durable-');
  dirs.push(d);
  return d;
}

async function open(dataDir: string, journal = {}): Promise<EmbeddedMongo> {
  const s = await startEmbeddedMongo({ dataDir, logger: silent, journal });
  stores.push(s);
  return s;
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the operation to fail');
}

interface Cli {
  child: ChildProcess;
  uri: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Runs the CLI as its own process on `dir`; `uri` resolves from its first mongodb:// stdout line. */
function spawnCli(dir: string): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/embedded-mongo/cli.ts', '--port', '0', '--dbpath', dir], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const uri = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('mongodb://'));
      if (line) resolve(line.trim());
    });
    void exited.then(({ code }) => reject(new Error(`CLI exited (${code}) before printing a URI: ${err}`)));
    setTimeout(() => reject(new Error(`CLI printed no URI within 15 s: ${err}`)), 15000).unref();
  });
  uri.catch(() => {});
  return { child, uri, exited, stderr: () => err };
}

describe('embedded store: durability', function () {
  this.timeout(30000);
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });

  it('restart keeps data, unique indexes and committed (not aborted) transactions', async () => {
    const dir = await newDir();
    let store = await open(dir);
    let conn = await mongoose.createConnection(`${store.uri}app`).asPromise();
    const schema = new Schema({ email: { type: String, unique: true }, n: Number });
    let User = conn.model('User', schema);
    await User.init();
    await User.create([{ email: 'a', n: 1 }, { email: 'b', n: 2 }]);
    await User.updateOne({ email: 'a' }, { $inc: { n: 10 } });
    await User.deleteOne({ email: 'b' });
    await conn.transaction(async (session) => {
      await User.create([{ email: 'tx1', n: 3 }, { email: 'tx2', n: 4 }], { session, ordered: true });
    });
    await rejection(conn.transaction(async (session) => {
      await User.create([{ email: 'aborted', n: 5 }], { session });
      throw new Error('abort');
    }));
    await conn.close();
    await store.close();

    store = await open(dir);
    conn = await mongoose.createConnection(`${store.uri}app`).asPromise();
    User = conn.model('User', schema);
    const docs = await User.find().sort({ email: 1 }).select('email n -_id').lean();
    expect(docs).to.deep.equal([{ email: 'a', n: 11 }, { email: 'tx1', n: 3 }, { email: 'tx2', n: 4 }]);
    const idx = await User.collection.indexes();
    expect(idx.find((i) => i.name === 'email_1')).to.include({ unique: true });
    expect((await rejection(User.collection.insertOne({ email: 'tx1' }))).code).to.equal(11000);
    await conn.close();
  });

  it('refuses a second store on a data directory that is in use', async () => {
    const dir = await newDir();
    const first = await open(dir);
    const err = await rejection(open(dir));
    expect(err.name).to.equal('JournalLockedError');
    expect(err.message).to.include(dir).and.to.match(/in use by process \d+/);
    const client = await MongoClient.connect(first.uri);
    try {
      await client.db('d').collection('c').insertOne({ still: 'works' });
      expect(await client.db('d').collection('c').countDocuments()).to.equal(1);
    } finally {
      await client.close();
    }
  });

  it('after SIGKILL mid-stream: every acknowledged write survives and no transaction is torn', async function () {
    this.timeout(45000);
    const dir = await newDir();
    const cli = spawnCli(dir);
    const uri = await cli.uri;
    const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 1000, retryWrites: false, maxPoolSize: 40 });
    const db = client.db('crash');
    const names = ['ta', 'tb', 'tc'];
    for (const n of names) await db.createCollection(n);
    const ackedInserts: string[] = [];
    const ackedBatches: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          if (i % 3 === 2) {
            const batch = `b${w}-${i}`;
            const s = client.startSession();
            try {
              s.startTransaction();
              for (const n of names) await db.collection(n).insertOne({ batch, pad: 'y'.repeat(200) }, { session: s });
              await s.commitTransaction();
              ackedBatches.push(batch);
            } finally {
              await s.endSession().catch(() => {});
            }
          } else {
            const _id = `w${w}-${i}`;
            await db.collection('plain').insertOne({ _id: _id as any, w, i, pad: 'x'.repeat(100) });
            ackedInserts.push(_id);
          }
        } catch {
          if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    await delay(1500);
    cli.child.kill('SIGKILL');
    const exit = await cli.exited;
    stop = true;
    await Promise.all(writers);
    await client.close(true).catch(() => {});
    expect(exit.signal).to.equal('SIGKILL');
    expect(ackedInserts.length, 'writers made progress').to.be.greaterThan(50);
    expect(ackedBatches.length, 'transactions committed').to.be.greaterThan(10);

    const store = await open(dir);
    const check = await MongoClient.connect(store.uri);
    try {
      const cdb = check.db('crash');
      const present = new Set((await cdb.collection('plain').find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id as unknown as string));
      const missing = ackedInserts.filter((id) => !present.has(id));
      expect(missing, 'acknowledged inserts lost').to.deep.equal([]);
      const perColl = await Promise.all(names.map(async (n) => new Set(await cdb.collection(n).distinct('batch'))));
      const all = new Set(perColl.flatMap((s) => [...s]));
      const torn = [...all].filter((b) => !perColl.every((s) => s.has(b)));
      expect(torn, 'torn transactions').to.deep.equal([]);
      const lostBatches = ackedBatches.filter((b) => !all.has(b));
      expect(lostBatches, 'acknowledged transactions lost').to.deep.equal([]);
      for (const n of names) expect(await cdb.collection(n).countDocuments()).to.equal(perColl[0].size);
    } finally {
      await check.close();
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`CLI prints a mongodb:// line and exits 0 on ${signal}, releasing the directory`, async () => {
      const dir = await newDir();
      const cli = spawnCli(dir);
      const uri = await cli.uri;
      expect(uri).to.match(/^mongodb:\/\/127\.0\.0\.1:\d+\/?$/);
      const client = await MongoClient.connect(uri);
      await client.db('s').collection('c').insertOne({ _id: 'kept' as any });
      await client.close();
      cli.child.kill(signal);
      const exit = await cli.exited;
      expect(exit, cli.stderr()).to.deep.equal({ code: 0, signal: null });
      const store = await open(dir);
      const check = await MongoClient.connect(store.uri);
      try {
        expect(await check.db('s').collection('c').findOne()).to.deep.equal({ _id: 'kept' });
      } finally {
        await check.close();
      }
    });
  }

  it('a corrupted journal stops start-up with an error naming the file and what to do', async () => {
    const dir = await newDir();
    const store = await open(dir);
    const client = await MongoClient.connect(store.uri);
    for (let i = 0; i < 300; i++) await client.db('d').collection('c').insertOne({ i, pad: 'z'.repeat(200) });
    await client.close();
    await store.close();
    stores.length = 0;

    const logs = (await fs.readdir(dir)).filter((n) => /^journal-\d+\.log$/.test(n));
    expect(logs).to.have.length(1);
    const logPath = path.join(dir, logs[0]);
    const buf = await fs.readFile(logPath);
    expect(buf.length).to.be.greaterThan(50_000);
    const mid = Math.floor(buf.length / 2);
    for (let i = mid; i < mid + 16; i++) buf[i] ^= 0xff;
    await fs.writeFile(logPath, buf);

    const err = await rejection(open(dir));
    expect(err.name).to.equal('JournalCorruptError');
    expect(err.message).to.include(logPath);
    expect(err.message).to.match(/corrupt/);
    expect(err.message).to.match(/backup/);
    expect(err.message).to.match(/--repair/);

    // and --repair brings up the records before the damage, keeping a copy of the damaged file
    const repaired = await open(dir, { repair: true });
    const check = await MongoClient.connect(repaired.uri);
    try {
      const n = await check.db('d').collection('c').countDocuments();
      expect(n).to.be.greaterThan(50).and.below(300);
      const kept = await check.db('d').collection('c').find().sort({ i: 1 }).toArray();
      expect(kept.map((d) => d.i)).to.deep.equal(Array.from({ length: n }, (_, i) => i));
    } finally {
      await check.close();
    }
    expect((await fs.readdir(dir)).some((n) => n.startsWith(`${logs[0]}.corrupt-`))).to.equal(true);
  });
});
