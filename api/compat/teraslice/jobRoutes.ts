/**
 * `/jobs…` (at `/` and `/v1`): Teraslice jobs (definitions, jobStore.ts) and the controls of their
 * latest execution.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { normalizeTerasliceSpec, type JobService } from '../../../engine/index.ts';
import { requireRole } from '../facade.ts';
import { changeWorkers, cleanupType, controller, pauseOrResume, recoverExecution, sliceErrors, stopExecution } from './control.ts';
import { TerasliceError, tsSend } from './errors.ts';
import { executionRecord, isTerminal, JOB_LABEL, latestExecution, NATIVE_TYPE, requireExecution, startExecution, specOf } from './executions.ts';
import type { JobRecord, TerasliceJobs } from './jobStore.ts';
import { cut, flag, list, page, param } from './query.ts';

type IdParams = { Params: { id: string } };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Executions of one job a deletion deactivates at most. */
const MAX_EXECUTIONS_PER_JOB = 1000;

/** The jobs a listing shows: `deleted` (default false: not deleted; true: only deleted), `active` ('' any). */
export function visibleJobs(jobs: TerasliceJobs, request: FastifyRequest): JobRecord[] {
  const deleted = flag(request, 'deleted', false);
  const active = param(request, 'active');
  return jobs.list(request.caller).filter((j) => {
    if (deleted === false && j._deleted === true) return false;
    if (deleted === true && j._deleted !== true) return false;
    if (active === 'true' && j.active === false) return false;
    if (active === 'false' && j.active !== false) return false;
    return true;
  });
}

async function withEx(service: JobService, jobs: TerasliceJobs, request: FastifyRequest, job: JobRecord): Promise<JobRecord> {
  const fields = list(param(request, 'ex'));
  if (fields === undefined) return job;
  const ex = await latestExecution(service, request.caller, job.job_id, jobs.owner(job.job_id, request.caller));
  const rec = ex === undefined || job._deleted === true ? {} : executionRecord(ex);
  return { ...job, ex: Object.fromEntries(fields.filter((f) => Object.hasOwn(rec, f)).map((f) => [f, rec[f]])) };
}

