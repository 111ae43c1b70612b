/**
 * Summarises a V8 .cpuprofile (from BENCH_STORE_NODE_ARGS="--cpu-prof ...") as
 * the functions with the most self time, and the store functions and files
 * with the most inclusive time, so a missed target can be traced to code:
 *
 *   npx tsx test/bench/profile-top.ts test-output/prof/<file>.cpuprofile [rows=25]
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './store-process.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const file = process.argv[2];
const rows = Number(process.argv[3] ?? 25);
if (!file) {
  console.error('usage: npx tsx test/bench/profile-top.ts <file.cpuprofile> [rows]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const where = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const short = url.startsWith(repoRoot) ? path.relative(repoRoot, url) : url.replace(/.*node_modules\//, '~/');
  return short ? `${short}:${n.callFrame.lineNumber + 1}` : '(native)';
};
const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}`;

// Self time per sample; inclusive time per store file and per store function (once per sample each).
const self = new Map<string, number>();
const inclusiveFile = new Map<string, number>();
const inclusiveFn = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const leaf = byId.get(id)!;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
  const files = new Set<string>();
  const fns = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const node = byId.get(cur)!;
    if (!node.callFrame.url.includes('/server/embedded-mongo/')) continue;
    files.add(path.relative(repoRoot, node.callFrame.url.replace(/^file:\/\//, '')));
    fns.add(`${node.callFrame.functionName || '(anonymous)'} ${where(node).replace(/:\d+$/, '')}`);
  }
  for (const f of files) inclusiveFile.set(f, (inclusiveFile.get(f) ?? 0) + dt);
  for (const f of fns) inclusiveFn.set(f, (inclusiveFn.get(f) ?? 0) + dt);
});

const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, rows);
console.log(`${(total / 1e6).toFixed(1)} s sampled\n\nself time:`);
for (const [name, us] of top(self)) console.log(`${pct(us)}  ${name}`);
console.log('\ninclusive time by store function:');
for (const [name, us] of top(inclusiveFn)) console.log(`${pct(us)}  ${name}`);
console.log('\ninclusive time by store file:');
for (const [name, us] of top(inclusiveFile)) console.log(`${pct(us)}  ${name}`);
