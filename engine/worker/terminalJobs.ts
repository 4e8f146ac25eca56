/**
 * What a job's end means for its tasks here: a task of a job already terminal is dropped, and a
 * job that becomes terminal aborts its tasks still running.
 */
import { TERMINAL_STATES } from '../../actors/events.ts';
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
 * A job that became terminal (stopped after its grace period, failed, or finished elsewhere)
 * aborts its tasks still running here; their handler sees the signal and no outcome is recorded.
 * A task that completes anyway is recorded as usual: a terminal job ignores late outcomes.
 */
export function abortTasksOfTerminalJob(running: RunningTasks, e: JobEntry): void {
  if (!TERMINAL_STATES.has(e.state)) return;
  running.abortJob(e.id, (e.snapshot.context as { epoch: number }).epoch, 'job-finished');
}
