/** Time and randomness are injected so the same code runs under simulation and in production. */
export interface Clock {
  /** Wall time in ms since the epoch (for timestamps in events only). */
  now(): number;
  /** Monotonic ms, for measuring intervals (liveness, deadlines). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn: () => void, ms: number) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
});

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uuid(): string;
}

export const systemRandom: Random = Object.freeze({
  // eslint-disable-next-line no-restricted-properties -- the one production source of randomness
  next: () => Math.random(),
  uuid: () => crypto.randomUUID(),
});
