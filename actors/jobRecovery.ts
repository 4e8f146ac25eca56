/**
 * Recovery (Teraslice `recover`): a FAILED or STOPPED job goes back to WAITING keeping its plan, and
 * only the tasks that did not (fully) succeed run again. Pure rules over a JobContext, used by the
 * machine's JobRecovered action and by decide (to report `tasksReset`).
 */
import type { RecoverMode, TaskPlan } from './events.ts';
import { STATUS_CHUNK_SIZE, contributionOf, recountProgress, type JobContext, type TaskStatus } from './jobContext.ts';

/**
 * True when a recovery in `mode` resets this task to pending: `failed` resets failed tasks;
 * `notSucceeded` also tasks that succeeded with failed items. Pending tasks stay pending.
 */
export function resetsTask(task: TaskPlan, st: TaskStatus, mode: RecoverMode): boolean {
  if (st.state === 'failed') return true;
  return mode === 'notSucceeded' && st.state === 'succeeded' && contributionOf(task, 'succeeded', st.result).itemsFailed > 0;
}

/** How many tasks a recovery in `mode` would reset. */
export function countTasksToReset(ctx: JobContext, mode: RecoverMode): number {
  let n = 0;
  forEachStatus(ctx, (task, st) => {
    if (resetsTask(task, st, mode)) n++;
  });
  return n;
}

/**
 * The context changes of JobRecovered. Reset tasks (and pending ones) get a fresh attempt budget
 * that counts only attempts after the recovery: their next attempt is above every attempt seen, and
 * older outcomes that arrive late are ignored (`attemptFloor`). Progress becomes the fold of the
 * kept tasks; the reset tasks' item failures are dropped.
 */
export function recoverTasks(ctx: JobContext, mode: RecoverMode): Partial<JobContext> {
  const tasks = ctx.tasks;
  if (tasks === null) return {};
  const reset = new Set<string>();
  let i = 0;
  const taskStatus = ctx.taskStatus.map((chunk) =>
    chunk.map((st) => {
      const task = tasks[i++]!;
      if (st.state !== 'pending' && !resetsTask(task, st, mode)) return st;
      if (st.state !== 'pending') reset.add(task.taskId);
      return { state: 'pending' as const, failedAttempts: [], maxAttemptSeen: st.maxAttemptSeen, attemptFloor: st.maxAttemptSeen + 1 };
    }),
  );
  const statusOf = (k: number): TaskStatus => taskStatus[Math.floor(k / STATUS_CHUNK_SIZE)]![k % STATUS_CHUNK_SIZE]!;
  return {
    taskStatus,
    progress: recountProgress(tasks, statusOf),
    failures: reset.size === 0 ? ctx.failures : ctx.failures.filter((f) => !reset.has(f.taskId)),
  };
}

function forEachStatus(ctx: JobContext, f: (task: TaskPlan, st: TaskStatus) => void): void {
  const tasks = ctx.tasks;
  if (tasks === null) return;
  let i = 0;
  for (const chunk of ctx.taskStatus) for (const st of chunk) f(tasks[i++]!, st);
}
