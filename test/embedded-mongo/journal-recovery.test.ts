import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JournalCorruptError } from '../../server/embedded-mongo/storage/journal.js';
import {
  appendSequentially, flipByte, frameOffsets, FRAME_HEADER_SIZE, logFile, makeTempDir, numbers, openJournal,
  patchFile, range, rec, removeTempDirs, replayAll, snapshotFile,
} from './journal-helpers.js';

/** A directory whose log holds records 0..count-1, one group-commit batch each. */
async function logWith(count: number, pad = 30): Promise<string> {
  const dir = await makeTempDir();
  const { journal } = await openJournal(dir);
  await appendSequentially(journal, 0, count, pad);
  await journal.close();
  return dir;
}

async function openError(dir: string): Promise<JournalCorruptError> {
  try {
    await replayAll(dir);
  } catch (err) {
    expect(err).to.be.instanceOf(JournalCorruptError);
    return err as JournalCorruptError;
  }
  throw new Error('expected the journal to refuse to open');
}

describe('journal: torn tail recovery', () => {
  afterEach(removeTempDirs);

  async function expectTruncatedTo(dir: string, count: number): Promise<void> {
    const goodEnd = (await frameOffsets(logFile(dir)))[count]?.offset ?? (await fs.stat(logFile(dir))).size;
    const { records, logger } = await replayAll(dir);
    expect(numbers(records)).to.deep.equal(range(0, count));
    expect(logger.warns.join('\n')).to.match(/never acknowledged/);
    expect((await fs.stat(logFile(dir))).size).to.be.at.most(goodEnd);
    // The log stays usable: new records continue the sequence, and a clean reopen warns about nothing.
    const { journal } = await openJournal(dir);
    await journal.append(rec(count));
    await journal.close();
    const again = await replayAll(dir);
    expect(numbers(again.records)).to.deep.equal(range(0, count + 1));
    expect(again.logger.warns).to.deep.equal([]);
  }

  it('truncates a record cut off inside its payload', async () => {
    const dir = await logWith(10);
    const last = (await frameOffsets(logFile(dir)))[9];
    await fs.truncate(logFile(dir), last.offset + FRAME_HEADER_SIZE + 5);
    await expectTruncatedTo(dir, 9);
  });

  it('truncates a record cut off inside its header', async () => {
    const dir = await logWith(10);
    const last = (await frameOffsets(logFile(dir)))[9];
    await fs.truncate(logFile(dir), last.offset + 7);
    await expectTruncatedTo(dir, 9);
  });

  it('truncates a complete-length final record whose bytes never reached the disk', async () => {
    const dir = await logWith(10);
    const last = (await frameOffsets(logFile(dir)))[9];
    await patchFile(logFile(dir), last.offset + FRAME_HEADER_SIZE, Buffer.alloc(last.length));
    await expectTruncatedTo(dir, 9);
  });

  it('truncates zeros left after the last record by a file extended but not written', async () => {
    const dir = await logWith(10);
    await fs.appendFile(logFile(dir), Buffer.alloc(8192));
    await expectTruncatedTo(dir, 10);
  });

  it('truncates a torn final batch even when later pages of it did reach the disk', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    await appendSequentially(journal, 0, 5, 30);
    await Promise.all(range(5, 25).map((n) => journal.append(rec(n, 30)))); // one batch
    await journal.close();
    const frames = await frameOffsets(logFile(dir));
    // The batch's first record is missing but records after it in the same write are intact.
    await patchFile(logFile(dir), frames[5].offset, Buffer.alloc(FRAME_HEADER_SIZE + frames[5].length));
    await expectTruncatedTo(dir, 5);
  });
});

