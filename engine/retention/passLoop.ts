/**
 * The timing of a process's retention passes, shared by the full retention (retention.ts) and the
 * slim view's (slimViewRetention.ts): one pass at a time (`runOnce` joins the running one), the next
 * one interval after the last ended, none after `stop()`.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';

export interface PassLoop<R> {
  /** Runs a pass every `intervalMs` (the first one after one interval). */
  start(): void;
  /** No new pass starts (a running one finishes; its owner may tell it to stop early). */
  stop(): void;
  /** One pass now (joins the running one if any). */
  runOnce(): Promise<R>;
}

/** Runs `pass` every `intervalMs` once started; a pass that throws is logged and the loop goes on. */
export function createPassLoop<R>(opts: { clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>; logger: Logger; intervalMs: number; pass: () => Promise<R> }): PassLoop<R> {
  const { clock, logger, intervalMs, pass } = opts;
  let running: Promise<R> | undefined;
  let timer: unknown;
  let started = false;

  function runOnce(): Promise<R> {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (!started) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      runOnce()
        .catch((err: unknown) => logger.error({ err }, 'retention pass failed'))
        .finally(schedule);
    }, intervalMs);
  }

  return {
    runOnce,
    start() {
      if (started) return;
      started = true;
      schedule();
    },
    stop() {
      started = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
