import { EVENT_SCHEMA_VERSION, type JobEvent, type JobsRemoved } from '../../actors/events.ts';
import type { Clock } from '../clock.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import { submitSeqOf } from '../projections/jobEntry.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { jobEvSubject, jobHookSubject, jobTaskSubject, RETENTION_REMOVED_SUBJECT } from '../subjects.ts';

/** One removed run: a job id and the sequence of its JobSubmitted. */
export type RemovedRun = JobsRemoved['data']['jobs'][number];

/** The newest JobsRemoved notice in the stream (the subject is rolled up: it holds one). */
export interface RemovalNotice {
  /** Its stream sequence: the CAS expectation of the next notice. */
  seq: number;
  jobs: RemovedRun[];
  /** Written before its purges and not yet followed by the notice that says they are done. */
  pending: boolean;
  /**
   * The `sinceSeq` of a notice that names every run of this one (JobsRemoved): this one's own, or its
   * sequence when it has none (written before the field: it may cover nothing).
   */
  sinceSeq: number;
}

/** A writer's removals from the stream: a job's subjects, the notices to every projection, strays. */
export interface Removal {
  purgeJob(id: string): Promise<void>;
  /** Purges what is left of `run` (a pending notice's job, whose writer may have died midway); false if the id now holds another run. */
  purgeRun(run: RemovedRun): Promise<boolean>;
  /** The newest notice, if any. */
  readNotice(): Promise<RemovalNotice | undefined>;
  /**
   * Appends a notice (CAS on `expectedSeq`, rolled up) that makes up for the notices after `sinceSeq`
   * (JobsRemoved.sinceSeq); resolves with its sequence; CONFLICT if a newer one came.
   */
  announce(jobs: RemovedRun[], pending: boolean, expectedSeq: number, sinceSeq: number): Promise<number>;
  purgeStray(id: string): Promise<boolean>;
}

export function createRemoval(deps: { eventLog: EventLog; projection: JobProjection; clock: Clock; actor: string }): Removal {
  const { eventLog, projection, clock, actor } = deps;

  /**
   * Purges the job's subjects, `.ev` first: a reader between two purges then finds no job (404),
   * never a history without its task outcomes (which folds to an illegal sequence; found by
   * test/sim). A crash between the purges leaves the job's `.task`/`.hook` messages: replay ignores
   * them (their job is unknown) and notes them as strays, which the next pass purges (purgeStray).
   */
  async function purgeJob(id: string): Promise<void> {
    await eventLog.purge(jobEvSubject(id));
    await eventLog.purge(jobTaskSubject(id));
    await eventLog.purge(jobHookSubject(id));
  }

  /**
   * Finishes the removal of `run`: its `.ev` still holds that run (compacted, so nothing was appended
   * since) or nothing (the purge of `.ev` was done). An id that holds a newer run (submitted again
   * after the purge) is left alone.
   */
  async function purgeRun(run: RemovedRun): Promise<boolean> {
    const ev = await eventLog.readSubject(jobEvSubject(run.jobId));
    const first = ev[0];
    const first0 = first?.events[0] as JobEvent | undefined;
    if (first !== undefined && (first0 === undefined || submitSeqOf(first0, first.seq) !== run.submitSeq)) return false;
    await purgeJob(run.jobId);
    return true;
  }

  async function readNotice(): Promise<RemovalNotice | undefined> {
    const records = await eventLog.readSubject(RETENTION_REMOVED_SUBJECT);
    const last = records[records.length - 1];
    const ev = last?.events.find((e) => e.type === 'JobsRemoved') as JobsRemoved | undefined;
    if (last === undefined) return undefined;
    return { seq: last.seq, jobs: ev?.data.jobs ?? [], pending: ev?.data.pending === true, sinceSeq: ev?.data.sinceSeq ?? last.seq };
  }

  /**
   * Tells every projection which jobs are removed (JobsRemoved), so that none keeps one until its
   * own clock agrees they are old enough. Rolled up: the stream keeps only the newest notice, hence
   * the CAS: a pending notice is never replaced by one that does not carry its jobs. `sinceSeq` tells
   * a reader which rolled-up notices this one makes up for: a reader that follows only some subjects,
   * such as a worker-only process's slim view, sees no gap when a notice is rolled up before it read
   * it, and learns of the miss from that (slimViewRetention.ts).
   */
  async function announce(jobs: RemovedRun[], pending: boolean, expectedSeq: number, sinceSeq: number): Promise<number> {
    const ev: JobsRemoved = {
      type: 'JobsRemoved',
      data: { jobs, ...(pending ? { pending } : {}), sinceSeq },
      meta: { jobId: '', epoch: 0, actor, at: new Date(clock.now()).toISOString(), v: EVENT_SCHEMA_VERSION },
    };
    return (await eventLog.append(RETENTION_REMOVED_SUBJECT, [ev], { rollup: true, expectedLastSubjectSeq: expectedSeq })).seq;
  }

  /**
   * Purges the `.task`/`.hook` records of a job the projection does not know, if its `.ev` is empty
   * in the stream: the job was removed and a crash cut purgeJob short. A job with `.ev` records is
   * alive (e.g. this process replayed its task outcomes before the JobCompacted that replaced its
   * history) and is left alone; so is one the projection knows again.
   */
  async function purgeStray(id: string): Promise<boolean> {
    if (projection.get(id) !== undefined) return false;
    if ((await eventLog.readSubject(jobEvSubject(id))).length > 0) return false;
    await eventLog.purge(jobTaskSubject(id));
    await eventLog.purge(jobHookSubject(id));
    return true;
  }

  return { purgeJob, purgeRun, readNotice, announce, purgeStray };
}
