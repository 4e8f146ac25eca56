/**
 * Pacing of synchronous file work on the event loop.
 *
 * The file job types make their per-file metadata calls (open, readlink, fstat, rename, lstat) with
 * the synchronous fs API: measured on a 2-core VM, one async fs call cost 11–33 µs of CPU (a
 * thread-pool round trip: queue, wake a thread, wake the loop, settle a promise) against 2–4 µs
 * for the same syscall made directly, and a small file takes about a dozen such calls. The price
 * is that a synchronous call holds the event loop, so callers do a bounded amount of work between
 * `pace()` calls and the pacer hands the loop back once a slice is used up. Bulk data (large files)
 * still moves asynchronously.
 *
 * One pacer serves every task of the process: whoever calls `pace()` after the slice is used up
 * waits its turn, first come first served, one turn per pass of the event loop, so timers and
 * network I/O run between slices however many tasks are copying. A filesystem that hangs still
 * holds the loop while one call lasts (as `canonicalPath` in paths.ts already does at submission).
 */

/** How long synchronous file work may hold the event loop before `pace()` hands it back. */
export const SYNC_SLICE_MS = 2;

/** Hands the event loop back between slices of synchronous work. */
export interface SyncPacer {
  /** Resolves at once while the current slice lasts; else after the event loop has had a turn, in call order. */
  pace(): Promise<void>;
}

/** Options of `createSyncPacer`; the clock and the deferral are injectable for tests. */
export interface SyncPacerOptions {
  /** @defaultValue SYNC_SLICE_MS */
  sliceMs?: number;
  /** Monotonic milliseconds. @defaultValue performance.now */
  now?: () => number;
  /** Runs `fn` after the event loop has polled for I/O. @defaultValue setImmediate */
  defer?: (fn: () => void) => void;
}

export function createSyncPacer(opts: SyncPacerOptions = {}): SyncPacer {
  const sliceMs = opts.sliceMs ?? SYNC_SLICE_MS;
  const now = opts.now ?? (() => performance.now());
  const defer = opts.defer ?? ((fn: () => void) => void setImmediate(fn));
  const waiting: (() => void)[] = [];
  let sliceStart = now();
  let turning = false;
  // One waiter per pass of the loop: it gets a fresh slice; the others wait for later passes.
  const turn = (): void => {
    const next = waiting.shift();
    if (next === undefined) {
      turning = false;
      return;
    }
    sliceStart = now();
    next();
    defer(turn);
  };
  return {
    async pace() {
      if (now() - sliceStart < sliceMs) return;
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (!turning) {
          turning = true;
          defer(turn);
        }
      });
    },
  };
}

/** The pacer every file job type of this process shares. */
export const sharedSyncPacer: SyncPacer = createSyncPacer();
