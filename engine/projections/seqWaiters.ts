import type { Clock } from '../clock.ts';

/** Callers waiting until the projection has applied a given stream sequence (read-your-writes). */
export interface SeqWaiters {
  /** Resolves true once `lastSeq() >= seq` (see `release`), false after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<boolean>;
  /** Resolves every wait that `lastSeq()` has reached; call after each applied record. */
  release(): void;
}

export function createSeqWaiters(opts: { clock: Clock; lastSeq: () => number }): SeqWaiters {
  const { clock, lastSeq } = opts;
  /** Sorted by seq, so that release() resolves from the front. */
  const waiters: { seq: number; resolve: (ok: boolean) => void }[] = [];
  return {
    waitFor(seq, timeoutMs) {
      if (seq <= lastSeq()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const w = { seq, resolve };
        const i = waiters.findIndex((x) => x.seq > seq);
        if (i === -1) waiters.push(w);
        else waiters.splice(i, 0, w);
        // systemClock's timers are unref'd: a pending wait does not keep the process alive
        const t = clock.setTimeout(() => {
          const j = waiters.indexOf(w);
          if (j !== -1) waiters.splice(j, 1);
          resolve(false);
        }, timeoutMs);
        w.resolve = (ok) => {
          clock.clearTimeout(t);
          resolve(ok);
        };
      });
    },
    release() {
      const last = lastSeq();
      while (waiters.length > 0 && waiters[0]!.seq <= last) waiters.shift()!.resolve(true);
    },
  };
}
