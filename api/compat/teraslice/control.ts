/**
 * What an execution's controls do, shared by `/jobs/:id/<action>` (the job's latest execution) and
 * `/ex/:exId/<action>`: stop (blocking until the execution ends, by default), pause, resume, change
 * its workers, list its failed slices, its controller stats; and recovery into a new execution.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isAppError, type By, type JobService, type JobView } from '../../../engine/index.ts';
import { requireRole } from '../facade.ts';
import { controllerStats } from './cluster.ts';
import { TerasliceError } from './errors.ts';
import { CLEANUP_TYPES, executionStatus, isTerminal, startExecution, type CleanupType } from './executions.ts';
import type { JobRecord } from './jobStore.ts';
import { cut, flag, page, param } from './query.ts';

/** A blocking stop waits at most this long (the original's HTTP server gives up after 5 min). */
export const BLOCKING_STOP_MS = 5 * 60_000;
const STOP_POLL_MS = 250;
/** Longest grace (`timeout`) a stop may give the slices in flight. */
const MAX_STOP_TIMEOUT_MS = 3_600_000;

const by = (request: FastifyRequest, reason: string): By => ({ caller: request.caller, reason });
const notActive = (exId: string) => new TerasliceError(404, `no active execution context was found for ex_id: ${exId}`, 'JOB_NOT_FOUND');

async function untilFinished(service: JobService, request: FastifyRequest, exId: string): Promise<JobView> {
  const deadline = Date.now() + BLOCKING_STOP_MS;
  // a client that hangs up stops the wait (the stop itself goes on); the socket, not the request:
  // a request's own 'close' comes as soon as its body is read
  const socket = request.raw.socket;
  let closed = socket.destroyed;
  const onClose = () => {
    closed = true;
  };
  socket.once('close', onClose);
  try {
    for (;;) {
      const ex = await service.get(exId, request.caller);
      if (isTerminal(ex) || closed || Date.now() >= deadline) return ex;
      await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
    }
  } finally {
    socket.off('close', onClose);
  }
}

export async function stopExecution(service: JobService, request: FastifyRequest, ex: JobView): Promise<Record<string, unknown>> {
  requireRole(request.caller, 'operator');
  const force = flag(request, 'force', false) === true;
  if (isTerminal(ex)) {
    const status = executionStatus(ex);
    return force ? { message: `Force stop complete for exId ${ex.id}`, status } : { status };
  }
  const timeout = param(request, 'timeout');
  if (timeout !== undefined && !/^\d{1,10}$/.test(timeout)) throw new TerasliceError(400, 'timeout must be a number of milliseconds');
  const graceMs = timeout === undefined ? undefined : Math.min(Number(timeout), MAX_STOP_TIMEOUT_MS);
  const stopped = await service.stop(ex.id, { ...by(request, 'teraslice _stop'), ...(force ? { force: true } : graceMs !== undefined ? { graceMs } : {}) });
  if (force) return { message: `Force stop complete for exId ${ex.id}`, status: executionStatus(stopped) };
  const blocking = param(request, 'blocking');
  if (blocking !== undefined && blocking !== 'true') return { status: executionStatus(stopped) };
  return { status: executionStatus(await untilFinished(service, request, ex.id)) };
}

export async function pauseOrResume(service: JobService, request: FastifyRequest, ex: JobView, action: 'pause' | 'resume'): Promise<Record<string, unknown>> {
  requireRole(request.caller, 'operator');
  if (isTerminal(ex)) throw notActive(ex.id);
  try {
    await service[action](ex.id, by(request, `teraslice _${action}`));
  } catch (err) {
    // the original answers 500 while the execution has no controller yet (pending); a client's request, so 409 here
    if (isAppError(err, 'INVALID_TRANSITION')) throw new TerasliceError(409, `Execution ${ex.id} is not available to ${action}`);
    throw err;
  }
  return { status: action === 'pause' ? 'paused' : 'running' };
}

const WORKER_PARAMS = ['add', 'remove', 'total'] as const;
const BAD_WORKERS = 'Must provide a valid worker parameter(add/remove/total) that is a number and greater than zero';
/** Most workers (our parallelism) an execution may have. */
const MAX_WORKERS = 10_000;

