import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  Binary, BSONRegExp, Code, Decimal128, Double, EJSON, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID,
} from 'bson';
import { Journal } from '../../server/embedded-mongo/storage/journal.js';
import { LogWriter } from '../../server/embedded-mongo/storage/log-writer.js';
import { encodeRecord } from '../../server/embedded-mongo/storage/record-file.js';
import {
  appendSequentially, logFile, makeTempDir, numbers, openJournal, range, rec, removeTempDirs, replayAll,
} from './journal-helpers.js';

describe('journal: append and replay', () => {
  afterEach(removeTempDirs);

  it('creates a missing directory and starts empty', async () => {
    const dir = path.join(await makeTempDir(), 'nested', 'data');
    const { journal, records } = await openJournal(dir);
    expect(records).to.deep.equal([]);
    const stats = journal.stats();
    expect(stats.recordsReplayed).to.equal(0);
    expect(stats.logBytes).to.be.greaterThan(0); // the header
    await journal.close();
    expect((await fs.readdir(dir)).sort()).to.deep.equal(['journal-0000000000.log']);
  });

  it('replays records in append order across reopens', async () => {
    const dir = await makeTempDir();
    let { journal } = await openJournal(dir);
    await appendSequentially(journal, 0, 50, 10);
    await journal.close();
    ({ journal } = await openJournal(dir));
    expect(journal.stats().recordsReplayed).to.equal(50);
    await appendSequentially(journal, 50, 25);
    await journal.close();
    const { records } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 75));
  });

  it('replays records that straddle the 8 MiB read chunks, small and larger than the chunk headroom', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir, { fsync: false });
    const appends: Promise<void>[] = [];
    // ~7,000-byte records cross the first chunk boundary; the 1.5 MiB one starts ~1.2 MiB before the second,
    // more than the headroom, so it is joined to the next chunk by copying.
    for (let n = 0; n < 2600; n++) appends.push(journal.append(rec(n, n === 2200 ? 1536 * 1024 : 7000)));
    await Promise.all(appends);
    await journal.close();
    const { records } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 2600));
    expect((records[2200].ops[0].pad as string).length).to.equal(1536 * 1024);
    expect(records.every((r, n) => (r.ops[0].pad as string) === 'x'.repeat(n === 2200 ? 1536 * 1024 : 7000))).to.equal(true);
  });

  it('keeps records with several ops together, ops in order', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    await journal.append({ ops: [{ op: 'put', n: 1 }, { op: 'del', n: 2 }, { op: 'put', n: 3 }] });
    await journal.append({ ops: [] });
    await journal.close();
    const { records } = await replayAll(dir);
    expect(records.map((r) => r.ops.length)).to.deep.equal([3, 0]);
    expect(records[0].ops.map((op) => op.op)).to.deep.equal(['put', 'del', 'put']);
  });

  it('round-trips every BSON type without changing it', async () => {
    const dir = await makeTempDir();
    const doc = {
      _id: new ObjectId(),
      int32: 42,
      negZero: new Double(-0),
      intDouble: new Double(1),
      double: 2.5,
      long: Long.fromString('9007199254740993'),
      decimal: Decimal128.fromString('1.10'),
      str: 'héllo ✓ 漢字',
      bool: true,
      nil: null,
      date: new Date('2024-02-29T12:34:56.789Z'),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0x80),
      uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e'),
      regex: new BSONRegExp('^a.c$', 'imx'),
      ts: new Timestamp({ t: 1700000000, i: 7 }),
      min: new MinKey(),
      max: new MaxKey(),
      code: new Code('function () { return 1; }'),
      nested: { arr: [1, new Double(2), 'three', [Long.fromNumber(4)], { deep: new Decimal128('NaN') }] },
    };
    const { journal } = await openJournal(dir);
    await journal.append({ ops: [{ op: 'put', ns: 'db.c', doc }] });
    await journal.close();
    const { records } = await replayAll(dir);
    const replayed = records[0].ops[0].doc;
    expect(EJSON.stringify(replayed, { relaxed: false })).to.equal(EJSON.stringify(doc, { relaxed: false }));
    expect(replayed.long).to.be.instanceOf(Long);
    expect(replayed.intDouble).to.be.instanceOf(Double);
    expect(Object.is(replayed.negZero.value, -0)).to.equal(true);
    expect(replayed.int32).to.equal(42);
    expect(replayed.regex).to.be.instanceOf(BSONRegExp);
  });

  it('writes a record larger than the 17 MB single-serialise limit', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir, { fsync: false });
    const big = 'y'.repeat(6 * 1024 * 1024);
    await journal.append({ ops: [0, 1, 2, 3].map((i) => ({ op: 'put', i, big })) });
    await journal.close();
    const { records } = await replayAll(dir);
    expect(records[0].ops.map((op) => op.i)).to.deep.equal([0, 1, 2, 3]);
    expect(records[0].ops[3].big).to.equal(big);
  });

  it('rejects records it cannot serialise without damaging the log', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    await journal.append(rec(0));
    let error: unknown;
    await journal.append({ ops: 'nope' as never }).catch((err) => (error = err));
    expect(error).to.be.instanceOf(TypeError);
    await journal.append(rec(1));
    await journal.close();
    expect(numbers((await replayAll(dir)).records)).to.deep.equal([0, 1]);
  });

  it('rejects appends after close and flushes the ones before it', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    const pending = range(0, 10).map((n) => journal.append(rec(n)));
    const closed = journal.close();
    let error: Error | undefined;
    await journal.append(rec(99)).catch((err: Error) => (error = err));
    expect(error?.message).to.match(/closed/);
    await Promise.all(pending);
    await closed;
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 10));
  });
});

