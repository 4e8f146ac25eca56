/**
 * OpenPAI names a job `user~name`; the engine by a UUID. An OpenPAI job is a native `exec` job of
 * owner `user` carrying the label `openpai/name=<name>` (and `openpai/api=v1|v2`: the generation
 * that submitted it, which decides what `/config` shows). A name stays taken while a job of that
 * name is active, whatever its state, as in OpenPAI v2; v1 `DELETE` (deactivation) or retention
 * frees it. Two submissions of one name at once make one job: the submission's idempotency key is
 * derived from the name and the newest earlier job of that name, so the engine resolves a race to
 * one job id (the Alluxio EE identity pattern, api/compat/alluxio/jobIdentity.ts).
 *
 * A job whose commands hold secrets has them sealed: the commands that run are a document of the
 * document store (namespace `execsealed`, a random id), written before the submission and named
 * in `spec.sealed`; a submission that makes no job deletes it again, and so does v1 `DELETE`.
 */
import { randomUUID } from 'node:crypto';
import { AppError, EXEC_SEALED_NAMESPACE, isAppError, SYSTEM_CALLER, USER_NAME_RE, type By, type Caller, type DocumentStore, type ExecSealedDocument, type ExecSpec, type JobService, type JobView } from '../../../engine/index.ts';
import { noJob } from './errors.ts';
import { OPENPAI_NAME_LABEL, paiJobName } from './jobViews.ts';
import { JOB_NAME_RE } from './protocolToExec.ts';

export const NAME_LABEL = OPENPAI_NAME_LABEL;
export const API_LABEL = 'openpai/api';
export type SubmittedBy = 'v1' | 'v2';

/** Jobs of one (user, name) a lookup reads: the active one and the inactive ones before it. */
const LOOKUP_LIMIT = 20;

/** `alice~job1` → `{user: 'alice', name: 'job1'}`; undefined when either part breaks its rule (split at the first `~`). */
export function splitFrameworkName(frameworkName: string): { user: string; name: string } | undefined {
  const at = frameworkName.indexOf('~');
  if (at <= 0) return undefined;
  const user = frameworkName.slice(0, at);
  const name = frameworkName.slice(at + 1);
  return USER_NAME_RE.test(user) && JOB_NAME_RE.test(name) ? { user, name } : undefined;
}

/** The OpenPAI name of a job (its label; a native exec job: its spec's jobName, else its name). */
export const openpaiName = paiJobName;

/** Jobs of `owner` named `name`, newest first (at most LOOKUP_LIMIT). */
async function named(service: JobService, owner: string | undefined, name: string): Promise<JobView[]> {
  const { jobs } = await service.list({ type: 'exec', active: 'all', limit: LOOKUP_LIMIT, labels: { [NAME_LABEL]: name }, ...(owner !== undefined ? { owner } : {}) }, SYSTEM_CALLER);
  return jobs;
}

/**
 * The active job of `user` named `name` that `caller` may see (its owner, an admin, or the anonymous
 * reader), or the generation's not-found error. Another user's job reads as not found, as on the native API.
 */
export async function findJob(service: JobService, caller: Caller, user: string, name: string): Promise<JobView> {
  if (!USER_NAME_RE.test(user) || !JOB_NAME_RE.test(name)) throw noJob(user, name);
  if (caller.role !== 'admin' && caller.user !== user) throw noJob(user, name);
  const job = (await named(service, user, name)).find((j) => j.active && j.owner === user);
  if (job === undefined) throw noJob(user, name);
  return job;
}

/**
 * The seed's `GET /api/v1/jobs/:jobName` without a user: the job of that name of `me` (the caller;
 * on a public read, the token's user if any); for the
 * anonymous reader (and an admin without one of their own), the newest active job of that name of any
 * user, as in the seed's single namespace.
 */
export async function findSeedJob(service: JobService, caller: Caller, jobName: string, me: string = caller.user): Promise<JobView> {
  const split = jobName.includes('~') ? splitFrameworkName(jobName) : undefined;
  if (split !== undefined) return findJob(service, caller, split.user, split.name);
  if (!JOB_NAME_RE.test(jobName)) throw noJob(me, jobName);
  const jobs = (await named(service, undefined, jobName)).filter((j) => j.active);
  // `me`: whose job a bare name means first (a public read's token user, not the reader that sees all)
  const own = jobs.find((j) => j.owner === me);
  if (own !== undefined) return own;
  if (caller.role === 'admin' && jobs[0] !== undefined) return jobs[0];
  throw noJob(me, jobName);
}

/** What a submission adds to the exec spec's job. */
export interface NamedSubmission {
  name: string;
  virtualCluster: string;
  spec: ExecSpec;
  by: SubmittedBy;
  /** The commands that run and the secrets to hide, when they differ from the spec's (protocolToExec). */
  sealed?: Omit<ExecSealedDocument, 'owner'>;
}

/** A job of that name is active (`job`: it), or two submissions raced and the other won. */
export class DuplicateJobError extends Error {
  constructor(readonly user: string, readonly jobName: string) {
    super(`job ${user}~${jobName} exists`);
  }
}

/** Task attempts an instance gets: its role's retries, one first run, and one redelivery after a lost worker. */
function maxTaskAttempts(spec: ExecSpec): number {
  const retries = Math.max(spec.taskRetryCount ?? 0, ...spec.taskRoles.map((r) => r.taskRetryCount ?? 0));
  return Math.min(100, retries + 2);
}

