/**
 * How the two threads of an export's verification divide the chain
 * (server/ledger-verify-split.ts): the lock-free agreement under real races
 * between threads, and the worker's rule for when to claim.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { ClaimPolicy, SplitPoint } from '../../server/ledger-verify-split.js';

const SPLIT_MODULE = fileURLToPath(new URL('../../server/ledger-verify-split.ts', import.meta.url));

/** A worker that, for each buffer it is sent, waits a moment and claims the given batch start, answering with where its tail begins. */
const CLAIMER = `
  require('tsx/cjs');
  const { SplitPoint } = require(${JSON.stringify(SPLIT_MODULE)});
  const { parentPort } = require('node:worker_threads');
  parentPort.on('message', ({ buffer, claimAt, spin }) => {
    for (let i = 0, until = Date.now() + spin; Date.now() < until; i++);
    parentPort.postMessage(new SplitPoint(buffer).claim(claimAt));
  });
`;

describe('ledger verification split', () => {
  it('under real races, the main thread stops exactly where the worker\'s tail begins, never before its claim', async function () {
    this.timeout(60_000);
    const worker = new Worker(CLAIMER, { eval: true });
    const answers: number[] = [];
    let waiting: (() => void) | null = null;
    worker.on('message', (at: number) => {
      answers.push(at);
      waiting?.();
    });
    const answer = () => new Promise<number>((resolve) => {
      const take = () => resolve(answers.shift()!);
      if (answers.length) take();
      else waiting = () => {
        waiting = null;
        take();
      };
    });
    const BATCHES = 400;
    const outcomes = { before: 0, after: 0 };
    try {
      for (let round = 0; round < 300; round++) {
        const point = SplitPoint.create();
        const claimAt = 1 + Math.floor(Math.random() * BATCHES);
        worker.postMessage({ buffer: point.buffer, claimAt, spin: Math.floor(Math.random() * 3) });
        // This thread's side: batches 0..BATCHES-1 start at their index; the end of the file is BATCHES.
        let stoppedAt = BATCHES;
        for (let start = 0; start < BATCHES; start++) {
          if (!point.mayRead(start)) {
            stoppedAt = start;
            break;
          }
          for (let i = 0, n = Math.random() * 2000; i < n; i++);
        }
        point.stop(stoppedAt);
        const tailFrom = await answer();
        expect(tailFrom, `round ${round}: claimed ${claimAt}`).to.equal(stoppedAt);
        expect(stoppedAt).to.be.at.least(claimAt);
        if (stoppedAt === claimAt) outcomes.before++;
        else outcomes.after++;
      }
    } finally {
      await worker.terminate();
    }
    // Both ways of meeting happened: claims this thread saw in time, and claims it had already passed.
    expect(outcomes.before, JSON.stringify(outcomes)).to.be.greaterThan(0);
    expect(outcomes.after, JSON.stringify(outcomes)).to.be.greaterThan(0);
  });

  it('a split fixed in advance is where the main thread stops, and the worker knows it without claiming', () => {
    const point = SplitPoint.create(5);
    expect(new SplitPoint(point.buffer).fixedClaim()).to.equal(5);
    expect([0, 1, 4].map((s) => point.mayRead(s))).to.deep.equal([true, true, true]);
    expect(point.mayRead(5)).to.equal(false);
    expect(SplitPoint.create().fixedClaim()).to.equal(-1);
  });

  describe('the worker claims when the main thread\'s way to the claim takes as long as its own way to the end', () => {
    // A 10,000-byte file; the main thread checks 1 byte/ms; the worker replays 2 bytes/ms, 1.1 with the chain as well (TAIL_SPEED 0.55).
    const run = (mainRate: number, workerRate: number) => {
      let now = 0;
      const policy = new ClaimPolicy(10_000, () => now);
      for (let t = 0; t <= 10_000; t += 10) {
        now = t;
        const here = Math.min(10_000, Math.round(t * workerRate));
        if (policy.claimHere(here, Math.round(t * mainRate))) return { t, here };
      }
      return null;
    };

    it('claims where the two would finish together', () => {
      const claim = run(1, 2)!;
      // Claim at x when t = x/2: main needs (x − x/2)/1 more, the worker (10000 − x)/1.1: x ≈ 6,452.
      expect(claim.here).to.be.within(6_420, 6_480);
    });

    it('claims later when the main thread is relatively faster, and not at all when it would finish first anyway', () => {
      expect(run(1.5, 2)!.here).to.be.greaterThan(run(1, 2)!.here);
      expect(run(3, 2)).to.equal(null);
    });

    it('waits for its estimates to settle and for the main thread to begin', () => {
      let now = 0;
      const policy = new ClaimPolicy(10_000, () => now);
      expect(policy.claimHere(9_000, -1)).to.equal(false);
      expect(policy.claimHere(9_000, 0)).to.equal(false);
      now = 100;
      expect(policy.claimHere(9_500, 1)).to.equal(false);
    });
  });
});
