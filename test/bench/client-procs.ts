/**
 * Spreads the benchmark's client connections over several processes, as a
 * Node application on a multi-core machine would run (one process per core,
 * e.g. `node:cluster`): a single Node process can only use one core, and at
 * a few thousand reads per second the Mongoose/driver side of 16 connections
 * fills it before the store does. Each process opens its own share of the
 * connections and runs the same workloads (phase1-ops.ts); the coordinating
 * process merges the raw samples (workloads.ts timedRun).
 *
 * This file is also the client processes' entry point (`--bench-client-proc`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Types } from 'mongoose';
import { phase1Workloads } from './phase1-ops.js';
import { openClient, runLoops, type Client, type LoopResult } from './workloads.js';

const CHILD_FLAG = '--bench-client-proc';

interface InitMessage { type: 'init'; uri: string; connections: number; pool: number; ids: string[]; firstK: number }
type Request = InitMessage | { type: 'run'; workload: string; seconds: number } | { type: 'close' };
type Reply = { type: 'ok' } | { type: 'result'; result: LoopResult } | { type: 'error'; message: string };

export interface ClientProc {
  readonly pid: number;
  /** Runs the named workload on this process's connections for `seconds`. */
  run(workload: string, seconds: number): Promise<LoopResult>;
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Forks `procs` client processes sharing `connections` between them, each connected and ready. */
export async function startClientProcs(options: {
  uri: string; procs: number; connections: number; pool: number; ids: Types.ObjectId[]; firstK: number;
}): Promise<ClientProc[]> {
  const ids = options.ids.map((id) => id.toHexString());
  const procs: ClientProc[] = [];
  for (let i = 0; i < options.procs; i++) {
    // Connections split as evenly as possible: 16 over 2 processes is 8 each.
    const connections = Math.floor(options.connections / options.procs) + (i < options.connections % options.procs ? 1 : 0);
    const proc = spawnClient();
    procs.push(proc);
    await proc.request({ type: 'init', uri: options.uri, connections, pool: options.pool, ids, firstK: options.firstK + i * 100_000_000 });
  }
  return procs;
}

function spawnClient(): ClientProc & { request(msg: Request): Promise<Reply> } {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  live.add(child);
  let waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  child.on('message', (msg: Reply) => {
    const w = waiting;
    waiting = null;
    if (msg.type === 'error') w?.reject(new Error(`client process ${child.pid}: ${msg.message}`));
    else w?.resolve(msg);
  });
  child.on('exit', (code) => {
    live.delete(child);
    waiting?.reject(new Error(`client process ${child.pid} exited with code ${code}`));
    waiting = null;
  });
  const request = (msg: Request) => new Promise<Reply>((resolve, reject) => {
    waiting = { resolve, reject };
    child.send(msg);
  });
  return {
    pid: child.pid!,
    request,
    async run(workload, seconds) {
      const reply = await request({ type: 'run', workload, seconds });
      if (reply.type !== 'result') throw new Error(`client process ${child.pid}: unexpected reply ${reply.type}`);
      return reply.result;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await request({ type: 'close' }).catch(() => undefined);
      await exited;
    },
  };
}

/** The client process: opens its connections, then runs workloads on request until told to close. */
async function childMain(): Promise<void> {
  let clients: Client[] = [];
  let ops = new Map<string, (c: Client) => Promise<number>>();
  const handle = async (msg: Request): Promise<Reply> => {
    if (msg.type === 'init') {
      for (let i = 0; i < msg.connections; i++) clients.push(await openClient(msg.uri, msg.pool));
      const ids = msg.ids.map((hex) => new Types.ObjectId(hex));
      ops = new Map(phase1Workloads(clients[0], ids, msg.firstK).map((w) => [w.name, w.op]));
      return { type: 'ok' };
    }
    if (msg.type === 'run') {
      const op = ops.get(msg.workload);
      if (!op) throw new Error(`unknown workload ${msg.workload}`);
      return { type: 'result', result: await runLoops(clients.length, msg.seconds, (i) => op(clients[i])) };
    }
    await Promise.all(clients.map((c) => c.conn.close()));
    clients = [];
    return { type: 'ok' };
  };
  process.on('message', (msg: Request) => {
    handle(msg).then(
      (reply) => {
        // After the last reply the process exits at once, whatever timers the driver still holds.
        if (msg.type === 'close') process.send!(reply, () => process.exit(0));
        else process.send!(reply);
      },
      (err: Error) => process.send!({ type: 'error', message: err.stack ?? err.message }),
    );
  });
}

if (process.argv.includes(CHILD_FLAG) && process.send) void childMain();
