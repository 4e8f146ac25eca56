import { AppError } from '../errors.ts';
import { TaskRunError, type JobType } from './jobType.ts';
import { formatTaskId } from './taskId.ts';
import { abortableWait } from './taskWait.ts';

/** Longest sleep a spec may ask for (one hour). */
export const MAX_SLEEP_MS = 3_600_000;
/** Serialized size cap of `output`, which travels in every task outcome event. */
const MAX_OUTPUT_JSON_CHARS = 64 * 1024;

/** Spec of a `sleep` job (tests, fault drills): N tasks that each wait `ms`. */
export type SleepSpec = {
  ms: number;
  /** How many tasks. @defaultValue 1 */
  tasks?: number;
  /** The first `failTimes` attempts of every task fail with a retryable error. @defaultValue 0 */
  failTimes?: number;
  /** Any JSON value; every task returns it as its `output`. */
  output?: unknown;
};


/**
 * `sleep`: each task waits `ms` (abortable, heartbeating every second) and returns `output`.
 * With `failTimes: n`, attempts 1..n of each task throw a retryable INJECTED_FAILURE first,
 * so retry paths can be exercised. Verification always passes.
 */
export const sleepJobType: JobType<SleepSpec> = {
  name: 'sleep',
  instantVerify: true,
  specSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['ms'],
    properties: {
      ms: { type: 'integer', minimum: 0, maximum: MAX_SLEEP_MS },
      tasks: { type: 'integer', minimum: 1, maximum: 10_000, default: 1 },
      failTimes: { type: 'integer', minimum: 0, maximum: 100, default: 0 },
      output: {},
    },
  },

  checkSpec(spec) {
    if (spec.output !== undefined && JSON.stringify(spec.output).length > MAX_OUTPUT_JSON_CHARS) {
      throw new AppError('INVALID_SPEC', `spec.output must serialize to at most ${MAX_OUTPUT_JSON_CHARS} characters`);
    }
  },

  async plan(spec) {
    return Array.from({ length: spec.tasks ?? 1 }, (_, index) => ({ taskId: formatTaskId(index), payload: { index }, items: 1, bytes: 0 }));
  },

  async run(spec, _payload, ctx) {
    const failTimes = spec.failTimes ?? 0;
    if (ctx.attempt <= failTimes) {
      throw new TaskRunError('INJECTED_FAILURE', `attempt ${ctx.attempt} of ${ctx.taskId} fails on purpose (failTimes ${failTimes})`, true);
    }
    await abortableWait(spec.ms, { signal: ctx.signal, heartbeat: () => ctx.heartbeat() });
    const result = { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };
    return spec.output === undefined ? result : { ...result, output: spec.output };
  },

  async verify(_spec, ctx) {
    return { ok: true, summary: { tasks: ctx.tasks.length } };
  },
};
