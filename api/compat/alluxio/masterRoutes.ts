/**
 * The Alluxio job master's REST API (seed 000; clients.md §4.1) on the engine: `/api/v1/master/job/*`
 * (run, get_status, list, cancel, failure_history, service_name, service_version) and
 * `/api/v1/job_master/info`. Ids are the jobs' submit sequences (jobInfo.ts).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError, isAppError, type Caller, type JobService, type JobView, type ListQuery } from '../../../engine/index.ts';
import { MAX_TASKS_LISTED } from '../../routes/jobs.ts';
import { withPathLabel } from './jobIdentity.ts';
import { requireRole, type FacadeDeps } from '../facade.ts';
import { submissionOf, planName } from './jobConfig.ts';
import { nativeStates, toJobInfo, toTaskInfo, type TaskInfo } from './jobInfo.ts';
import { processInfo, workerInfo } from './serviceInfo.ts';

/** ServiceConstants / JobMasterClientRestServiceHandler. */
export const SERVICE_NAME = 'JobMasterClient';
export const SERVICE_VERSION = 1;
/** A listing reads at most this many jobs (pages of the native list). */
const MAX_LISTED = 100_000;
const PAGE = 1000;

/** `jobId` as Alluxio's JAX-RS reads a `long` query parameter. */
function jobIdOf(request: FastifyRequest): number {
  const raw = (request.query as Record<string, unknown>)['jobId'];
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw)) {
    throw new AppError('VALIDATION_FAILED', raw === undefined ? 'jobId is required' : `jobId must be a job id (an integer), got ${JSON.stringify(String(raw).slice(0, 32))}`);
  }
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new AppError('JOB_NOT_FOUND', `Job ${raw} not found`);
  return id;
}

/** The query parameter as a list (`?status=A&status=B`). */
function many(request: FastifyRequest, name: string): string[] {
  const v = (request.query as Record<string, unknown>)[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * The job's tasks as TaskInfo (the first MAX_TASKS_LISTED in plan order: Alluxio has no way to say
 * "more"), with the hosts of the workers that reported them.
 */
async function childrenOf(service: JobService, job: JobView, caller: Caller): Promise<TaskInfo[]> {
  const tasks = (await service.tasks(job.id, caller)).slice(0, MAX_TASKS_LISTED);
  const hosts = new Map<string, string>();
  if (tasks.some((t) => t.worker !== null)) for (const w of await service.workers()) hosts.set(w.id, w.host);
  return tasks.map((t) => toTaskInfo(job, t, hosts));
}

async function listAll(deps: FacadeDeps, request: FastifyRequest, q: Omit<ListQuery, 'limit' | 'cursor'>): Promise<JobView[]> {
  const out: JobView[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.service.list({ ...q, active: 'all', limit: PAGE, ...(cursor !== undefined ? { cursor } : {}) }, request.caller);
    out.push(...page.jobs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && out.length < MAX_LISTED);
  return out;
}

export const alluxioMasterRoutes: FastifyPluginAsync<FacadeDeps> = async (app, deps) => {
  const { service } = deps;
  const base = '/api/v1/master/job';

  app.get(`${base}/service_name`, async (_request, reply) => reply.type('application/json').send(JSON.stringify(SERVICE_NAME)));
  app.get(`${base}/service_version`, async (_request, reply) => reply.type('application/json').send(JSON.stringify(SERVICE_VERSION)));

  app.post(`${base}/run`, async (request, reply) => {
    requireRole(request.caller, 'operator');
    const { request: submission } = submissionOf(request.body);
    // labelled with its path like EE's submissions, so the EE identity (type, path) sees it too
    const { job } = await service.submit(withPathLabel(submission), { caller: request.caller, reason: 'alluxio run' });
    // JobRestClientUtils parses the body as a bare Long
    return reply.type('application/json').send(String(job.submitSeq));
  });

  app.get(`${base}/get_status`, async (request, reply) => {
    const job = await service.getBySubmitSeq(jobIdOf(request), request.caller);
    const children = await childrenOf(service, job, request.caller);
    return reply.type('application/json').send(JSON.stringify(toJobInfo(job, children), null, 2));
  });

  app.get(`${base}/list`, async (request, reply) => {
    const statuses = many(request, 'status');
    const states = statuses.flatMap((s) => {
      const st = nativeStates(s);
      if (st === undefined) throw new AppError('VALIDATION_FAILED', `unknown status ${JSON.stringify(s.slice(0, 32))} (CREATED, RUNNING, COMPLETED, FAILED, CANCELED)`);
      return st;
    });
    const name = many(request, 'name')[0];
    const jobs = await listAll(deps, request, states.length > 0 ? { state: states } : {});
    const ids = jobs.filter((j) => name === undefined || planName(j.type) === name).map((j) => j.submitSeq).sort((a, b) => a - b);
    return reply.type('application/json').send(JSON.stringify(ids));
  });

  app.post(`${base}/cancel`, async (request, reply) => {
    requireRole(request.caller, 'operator');
    const job = await service.getBySubmitSeq(jobIdOf(request), request.caller);
    try {
      await service.stop(job.id, { caller: request.caller, reason: 'alluxio cancel', force: true });
    } catch (err) {
      // cancelling a finished job does nothing in Alluxio (PlanCoordinator.cancel)
      if (!isAppError(err, 'INVALID_TRANSITION')) throw err;
    }
    return reply.code(200).send();
  });

  app.get(`${base}/failure_history`, async (request, reply) => {
    const failed = await listAll(deps, request, { state: ['FAILED'] });
    // without children: a task read per failed job would make one request read every failed job's log
    return reply.type('application/json').send(JSON.stringify(failed.map((j) => toJobInfo(j))));
  });

  app.get('/api/v1/job_master/info', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>)['raw_configuration'] === 'true';
    const workers = (await service.workers()).filter((w) => w.state !== 'LEFT').map(workerInfo);
    return reply.type('application/json').send(JSON.stringify({ ...processInfo(service.info(), raw), workers }));
  });
};
