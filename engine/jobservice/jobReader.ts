/**
 * Reading one job: from the projection, or from the log when the projection lags (or a retry must
 * not trust it), and waiting for a write to show up locally (read-your-writes).
 */
import type { JobEvent } from '../../actors/events.ts';
import { foldJob, IllegalEventError, type JobSnapshot } from '../../actors/jobFold.ts';
import { AppError } from '../errors.ts';
import type { EventLog, LogRecord } from '../eventlog/eventLog.ts';
import { entryView, jobView, submitSeqOf } from '../projections/jobEntry.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { retry } from '../retry.ts';
import type { Caller, JobView } from '../serviceTypes.ts';
import { jobEvSubject, jobTaskSubject } from '../subjects.ts';
import { canSeeJob } from './access.ts';

/** How long a write (or a look-up by submit sequence) waits for the local projection to show it (read-your-writes). */
export const READ_YOUR_WRITES_MS = 2000;
/** Fresh reads of one job that may race retention (see `load`). */
const READ_RETRIES = 4;

/** The API's view of a job: its snapshot's, with its submit sequence. */
export const toView = jobView;

/** A job's snapshot, its submit sequence, and the CAS expectation for its next append on `.ev`. */
export interface LoadedJob {
  snapshot: JobSnapshot;
  /** Stream sequence of the job's JobSubmitted (see JobView.submitSeq). */
  submitSeq: number;
  lastEvSeq: number;
}

export interface JobReader {
  /** From the projection or, if it lags (or `fresh`), the log; JOB_NOT_FOUND if neither has it. */
  load(id: string, fresh?: boolean): Promise<LoadedJob>;
  /** `load`, refusing (as not found) a job the caller may not see. */
  loadVisible(id: string, caller: Caller, fresh?: boolean): Promise<LoadedJob>;
  /** The job's `.ev` and `.task` records, read in that order. */
  readJob(id: string): Promise<[LogRecord[], LogRecord[]]>;
  /** The job once the projection applied record `seq` (or, if it lags, as the log has it). */
  viewAfter(id: string, seq: number): Promise<JobView>;
}

export function createJobReader(deps: { eventLog: EventLog; projection: JobProjection }): JobReader {
  const { eventLog, projection } = deps;

  async function load(id: string, fresh = false): Promise<LoadedJob> {
    const e: JobEntry | undefined = fresh ? undefined : projection.get(id);
    if (e) return { snapshot: e.snapshot, submitSeq: e.submitSeq, lastEvSeq: e.lastEvSeq };
    // Retention rolled `.ev` up and purged `.task` between our two reads (found by test/sim): the
    // pair is from two moments and folds to IllegalEventError. Read again; the next `.ev` read holds the JobCompacted.
    return retry(async () => {
      const [ev, tasks] = await readJob(id);
      if (ev.length === 0) throw notFound(id);
      // Task outcomes gate transitions (VerificationStarted needs every task final): fold both subjects in stream order.
      const events = [...ev, ...tasks].sort((a, b) => a.seq - b.seq).flatMap((r) => r.events) as JobEvent[];
      return { snapshot: foldJob(events), submitSeq: submitSeqFromLog(ev), lastEvSeq: ev[ev.length - 1]!.seq };
    }, { retryOn: (err) => err instanceof IllegalEventError, attempts: READ_RETRIES });
  }

  async function loadVisible(id: string, caller: Caller, fresh = false): Promise<LoadedJob> {
    const j = await load(id, fresh);
    if (!canSeeJob(caller, j.snapshot.context)) throw notFound(id);
    return j;
  }

  /**
   * Reads `.ev`, then `.task`: the later task read holds every outcome an ev record depends on
   * (VerificationStarted needs all tasks final). Two parallel reads could pair a newer ev list
   * with an older task list, which folds to IllegalEventError (found by test/sim).
   */
  async function readJob(id: string): Promise<[LogRecord[], LogRecord[]]> {
    const ev = await eventLog.readSubject(jobEvSubject(id));
    return [ev, await eventLog.readSubject(jobTaskSubject(id))];
  }

  async function viewAfter(id: string, seq: number): Promise<JobView> {
    await projection.waitFor(seq, READ_YOUR_WRITES_MS);
    const e = projection.get(id);
    if (e && e.lastEvSeq >= seq) return entryView(e);
    const j = await load(id, true);
    return toView(j.snapshot, j.submitSeq);
  }

  return { load, loadVisible, readJob, viewAfter };
}

/**
 * The submit sequence a job's `.ev` records tell, as the projection finds it (jobProjection.ts): the
 * first record holds the JobSubmitted, or the JobCompacted that replaced the history.
 */
function submitSeqFromLog(ev: LogRecord[]): number {
  const first = ev[0]!;
  const submitSeq = first.events.length > 0 ? submitSeqOf(first.events[0] as JobEvent, first.seq) : undefined;
  // foldJob accepted the records, so the first is one of the two; the record's seq is the projection's fallback too
  return submitSeq ?? first.seq;
}

export function notFound(id: string): AppError {
  return new AppError('JOB_NOT_FOUND', `no job ${id}`);
}
