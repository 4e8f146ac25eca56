/**
 * The tasks running on this worker, each with the AbortController its job type's `run` listens to,
 * indexed by job so that a job's tasks are found without a scan.
 */

interface Running {
  jobId: string;
  taskId: string;
  attempt: number;
  /** Claim epoch of the run that dispatched it. */
  epoch: number;
  abort: AbortController;
}

/** A task just started: the signal its `run` gets, and `done()` to call when it ends, whatever the end. */
export interface RunningTask {
  abort: AbortController;
  done(): void;
}

export interface RunningTasks {
  /** Tasks running now. */
  readonly size: number;
  /** Up to `max` of the tasks running now (what the heartbeat tells). */
  list(max: number): { jobId: string; taskId: string }[];
  /** Records a task as running under `key` (`jobId:taskId:attempt:epoch`). */
  start(key: string, jobId: string, epoch: number): RunningTask;
  /** Aborts the job's tasks of runs up to `epoch`, with `reason`. */
  abortJob(jobId: string, epoch: number, reason: string): void;
  /** Aborts the job's tasks whose attempt `obsolete` says the job no longer wants, with `reason`. */
  abortObsolete(jobId: string, obsolete: (taskId: string, attempt: number) => boolean, reason: string): void;
  /** Aborts every running task with `reason`. */
  abortAll(reason: string): void;
}

export function createRunningTasks(): RunningTasks {
  /** Runs by an id of their own: the same task attempt delivered again while it runs (an ack wait missed) is a second run, not the first one's replacement. */
  const running = new Map<number, Running>();
  let nextRun = 0;
  /** jobId → keys of its tasks in `running`: a finished job aborts its own tasks without a scan. */
  const runningByJob = new Map<string, Set<number>>();

  return {
    get size() {
      return running.size;
    },
    start(key, jobId, epoch) {
      const abort = new AbortController();
      // the key is `jobId:taskId:attempt:epoch` (the job id is a UUID; a task id may hold colons)
      const parts = key.slice(jobId.length + 1).split(':');
      const taskId = parts.slice(0, -2).join(':');
      const run = nextRun++;
      running.set(run, { jobId, taskId, attempt: Number(parts.at(-2)), epoch, abort });
      let keys = runningByJob.get(jobId);
      if (!keys) runningByJob.set(jobId, (keys = new Set()));
      keys.add(run);
      const jobKeys = keys;
      return {
        abort,
        done() {
          running.delete(run);
          jobKeys.delete(run);
          if (jobKeys.size === 0 && runningByJob.get(jobId) === jobKeys) runningByJob.delete(jobId);
        },
      };
    },
    abortJob(jobId, epoch, reason) {
      const keys = runningByJob.get(jobId);
      if (!keys) return;
      for (const key of keys) {
        const r = running.get(key);
        // a task of a later run (a recovery claimed it again) is not this terminal state's to abort
        if (r && r.epoch <= epoch) r.abort.abort(reason);
      }
    },
    abortObsolete(jobId, obsolete, reason) {
      const keys = runningByJob.get(jobId);
      if (!keys) return;
      for (const key of keys) {
        const r = running.get(key);
        if (r && !r.abort.signal.aborted && obsolete(r.taskId, r.attempt)) r.abort.abort(reason);
      }
    },
    list(max) {
      const out: { jobId: string; taskId: string }[] = [];
      for (const r of running.values()) {
        if (out.length >= max) break;
        out.push({ jobId: r.jobId, taskId: r.taskId });
      }
      return out;
    },
    abortAll(reason) {
      for (const r of running.values()) r.abort.abort(reason);
    },
  };
}