export async function changeWorkers(service: JobService, request: FastifyRequest, ex: JobView): Promise<Record<string, unknown>> {
  requireRole(request.caller, 'operator');
  const query = (request.query ?? {}) as Record<string, unknown>;
  // the original reads the keys in query order: the last of add/remove/total wins
  const key = Object.keys(query).filter((k): k is (typeof WORKER_PARAMS)[number] => (WORKER_PARAMS as readonly string[]).includes(k)).at(-1);
  const raw = key === undefined ? undefined : param(request, key);
  if (key === undefined || raw === undefined || !/^\d{1,9}$/.test(raw.trim())) throw new TerasliceError(400, BAD_WORKERS);
  const n = Number(raw.trim());
  if (isTerminal(ex)) throw notActive(ex.id);
  const current = ex.parallelism ?? (typeof ex.spec['workers'] === 'number' ? ex.spec['workers'] : 1);
  let next: number;
  let action: string;
  if (key === 'add') {
    next = current + n;
    action = 'enqueued';
  } else if (key === 'remove') {
    if (n >= current) throw new TerasliceError(400, `workers to be removed: ${n} cannot be >= to current workers: ${current}`);
    next = current - n;
    action = 'remove';
  } else {
    if (n < 1) throw new TerasliceError(400, BAD_WORKERS);
    next = n;
    action = n > current ? 'enqueued' : n < current ? 'remove' : 'set';
  }
  if (next > MAX_WORKERS) throw new TerasliceError(400, `an execution has at most ${MAX_WORKERS} workers`);
  if (next !== current) await service.setParallelism(ex.id, next, by(request, `teraslice _workers ${key}=${n}`));
  return { message: `${n} workers have been ${action} for execution: ${ex.id}` };
}

/** A slice's id as Teraslice shows it (a UUID), the same for a task of an execution every time. */
export function sliceId(exId: string, taskId: string): string {
  const h = createHash('sha256').update(`${exId}\0${taskId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The failed slices of `executions`, as Teraslice's slice state records. */
export async function sliceErrors(service: JobService, request: FastifyRequest, executions: readonly JobView[]): Promise<Record<string, unknown>[]> {
  const p = page(request);
  const out: Record<string, unknown>[] = [];
  for (const ex of executions) {
    if (ex.progress.tasksFailed === 0) continue;
    // the failed tasks only, from the projection: no read of the execution's whole task history
    const plan = await service.plan(ex.id, request.caller, { states: ['failed'], outcomes: false });
    for (const t of plan.tasks) {
      out.push({
        ex_id: ex.id, slice_id: sliceId(ex.id, t.taskId), slicer_id: 0, slicer_order: t.index + 1, request: JSON.stringify(t.payload),
        state: 'error', error: t.error?.message ?? '', _created: ex.startedAt ?? ex.submittedAt, _updated: ex.finishedAt ?? ex.startedAt ?? ex.submittedAt,
      });
    }
  }
  return cut(out, p);
}

export async function controller(service: JobService, request: FastifyRequest, ex: JobView): Promise<Record<string, unknown>[]> {
  if (isTerminal(ex)) throw new TerasliceError(404, `Could not find active slicer for ex_id: ${ex.id}`, 'JOB_NOT_FOUND');
  const workers = await service.workers(request.caller);
  return [{ ...(await controllerStats(service, request.caller, ex, workers)) }];
}

/** `cleanup_type` (or the 0.x client's `cleanup`): all, errors, pending, or none. */
export function cleanupType(request: FastifyRequest): CleanupType | undefined {
  const v = param(request, 'cleanup_type') ?? param(request, 'cleanup');
  if (v === undefined || v === '') return undefined;
  if (!(CLEANUP_TYPES as readonly string[]).includes(v)) throw new TerasliceError(400, 'cleanup_type must be empty or set to all, errors, pending');
  return v as CleanupType;
}

/** A new execution of `job` that re-runs slices of `from` (which must have finished). */
export async function recoverExecution(service: JobService, request: FastifyRequest, job: JobRecord, owner: string, from: JobView): Promise<Record<string, unknown>> {
  requireRole(request.caller, 'operator');
  const cleanup = cleanupType(request);
  if (!isTerminal(from)) throw new TerasliceError(409, `Job ${job.job_id} is currently running, cannot have the same job concurrently running`, 'INVALID_TRANSITION');
  // retention rolled the execution's history up: which slices failed or never ran is no longer known
  if (from.compacted) throw new TerasliceError(409, `execution ${from.id} was compacted by retention: its slices are no longer known, so it cannot be recovered; start the job again`, 'JOB_COMPACTED');
  const plan = await service.plan(from.id, request.caller, { outcomes: false });
  const ex = await startExecution(service, request.caller, job, owner, { from, cleanup, plan });
  return { job_id: job.job_id, ex_id: ex.id };
}
