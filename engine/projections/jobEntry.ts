import type { JobEvent, JobState } from '../../actors/events.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import { toJobView, type JobSnapshot, type JobView } from '../../actors/jobFold.ts';

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

/**
 * The submit sequence of a job that starts with event `ev` of record `recordSeq`: the record's own
 * seq for a JobSubmitted, the one a JobCompacted carries (else its seq: written before it carried
 * one); undefined for any other event (it cannot start a job).
 */
export function submitSeqOf(ev: JobEvent, recordSeq: number): number | undefined {
  if (ev.type === 'JobSubmitted') return recordSeq;
  if (ev.type === 'JobCompacted') return ev.data.submitSeq ?? recordSeq;
  return undefined;
}

/** The API's view of a job: the snapshot's, with the submit sequence only the log knows. */
export function jobView(snapshot: JobSnapshot, submitSeq: number): JobView {
  const { id, ...rest } = toJobView(snapshot);
  return { id, submitSeq, ...rest };
}

/** The API's view of a projection entry. */
export const entryView = (e: JobEntry): JobView => jobView(e.snapshot, e.submitSeq);
