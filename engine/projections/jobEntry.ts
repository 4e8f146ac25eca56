import type { JobState } from '../../actors/events.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { JobSnapshot } from '../../actors/jobFold.ts';

/** A job as the projection holds it. */
export interface JobEntry {
  id: string;
  snapshot: JobSnapshot;
  state: JobState;
  /**
   * Sequence of the JobSubmitted record (orders jobs; an int64-style id for facades). For a job
   * first seen as a JobCompacted record: the `submitSeq` it carries (else that record's seq).
   */
  submitSeq: number;
  /** Sequence of the last record on job.<id>.ev: the CAS expectation for the next append. */
  lastEvSeq: number;
}

export const ctxOf = (e: JobEntry) => e.snapshot.context as JobContext;
