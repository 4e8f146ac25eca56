/**
 * The one place for waiting and trying again: backoff delays, sleeps that can be cut short, a
 * retry loop on chosen error codes, and the read–decide–append-with-CAS loop (`handleCommand`,
 * after emmett's command handler). Every retry, backoff and pause in engine/ goes through here so
 * that their limits are named once and the simulation's clock drives them all.
 */
import { systemClock, type Clock, type Random } from './clock.ts';
import { isAppError, type ErrorCode } from './errors.ts';

/** `baseMs · factor^attempt`, capped at `maxMs`, optionally spread by ± `jitter` (a fraction). */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** @defaultValue 2 */
  factor?: number;
  /** 0 (none) … 1; the delay is drawn from `[d·(1−jitter), d·(1+jitter)]`, still capped. @defaultValue 0 */
  jitter?: number;
}

/** The delay before retry number `attempt` (0 = the first retry). */
export function backoffDelay(b: Backoff, attempt: number, random?: Random): number {
  const exp = Math.max(0, attempt);
  // the exponent is bounded so that huge attempt numbers stay finite
  const d = Math.min(b.maxMs, b.baseMs * (b.factor ?? 2) ** Math.min(exp, 64));
  const jitter = b.jitter ?? 0;
  if (jitter <= 0 || random === undefined) return d;
  return Math.min(b.maxMs, Math.max(0, d * (1 - jitter + 2 * jitter * random.next())));
}

/** Node's own timers, kept referenced: a process waiting to retry stays alive for it. */
const heldTimers: Clock = {
  ...systemClock,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

/**
 * Waits `ms` on `clock` (by default a plain timer that keeps the process alive; pass `systemClock`
 * for one that does not). Resolves early, without error, when `signal` aborts: callers check their
 * own stop flag afterwards.
 */
export function sleep(ms: number, opts: { clock?: Clock; signal?: AbortSignal } = {}): Promise<void> {
  const clock = opts.clock ?? heldTimers;
  const signal = opts.signal;
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(t);
      resolve();
    };
    const t = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A pause that another part of a loop can end early (`wake()`: new work arrived, a reconnect, a
 * stop). One pause at a time; waking with no pause running does nothing.
 */
export interface Pause {
  (ms: number): Promise<void>;
  wake(): void;
}

export function createPause(clock: Clock = heldTimers): Pause {
  let current: AbortController | undefined;
  const pause = ((ms: number) => {
    const c = new AbortController();
    current = c;
    return sleep(ms, { clock, signal: c.signal }).finally(() => {
      if (current === c) current = undefined;
    });
  }) as Pause;
  pause.wake = () => current?.abort();
  return pause;
}

export interface RetryOptions {
  /** Which failures are worth another try: a list of AppError codes, or a predicate. */
  retryOn: readonly ErrorCode[] | ((err: unknown) => boolean);
  /** Tries in all, the first included (at least 1). */
  attempts: number;
  /** Between tries; none (retry at once) when absent. */
  backoff?: Backoff;
  clock?: Clock;
  random?: Random;
  /** Stops retrying (the last error is thrown) once aborted. */
  signal?: AbortSignal;
  /** Told before each wait (for a log line). `attempt` counts from 1. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, fails with an error not in `retryOn`, or the tries run out. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const retryable = typeof opts.retryOn === 'function' ? opts.retryOn : isOneOf(opts.retryOn);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retryable(err) || attempt >= opts.attempts || opts.signal?.aborted) throw err;
      const delayMs = opts.backoff ? backoffDelay(opts.backoff, attempt - 1, opts.random) : 0;
      opts.onRetry?.(err, attempt, delayMs);
      // with a backoff, even a 0 ms one, wait on the clock: the next try comes after other timers' turn
      if (opts.backoff) await sleep(delayMs, { ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      if (opts.signal?.aborted) throw err;
    }
  }
}

function isOneOf(codes: readonly ErrorCode[]): (err: unknown) => boolean {
  return (err) => codes.some((c) => isAppError(err, c));
}

/** What `decide` answers: something to write (then `append` gives the answer), or the answer itself. */
export type Decision<W, R> = { write: W } | { result: R };

/**
 * Read–decide–append with an expected version, re-read and re-decided when another writer won the
 * race (CONFLICT), at most `attempts` times in all; `decide` throws for a refused command and
 * answers `{ result }` when there is nothing to write. `read` receives the try number (from 1) so
 * that a retry can bypass a cache.
 */
export async function handleCommand<S, W, R>(
  h: {
    read: (attempt: number) => Promise<S> | S;
    decide: (state: S) => Decision<W, R>;
    append: (state: S, write: W) => Promise<R> | R;
  },
  opts: { attempts: number },
): Promise<R> {
  return retry(
    async (attempt) => {
      const state = await h.read(attempt);
      const d = h.decide(state);
      return 'write' in d ? await h.append(state, d.write) : d.result;
    },
    { retryOn: ['CONFLICT'], attempts: opts.attempts },
  );
}
