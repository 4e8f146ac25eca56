import type { TaskPlan, TaskResult } from '../../actors/events.ts';
import type { JobType } from './jobType.ts';
import { formatTaskId } from './taskId.ts';

/** Spec of a `noop` job: N tasks that do nothing (the throughput benchmark's job type). */
export type NoopSpec = {
  /** How many tasks. @defaultValue 1 */
  tasks?: number;
};

/** `noop`: every task succeeds at once with one item done. Verification always passes. */
export const noopJobType: JobType<NoopSpec> = {
  name: 'noop',
  instantVerify: true,
  specSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { tasks: { type: 'integer', minimum: 1, maximum: 100_000, default: 1 } },
  },

  async plan(spec) {
    const tasks: TaskPlan[] = new Array<TaskPlan>(spec.tasks ?? 1);
    for (let i = 0; i < tasks.length; i++) tasks[i] = { taskId: formatTaskId(i), payload: null, items: 1, bytes: 0 };
    return tasks;
  },

  // Not async: no extra microtask hop on the benchmark's hot path.
  run(): Promise<TaskResult> {
    return Promise.resolve({ itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] });
  },

  async verify() {
    return { ok: true };
  },
};