describe('journal: corruption is refused', () => {
  afterEach(removeTempDirs);

  it('names the file and offset of a bad checksum in the middle, and leaves the file alone', async () => {
    const dir = await logWith(20);
    const frames = await frameOffsets(logFile(dir));
    await flipByte(logFile(dir), frames[7].offset + FRAME_HEADER_SIZE + 10);
    const sizeBefore = (await fs.stat(logFile(dir))).size;
    const err = await openError(dir);
    expect(err.path).to.equal(logFile(dir));
    expect(err.offset).to.equal(frames[7].offset);
    expect(err.message).to.include(logFile(dir)).and.include(`offset ${frames[7].offset}`);
    expect(err.message).to.match(/backup/).and.match(/--repair/);
    expect((await fs.stat(logFile(dir))).size).to.equal(sizeBefore);
  });

  it('refuses a damaged length field followed by more records', async () => {
    const dir = await logWith(20);
    const frames = await frameOffsets(logFile(dir));
    await patchFile(logFile(dir), frames[3].offset, Buffer.from([0xff, 0xff, 0xff, 0x0f]));
    const err = await openError(dir);
    expect(err.offset).to.equal(frames[3].offset);
    expect(err.message).to.match(/intact later record/);
  });

  it('refuses a damaged record in the second-to-last batch', async () => {
    const dir = await logWith(10);
    const frames = await frameOffsets(logFile(dir));
    await flipByte(logFile(dir), frames[8].offset + 4);
    expect((await openError(dir)).offset).to.equal(frames[8].offset);
  });

  it('refuses a missing record (sequence gap) even though every checksum is fine', async () => {
    const dir = await logWith(10);
    const frames = await frameOffsets(logFile(dir));
    const buf = await fs.readFile(logFile(dir));
    const spliced = Buffer.concat([buf.subarray(0, frames[4].offset), buf.subarray(frames[5].offset)]);
    await fs.writeFile(logFile(dir), spliced);
    const err = await openError(dir);
    expect(err.offset).to.equal(frames[4].offset);
    expect(err.message).to.match(/sequence number 6 where 5 was expected/);
  });

  it('refuses a bad file header', async () => {
    const dir = await logWith(3);
    await flipByte(logFile(dir), 2);
    const err = await openError(dir);
    expect(err.offset).to.equal(0);
    expect(err.message).to.match(/magic/);
  });

  it('refuses a damaged snapshot', async () => {
    const dir = await logWith(3);
    const { journal } = await openJournal(dir);
    await journal.compact(() => range(0, 50).map((n) => rec(n, 20)));
    await journal.close();
    const frames = await frameOffsets(snapshotFile(dir, 1));
    await flipByte(snapshotFile(dir, 1), frames[40].offset + FRAME_HEADER_SIZE + 3);
    const err = await openError(dir);
    expect(err.path).to.equal(snapshotFile(dir, 1));
    expect(err.offset).to.equal(frames[40].offset);
  });

  it('refuses a snapshot cut short at a record boundary', async () => {
    const dir = await logWith(3);
    const { journal } = await openJournal(dir);
    await journal.compact(() => range(0, 50).map((n) => rec(n)));
    await journal.close();
    const frames = await frameOffsets(snapshotFile(dir, 1));
    await fs.truncate(snapshotFile(dir, 1), frames[30].offset);
    expect((await openError(dir)).message).to.match(/ends after 30 records but its header lists 50/);
  });

  it('refuses a log whose snapshot is missing', async () => {
    const dir = await logWith(3);
    const { journal } = await openJournal(dir);
    await journal.compact(() => [rec(0)]);
    await journal.close();
    await fs.unlink(snapshotFile(dir, 1));
    const err = await openError(dir);
    expect(err.path).to.equal(logFile(dir, 1));
    expect(err.message).to.match(/neither snapshot-0000000001\.snap nor journal-0000000000\.log exists/).and.match(/backup/);
  });

  it('refuses a snapshot whose log is missing, unless repairing', async () => {
    const dir = await logWith(3);
    const { journal } = await openJournal(dir);
    await journal.compact(() => range(0, 3).map((n) => rec(n)));
    await journal.append(rec(3));
    await journal.close();
    await fs.unlink(logFile(dir, 1));
    const err = await openError(dir);
    expect(err.path).to.equal(snapshotFile(dir, 1));
    expect(err.message).to.match(/journal-0000000001\.log, which holds the writes made after this snapshot, is missing/);
    const repaired = await replayAll(dir, { repair: true });
    expect(numbers(repaired.records)).to.deep.equal(range(0, 3));
    expect(repaired.logger.errors.join('\n')).to.match(/LOST/);
    expect(numbers((await replayAll(dir)).records)).to.deep.equal(range(0, 3));
  });

  it('refuses a log that continues a different snapshot', async () => {
    const dir = await logWith(3);
    const { journal } = await openJournal(dir);
    await journal.compact(() => [rec(0)]);
    await appendSequentially(journal, 1, 3);
    await journal.close();
    // The log of another directory whose snapshot ended at a different sequence number.
    const other = await logWith(7);
    const o = await openJournal(other);
    await o.journal.compact(() => [rec(0)]);
    await o.journal.close();
    await fs.copyFile(logFile(other, 1), logFile(dir, 1));
    expect((await openError(dir)).message).to.match(/continuing sequence 7\) does not match .*continuing sequence 3\)/);
  });
});

describe('journal: repair mode', () => {
  afterEach(removeTempDirs);

  it('copies a damaged log aside and truncates it at the last good record', async () => {
    const dir = await logWith(20);
    const frames = await frameOffsets(logFile(dir));
    await flipByte(logFile(dir), frames[12].offset + FRAME_HEADER_SIZE + 1);
    const damaged = await fs.readFile(logFile(dir));

    const { journal, records, logger } = await openJournal(dir, { repair: true });
    expect(numbers(records)).to.deep.equal(range(0, 12));
    expect(logger.errors.join('\n')).to.match(/REPAIR/).and.include(String(frames[12].offset));
    const copies = (await fs.readdir(dir)).filter((name) => name.startsWith('journal-0000000000.log.corrupt-'));
    expect(copies).to.have.length(1);
    expect((await fs.readFile(path.join(dir, copies[0]))).equals(damaged)).to.equal(true);
    await journal.append(rec(100));
    await journal.close();

    const after = await replayAll(dir); // no repair needed any more
    expect(numbers(after.records)).to.deep.equal([...range(0, 12), 100]);
  });

  it('salvages the good prefix of a damaged snapshot', async () => {
    const dir = await logWith(3);
    const { journal } = await openJournal(dir);
    await journal.compact(() => range(0, 50).map((n) => rec(n)));
    await journal.append(rec(50));
    await journal.close();
    const frames = await frameOffsets(snapshotFile(dir, 1));
    await flipByte(snapshotFile(dir, 1), frames[20].offset + FRAME_HEADER_SIZE + 2);

    const repaired = await replayAll(dir, { repair: true });
    expect(numbers(repaired.records)).to.deep.equal([...range(0, 20), 50]);
    expect(repaired.logger.errors.join('\n')).to.match(/INCOMPLETE/);
    expect((await fs.readdir(dir)).some((name) => name.startsWith('snapshot-0000000001.snap.corrupt-'))).to.equal(true);
    expect(numbers((await replayAll(dir)).records)).to.deep.equal([...range(0, 20), 50]);
  });

  it('restarts a log with a bad header', async () => {
    const dir = await logWith(5);
    await flipByte(logFile(dir), 20);
    const repaired = await replayAll(dir, { repair: true });
    expect(repaired.records).to.deep.equal([]);
    expect(repaired.logger.errors.join('\n')).to.match(/dropping ALL its records/);
    expect((await replayAll(dir)).records).to.deep.equal([]);
  });
});
