import { EVENT_SCHEMA_VERSION, type JobsRemoved } from '../../actors/events.ts';
import type { Clock } from '../clock.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { jobEvSubject, jobHookSubject, jobTaskSubject, RETENTION_REMOVED_SUBJECT } from '../subjects.ts';

/** A writer's removals from the stream: a job's subjects, the notice to every projection, strays. */
export interface Removal {
  purgeJob(id: string): Promise<void>;
  announce(jobs: JobsRemoved['data']['jobs']): Promise<void>;
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
   * Tells every projection which jobs were removed (JobsRemoved), so that none keeps one until its
   * own clock agrees they are old enough. Rolled up: the stream keeps only the newest notice.
   */
  async function announce(jobs: JobsRemoved['data']['jobs']): Promise<void> {
    const ev: JobsRemoved = { type: 'JobsRemoved', data: { jobs }, meta: { jobId: '', epoch: 0, actor, at: new Date(clock.now()).toISOString(), v: EVENT_SCHEMA_VERSION } };
    await eventLog.append(RETENTION_REMOVED_SUBJECT, [ev], { rollup: true });
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

  return { purgeJob, announce, purgeStray };
}
