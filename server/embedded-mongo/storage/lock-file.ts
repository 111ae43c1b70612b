/**
 * `mongod.lock`: one process per data directory.
 *
 * Two processes appending to the same log would interleave records and
 * destroy it, so the directory is claimed with a lock file naming the owner
 * (pid, hostname, and on Linux the boot id and process start time). Node has
 * no portable flock, so liveness is checked instead: a lock whose process is
 * gone is the normal leftover of kill -9 or a power cut and is taken over.
 * The boot id and start time catch pid reuse after a reboot or a long uptime,
 * which would otherwise make a dead lock look alive.
 *
 * The file is created with link(2) from a fully written temp file, so it is
 * never seen half-written, and a stale one is moved aside with rename(2), so
 * two processes taking over the same stale lock cannot both win.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JournalLockedError } from './journal-errors.js';

export const LOCK_FILE_NAME = 'mongod.lock';

/** Tokens of the locks this process holds, to judge locks bearing our own pid without guessing. */
const heldTokens = new Set<string>();

interface LockOwner {
  pid: number;
  hostname: string;
  bootId?: string;
  startTime?: string;
  created?: string;
  /** Distinguishes two locks taken by the same process, so release removes only its own. */
  token?: string;
}

export interface DirectoryLock {
  readonly path: string;
  release(): Promise<void>;
}

type Logger = { warn(msg: string): void };

async function readTrimmed(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** Kernel start time of a process in clock ticks since boot (Linux only). */
async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readTrimmed(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // field 22, starttime
}

async function currentOwner(): Promise<LockOwner> {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    bootId: await readTrimmed('/proc/sys/kernel/random/boot_id'),
    startTime: await processStartTime(process.pid),
    created: new Date().toISOString(),
    token: Math.random().toString(36).slice(2),
  };
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return null;
    if (typeof value.hostname !== 'string') return null;
    return value as LockOwner;
  } catch {
    return null;
  }
}

/** Whether the owner (known to be on this host) is still running. */
async function ownerAlive(owner: LockOwner, me: LockOwner): Promise<boolean> {
  if (owner.bootId && me.bootId && owner.bootId !== me.bootId) return false; // machine rebooted since
  // Our own pid: a lock of this process, or of an earlier one that had the same pid (pid 1 in a restarted container).
  if (owner.pid === me.pid) return owner.token !== undefined && heldTokens.has(owner.token);
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user, so it is alive.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (owner.startTime) {
    const now = await processStartTime(owner.pid);
    if (now !== undefined && now !== owner.startTime) return false; // pid reused by another process
  }
  return true;
}

/** Creates the lock file atomically with full content; false if it already exists. */
async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  const tmp = `${lockPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await fs.writeFile(tmp, content, { flag: 'wx' });
  try {
    await fs.link(tmp, lockPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // Filesystems without hard links: exclusive create is nearly as good.
    try {
      await fs.writeFile(lockPath, content, { flag: 'wx' });
      return true;
    } catch (err2) {
      if ((err2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err2;
    }
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}

/** Takes `dir`'s lock or throws JournalLockedError naming the live owner. */
export async function acquireLock(dir: string, logger: Logger): Promise<DirectoryLock> {
  const lockPath = path.join(dir, LOCK_FILE_NAME);
  const me = await currentOwner();
  const content = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 10; attempt++) {
    if (await tryCreate(lockPath, content)) return makeLock(lockPath, me);
    const existing = await fs.readFile(lockPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null; // released meanwhile: try again
      throw err;
    });
    if (existing === null) continue;
    const owner = parseOwner(existing);
    if (owner && owner.hostname !== me.hostname) {
      throw new JournalLockedError(dir, owner.pid, owner.hostname, false, lockPath);
    }
    if (owner && (await ownerAlive(owner, me))) throw new JournalLockedError(dir, owner.pid, owner.hostname, true, lockPath);
    await takeOverStale(lockPath, existing, owner, logger);
  }
  throw new Error(`could not take the lock ${lockPath}: it keeps changing (several processes starting at once?)`);
}

async function takeOverStale(lockPath: string, seen: string, owner: LockOwner | null, logger: Logger): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another process moved it first
    throw err;
  }
  const moved = await fs.readFile(aside, 'utf8');
  if (moved !== seen) {
    // A fresh lock replaced the stale one between our read and rename: put it back.
    await fs.link(aside, lockPath).catch(() => undefined);
  } else {
    logger.warn(owner
      ? `taking over ${lockPath} left by process ${owner.pid}, which is no longer running (it probably crashed; recovering its journal)`
      : `taking over unreadable lock file ${lockPath} (probably cut short by a crash)`);
  }
  await fs.unlink(aside).catch(() => undefined);
}

function makeLock(lockPath: string, me: LockOwner): DirectoryLock {
  let released = false;
  heldTokens.add(me.token!);
  return {
    path: lockPath,
    async release() {
      if (released) return;
      released = true;
      heldTokens.delete(me.token!);
      // Only remove the file if it is still ours (someone may have deleted and retaken it).
      const text = await fs.readFile(lockPath, 'utf8').catch(() => null);
      const owner = text === null ? null : parseOwner(text);
      if (owner && owner.pid === me.pid && owner.hostname === me.hostname && owner.token === me.token) {
        await fs.unlink(lockPath).catch(() => undefined);
      }
    },
  };
}
