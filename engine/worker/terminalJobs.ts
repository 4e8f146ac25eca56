/**
 * What a job's end means for its tasks here: a task of a job already terminal is dropped, and a
 * job that becomes terminal aborts its tasks still running. The same for an attempt the job no
 * longer wants: a job retry (JobRetried) makes every task's attempts so far obsolete.
 *
 * The facts come from the full projection, or from the slim view of a worker-only process
 * (engine/projections/jobFacts.ts, slimJobView.ts).
 */
import type { JobFact, JobFacts } from '../projections/jobFacts.ts';
import type { TaskMessage } from '../taskqueue/taskQueue.ts';
import type { RunningTasks } from './runningTasks.ts';

/**
 * True when the task's job is terminal in our view at the task's epoch or later. A task from a
 * higher epoch belongs to a recovered run our view has not caught up with yet: run it (dropping it
 * would lose the task: found by test/sim). So does a task of a job the view does not know.
 */
export function finishedFor(jobs: JobFacts, t: TaskMessage): boolean {
  const job = jobs.get(t.jobId);
  return job !== undefined && job.terminal && job.epoch >= t.epoch;
}

/**
 * True when the job reset the task after this attempt was dispatched (a job retry, or a recovery):
 * its outcome would be ignored (below the task's attempt floor), so it need not run. A view that
 * lags says false: the attempt runs until the reset reaches it (then it is aborted).
 */
export function obsoleteFor(jobs: JobFacts, t: TaskMessage): boolean {
  const job = jobs.get(t.jobId);
  return job !== undefined && belowFloor(job, t.taskId, t.attempt);
}

function belowFloor(job: JobFact, taskId: string, attempt: number): boolean {
  const floor = job.floor(taskId);
  return floor !== undefined && attempt < floor;
}

/**
 * A job that became terminal (stopped after its grace period, failed, or finished elsewhere)
 * aborts its tasks still running here, and a job still running aborts the attempts it reset (a
 * job retry); their handler sees the signal and no outcome is recorded. A task that completes
 * anyway is recorded as usual: a terminal job ignores late outcomes, and a reset task those of
 * attempts below its floor.
 */
export function abortEndedTasks(running: RunningTasks, jobId: string, job: JobFact): void {
  if (job.terminal) running.abortJob(jobId, job.epoch, 'job-finished');
  else running.abortObsolete(jobId, (taskId, attempt) => belowFloor(job, taskId, attempt), 'attempt-obsolete');
}
