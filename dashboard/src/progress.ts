/** A job's completion as one figure: tasks that are final (succeeded or failed) of all planned; 100 % once SUCCEEDED. */
import type { Job } from './client/types.ts';

export function percentDone(job: Pick<Job, 'state' | 'progress'>): number {
  if (job.state === 'SUCCEEDED') return 100;
  const p = job.progress;
  if (p.tasksTotal === 0) return 0;
  return Math.min(100, Math.floor(((p.tasksSucceeded + p.tasksFailed) / p.tasksTotal) * 100));
}

/** Rate and time left from the job's start (null before it has a rate). */
export function rateAndEta(job: Job, now = Date.now()): { tasksPerSec: number; etaMs: number } | null {
  if (job.startedAt === null || job.finishedAt !== null) return null;
  const p = job.progress;
  const done = p.tasksSucceeded + p.tasksFailed;
  const elapsed = now - Date.parse(job.startedAt);
  if (done === 0 || elapsed <= 0) return null;
  const tasksPerSec = done / (elapsed / 1000);
  return { tasksPerSec, etaMs: ((p.tasksTotal - done) / tasksPerSec) * 1000 };
}