/**
 * Submits the job `sub.name` of the caller; DuplicateJobError when one of that name is active or a
 * concurrent submission of that name won. Engine refusals (virtual cluster, spec, queue) pass through.
 * With `sub.sealed`, its document is written first and named in the spec; it is deleted again
 * whenever no job of ours came of it (a refusal, a duplicate, any error).
 */
export async function submitNamed(service: JobService, documents: DocumentStore, by: By, sub: NamedSubmission): Promise<JobView> {
  const user = by.caller.user;
  const jobs = await named(service, user, sub.name);
  if (jobs.some((j) => j.active && j.owner === user)) throw new DuplicateJobError(user, sub.name);
  const previous = jobs[0]?.submitSeq ?? 0;
  const sealed = sub.sealed;
  const sealedId = sealed === undefined ? undefined : randomUUID();
  if (sealed !== undefined && sealedId !== undefined) {
    // the owner: only this user's submissions (and an admin's) may name it (engine/jobtypes/exec/sealed.ts)
    await documents.create(EXEC_SEALED_NAMESPACE, sealedId, { ...sealed, owner: user } satisfies ExecSealedDocument).catch((err: unknown) => {
      if (isAppError(err, 'VALIDATION_FAILED')) throw new AppError('VALIDATION_FAILED', `the commands with their secrets are too large to keep: ${err.message}`);
      throw err;
    });
  }
  const spec: ExecSpec = sealedId === undefined ? sub.spec : { ...sub.spec, sealed: { id: sealedId } };
  /** The document is ours to delete: no job of ours came of the submission (decided, or known). */
  let orphan = false;
  try {
    const { job, created } = await service.submit(
      {
        type: 'exec',
        name: sub.name,
        spec: spec as unknown as Record<string, unknown>,
        virtualCluster: sub.virtualCluster,
        maxTaskAttempts: maxTaskAttempts(sub.spec),
        labels: { [NAME_LABEL]: sub.name, [API_LABEL]: sub.by },
      },
      { ...by, idempotencyKey: `openpai/${sub.name}/after/${previous}` },
    );
    // the job that won a race has its own document
    if (!created) {
      orphan = true;
      throw new DuplicateJobError(user, sub.name);
    }
    return job;
  } catch (err) {
    if (isAppError(err, 'IDEMPOTENCY_KEY_REUSED')) {
      orphan = true;
      throw new DuplicateJobError(user, sub.name);
    }
    // a refusal wrote nothing; after anything else (the store away, a lost ack) the job may exist
    // and need its document: it is ours only if no job names it
    orphan = err instanceof DuplicateJobError || (isAppError(err) && err.status < 500) || (sealedId !== undefined && !(await namesSealed(service, user, sub.name, sealedId)));
    throw err;
  } finally {
    if (sealedId !== undefined && orphan) await documents.delete(EXEC_SEALED_NAMESPACE, sealedId).catch(() => undefined);
  }
}

/** Whether a job of (user, name) names the sealed document `id`; true when that cannot be told (keep the document rather than break a job). */
async function namesSealed(service: JobService, user: string, name: string, id: string): Promise<boolean> {
  try {
    return (await named(service, user, name)).some((j) => (j.spec as ExecSpec).sealed?.id === id);
  } catch {
    return true;
  }
}

/** Deletes the job's sealed commands, if it has them (their secrets are kept no longer than the job). */
async function deleteSealed(documents: DocumentStore, job: JobView): Promise<void> {
  const id = (job.spec as ExecSpec).sealed?.id;
  if (typeof id === 'string') await documents.delete(EXEC_SEALED_NAMESPACE, id);
}

/** True for a job that has not finished. */
export function unfinished(job: JobView): boolean {
  return job.state === 'WAITING' || job.state === 'RUNNING' || job.state === 'PAUSED' || job.state === 'VERIFYING';
}

/**
 * OpenPAI's executionType: STOP stops an unfinished job (cooperatively; v2 shows STOPPING until it
 * has), and is a no-op on a finished or stopping one; START changes nothing (a waiting or running job
 * runs already, and a completed framework is not restarted).
 */
export async function execute(service: JobService, by: By, job: JobView, value: 'START' | 'STOP'): Promise<void> {
  if (value === 'START' || !unfinished(job) || job.stopRequested !== null) return;
  try {
    await service.stop(job.id, by);
  } catch (err) {
    // it finished (or a stop began) between our read and the stop
    if (!isAppError(err, 'INVALID_TRANSITION')) throw err;
  }
}

/**
 * v1 DELETE: stops the job at once if unfinished (a forced stop is JobStopped, no grace), then
 * deactivates it, which frees its name, and deletes its sealed commands (a re-run of it, after
 * activating it again natively, fails SECRETS_UNAVAILABLE).
 */
export async function removeJob(service: JobService, documents: DocumentStore, by: By, job: JobView): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const current = await service.get(job.id, SYSTEM_CALLER);
      if (current.active) {
        if (unfinished(current)) await service.stop(job.id, { ...by, force: true });
        await service.setActive(job.id, false, by);
      }
      await deleteSealed(documents, current);
      return;
    } catch (err) {
      // a concurrent writer (the job finished, another delete) moved it between our read and write
      if (attempt >= 3 || !(isAppError(err, 'INVALID_TRANSITION') || isAppError(err, 'CONFLICT'))) throw err;
    }
  }
}
