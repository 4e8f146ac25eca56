/**
 * A {@link Clock} whose time moves only when the test says so. (The simulation has its own
 * `test/sim/simClock.ts`, which also tells the scheduler when the next timer is due.)
 */
import { systemClock, type Clock } from '../../engine/clock.ts';

export interface FakeClockOptions {
  /** What `now()` answers before any advance. @defaultValue 0 */
  wallMs?: number;
  /** What `monotonic()` answers before any advance (fake timers only). @defaultValue 0 */
  monotonicMs?: number;
  /**
   * `'fake'`: timers fire only inside {@link FakeClock.advance}. `'real'`: only wall time is fake;
   * `monotonic()` and timers are the host's, for code under test that waits in real time.
   * @defaultValue 'fake'
   */
  timers?: 'fake' | 'real';
}

export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`. With fake timers, each timer that falls due on the way fires in
   * (due time, order set) order with the clock at its due time, and the microtasks and immediates it
   * queued run before the next one fires.
   */
  advance(ms: number): Promise<void>;
  /** Fake timers not yet fired or cleared. */
  pending(): number;
}

interface Timer {
  due: number;
  order: number;
  fn: () => void;
}

/** Lets queued microtasks and immediate callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock for tests: manual time, fake (or, on request, real) timers. */
export function createFakeClock(options: FakeClockOptions = {}): FakeClock {
  const { wallMs = 0, monotonicMs = 0, timers: timerKind = 'fake' } = options;
  let elapsed = 0;
  let order = 0;
  /** Sorted by (due, order). */
  const timers: Timer[] = [];

  if (timerKind === 'real') {
    return {
      now: () => wallMs + elapsed,
      monotonic: () => systemClock.monotonic(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      advance: async (ms) => {
        elapsed += Math.max(0, ms);
      },
      pending: () => 0,
    };
  }

  return {
    now: () => wallMs + elapsed,
    monotonic: () => monotonicMs + elapsed,
    setTimeout(fn, ms) {
      const t: Timer = { due: elapsed + Math.max(0, ms), order: order++, fn };
      const i = timers.findIndex((x) => x.due > t.due);
      timers.splice(i === -1 ? timers.length : i, 0, t);
      return t;
    },
    clearTimeout(h) {
      const i = timers.indexOf(h as Timer);
      if (i !== -1) timers.splice(i, 1);
    },
    async advance(ms) {
      const target = elapsed + Math.max(0, ms);
      for (let t = timers[0]; t !== undefined && t.due <= target; t = timers[0]) {
        timers.shift();
        elapsed = t.due;
        t.fn();
        await settle();
      }
      elapsed = target;
      await settle();
    },
    pending: () => timers.length,
  };
}

/**
 * For contract suites that wait on time the same way over fake and real clocks: fake time moves in
 * steps while someone waits (`passTime`, `until`); one waiter at a time moves it, so it never goes back.
 */
export function fakeTime(clock: FakeClock) {
  const STEP_MS = 10;
  let moving = false;
  async function moveUntil(done: () => boolean, budgetMs: number): Promise<boolean> {
    const end = clock.monotonic() + budgetMs;
    while (!done()) {
      if (clock.monotonic() >= end) return false;
      if (moving) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      moving = true;
      try {
        await clock.advance(STEP_MS);
      } finally {
        moving = false;
      }
    }
    return true;
  }
  return {
    passTime: async (ms: number) => {
      let passed = false;
      clock.setTimeout(() => (passed = true), ms);
      await moveUntil(() => passed, ms + STEP_MS);
    },
    until: async (cond: () => boolean, what: string, withinMs = 60_000) => {
      if (!(await moveUntil(cond, withinMs))) throw new Error(`not within ${withinMs} ms of fake time: ${what}`);
    },
  };
}
