/**
 * What a job's end means for its tasks here: a task of a job already terminal is dropped, and a
 * job that becomes terminal aborts its tasks still running. The same for an attempt the job no
 * longer wants: a job retry (JobRetried) makes every task's attempts so far obsolete.
 */
import { TERMINAL_STATES } from '../../actors/events.ts';
import { getTaskStatus, type JobContext } from '../../actors/jobContext.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import type { TaskMessage } from '../taskqueue/taskQueue.ts';
import type { RunningTasks } from './runningTasks.ts';

/**
 * True when the task's job is terminal in our projection at the task's epoch or later. A task
 * from a higher epoch belongs to a recovered run our projection has not caught up with yet: run
 * it (dropping it would lose the task: found by test/sim).
 */
export function finishedFor(projection: JobProjection, t: TaskMessage): boolean {
  const job = projection.get(t.jobId);
  return job !== undefined && TERMINAL_STATES.has(job.state) && (job.snapshot.context as { epoch: number }).epoch >= t.epoch;
}

/**
 * True when the job reset the task after this attempt was dispatched (a job retry, or a recovery):
 * its outcome would be ignored (below the task's attempt floor), so it need not run. A projection
 * that lags says false: the attempt runs until the reset reaches it (then it is aborted).
 */
export function obsoleteFor(projection: JobProjection, t: TaskMessage): boolean {
  const job = projection.get(t.jobId);
  return job !== undefined && belowFloor(job.snapshot.context as JobContext, t.taskId, t.attempt);
}

function belowFloor(ctx: JobContext, taskId: string, attempt: number): boolean {
  const floor = getTaskStatus(ctx, taskId)?.attemptFloor;
  return floor !== undefined && attempt < floor;
}

/**
 * A job that became terminal (stopped after its grace period, failed, or finished elsewhere)
 * aborts its tasks still running here, and a job still running aborts the attempts it reset (a
 * job retry); their handler sees the signal and no outcome is recorded. A task that completes
 * anyway is recorded as usual: a terminal job ignores late outcomes, and a reset task those of
 * attempts below its floor.
 */
export function abortEndedTasks(running: RunningTasks, e: JobEntry): void {
  const ctx = e.snapshot.context as JobContext;
  if (TERMINAL_STATES.has(e.state)) running.abortJob(e.id, ctx.epoch, 'job-finished');
  else running.abortObsolete(e.id, (taskId, attempt) => belowFloor(ctx, taskId, attempt), 'attempt-obsolete');
}