describe('journal: group commit', () => {
  afterEach(removeTempDirs);

  it('shares syncs among 200 concurrent appends, resolving and replaying in call order', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    const resolved: number[] = [];
    await Promise.all(range(0, 200).map((n) => journal.append(rec(n, n % 7)).then(() => resolved.push(n))));
    const stats = journal.stats();
    expect(resolved).to.deep.equal(range(0, 200));
    expect(stats.appends).to.equal(200);
    expect(stats.syncs).to.be.at.least(1).and.at.most(3);
    await journal.close();
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 200));
  });

  it('batches appends that arrive while a sync is in flight (16 appenders)', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    let next = 0;
    const order: number[] = [];
    const appender = async (): Promise<void> => {
      while (next < 800) {
        const n = next++;
        await journal.append(rec(n, 20));
        order.push(n);
      }
    };
    await Promise.all(range(0, 16).map(appender));
    const stats = journal.stats();
    // Each appender waits for its ack, so at most 16 records can share a batch: 800 / 16 = 50 syncs at best.
    expect(stats.syncs).to.be.below(400);
    expect(order).to.have.length(800);
    await journal.close();
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 800));
  });

  it('durable() waits for exactly the appends made before it, even while appends never stop', async () => {
    const dir = await makeTempDir();
    const fh = await fs.open(path.join(dir, 'writer-test'), 'w+');
    const writer = new LogWriter(fh, 'writer-test', 0, 0, true);
    let acked = 0;
    let issued = 0;
    let stop = false;
    const appender = async (): Promise<void> => {
      while (!stop) {
        issued++;
        await writer.append(encodeRecord(rec(issued).ops));
        acked++;
      }
    };
    const running = range(0, 8).map(appender);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const before = issued;
    await writer.durable(); // the queue is never empty here, so waiting for an empty queue would starve
    expect(acked).to.be.at.least(before);
    stop = true;
    await Promise.all(running);
    await fh.close();
  });

  it('does not sync when fsync is off, and still replays everything', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir, { fsync: false });
    await Promise.all(range(0, 100).map((n) => journal.append(rec(n))));
    expect(journal.stats().syncs).to.equal(0);
    await journal.close();
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 100));
  });

  it('reports log size and replay counts in stats()', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    await appendSequentially(journal, 0, 10);
    const { logBytes } = journal.stats();
    await journal.close();
    expect((await fs.stat(logFile(dir))).size).to.equal(logBytes);
    const reopened = await Journal.open(dir, () => undefined, { logger: { info() {}, warn() {}, error() {} } });
    const stats = reopened.stats();
    expect(stats.recordsReplayed).to.equal(10);
    expect(stats.logBytes).to.equal(logBytes);
    expect(stats.openMs).to.be.a('number').and.at.least(0);
    await reopened.close();
  });
});
