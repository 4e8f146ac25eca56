/**
 * What a follow waits on between redraws: the job's live event stream says when something changed,
 * and a stream that is down (reopened after RECONNECT_MS, resuming after the last event seen) only
 * slows the display down to the follower's quiet redraws.
 */
import type { JetjobsClient } from './client.ts';

/** Wait before the event stream is opened again after it ended or broke. */
const RECONNECT_MS = 1_000;

/** Resolves `next()` when the job's event stream has brought something since the last call (or after `quietMs`, or when `signal` aborts). */
export function watchChanges(client: Pick<JetjobsClient, 'events'>, id: string, signal: AbortSignal): { next(quietMs: number): Promise<void> } {
  let changed = false;
  let wake: (() => void) | undefined;
  const pulse = () => {
    changed = true;
    wake?.();
  };
  void (async () => {
    let lastId: string | undefined;
    while (!signal.aborted) {
      try {
        for await (const m of client.events(id, lastId, signal)) {
          if (m.id !== undefined && m.id !== '') lastId = m.id;
          pulse();
        }
      } catch {
        // down or refused: the quiet redraws go on; try again
      }
      await delay(RECONNECT_MS, signal);
    }
  })();
  return {
    async next(quietMs) {
      if (!changed && !signal.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, quietMs);
          // an abort (Ctrl-C) ends the wait at once: no timer is left to hold the process open
          signal.addEventListener('abort', done, { once: true });
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          wake = done;
        });
        wake = undefined;
      }
      changed = false;
    },
  };
}

/** Waits `ms` (nothing when ≤ 0), or less if `signal` aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
