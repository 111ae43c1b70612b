/**
 * Runs the store's standalone CLI (server/embedded-mongo/cli.ts) as a child
 * process, like a real client/server deployment: the benchmark's Mongoose
 * clients then never share the store's event loop, and the store's own RSS
 * and CPU time can be read from /proc/<pid>.
 *
 * The child is `node --import tsx cli.ts` rather than `npx tsx cli.ts`: same
 * CLI and loader, but without the npm and tsx wrapper processes, so the pid we
 * hold IS the store (its /proc numbers are the store's alone) and the restart
 * time is not inflated by npm's own start-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cliPath = path.join(repoRoot, 'server/embedded-mongo/cli.ts');

/** Every child still alive and every data directory still present: cleaned up if the benchmark dies. */
const live = new Set<ChildProcess>();
const dataDirs = new Set<string>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary data directory, removed by removeDataDir() or, failing that, at exit. */
export async function makeDataDir(prefix: string): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  dataDirs.add(dir);
  return dir;
}

export async function removeDataDir(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true });
  dataDirs.delete(dir);
}

export interface StoreProcess {
  readonly pid: number;
  readonly uri: string;
  /** Milliseconds from spawn() to the `mongodb://` line on stdout. */
  readonly readyMs: number;
  readonly spawnedAt: number;
  /** Current and peak resident set size of the store process, in MiB. */
  memory(): { rssMiB: number; peakMiB: number };
  /** User + system CPU seconds the store process has used so far. */
  cpuSeconds(): number;
  /** SIGTERM, then wait for a clean exit; returns how long shutdown took. */
  stop(): Promise<{ ms: number; code: number | null }>;
  stderrTail(): string;
  /** First line of the store's log (stderr) matching `re`, e.g. the journal's "replayed N records in X ms". */
  logMatch(re: RegExp): RegExpExecArray | null;
}

export interface StartOptions {
  dataDir: string;
  /** Extra node flags for the child, e.g. --cpu-prof (from BENCH_STORE_NODE_ARGS). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

function readProcStatus(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel config.
const CLOCK_TICKS = 100;

function readCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
}

export async function startStore(options: StartOptions): Promise<StoreProcess> {
  const spawnedAt = performance.now();
  const args = [...(options.nodeArgs ?? []), '--import', 'tsx', cliPath, '--port', '0', '--dbpath', options.dataDir];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    live.delete(child);
    resolve(code);
  }));

  // Keep the first lines (start-up timings) and the last ones (to explain a failure) of the store's log.
  const head: string[] = [];
  const tail: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    if (head.length < 30) head.push(line);
    tail.push(line);
    if (tail.length > 30) tail.shift();
  });
  const stderrTail = () => tail.join('\n');

  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  const uri = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`store not ready after ${timeoutMs} ms\n${stderrTail()}`));
    }, timeoutMs);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('mongodb://')) return;
      clearTimeout(timer);
      resolve(line.trim());
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`store exited with code ${code} before it was ready\n${stderrTail()}`));
    });
  });
  const readyMs = performance.now() - spawnedAt;
  const pid = child.pid!;

  return {
    pid,
    uri,
    readyMs,
    spawnedAt,
    memory: () => ({ rssMiB: readProcStatus(pid, 'VmRSS'), peakMiB: readProcStatus(pid, 'VmHWM') }),
    cpuSeconds: () => readCpuSeconds(pid),
    stderrTail,
    logMatch: (re) => {
      for (const line of head) {
        const m = re.exec(line);
        if (m) return m;
      }
      return null;
    },
    async stop() {
      const started = performance.now();
      if (child.exitCode !== null || child.signalCode !== null) return { ms: 0, code: child.exitCode };
      child.kill('SIGTERM');
      // A clean shutdown flushes the journal; give it a minute before giving up on it.
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(killer);
      return { ms: performance.now() - started, code };
    },
  };
}

/** Bytes under a directory (the store's files on disk). */
export function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : fs.statSync(full).size;
  }
  return total;
}

/**
 * Median latency of a small write + fdatasync on `dir`'s disk, from this
 * process: the floor under every durable commit, so it bounds what group
 * commit can do (16 clients / this latency = best-case acknowledged writes/s).
 */
export async function fsyncLatencyMs(dir: string, samples = 200): Promise<number> {
  const file = path.join(dir, 'fsync-probe');
  const fh = await fs.promises.open(file, 'w');
  const buf = Buffer.alloc(200, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await fh.write(buf, 0, buf.length, i * buf.length);
      await fh.datasync();
      times.push(performance.now() - t);
    }
  } finally {
    await fh.close();
    await fs.promises.unlink(file);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
