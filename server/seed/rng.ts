/**
 * A small seeded PRNG (mulberry32) and the picking helpers the generators
 * use. Seeded so a demo catalogue, a test fixture and the matching
 * evaluation are the same on every machine and every run.
 */

export class Rng {
  private state: number;

  constructor(seed: number) {
    // Spread nearby seeds (1, 2, 3…) apart so their streams do not start alike.
    this.state = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `k` distinct items (fewer if the list is shorter), in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const want = Math.min(k, items.length);
    const taken: number[] = [];
    // Rejection on indices: k is 1–3 here, so this beats copying the list.
    while (taken.length < want) {
      const i = Math.floor(this.next() * items.length);
      if (!taken.includes(i)) taken.push(i);
    }
    return taken.map((i) => items[i]!);
  }

  /** Pick by weight: `{ SH: 3, JS: 3 }` → 'SH' half the time. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }
}
