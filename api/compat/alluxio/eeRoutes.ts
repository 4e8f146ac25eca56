/**
 * The Alluxio Enterprise coordinator REST (seed 004; clients.md §4.3) on the engine: `POST`, `GET`
 * and `DELETE /api/v1/load`, and the AI-3.3/3.4 paths `POST /api/v1/master/submit_job/load` and
 * `GET /api/v1/master/progress_job/load`. A job is found by its UUID (our job id), its alias (our job
 * name) or its path; errors are EE's `{status}` with real HTTP statuses (eeErrors.ts).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError, type Caller, type JobService, type JobView } from '../../../engine/index.ts';
import { requireRole, type FacadeDeps } from '../facade.ts';
import { ACTIVE_STATES, activeJob, identicalJobActive, identityPath, jobsOfType, latestJob, latestNamed, submitIdentified, withPathLabel } from './jobIdentity.ts';
import { loadSubmissions, toLoadProgress } from './loadRequest.ts';

/** `GET /api/v1/load` without parameters lists at most this many jobs, newest first. */
export const MAX_RESULTS = 1000;

type Query = Record<string, unknown>;

/** A single-valued query parameter; a repeated one is refused. */
function param(request: FastifyRequest, name: string): string | undefined {
  const v = (request.query as Query)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AppError('VALIDATION_FAILED', `${name} must be given once`);
  return v;
}

const noJob = (what: string) => new AppError('JOB_NOT_FOUND', `No job found for ${what}`);

/** The load job a request names by `id`, `alias` or `path` (`active`: only one not yet finished); undefined when it names none. */
async function namedJob(service: JobService, request: FastifyRequest, caller: Caller, active: boolean): Promise<JobView | undefined> {
  if (param(request, 'index') !== undefined) throw new AppError('VALIDATION_FAILED', '"index" is not supported: name the job by id, alias or path');
  const id = param(request, 'id');
  if (id !== undefined) {
    let job: JobView;
    try {
      job = await service.get(id, caller);
    } catch (err) {
      if (isAppError(err, 'JOB_NOT_FOUND') || isAppError(err, 'INVALID_ID')) throw noJob(`id ${JSON.stringify(id.slice(0, 64))}`);
      throw err;
    }
    if (job.type !== 'load') throw noJob(`id ${id}`);
    return job;
  }
  const alias = param(request, 'alias');
  if (alias !== undefined) {
    const job = await latestNamed(service, caller, 'load', alias, active ? ACTIVE_STATES : undefined);
    if (job === undefined) throw noJob(`alias ${JSON.stringify(alias.slice(0, 64))}`);
    return job;
  }
  const raw = param(request, 'path');
  if (raw !== undefined) {
    const path = identityPath('path', raw);
    const job = active ? await activeJob(service, caller, 'load', path) : await latestJob(service, caller, 'load', path);
    if (job === undefined) throw noJob(`path ${JSON.stringify(raw.slice(0, 256))}`);
    return job;
  }
  return undefined;
}

const json = (reply: FastifyReply, body: unknown) => reply.type('application/json').send(JSON.stringify(body));

export const alluxioEeRoutes: FastifyPluginAsync<FacadeDeps> = async (app, deps) => {
  const { service } = deps;

  async function submit(request: FastifyRequest, reply: FastifyReply) {
    requireRole(request.caller, 'operator');
    const submissions = loadSubmissions(request.body);
    const by = { caller: request.caller, reason: 'alluxio ee load' };
    // several paths: each checked first (its spec, then a job active on it), so one invalid or
    // conflicting path submits nothing (but for a race)
    if (submissions.length > 1) {
      for (const s of submissions) service.checkSubmission(withPathLabel(s.request), request.caller);
      for (const s of submissions) {
        const active = await activeJob(service, request.caller, 'load', s.path);
        if (active !== undefined) throw identicalJobActive('load', s.path, active);
      }
    }
    const jobs: JobView[] = [];
    for (const s of submissions) jobs.push(await submitIdentified(service, s.request, s.path, by));
    return json(reply, { id: jobs[0]!.id, ids: jobs.map((j) => j.id), paths: jobs.map((j) => toLoadProgress(j, Date.now()).paths[0]) });
  }

  async function progress(request: FastifyRequest, reply: FastifyReply) {
    const job = await namedJob(service, request, request.caller, false);
    if (job !== undefined) return json(reply, toLoadProgress(job, Date.now()));
    const jobs = await jobsOfType(service, request.caller, 'load', MAX_RESULTS);
    const now = Date.now();
    return json(reply, { results: jobs.map((j) => toLoadProgress(j, now)) });
  }

  async function stop(request: FastifyRequest, reply: FastifyReply) {
    requireRole(request.caller, 'operator');
    const job = await namedJob(service, request, request.caller, true);
    if (job === undefined) throw new AppError('VALIDATION_FAILED', 'name the job to stop by id, alias or path');
    const stopped = await service.stop(job.id, { caller: request.caller, reason: 'alluxio ee stop', force: true });
    return json(reply, toLoadProgress(stopped, Date.now()));
  }

  app.post('/api/v1/load', submit);
  app.get('/api/v1/load', progress);
  app.delete('/api/v1/load', stop);
  // Alluxio AI 3.3/3.4
  app.post('/api/v1/master/submit_job/load', submit);
  app.get('/api/v1/master/progress_job/load', progress);
};
