/**
 * `sim-sleep`: like the built-in `sleep`, but its tasks wait on the simulated clock, and chosen
 * tasks fail for good (not retryable) so the failure paths run too. `sim-verify`: the same with a
 * verification that takes simulated time.
 */
import type { Clock } from '../../engine/clock.ts';
import { TaskRunError, type JobType } from '../../engine/jobtypes/jobType.ts';
import { formatTaskId } from '../../engine/jobtypes/taskId.ts';

/** Spec of a `sim-sleep` job. */
export type SimSleepSpec = {
  tasks: number;
  /** How long each task waits, in simulated ms. */
  ms: number;
  /** Attempts 1..failTimes of every task fail with a retryable error. */
  failTimes: number;
  /** Task indexes that fail with a non-retryable error on every attempt. */
  fatal: number[];
};

/** Where the job type finds the current run's clock (one registry serves every run). */
export interface ClockRef {
  clock: Clock;
  /** Told when a task starts running (the simulation checks the job may still run tasks). */
  onRun?: (ctx: { jobId: string; taskId: string; attempt: number }) => void;
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TaskRunError('ABORTED', 'task aborted', false));
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(new TaskRunError('ABORTED', 'task aborted', false));
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The `sim-sleep` job type over the clock in `ref`. With `verifyMs`, it is `sim-verify` instead:
 * verification is not instant (the job passes through VERIFYING) and takes that long.
 */
export function simSleepJobType(ref: ClockRef, verifyMs?: number): JobType<SimSleepSpec> {
  return {
    name: verifyMs === undefined ? 'sim-sleep' : 'sim-verify',
    instantVerify: verifyMs === undefined,
    specSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['tasks', 'ms', 'failTimes', 'fatal'],
      properties: {
        tasks: { type: 'integer', minimum: 1, maximum: 100 },
        ms: { type: 'integer', minimum: 0 },
        failTimes: { type: 'integer', minimum: 0 },
        fatal: { type: 'array', items: { type: 'integer', minimum: 0 } },
      },
    },
    async plan(spec) {
      return Array.from({ length: spec.tasks }, (_, index) => ({ taskId: formatTaskId(index), payload: { index }, items: 1, bytes: 0 }));
    },
    async run(spec, payload, ctx) {
      ref.onRun?.(ctx);
      const { index } = payload as { index: number };
      if (spec.fatal.includes(index)) throw new TaskRunError('SIM_FATAL', `task ${index} always fails`, false);
      if (ctx.attempt <= spec.failTimes) throw new TaskRunError('SIM_RETRYABLE', `attempt ${ctx.attempt} fails`, true);
      await sleep(ref.clock, spec.ms, ctx.signal);
      return { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };
    },
    async verify(_spec, ctx) {
      if (verifyMs !== undefined) await sleep(ref.clock, verifyMs, ctx.signal);
      return { ok: true };
    },
  };
}
