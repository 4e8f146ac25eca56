/**
 * Teraslice executions on the engine: each execution is one native job of type `teraslice` (its
 * `ex_id` is the native job id) labelled `teraslice/job=<job_id>`; a recovered one also
 * `teraslice/recovered=<ex_id>` and `teraslice/cleanup=<type>`. Here: the 13 statuses from the
 * native state, the ExecutionConfig a client reads, the latest execution of a job, and starting or
 * recovering one (docs/compat/teraslice.md).
 */
import {
  isAppError,
  normalizeTerasliceSpec,
  unplannedWork,
  type Caller,
  type JobService,
  type JobView,
  type PlanView,
  type SubmitRequest,
  type TerasliceSpec,
} from '../../../engine/index.ts';
import { TerasliceError } from './errors.ts';
import type { JobRecord } from './jobStore.ts';

export const JOB_LABEL = 'teraslice/job';
export const RECOVERED_LABEL = 'teraslice/recovered';
export const CLEANUP_LABEL = 'teraslice/cleanup';
export const NATIVE_TYPE = 'teraslice';
/** The Teraslice version whose wire behaviour the facade follows (`GET /` shows it with a `v`). */
export const TERASLICE_VERSION = '3.18.0';

export const STATUSES = ['pending', 'scheduling', 'initializing', 'running', 'recovering', 'failing', 'paused', 'stopping', 'completed', 'stopped', 'rejected', 'failed', 'terminated'] as const;
export type ExecutionStatus = (typeof STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'stopped', 'rejected', 'failed', 'terminated']);
export const CLEANUP_TYPES = ['all', 'errors', 'pending'] as const;
export type CleanupType = (typeof CLEANUP_TYPES)[number];

/** The Teraslice status of an execution (table in docs/compat/teraslice.md). */
export function executionStatus(job: JobView): ExecutionStatus {
  switch (job.state) {
    case 'WAITING':
      return 'pending';
    case 'RUNNING':
      if (job.stopRequested !== null) return 'stopping';
      return job.progress.tasksFailed > 0 ? 'failing' : 'running';
    case 'PAUSED':
      return job.stopRequested !== null ? 'stopping' : 'paused';
    case 'VERIFYING':
      if (job.stopRequested !== null) return 'stopping';
      return job.progress.tasksFailed > 0 ? 'failing' : 'running';
    case 'SUCCEEDED':
      return 'completed';
    case 'FAILED':
      return 'failed';
    case 'STOPPED':
      return 'stopped';
  }
}

/** Native states an execution of each status can be in (for listing by status; then filtered exactly). */
const NATIVE_STATES: Readonly<Record<ExecutionStatus, JobView['state'][]>> = {
  pending: ['WAITING'], scheduling: [], initializing: [], recovering: [], rejected: [], terminated: [],
  running: ['RUNNING', 'VERIFYING'], failing: ['RUNNING'], paused: ['PAUSED'], stopping: ['RUNNING', 'PAUSED', 'VERIFYING'],
  completed: ['SUCCEEDED'], stopped: ['STOPPED'], failed: ['FAILED'],
};

export function nativeStatesOf(statuses: readonly ExecutionStatus[]): JobView['state'][] {
  return [...new Set(statuses.flatMap((s) => NATIVE_STATES[s]))];
}

export const isTerminal = (job: JobView) => TERMINAL_STATUSES.has(executionStatus(job));

/** The ExecutionConfig of an execution: its validated job spec plus the execution's own fields. */
export function executionRecord(job: JobView, opts: { deleted?: { on: string } } = {}): Record<string, unknown> {
  const { recovery: _recovery, ...spec } = job.spec;
  const status = executionStatus(job);
  const rec: Record<string, unknown> = {
    ...spec,
    job_id: job.labels[JOB_LABEL] ?? null,
    ex_id: job.id,
    _context: 'ex',
    _created: job.submittedAt,
    _updated: job.finishedAt ?? job.startedAt ?? job.submittedAt,
    _status: status,
    _has_errors: job.progress.tasksFailed > 0 || job.state === 'FAILED',
    _slicer_stats: TERMINAL_STATUSES.has(status) ? slicerStats(job) : {},
    _failureReason: job.error?.message ?? '',
    metadata: {},
    teraslice_version: `v${TERASLICE_VERSION}`,
  };
  const recovered = job.labels[RECOVERED_LABEL];
  if (recovered !== undefined) {
    rec['recovered_execution'] = recovered;
    const cleanup = job.labels[CLEANUP_LABEL];
    if (cleanup !== undefined && cleanup !== '') rec['recovered_slice_type'] = cleanup;
  }
  if (opts.deleted) {
    rec['_deleted'] = true;
    rec['_deleted_on'] = opts.deleted.on;
  }
  return rec;
}

