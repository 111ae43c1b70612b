import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JournalCorruptError, type CommitRecord, type Journal } from '../../server/embedded-mongo/storage/journal.js';
import {
  appendSequentially, flipByte, frameOffsets, logFile, makeTempDir, numbers, openJournal, range, rec, removeTempDirs,
  replayAll, snapshotFile,
} from './journal-helpers.js';

/**
 * A stand-in for the engine: applies a numbered record to its state and
 * appends it in the same synchronous step, and hands out a point-in-time
 * copy of its state for snapshots.
 */
class Model {
  applied: number[] = [];
  constructor(readonly journal: Journal) {}
  write(n: number, pad = 0): Promise<void> {
    this.applied.push(n);
    return this.journal.append(rec(n, pad));
  }
  state = (): Iterable<CommitRecord> => {
    const copy = this.applied.slice();
    return (function* () {
      for (const n of copy) yield rec(n, 40);
    })();
  };
}

describe('journal: compaction', () => {
  afterEach(removeTempDirs);

  it('replaces the log with a snapshot and keeps appending after it', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir, { compactThresholdBytes: 2000 });
    const model = new Model(journal);
    for (let n = 0; n < 100; n++) await model.write(n, 20);
    expect(journal.wantsCompaction).to.equal(true);
    await journal.compact(model.state);
    expect(journal.wantsCompaction).to.equal(false);
    const stats = journal.stats();
    expect(stats.generation).to.equal(1);
    expect(stats.snapshotBytes).to.equal((await fs.stat(snapshotFile(dir, 1))).size);
    for (let n = 100; n < 150; n++) await model.write(n);
    await journal.close();
    expect((await fs.readdir(dir)).sort()).to.deep.equal(['journal-0000000001.log', 'snapshot-0000000001.snap']);
    const { records, journal: j2 } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 150));
    expect(j2.stats().recordsReplayed).to.equal(150);
  });

  it('only wants compaction when the log is also twice the snapshot', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir, { compactThresholdBytes: 1000 });
    const model = new Model(journal);
    for (let n = 0; n < 100; n++) await model.write(n, 50);
    await journal.compact(model.state);
    // The snapshot is ~10 KB now: a 1 KB threshold alone no longer triggers.
    for (let n = 100; n < 110; n++) await model.write(n, 50);
    expect(journal.stats().logBytes).to.be.above(1000);
    expect(journal.wantsCompaction).to.equal(false);
    await journal.close();
  });

  it('writes appends issued before compact() to the old log and those issued during it to the new one', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    const model = new Model(journal);
    const before = range(0, 30).map((n) => model.write(n)); // queued, not yet written
    const compaction = journal.compact(model.state);
    const during = range(30, 60).map((n) => model.write(n));
    await Promise.all([...before, ...during, compaction]);
    await journal.close();
    // No duplicates (the first 30 are in the snapshot only) and nothing lost or reordered.
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 60));
  });

  it('loses nothing and keeps order with 16 appenders running through several compactions', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir, { compactThresholdBytes: 20_000 });
    const model = new Model(journal);
    let next = 0;
    let compactions = 0;
    let appendsWhileCompacting = 0;
    let compacting: Promise<void> | null = null;
    const appender = async (): Promise<void> => {
      while (next < 3000) {
        if (compacting) appendsWhileCompacting++;
        await model.write(next++, next % 50);
        if (journal.wantsCompaction && !compacting) {
          compacting = journal.compact(model.state).finally(() => {
            compacting = null;
            compactions++;
          });
        }
      }
    };
    await Promise.all(range(0, 16).map(appender));
    if (compacting) await compacting;
    await journal.close();
    expect(compactions).to.be.at.least(3);
    expect(appendsWhileCompacting).to.be.above(0);
    const { records, journal: reopened } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(model.applied);
    expect(model.applied).to.deep.equal(range(0, 3000));
    expect(reopened.stats().generation).to.equal(compactions);
  });

  it('joins a compaction already running instead of starting another', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    const model = new Model(journal);
    await model.write(0);
    let calls = 0;
    const state = (): Iterable<CommitRecord> => {
      calls++;
      return model.state();
    };
    const first = journal.compact(state);
    const second = journal.compact(state);
    expect(second).to.equal(first);
    await first;
    expect(calls).to.equal(1);
    await journal.close();
  });

  it('loses nothing when writing the snapshot fails, and the next compaction cleans up', async () => {
    const dir = await makeTempDir();
    const { journal, logger } = await openJournal(dir);
    const model = new Model(journal);
    for (let n = 0; n < 10; n++) await model.write(n);
    const failing = function* (): Generator<CommitRecord> {
      yield rec(0);
      throw new Error('engine exploded mid-snapshot');
    };
    const compaction = journal.compact(failing);
    const during = range(10, 20).map((n) => model.write(n));
    let error: Error | undefined;
    await compaction.catch((err: Error) => (error = err));
    expect(error?.message).to.equal('engine exploded mid-snapshot');
    await Promise.all(during);
    await model.write(20);
    expect(logger.errors.join('\n')).to.match(/nothing is lost/);
    expect((await fs.readdir(dir)).sort()).to.deep.equal(['journal-0000000000.log', 'journal-0000000001.log', 'mongod.lock']);
    await journal.close();
    const reopened = await openJournal(dir);
    expect(numbers(reopened.records)).to.deep.equal(range(0, 21)); // both logs, in order
    await reopened.journal.compact(() => range(0, 21).map((n) => rec(n)));
    await reopened.journal.close();
    expect((await fs.readdir(dir)).sort()).to.deep.equal(['journal-0000000002.log', 'snapshot-0000000002.snap']);
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 21));
  });

  it('acknowledges appends while a large snapshot is still being written', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    const events: string[] = [];
    // ~12 MB of state: several slices, so the snapshot takes many event-loop turns.
    const compaction = journal.compact(() => range(0, 40_000).map((n) => rec(n, 300)))
      .then(() => events.push('compacted'));
    await journal.append(rec(40_000)).then(() => events.push('appended'));
    await compaction;
    expect(events).to.deep.equal(['appended', 'compacted']);
    await journal.close();
    const { records } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 40_001));
  });

  it('abandons a running snapshot on close, keeping every write in the logs', async () => {
    const dir = await makeTempDir();
    const { journal, logger } = await openJournal(dir);
    await appendSequentially(journal, 0, 5);
    const compaction = journal.compact(() => range(0, 40_000).map((n) => rec(n, 300)));
    await journal.append(rec(5));
    await journal.close();
    await compaction; // resolves: abandoning is not a failure
    expect(logger.infos.join('\n')).to.match(/abandoned snapshot-0000000001\.snap/);
    expect((await fs.readdir(dir)).sort()).to.deep.equal(['journal-0000000000.log', 'journal-0000000001.log']);
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 6));
  });
});

