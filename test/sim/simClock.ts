/**
 * Simulated time and seeded randomness for the deterministic simulation: nothing here reads the
 * host's clock or Math.random, so one seed replays one run exactly.
 */
import type { Clock, Random } from '../../engine/clock.ts';

interface Timer {
  due: number;
  /** Insertion order: timers due at the same instant fire in the order they were set. */
  order: number;
  fn: () => void;
}

/** Wall time of simulated instant 0 (only used for event timestamps). */
const EPOCH_MS = Date.UTC(2025, 0, 1);

/** Lets every pending microtask run (no real I/O or timers are pending in a simulation). */
export const settleMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A Clock whose time moves only when `advance` is called. Timers fire in (due time, insertion)
 * order, each with the clock set to its due time, and microtasks settle after each one, as on a
 * real event loop.
 */
export class SimClock implements Clock {
  #now = 0;
  #order = 0;
  /** Sorted by (due, order). */
  #timers: Timer[] = [];

  now(): number {
    return EPOCH_MS + this.#now;
  }

  monotonic(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t: Timer = { due: this.#now + Math.max(0, ms), order: this.#order++, fn };
    // binary search for the first timer that fires after t
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.#timers[mid]!;
      if (m.due < t.due || (m.due === t.due && m.order < t.order)) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, t);
    return t;
  }

  clearTimeout(handle: unknown): void {
    const i = this.#timers.indexOf(handle as Timer);
    if (i !== -1) this.#timers.splice(i, 1);
  }

  /** Due time of the earliest timer, if any. */
  nextDue(): number | undefined {
    return this.#timers[0]?.due;
  }

  /** Timers pending. */
  pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      const t = this.#timers[0];
      if (t === undefined || t.due > target) break;
      this.#timers.shift();
      this.#now = t.due;
      t.fn();
      await settleMicrotasks();
    }
    this.#now = target;
  }
}

/**
 * A seeded Random (mulberry32). `uuid()` yields RFC 4122 version-4-shaped ids, so they pass the
 * same id checks as real ones.
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');
  return {
    next,
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(next() * 4)]}${hex(3)}-${hex(12)}`,
  };
}