export function registerJobRoutes(app: FastifyInstance, service: JobService, jobs: TerasliceJobs): void {
  app.post('/jobs', async (request, reply) => {
    const body = request.body;
    if (!isObject(body) || body['operations'] === undefined) throw new TerasliceError(400, 'No job was posted');
    if (Object.hasOwn(body, 'job_id')) throw new TerasliceError(422, 'Job cannot include a job_id on submit');
    requireRole(request.caller, 'operator');
    // what the job runs with: not the record fields a client may echo back, nor the engine's `recovery`
    const spec = specOf(body);
    const { warnings } = normalizeTerasliceSpec(spec); // refuses what cannot run before anything is written
    for (const k of Object.keys(body)) if (!Object.hasOwn(spec, k)) warnings.push(`job: key ${JSON.stringify(k)} is not part of a job spec and was dropped`);
    const job = jobs.draft(spec, request.caller);
    const out: Record<string, unknown> = { job_id: job.job_id };
    if (param(request, 'start') !== 'false') {
      // the execution before the job: the engine's own checks (a path through a symlink out of the
      // files root) refuse it with nothing written; the job is stored only once it runs
      const ex = await startExecution(service, request.caller, job, request.caller.user);
      try {
        await jobs.insert(job, request.caller);
      } catch (err) {
        await service.stop(ex.id, { caller: request.caller, reason: 'teraslice job not stored', force: true }).catch(() => undefined);
        throw err;
      }
      out['ex_id'] = ex.id;
    } else {
      await jobs.insert(job, request.caller);
    }
    if (warnings.length > 0) out['warnings'] = warnings;
    return tsSend(reply, out);
  });

  app.get('/jobs', async (request, reply) => {
    const p = page(request);
    const shown = cut(visibleJobs(jobs, request), p);
    const out: JobRecord[] = [];
    for (const j of shown) out.push(await withEx(service, jobs, request, j));
    return tsSend(reply, out);
  });

  app.get<IdParams>('/jobs/:id', async (request, reply) => tsSend(reply, await withEx(service, jobs, request, jobs.get(request.params.id, request.caller))));

  app.put<IdParams>('/jobs/:id', async (request, reply) => {
    const { id } = request.params;
    const current = jobs.get(id, request.caller);
    requireRole(request.caller, 'operator');
    const body = request.body;
    if (!isObject(body) || Object.keys(body).length === 0) throw new TerasliceError(400, `no data was provided to update job ${id}`);
    if (current._deleted === true) throw new TerasliceError(410, `Job ${id} has been deleted and cannot be updated.`, 'INVALID_TRANSITION');
    // as the original: switching a job inactive is not validated
    if (!(body['active'] === false && current.active !== false)) normalizeTerasliceSpec(specOf(body));
    return tsSend(reply, await jobs.update(id, request.caller, () => specOf(body) as JobRecord));
  });

  app.delete<IdParams>('/jobs/:id', async (request, reply) => {
    const { id } = request.params;
    const job = jobs.get(id, request.caller);
    requireRole(request.caller, 'operator');
    const owner = jobs.owner(id, request.caller);
    const latest = await latestExecution(service, request.caller, id, owner);
    if (latest !== undefined && !isTerminal(latest)) throw new TerasliceError(409, `Job ${id} is currently running, cannot delete a running job.`, 'INVALID_TRANSITION');
    if (job._deleted === true) throw new TerasliceError(410, `Job ${id} has already been deleted.`, 'INVALID_TRANSITION');
    const deleted = await jobs.update(id, request.caller, (j) => ({ ...j, _deleted: true, _deleted_on: new Date().toISOString(), active: false }));
    // a _start that passed its checks before this deletion was written: its execution is stopped (the
    // _start itself looks again after starting, so one of the two always sees the other)
    const late = await latestExecution(service, request.caller, id, owner);
    if (late !== undefined && !isTerminal(late)) await service.stop(late.id, { caller: request.caller, reason: 'teraslice job deleted', force: true }).catch(() => undefined);
    // its executions are archived with it: hidden from native listings by default
    const { jobs: executions } = await service.list({ type: NATIVE_TYPE, labels: { [JOB_LABEL]: id }, owner, active: true, limit: MAX_EXECUTIONS_PER_JOB }, request.caller);
    for (const ex of executions) if (isTerminal(ex)) await service.setActive(ex.id, false, { caller: request.caller, reason: 'teraslice job deleted' });
    return tsSend(reply, deleted);
  });

  app.get<IdParams>('/jobs/:id/ex', async (request, reply) => {
    const job = jobs.get(request.params.id, request.caller);
    const ex = await requireExecution(service, request.caller, job.job_id, jobs.owner(job.job_id, request.caller));
    return tsSend(reply, executionRecord(ex, job._deleted === true ? { deleted: { on: String(job._deleted_on) } } : {}));
  });

  app.post<IdParams>('/jobs/:id/_start', async (request, reply) => {
    const job = jobs.get(request.params.id, request.caller);
    requireRole(request.caller, 'operator');
    const ex = await startExecution(service, request.caller, job, jobs.owner(job.job_id, request.caller));
    // a DELETE that landed between our check and the start: the deleted job must not run. The
    // execution exists (it was made), so the answer names it; it is stopped at once.
    if (jobs.get(job.job_id, request.caller)._deleted === true) {
      await service.stop(ex.id, { caller: request.caller, reason: 'teraslice job deleted while it started', force: true }).catch(() => undefined);
    }
    return tsSend(reply, { job_id: job.job_id, ex_id: ex.id });
  });

  /** The latest execution of the job in the path. */
  const latest = async (request: FastifyRequest<IdParams>) => {
    const jobId = jobs.get(request.params.id, request.caller).job_id;
    return requireExecution(service, request.caller, jobId, jobs.owner(jobId, request.caller));
  };

  app.post<IdParams>('/jobs/:id/_stop', async (request, reply) => tsSend(reply, await stopExecution(service, request, await latest(request))));
  app.post<IdParams>('/jobs/:id/_pause', async (request, reply) => tsSend(reply, await pauseOrResume(service, request, await latest(request), 'pause')));
  app.post<IdParams>('/jobs/:id/_resume', async (request, reply) => tsSend(reply, await pauseOrResume(service, request, await latest(request), 'resume')));
  app.post<IdParams>('/jobs/:id/_workers', async (request, reply) => tsSend(reply, await changeWorkers(service, request, await latest(request))));
  app.get<IdParams>('/jobs/:id/errors', async (request, reply) => tsSend(reply, await sliceErrors(service, request, [await latest(request)])));
  for (const path of ['/jobs/:id/controller', '/jobs/:id/slicer']) {
    app.get<IdParams>(path, async (request, reply) => tsSend(reply, await controller(service, request, await latest(request))));
  }

  app.post<IdParams>('/jobs/:id/_recover', async (request, reply) => {
    cleanupType(request);
    const job = jobs.get(request.params.id, request.caller);
    if (job._deleted === true) throw new TerasliceError(410, `Job ${job.job_id} has been deleted and cannot be recovered.`, 'INVALID_TRANSITION');
    const owner = jobs.owner(job.job_id, request.caller);
    const from = await latestExecution(service, request.caller, job.job_id, owner);
    if (from === undefined) throw new TerasliceError(404, `Job ${job.job_id} is missing an execution to recover from`, 'JOB_NOT_FOUND');
    return tsSend(reply, await recoverExecution(service, request, job, owner, from));
  });

  for (const [path, active] of [['/jobs/:id/_active', true], ['/jobs/:id/_inactive', false]] as const) {
    app.post<IdParams>(path, async (request, reply) => {
      jobs.get(request.params.id, request.caller);
      requireRole(request.caller, 'operator');
      return tsSend(reply, await jobs.update(request.params.id, request.caller, (j) => ({ ...j, active })));
    });
  }
}