describe('journal: crash safety of compaction steps', () => {
  afterEach(removeTempDirs);

  /** The files of a directory, to rebuild the states a crash can leave. */
  async function saveFiles(dir: string): Promise<Map<string, Buffer>> {
    const saved = new Map<string, Buffer>();
    for (const name of await fs.readdir(dir)) if (!name.endsWith('.lock')) saved.set(name, await fs.readFile(path.join(dir, name)));
    return saved;
  }

  async function restore(dir: string, files: Map<string, Buffer>, names: string[]): Promise<void> {
    for (const name of await fs.readdir(dir)) await fs.unlink(path.join(dir, name));
    for (const name of names) await fs.writeFile(path.join(dir, name), files.get(name)!);
  }

  const LOG0 = 'journal-0000000000.log';
  const LOG1 = 'journal-0000000001.log';
  const SNAP1 = 'snapshot-0000000001.snap';

  /**
   * Generation 0 holds records 0..9; a compaction cuts there, and 10..14 go
   * to the new log. Returns every file that existed along the way.
   */
  async function compactedDir(): Promise<{ dir: string; files: Map<string, Buffer> }> {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    const model = new Model(journal);
    for (let n = 0; n < 10; n++) await model.write(n);
    const files = await saveFiles(dir);
    await journal.compact(model.state);
    for (let n = 10; n < 15; n++) await model.write(n);
    await journal.close();
    for (const [name, data] of await saveFiles(dir)) files.set(name, data);
    return { dir, files };
  }

  it('crash while creating the new log: the old log alone is replayed', async () => {
    const { dir, files } = await compactedDir();
    await restore(dir, files, [LOG0]);
    await fs.writeFile(path.join(dir, `${LOG1}.tmp`), files.get(LOG1)!.subarray(0, 20));
    const { records, logger } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 10));
    expect(logger.infos.join('\n')).to.match(/interrupted compaction/);
    expect((await fs.readdir(dir)).sort()).to.deep.equal([LOG0]);
  });

  it('crash while writing the snapshot: the chain of logs is replayed and the temp file removed', async () => {
    const { dir, files } = await compactedDir();
    await restore(dir, files, [LOG0, LOG1]);
    await fs.writeFile(path.join(dir, `${SNAP1}.tmp`), files.get(SNAP1)!.subarray(0, 100));
    const { records } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 15));
    expect((await fs.readdir(dir)).sort()).to.deep.equal([LOG0, LOG1]);
  });

  it('crash after the snapshot was written but before its rename: the temp file is ignored', async () => {
    const { dir, files } = await compactedDir();
    await restore(dir, files, [LOG0, LOG1]);
    await fs.writeFile(path.join(dir, `${SNAP1}.tmp`), files.get(SNAP1)!);
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 15));
  });

  it('crash after the rename, before cleanup: the snapshot wins and older files are removed', async () => {
    const { dir, files } = await compactedDir();
    await restore(dir, files, [LOG0, SNAP1, LOG1]);
    const { records, logger } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 15)); // no record replayed twice
    expect(logger.infos.join('\n')).to.match(/superseded/);
    expect((await fs.readdir(dir)).sort()).to.deep.equal([LOG1, SNAP1]);
  });

  it('refuses a gap in the chain of logs', async () => {
    const { dir, files } = await compactedDir();
    await restore(dir, files, [LOG0]);
    await fs.writeFile(path.join(dir, 'journal-0000000002.log'), files.get(LOG1)!);
    let error: unknown;
    await replayAll(dir).catch((err) => (error = err));
    expect(error).to.be.instanceOf(JournalCorruptError);
    expect((error as Error).message).to.match(/neither snapshot-0000000002\.snap nor journal-0000000001\.log exists/);
  });

  it('refuses damage at the end of a log that is not the last one (it cannot be a torn write)', async () => {
    const { dir, files } = await compactedDir();
    await restore(dir, files, [LOG0, LOG1]);
    await fs.truncate(logFile(dir, 0), files.get(LOG0)!.length - 3);
    let error: unknown;
    await replayAll(dir).catch((err) => (error = err));
    expect(error).to.be.instanceOf(JournalCorruptError);
    expect((error as Error).message).to.match(/not a torn write/);
  });

  it('repairs damage in an earlier log by cutting the chain there', async () => {
    const { dir, files } = await compactedDir();
    await restore(dir, files, [LOG0, LOG1]);
    const frames = await frameOffsets(logFile(dir, 0));
    await flipByte(logFile(dir, 0), frames[6].offset + 30);
    const { records, journal, logger } = await openJournal(dir, { repair: true });
    expect(numbers(records)).to.deep.equal(range(0, 6));
    expect(logger.errors.join('\n')).to.match(/moved it to/);
    await journal.append(rec(6));
    await journal.close();
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 7));
  });

  it('removes an older snapshot and log after a second compaction', async () => {
    const { dir, files } = await compactedDir();
    const { journal } = await openJournal(dir);
    await journal.compact(() => range(0, 15).map((n) => rec(n)));
    await journal.append(rec(15));
    await journal.close();
    for (const name of [SNAP1, LOG1]) await fs.writeFile(path.join(dir, name), files.get(name)!); // left behind
    const { records } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, 16));
    expect((await fs.readdir(dir)).sort()).to.deep.equal(['journal-0000000002.log', 'snapshot-0000000002.snap']);
  });
});
