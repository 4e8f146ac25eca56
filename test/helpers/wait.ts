/**
 * Waiting in tests: poll a condition with a timeout (`waitFor`), never a fixed sleep before an
 * assertion. `sleep` is for pacing load and choosing fault instants (benches, fault tests) only.
 */

/** Default of {@link WaitOptions.timeoutMs}. */
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
/** Default of {@link WaitOptions.intervalMs}. */
export const DEFAULT_WAIT_INTERVAL_MS = 10;

export interface WaitOptions {
  /** Named in the error when the wait times out ("timed out after 5000 ms waiting for <what>"). */
  what?: string;
  /** @defaultValue {@link DEFAULT_WAIT_TIMEOUT_MS} */
  timeoutMs?: number;
  /**
   * Pause between checks, or a function of the attempt number (0, 1, …) for a backoff.
   * @defaultValue {@link DEFAULT_WAIT_INTERVAL_MS}
   */
  intervalMs?: number | ((attempt: number) => number);
  /**
   * When true, an error thrown by the condition counts as "not yet" (a server restarting, a
   * connection refused) and the timeout error names the last one. When false, it ends the wait.
   * @defaultValue false
   */
  retryErrors?: boolean;
}

/** A wait that ran out of time (other errors come from the condition itself). */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/** Resolves after `ms` of real time. For pacing and fault instants only: never to wait for an effect. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Checks `condition` now and then every `intervalMs` until it returns a value other than
 * `undefined` or `false`, and resolves with that value; rejects with a {@link WaitTimeoutError}
 * naming `what` once `timeoutMs` has passed.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, undefined | false>> {
  const { what = 'a condition', timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, intervalMs = DEFAULT_WAIT_INTERVAL_MS, retryErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      const v = await condition();
      if (v !== undefined && v !== false) return v as Exclude<T, undefined | false>;
    } catch (err) {
      if (!retryErrors) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const last = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await sleep(typeof intervalMs === 'number' ? intervalMs : intervalMs(attempt));
  }
}