/** The counters Teraslice keeps in `_slicer_stats` at the end (from the native progress). */
function slicerStats(job: JobView): Record<string, unknown> {
  const p = job.progress;
  return {
    processed: p.tasksSucceeded + p.tasksFailed, failed: p.tasksFailed, queued: 0,
    job_duration: durationSeconds(job), workers_joined: 0, workers_reconnected: 0, workers_disconnected: 0,
  };
}

/** Seconds from start to end (Teraslice's `job_duration`, at least 1 once finished); 0 before. */
export function durationSeconds(job: JobView): number {
  if (job.startedAt === null || job.finishedAt === null) return 0;
  return Math.max(1, Math.round((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000));
}

/**
 * The job's most recent execution the caller sees, or undefined. Only the job's owner's: anyone may
 * put the label on a native job, but only the owner's executions are the job's.
 */
export async function latestExecution(service: JobService, caller: Caller, jobId: string, owner: string): Promise<JobView | undefined> {
  const { jobs } = await service.list({ type: NATIVE_TYPE, labels: { [JOB_LABEL]: jobId }, owner, active: 'all', limit: 1 }, caller);
  return jobs[0];
}

/** Its most recent execution, or 404 `No execution was found for job <id>` (teraslice-cli matches the text). */
export async function requireExecution(service: JobService, caller: Caller, jobId: string, owner: string): Promise<JobView> {
  const ex = await latestExecution(service, caller, jobId, owner);
  if (ex === undefined) throw new TerasliceError(404, `No execution was found for job ${jobId}`, 'JOB_NOT_FOUND');
  return ex;
}

/** An execution by its id, of type teraslice, that the caller sees; 404 otherwise. */
export async function executionById(service: JobService, caller: Caller, exId: string): Promise<JobView> {
  try {
    const job = await service.get(exId, caller);
    if (job.type === NATIVE_TYPE && job.labels[JOB_LABEL] !== undefined) return job;
  } catch (err) {
    if (!isAppError(err, 'JOB_NOT_FOUND') && !isAppError(err, 'INVALID_ID')) throw err;
  }
  throw new TerasliceError(404, `execution ${exId.slice(0, 64)} was not found`, 'JOB_NOT_FOUND');
}

/** The job fields Teraslice adds to a spec, and the engine's own `recovery` (only a `_recover` sets it): not what a client's job runs with. */
const RECORD_FIELDS = ['job_id', '_context', '_created', '_updated', '_deleted', '_deleted_on', 'recovery'];

export function specOf(job: Record<string, unknown>): Record<string, unknown> {
  const spec = { ...job };
  for (const f of RECORD_FIELDS) delete spec[f];
  return spec;
}

/** A job name as the native API takes it (Teraslice's may hold any text). */
function nativeName(name: unknown): string {
  const cleaned = String(name ?? 'Custom Job').replace(/[^A-Za-z0-9 _.:/@+-]/g, '_').trim().slice(0, 200).replace(/^[ ]+|[ ]+$/g, '');
  return cleaned === '' ? 'teraslice' : cleaned;
}

/** Which slices of an earlier execution a recovery runs again, and whether it slices on afterwards. */
export interface Recovery {
  from: JobView;
  cleanup: CleanupType | undefined;
  plan: PlanView;
}

/** Most slices one recovery carries into its new execution. */
export const MAX_RECOVERED_SLICES = 100_000;
/** Most bytes of slices (as JSON) one recovery carries: its JobSubmitted must fit a NATS message (1 MiB by default). */
export const MAX_RECOVERY_BYTES = 512 * 1024;

function recoverySpec(r: Recovery): Record<string, unknown> {
  // Teraslice's slice states: `error` (failed), `start` (began, never finished), `pending` (made, never began)
  const pick = (t: PlanView['tasks'][number]) => {
    if (t.state === 'failed') return r.cleanup !== 'pending';
    if (t.state === 'succeeded') return false;
    const began = t.attempts > 0;
    if (r.cleanup === 'errors') return false;
    if (r.cleanup === 'pending') return !began;
    return true;
  };
  // what the old execution had not planned yet: the rest of its own re-run slices (never begun), and
  // where its reader would go on
  const fromSpec = r.from.spec as TerasliceSpec;
  const rest = unplannedWork(fromSpec, r.plan.open ? r.plan.cursor : undefined);
  // each slice keeps the name of where it first ran (a re-run of a re-run too): its output file is rewritten, not doubled
  const originOf = (taskId: string) => {
    const m = /^r(\d+)$/.exec(taskId);
    return (m !== null ? fromSpec.recovery?.slices[Number(m[1])]?.origin : undefined) ?? { exId: r.from.id, taskId };
  };
  const slices = [
    ...r.plan.tasks.filter(pick).map((t) => ({ payload: t.payload, origin: originOf(t.taskId) })),
    ...(r.cleanup === 'errors' ? [] : rest.slices),
  ];
  if (slices.length > MAX_RECOVERED_SLICES) throw new TerasliceError(400, `execution ${r.from.id} has ${slices.length} slices to recover; at most ${MAX_RECOVERED_SLICES} at once`);
  // the slices travel in the new execution's first event: keep it well inside a NATS message
  const bytes = Buffer.byteLength(JSON.stringify(slices));
  if (bytes > MAX_RECOVERY_BYTES) throw new TerasliceError(413, `the ${slices.length} slices to recover take ${bytes} bytes; at most ${MAX_RECOVERY_BYTES} go into one execution: recover with cleanup_type=errors, or start the job again`, 'VALIDATION_FAILED');
  // without a cleanup type the new execution goes on slicing where the old one stopped
  const resume = r.cleanup === undefined && rest.cursor !== undefined;
  return { slices, resume, ...(resume ? { cursor: rest.cursor } : {}) };
}

/**
 * Starts the next execution of `job` (a recovery when `recovery` is given). Refused while one is
 * active (409) and for a deleted job (410). Two starts at once make one execution: the submission
 * carries an idempotency key named after the execution it follows, so the second learns the first
 * exists and is refused as the original refuses a job already running.
 */
export async function startExecution(service: JobService, caller: Caller, job: JobRecord, owner: string, recovery?: Recovery): Promise<JobView> {
  const jobId = job.job_id;
  const latest = await latestExecution(service, caller, jobId, owner);
  const running = () => new TerasliceError(409, `Job ${jobId} is currently running, cannot have the same job concurrently running`, 'INVALID_TRANSITION');
  if (latest !== undefined && !isTerminal(latest)) throw running();
  if (job._deleted === true) throw new TerasliceError(410, `Job ${jobId} has been deleted and cannot be ${recovery ? 'recovered' : 'started'}.`, 'INVALID_TRANSITION');
  const { spec } = normalizeTerasliceSpec(specOf(job));
  const s = spec as Record<string, unknown> & { name?: unknown; workers?: number; max_retries?: number };
  const labels: Record<string, string> = { [JOB_LABEL]: jobId };
  if (recovery) {
    labels[RECOVERED_LABEL] = recovery.from.id;
    labels[CLEANUP_LABEL] = recovery.cleanup ?? '';
  }
  const request: SubmitRequest = {
    type: NATIVE_TYPE,
    name: nativeName(s.name),
    spec: recovery ? { ...s, recovery: recoverySpec(recovery) } : s,
    labels,
    ...(typeof s.workers === 'number' ? { parallelism: Math.min(s.workers, 10_000) } : {}),
    maxTaskAttempts: Math.min(100, (typeof s.max_retries === 'number' ? s.max_retries : 3) + 1),
    // a once execution processes every slice, then fails if any failed (the job type's verification)
    maxFailedRatio: 1,
  };
  let result: { job: JobView; created: boolean };
  try {
    result = await service.submit(request, { caller, reason: recovery ? 'teraslice _recover' : 'teraslice _start', idempotencyKey: `teraslice/${jobId}/after/${latest?.submitSeq ?? 0}` });
  } catch (err) {
    if (isAppError(err, 'IDEMPOTENCY_KEY_REUSED')) throw running();
    throw err;
  }
  if (!result.created) throw running();
  return result.job;
}
