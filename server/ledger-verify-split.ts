/**
 * Where the two threads of a verification (ledger-verify-file.ts) divide
 * the chain work, agreed while they run. The main thread checks the chain
 * from the top of the file; the worker, replaying the balances, runs ahead
 * of it and at some batch of lines claims the rest of the chain (the tail)
 * for itself. Deciding at run time rather than by a fixed share lets the
 * split follow what each thread actually gets of a shared, noisy machine:
 * the worker claims once the main thread's remaining way to the claim would
 * take as long as the worker's own way to the end.
 *
 * The agreement must be exact — every line's chain checked by exactly one
 * thread — and lock-free, through three cells of shared memory read and
 * written with Atomics (sequentially consistent). The main thread publishes
 * the start of each batch before reading the claim; the worker publishes
 * its claim before reading the main thread's progress. In any order of
 * those four steps at least one thread sees the other's write, so either
 * the worker sees that the main thread has not reached the claim (then the
 * main thread will see the claim and stop there), or it waits to hear where
 * the main thread stopped — the first batch start at or after the claim.
 * Batches start at the same bytes on both threads (the same chunking of the
 * same file), so a batch start names the same line for both.
 */

const PROGRESS = 0;
const CLAIM = 1;
const STOPPED = 2;
const UNSET = -1n;

export class SplitPoint {
  private readonly cells: BigInt64Array;

  /** `buffer`: the worker's view of a point the main thread created (create()). */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.cells = new BigInt64Array(buffer);
  }

  /** `claimAt`: a batch start the worker's tail is fixed to begin at, before either thread starts (a deterministic split, for tests). */
  static create(claimAt?: number): SplitPoint {
    const point = new SplitPoint(new SharedArrayBuffer(3 * BigInt64Array.BYTES_PER_ELEMENT));
    point.cells.fill(UNSET);
    if (claimAt !== undefined) point.cells[CLAIM] = BigInt(claimAt);
    return point;
  }

  /** Worker: a claim fixed by create() (-1: none; the worker decides). */
  fixedClaim(): number {
    return Number(Atomics.load(this.cells, CLAIM));
  }

  /** Main thread, before the batch starting at `start`: false if the worker has claimed from there on (the main thread then stops). */
  mayRead(start: number): boolean {
    Atomics.store(this.cells, PROGRESS, BigInt(start));
    const claim = Atomics.load(this.cells, CLAIM);
    return claim === UNSET || Number(claim) > start;
  }

  /** Main thread: it has checked every line before `at` and stops (`at`: a batch start, or the file's size). */
  stop(at: number): void {
    Atomics.store(this.cells, STOPPED, BigInt(at));
    Atomics.notify(this.cells, STOPPED);
  }

  /** Worker: the start of the batch the main thread is on (-1: not begun). */
  mainAt(): number {
    return Number(Atomics.load(this.cells, PROGRESS));
  }

  /**
   * Worker: claims the chain from the batch starting at `at` (once). Returns
   * where its tail begins: `at` when the main thread is sure to stop there,
   * else — it may already be past — wherever it does stop, waiting to hear.
   */
  claim(at: number): number {
    Atomics.store(this.cells, CLAIM, BigInt(at));
    if (Number(Atomics.load(this.cells, PROGRESS)) < at) return at;
    return this.stoppedAt();
  }

  /** Where the main thread stopped, waiting (worker only) until it has. */
  stoppedAt(): number {
    for (;;) {
      const at = Atomics.load(this.cells, STOPPED);
      if (at !== UNSET) return Number(at);
      Atomics.wait(this.cells, STOPPED, UNSET);
    }
  }
}

/**
 * Per byte, the worker's balances replay with the chain checked as well
 * runs at about this fraction of its speed without. Alone on a core it is
 * 0.65–0.78; with the main thread busy beside it the worker finished a few
 * tenths of a second after it, and 0.55 has the two finish together on the
 * million-transfer export (the main thread then still has the tail's tree
 * to carry, a tenth of a second).
 */
const TAIL_SPEED = 0.55;
/** Rates are judged over at least this long before any claim. */
const SETTLE_MS = 300;

/** The worker's rule for when to claim: when the main thread's way to here would take as long as the worker's way to the end. */
export class ClaimPolicy {
  private first: { t: number; mine: number; main: number } | null = null;

  constructor(private readonly size: number, private readonly now: () => number = () => performance.now()) {}

  /** Whether to claim from byte `here` (the worker's next batch), the main thread being at byte `mainAt`. */
  claimHere(here: number, mainAt: number): boolean {
    const t = this.now();
    if (mainAt < 0) return false;
    if (!this.first) {
      this.first = { t, mine: here, main: mainAt };
      return false;
    }
    const dt = t - this.first.t;
    if (dt < SETTLE_MS || here >= this.size) return false;
    const mainRate = (mainAt - this.first.main) / dt;
    const tailRate = ((here - this.first.mine) / dt) * TAIL_SPEED;
    if (mainRate <= 0 || tailRate <= 0) return false;
    return (here - mainAt) / mainRate >= (this.size - here) / tailRate;
  }
}
