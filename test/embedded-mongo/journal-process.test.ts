/**
 * Tests that need real processes: who holds the lock, and what survives
 * SIGKILL in the middle of group commits and compactions.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JournalLockedError } from '../../server/embedded-mongo/storage/journal.js';
import { makeTempDir, numbers, openJournal, range, removeTempDirs, replayAll } from './journal-helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/journal-child.ts', import.meta.url));
const LOCK = 'mongod.lock';

interface Child {
  proc: ChildProcess;
  lines: string[];
  stderr: string[];
  exited: Promise<void>;
  /** Resolves once the child printed at least `count` lines. */
  waitForLines(count: number, timeoutMs?: number): Promise<void>;
}

function startChild(mode: string, dir: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  let waiter: { count: number; resolve(): void } | null = null;
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!; // a line cut short by SIGKILL was never fully acknowledged: ignore it
    lines.push(...parts);
    if (waiter && lines.length >= waiter.count) waiter.resolve();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<void>((resolve) => proc.on('close', () => resolve()));
  return {
    proc, lines, stderr, exited,
    waitForLines(count, timeoutMs = 20_000) {
      if (lines.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child printed ${lines.length} of ${count} lines; stderr: ${stderr.join('')}`)), timeoutMs);
        waiter = { count, resolve: () => { clearTimeout(timer); resolve(); } };
        exited.then(() => reject(new Error(`child exited early; stderr: ${stderr.join('')}`)));
      });
    },
  };
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

async function expectLocked(dir: string): Promise<JournalLockedError> {
  try {
    await replayAll(dir);
  } catch (err) {
    expect(err).to.be.instanceOf(JournalLockedError);
    return err as JournalLockedError;
  }
  throw new Error('expected the directory to be locked');
}

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const proc = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => proc.on('close', resolve));
  return proc.pid!;
}

describe('journal: lock file', function () {
  this.timeout(30_000);
  afterEach(removeTempDirs);

  it('refuses a second open in the same process, and allows it after close', async () => {
    const dir = await makeTempDir();
    const { journal } = await openJournal(dir);
    const err = await expectLocked(dir);
    expect(err.message).to.equal(`data directory ${dir} is in use by process ${process.pid}; stop it or choose another DATA_DIR`);
    await journal.close();
    await fs.access(path.join(dir, LOCK)).then(() => expect.fail('lock file left behind'), () => undefined);
    await replayAll(dir);
  });

  it('refuses a directory held by another live process, and takes it over once that is killed', async () => {
    const dir = await makeTempDir();
    const child = startChild('hold', dir);
    try {
      await child.waitForLines(1);
      const lock = JSON.parse(await fs.readFile(path.join(dir, LOCK), 'utf8'));
      expect(lock).to.include({ pid: child.proc.pid, hostname: os.hostname() });
      const err = await expectLocked(dir);
      expect(err.pid).to.equal(child.proc.pid);
      expect(err.message).to.include(`is in use by process ${child.proc.pid}`);
    } finally {
      await kill9(child);
    }
    const { logger } = await replayAll(dir);
    expect(logger.warns.join('\n')).to.match(new RegExp(`taking over .*process ${child.proc.pid}, which is no longer running`));
  });

  it('takes over a lock left by a dead process', async () => {
    const dir = await makeTempDir();
    const pid = await deadPid();
    await fs.writeFile(path.join(dir, LOCK), JSON.stringify({ pid, hostname: os.hostname() }));
    const { journal, logger } = await openJournal(dir);
    expect(logger.warns.join('\n')).to.include(`process ${pid}`);
    expect(JSON.parse(await fs.readFile(path.join(dir, LOCK), 'utf8')).pid).to.equal(process.pid);
    await journal.close();
  });

  it('takes over a lock whose pid now belongs to another process (pid reuse)', async function () {
    if (process.platform !== 'linux') this.skip();
    const dir = await makeTempDir();
    // A live pid (our parent), but not the start time recorded: the owner died and the pid was recycled.
    await fs.writeFile(path.join(dir, LOCK), JSON.stringify({ pid: process.ppid, hostname: os.hostname(), startTime: '1' }));
    const { journal, logger } = await openJournal(dir);
    expect(logger.warns.join('\n')).to.include(`process ${process.ppid}, which is no longer running`);
    await journal.close();
  });

  it('takes over a lock bearing our own pid that this process does not hold (restarted container, pid 1)', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, LOCK), JSON.stringify({ pid: process.pid, hostname: os.hostname(), token: 'earlier-run' }));
    const { journal, logger } = await openJournal(dir);
    expect(logger.warns.join('\n')).to.match(/no longer running/);
    await journal.close();
  });

  it('takes over an unreadable lock file', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, LOCK), '{"pid": 12');
    const { journal, logger } = await openJournal(dir);
    expect(logger.warns.join('\n')).to.match(/unreadable lock file/);
    await journal.close();
  });

  it('refuses a lock held from another host, saying how to clear it', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, LOCK), JSON.stringify({ pid: 4242, hostname: 'elsewhere.example' }));
    const err = await expectLocked(dir);
    expect(err.message).to.include('process 4242 on host elsewhere.example').and.include(path.join(dir, LOCK));
  });
});

describe('journal: real crash (SIGKILL) recovery', function () {
  this.timeout(120_000);
  afterEach(removeTempDirs);

  /** Runs the child until `acks` appends are acknowledged, kills it, and checks the directory. */
  async function crashCycle(dir: string, mode: string, acks: number, expectedStart: number): Promise<number> {
    const child = startChild(mode, dir);
    let acked: number[];
    try {
      await child.waitForLines(1 + acks);
    } finally {
      await kill9(child);
    }
    expect(child.lines[0]).to.equal('ready', child.stderr.join(''));
    acked = child.lines.slice(1).map(Number);
    expect(Math.min(...acked)).to.equal(expectedStart);

    const { records, logger } = await replayAll(dir);
    const replayed = numbers(records);
    // Exactly a prefix of the append order: nothing reordered, duplicated or missing in the middle...
    expect(replayed).to.deep.equal(range(0, replayed.length));
    // ...and long enough to hold every acknowledged record.
    expect(replayed.length).to.be.above(Math.max(...acked));
    expect(logger.warns.join('\n')).to.match(/taking over/);
    return replayed.length;
  }

  it('keeps every acknowledged append across repeated kill -9 during group commits', async () => {
    const dir = await makeTempDir();
    let count = 0;
    for (const acks of [300, 1500, 700]) count = await crashCycle(dir, 'append', acks, count);
  });

  it('keeps every acknowledged append across kill -9 during compactions', async () => {
    const dir = await makeTempDir();
    let count = 0;
    for (const acks of [2000, 3500, 1200, 2700]) count = await crashCycle(dir, 'compact', acks, count);
    const { journal } = await openJournal(dir);
    expect(journal.stats().generation).to.be.at.least(1); // compactions really happened
    await journal.close();
  });
});
