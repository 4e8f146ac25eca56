/**
 * How the coordinator's work is triggered: a job marked dirty is driven in the next microtask
 * (once, however often it was marked), a claim pass is scheduled the same way, and failed claims are
 * retried after one backoff timer.
 */
import type { Clock } from '../clock.ts';

/** The work the wake-ups trigger. */
export interface WakeHandlers {
  drive(jobId: string): void;
  claimPass(): void;
}

export interface Wakeups {
  /** Drive the job in the next microtask. */
  markDirty(jobId: string): void;
  /** Run a claim pass in the next microtask (while running). */
  scheduleClaims(): void;
  /** Run a claim pass after the retry backoff (while running). */
  retryClaimsLater(): void;
  /** Clears the claim-retry timer (on stop). */
  cancel(): void;
}

export function createWakeups(
  opts: { clock: Clock; retryBackoffMs: number; isRunning: () => boolean },
  handlers: WakeHandlers,
): Wakeups {
  const { clock } = opts;
  const dirty = new Set<string>();
  let flushQueued = false;
  let claimQueued = false;
  /** One pending backoff timer for claim retries, however many claims failed. */
  let claimRetry: unknown;

  function markDirty(jobId: string) {
    dirty.add(jobId);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  }

  function flush() {
    flushQueued = false;
    const ids = [...dirty];
    dirty.clear();
    for (const jobId of ids) handlers.drive(jobId);
  }

  function scheduleClaims() {
    if (claimQueued || !opts.isRunning()) return;
    claimQueued = true;
    queueMicrotask(() => {
      claimQueued = false;
      handlers.claimPass();
    });
  }

  function retryClaimsLater() {
    if (claimRetry !== undefined || !opts.isRunning()) return;
    claimRetry = clock.setTimeout(() => {
      claimRetry = undefined;
      scheduleClaims();
    }, opts.retryBackoffMs);
  }

  return { markDirty, scheduleClaims, retryClaimsLater, cancel: () => clock.clearTimeout(claimRetry) };
}
