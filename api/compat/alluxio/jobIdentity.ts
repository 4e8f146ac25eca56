/**
 * Alluxio Enterprise addresses a job by (type, path) as well as by its UUID (seed 004, "Job
 * Identity"; our native job id is a UUID). Here: EE's type names ↔ ours, the job of a (type, path)
 * found through the native list, and a submission that refuses an identical active job (409) without
 * a check-then-submit race: it submits with an idempotency key derived from the (type, path) and its
 * generation, so two identical submissions at once resolve to one native job (docs/compat/alluxio.md,
 * "EE coordinator REST").
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { AppError, isAppError, type By, type Caller, type JobService, type JobView, type SubmitRequest } from '../../../engine/index.ts';
import { alluxioPath, nativePath } from './jobConfig.ts';

/** EE's job types (`--job-type`, `job list`) and ours. */
export const EE_TYPES = { LOAD: 'load', FREE: 'free', COPY: 'copy', MOVE: 'move' } as const;
export type EeType = keyof typeof EE_TYPES;

/** `LOAD` → `load`; undefined for a type EE does not have. */
export function nativeType(ee: string): string | undefined {
  return Object.hasOwn(EE_TYPES, ee) ? EE_TYPES[ee as EeType] : undefined;
}

/** `load` → `LOAD`; undefined for a native type EE does not have (`sleep`, …). */
export function eeType(native: string): EeType | undefined {
  return (Object.keys(EE_TYPES) as EeType[]).find((k) => EE_TYPES[k] === native);
}

/** Not yet finished: an identical submission is refused while one of these exists. */
export const ACTIVE_STATES: readonly JobView['state'][] = ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING'];

/**
 * An Alluxio path as the identity's path: under our files root, `.` for `/`, without `./`, `//` or a
 * trailing `/`, so `/a/b/`, `/a//b` and `alluxio://m:19998/a/b` name one job. A path that leaves the
 * root stays as it is, for the engine to refuse.
 */
export function identityPath(field: string, value: unknown): string {
  const rel = nativePath(field, value);
  const normal = posix.normalize(rel).replace(/\/+$/, '');
  return normal === '' ? '.' : normal;
}

/** The path a job is identified by: `path` (load, free), `src` (copy, move); '' when it has none. */
export function jobPath(job: Pick<JobView, 'type' | 'spec'>): string {
  const p = job.type === 'copy' || job.type === 'move' ? job.spec['src'] : job.spec['path'];
  if (typeof p !== 'string') return '';
  const normal = posix.normalize(p).replace(/\/+$/, '');
  return normal === '' ? '.' : normal;
}

/** The Alluxio path of a job (its identity's path, as Alluxio shows it). */
export function jobAlluxioPath(job: Pick<JobView, 'type' | 'spec'>): string {
  return alluxioPath(jobPath(job));
}

/**
 * The label that carries a job's identity path (hashed: label values are short and restricted). Every
 * job the Alluxio facades and the `jetjobs job` command submit carries it, so a lookup by (type, path)
 * reads only that path's jobs (the projection's label index), never the whole history. The CLI derives
 * it alike (cli/alluxioIdentity.ts).
 */
export const PATH_LABEL = 'alluxio/path';

/** The value of {@link PATH_LABEL} for an identity path: 32 hex digits of its sha256. */
export function pathHash(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 32);
}

/** `request` with the identity label of its (type, path), for a type EE addresses by path. */
export function withPathLabel(request: SubmitRequest): SubmitRequest {
  if (eeType(request.type) === undefined) return request;
  const path = jobPath(request);
  return path === '' ? request : { ...request, labels: { ...request.labels, [PATH_LABEL]: pathHash(path) } };
}

/** Jobs of (type, path) a lookup reads at most (more than one only if 128-bit hashes collide). */
const LOOKUP_LIMIT = 20;

/** The most recent job of (type, path) the caller sees, among `states` if given. */
export async function latestJob(service: JobService, caller: Caller, type: string, path: string, states?: readonly JobView['state'][]): Promise<JobView | undefined> {
  const { jobs } = await service.list({
    type, active: 'all', limit: LOOKUP_LIMIT, labels: { [PATH_LABEL]: pathHash(path) },
    ...(states !== undefined ? { state: [...states] } : {}),
  }, caller);
  return jobs.find((job) => jobPath(job) === path);
}

/** The most recent job of `type` named `name` (EE's `alias`), among `states` if given. */
export async function latestNamed(service: JobService, caller: Caller, type: string, name: string, states?: readonly JobView['state'][]): Promise<JobView | undefined> {
  const { jobs } = await service.list({ type, name, active: 'all', limit: 1, ...(states !== undefined ? { state: [...states] } : {}) }, caller);
  return jobs[0];
}

/** The caller's jobs of `type`, newest first, at most `max` (1..1000). */
export async function jobsOfType(service: JobService, caller: Caller, type: string, max: number): Promise<JobView[]> {
  return (await service.list({ type, active: 'all', limit: max }, caller)).jobs;
}

/**
 * The idempotency key of a submission for (type, path) after the job `previous` (its most recent
 * finished one; none: 0). Every identical submission that sees the same history uses the same key,
 * so the engine makes one job of them; once that job has finished, it is the new `previous` and the
 * next submission gets a new key (and a new job). The path is hashed: keys stay short.
 */
export function identityKey(type: string, path: string, previousSubmitSeq: number): string {
  return `alluxio-ee/${type}/${pathHash(path)}/after/${previousSubmitSeq}`;
}

/** 409: an identical job (same type and path) is active. */
export const identicalJobActive = (type: string, path: string, job?: JobView) =>
  new AppError('INVALID_TRANSITION', `An identical ${eeType(type) ?? type} job of ${alluxioPath(path)} is already ${job?.state ?? 'active'}${job ? ` (id ${job.id})` : ''}`);

/** Attempts when the job a key names finished between our look and our submit. */
const ATTEMPTS = 3;

/** The active job of (type, path), if any: a new identical submission would be refused. */
export async function activeJob(service: JobService, caller: Caller, type: string, path: string): Promise<JobView | undefined> {
  return latestJob(service, caller, type, path, ACTIVE_STATES);
}

/**
 * Submits `request` as the job of (request.type, path), `path` being what `jobPath` reads from its
 * spec; INVALID_TRANSITION (409) when a job of that (type, path) is active, or an identical
 * submission at the same moment made it.
 */
export async function submitIdentified(service: JobService, submission: SubmitRequest, path: string, by: By): Promise<JobView> {
  const { type } = submission;
  const request = withPathLabel(submission);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const active = await activeJob(service, by.caller, type, path);
    if (active !== undefined) throw identicalJobActive(type, path, active);
    const previous = await latestJob(service, by.caller, type, path);
    let result: { job: JobView; created: boolean };
    try {
      result = await service.submit(request, { ...by, idempotencyKey: identityKey(type, path, previous?.submitSeq ?? 0) });
    } catch (err) {
      // the same key with other options (batch size, alias, …): a concurrent submission of this (type, path) won
      if (isAppError(err, 'IDEMPOTENCY_KEY_REUSED')) throw identicalJobActive(type, path);
      throw err;
    }
    if (result.created) return result.job;
    // the key's job exists: made by a concurrent identical submission (409), or made and finished
    // since we looked (then look again: it is the new `previous`)
    if (ACTIVE_STATES.includes(result.job.state)) throw identicalJobActive(type, path, result.job);
  }
  throw identicalJobActive(type, path);
}
