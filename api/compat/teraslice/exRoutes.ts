/** `/ex…` (at `/` and `/v1`): executions by id, and listings across jobs. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JobService, JobView } from '../../../engine/index.ts';
import { changeWorkers, cleanupType, controller, pauseOrResume, recoverExecution, sliceErrors, stopExecution } from './control.ts';
import { TerasliceError, tsSend } from './errors.ts';
import { executionById, executionRecord, executionStatus, JOB_LABEL, nativeStatesOf, NATIVE_TYPE, STATUSES, type ExecutionStatus } from './executions.ts';
import type { TerasliceJobs } from './jobStore.ts';
import { cut, flag, list, MAX_SIZE, page, param } from './query.ts';

type ExParams = { Params: { exId: string } };

/** Executions a listing reads at most (newest first). */
const MAX_SCANNED = MAX_SIZE;

/** Executions the caller sees with `status` (comma list; `*` or none: all) and the `deleted` rule of their job. */
export async function listExecutions(service: JobService, jobs: TerasliceJobs, request: FastifyRequest): Promise<Record<string, unknown>[]> {
  const asked = list(param(request, 'status'));
  let statuses: ExecutionStatus[] | undefined;
  if (asked !== undefined && !asked.includes('*')) {
    const unknown = asked.filter((s) => !(STATUSES as readonly string[]).includes(s));
    // the original passes any value to its search: an unknown status matches nothing
    statuses = asked.filter((s): s is ExecutionStatus => !unknown.includes(s));
    if (statuses.length === 0) return [];
  }
  const deleted = flag(request, 'deleted', false);
  const known = new Map(jobs.listOwned(request.caller).map((d) => [d.job.job_id, d]));
  const out: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  let scanned = 0;
  do {
    const state = statuses === undefined ? undefined : nativeStatesOf(statuses);
    if (state !== undefined && state.length === 0) break;
    const res = await service.list({ type: NATIVE_TYPE, active: 'all', limit: 1000, ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) }, request.caller);
    scanned += res.jobs.length;
    for (const ex of res.jobs) {
      const jobId = ex.labels[JOB_LABEL];
      const owned = jobId === undefined ? undefined : known.get(jobId);
      // an execution of a job we know, of that job's owner (anyone may put the label on a native job)
      if (owned === undefined || owned.owner !== ex.owner) continue;
      const { job } = owned;
      if (statuses !== undefined && !statuses.includes(executionStatus(ex))) continue;
      const on = job._deleted === true ? String(job._deleted_on) : undefined;
      if ((deleted === false && on !== undefined) || (deleted === true && on === undefined)) continue;
      out.push(executionRecord(ex, on !== undefined ? { deleted: { on } } : {}));
    }
    cursor = res.nextCursor ?? undefined;
  } while (cursor !== undefined && scanned < MAX_SCANNED);
  return out;
}

export function registerExRoutes(app: FastifyInstance, service: JobService, jobs: TerasliceJobs): void {
  app.get('/ex', async (request, reply) => {
    const p = page(request);
    return tsSend(reply, cut(await listExecutions(service, jobs, request), p));
  });

  app.get('/ex/errors', async (request, reply) => {
    const { jobs: executions } = await service.list({ type: NATIVE_TYPE, active: 'all', limit: 1000 }, request.caller);
    // executions of jobs the caller sees, of those jobs' owners (as every other route)
    const owners = new Map(jobs.listOwned(request.caller).map((d) => [d.job.job_id, d.owner]));
    return tsSend(reply, await sliceErrors(service, request, executions.filter((e) => owners.get(e.labels[JOB_LABEL] ?? '') === e.owner)));
  });

  /** The execution in the path: a teraslice job of the Teraslice job's owner (a label alone does not make one). */
  const byId = async (request: FastifyRequest<ExParams>): Promise<JobView> => {
    const ex = await executionById(service, request.caller, request.params.exId);
    let owner: string | undefined;
    try {
      owner = jobs.owner(ex.labels[JOB_LABEL]!, request.caller);
    } catch {
      owner = undefined;
    }
    if (owner !== ex.owner) throw new TerasliceError(404, `execution ${ex.id} was not found`, 'JOB_NOT_FOUND');
    return ex;
  };

  app.get<ExParams>('/ex/:exId', async (request, reply) => {
    const ex = await byId(request);
    const job = jobs.get(ex.labels[JOB_LABEL]!, request.caller);
    return tsSend(reply, executionRecord(ex, job._deleted === true ? { deleted: { on: String(job._deleted_on) } } : {}));
  });
  app.post<ExParams>('/ex/:exId/_stop', async (request, reply) => tsSend(reply, await stopExecution(service, request, await byId(request))));
  app.post<ExParams>('/ex/:exId/_pause', async (request, reply) => tsSend(reply, await pauseOrResume(service, request, await byId(request), 'pause')));
  app.post<ExParams>('/ex/:exId/_resume', async (request, reply) => tsSend(reply, await pauseOrResume(service, request, await byId(request), 'resume')));
  app.post<ExParams>('/ex/:exId/_workers', async (request, reply) => tsSend(reply, await changeWorkers(service, request, await byId(request))));
  app.get<ExParams>('/ex/:exId/errors', async (request, reply) => tsSend(reply, await sliceErrors(service, request, [await byId(request)])));
  for (const path of ['/ex/:exId/controller', '/ex/:exId/slicer']) {
    app.get<ExParams>(path, async (request, reply) => tsSend(reply, await controller(service, request, await byId(request))));
  }
  app.post<ExParams>('/ex/:exId/_recover', async (request, reply) => {
    cleanupType(request);
    const from = await byId(request);
    const job = jobs.get(from.labels[JOB_LABEL]!, request.caller);
    if (job._deleted === true) throw new TerasliceError(410, `Job ${job.job_id} has been deleted and cannot be recovered.`, 'INVALID_TRANSITION');
    return tsSend(reply, await recoverExecution(service, request, job, from.owner, from));
  });
}
