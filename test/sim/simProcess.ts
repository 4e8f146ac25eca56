/**
 * One simulated OS process: its view of the shared simulated clock, and whether it runs, is
 * frozen (SIGSTOP: a zombie) or is dead (kill -9). A frozen process fires no timers and handles
 * no I/O until woken; a dead one never again.
 */
import type { Clock } from '../../engine/clock.ts';
import type { SimClock } from './simClock.ts';

export type ProcessState = 'running' | 'frozen' | 'dead';
export type ProcessKind = 'coord' | 'worker' | 'api';

/** A timer handle of a process clock: the shared clock's handle, once set. */
interface ProcTimer {
  inner: unknown;
  fired: boolean;
}

/** A simulated process (see the module comment). */
export interface SimProcess {
  readonly name: string;
  readonly kind: ProcessKind;
  readonly clock: Clock;
  state(): ProcessState;
  /** True once the process has been frozen at least once (it may be a zombie). */
  readonly wasFrozen: boolean;
  /**
   * Resolves at once while running, on wake while frozen, never when dead. Every I/O completion
   * and every delivered record passes through here.
   */
  gate(): Promise<void> | undefined;
  freeze(): void;
  wake(): void;
  kill(): void;
}

const never = new Promise<void>(() => undefined);

/** A process over the shared clock `sim`; its wall clock reads `skewMs` off (hosts' clocks disagree), its monotonic clock does not. */
export function createSimProcess(name: string, kind: ProcessKind, sim: SimClock, skewMs = 0): SimProcess {
  let state: ProcessState = 'running';
  let wasFrozen = false;
  /** Work held while frozen (due timers, I/O completions), run in order on wake. */
  let held: (() => void)[] = [];
  const timers = new Set<ProcTimer>();

  const clock: Clock = {
    now: () => sim.now() + skewMs,
    monotonic: () => sim.monotonic(),
    setTimeout(fn, ms) {
      const t: ProcTimer = { inner: undefined, fired: false };
      if (state === 'dead') return t;
      timers.add(t);
      t.inner = sim.setTimeout(() => {
        t.fired = true;
        timers.delete(t);
        if (state === 'running') fn();
        else if (state === 'frozen') held.push(() => !t.inner || fn());
      }, ms);
      return t;
    },
    clearTimeout(handle) {
      const t = handle as ProcTimer | undefined;
      if (t === undefined) return;
      timers.delete(t);
      if (!t.fired) sim.clearTimeout(t.inner);
      t.inner = undefined; // also cancels a held firing
    },
  };

  return {
    name,
    kind,
    clock,
    state: () => state,
    get wasFrozen() {
      return wasFrozen;
    },
    gate() {
      if (state === 'running') return undefined;
      if (state === 'dead') return never;
      return new Promise<void>((resolve) => held.push(resolve));
    },
    freeze() {
      if (state !== 'running') return;
      state = 'frozen';
      wasFrozen = true;
    },
    wake() {
      if (state !== 'frozen') return;
      state = 'running';
      const work = held;
      held = [];
      for (const w of work) w();
    },
    kill() {
      state = 'dead';
      held = [];
      for (const t of timers) sim.clearTimeout(t.inner);
      timers.clear();
    },
  };
}
