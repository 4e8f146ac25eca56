/**
 * Recovery (Teraslice `recover`): a FAILED or STOPPED job goes back to WAITING keeping its plan, and
 * only the tasks that did not (fully) succeed run again. A job retry (JobRetried) resets every task
 * of a running job. Pure rules over a JobContext, used by the machine's JobRecovered and JobRetried
 * actions and by decide (to report `tasksReset`).
 */
import type { RecoverMode, TaskPlan } from './events.ts';
import { STATUS_CHUNK_SIZE, contributionOf, nextAttemptOf, recountProgress, type JobContext, type TaskStatus } from './jobContext.ts';

/** What a reset covers: a recovery's mode, or `all` (a job retry: every task, succeeded ones too). */
export type ResetMode = RecoverMode | 'all';

/**
 * True when a reset in `mode` sets this task back to pending: `failed` resets failed tasks;
 * `notSucceeded` also tasks that succeeded with failed items; `all` every final task. Pending tasks
 * stay pending (with a fresh budget).
 */
export function resetsTask(task: TaskPlan, st: TaskStatus, mode: ResetMode): boolean {
  if (st.state === 'failed' || (mode === 'all' && st.state === 'succeeded')) return true;
  return mode === 'notSucceeded' && st.state === 'succeeded' && contributionOf(task, 'succeeded', st.result).itemsFailed > 0;
}

/** How many tasks a reset in `mode` would set back to pending. */
export function countTasksToReset(ctx: JobContext, mode: ResetMode): number {
  let n = 0;
  forEachStatus(ctx, (task, st) => {
    if (resetsTask(task, st, mode)) n++;
  });
  return n;
}

/**
 * The context changes of JobRecovered (and, with `all`, of JobRetried). Reset tasks (and pending
 * ones) get a fresh attempt budget that counts only attempts after the reset: their next attempt is
 * above every attempt seen, and older outcomes that arrive late are ignored (`attemptFloor`).
 * Progress becomes the fold of the kept tasks; the reset tasks' item failures are dropped.
 *
 * A recovery resets a finished job: its floor is the task's next attempt number. A job retry
 * resets a running one, whose pending tasks may have an attempt in flight, numbered at most the
 * next attempt number (`nextAttemptOf`): the floor skips that number so such an attempt's outcome
 * is ignored too and its process aborted (engine/worker/terminalJobs.ts), instead of counting as
 * the new attempt.
 */
export function recoverTasks(ctx: JobContext, mode: ResetMode): Partial<JobContext> {
  const tasks = ctx.tasks;
  if (tasks === null) return {};
  const reset = new Set<string>();
  let i = 0;
  const taskStatus = ctx.taskStatus.map((chunk) =>
    chunk.map((st) => {
      const task = tasks[i++]!;
      if (st.state !== 'pending' && !resetsTask(task, st, mode)) return st;
      if (st.state !== 'pending') reset.add(task.taskId);
      const next = nextAttemptOf(st);
      return { state: 'pending' as const, failedAttempts: [], maxAttemptSeen: st.maxAttemptSeen, attemptFloor: mode === 'all' ? next + 1 : next };
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

/**
 * Why a job may not be retried as a whole now (JobRetried), or undefined when it may: `maxRetries`
 * (the type's JobType.jobRetries) used up, a stop requested, no plan, or an open plan (no whole run
 * to repeat). The state (RUNNING or VERIFYING) is the caller's to check.
 */
export function whyNoRetry(ctx: JobContext, maxRetries: number): string | undefined {
  if (ctx.retries >= maxRetries) return maxRetries === 0 ? 'its type allows no retries' : `its ${maxRetries} retries are used up`;
  if (ctx.stopRequested !== null) return 'it is stopping';
  if (ctx.tasks === null) return 'it has no plan yet';
  if (ctx.planCursor !== undefined) return 'its plan is open';
  return undefined;
}
