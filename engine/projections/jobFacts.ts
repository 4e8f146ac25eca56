/**
 * What a worker needs to know of a job, and nothing more: whether it is terminal, its claim epoch,
 * and each task's attempt floor (engine/worker/terminalJobs.ts). Two sources give it: the full
 * projection ({@link jobFactsOf}, processes with the coordinator or api role) and the slim view of
 * a worker-only process (slimJobView.ts), which folds no job machine.
 */
import { TERMINAL_STATES } from '../../actors/events.ts';
import { getTaskStatus } from '../../actors/jobContext.ts';
import { ctxOf, type JobEntry } from './jobEntry.ts';
import type { JobProjection } from './jobProjection.ts';

/** One job as a worker sees it. */
export interface JobFact {
  /** SUCCEEDED, FAILED or STOPPED. */
  readonly terminal: boolean;
  /** Claim epoch: raised by every JobClaimed and JobRequeued. */
  readonly epoch: number;
  /**
   * The task's attempt floor (set by a JobRecovered or JobRetried): an attempt below it is obsolete,
   * its outcome would be ignored. Undefined when the job never reset the task.
   */
  floor(taskId: string): number | undefined;
}

/** The jobs a worker reads: a job's facts, and a call each time they may have changed. */
export interface JobFacts {
  /** The job's facts, or undefined when this process does not know it (not yet read, or removed). */
  get(jobId: string): JobFact | undefined;
  /**
   * Called after a record changed what `get(jobId)` says (it may also be called when nothing the
   * worker reads changed). Returns the unsubscribe function.
   */
  onChange(listener: (jobId: string, job: JobFact) => void): () => void;
}

/** A projection entry read as facts; a view of the entry as it is now (no copy). */
class EntryFact implements JobFact {
  readonly #e: JobEntry;
  constructor(e: JobEntry) {
    this.#e = e;
  }
  get terminal(): boolean {
    return TERMINAL_STATES.has(this.#e.state);
  }
  get epoch(): number {
    return ctxOf(this.#e).epoch;
  }
  floor(taskId: string): number | undefined {
    return getTaskStatus(ctxOf(this.#e), taskId)?.attemptFloor;
  }
}

/** The facts of a full projection: the worker's view in a process that folds every job anyway. */
export function jobFactsOf(projection: JobProjection): JobFacts {
  return {
    get(jobId) {
      const e = projection.get(jobId);
      return e === undefined ? undefined : new EntryFact(e);
    },
    onChange: (listener) => projection.onChange((e) => listener(e.id, new EntryFact(e))),
  };
}
