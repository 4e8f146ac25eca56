/**
 * Job routes: submit, list, read (job, progress, failures, tasks, history) and the commands (stop, pause,
 * resume, recover, rerun, activate, deactivate). Handlers only translate HTTP to JobService calls
 * with the request's Caller; every rule (visibility, ownership, transitions) lives in the engine.
 * Reads need a logged-in user (viewer); submit and commands need an operator.
 */
import type { FastifyPluginAsync } from 'fastify';
import { JOB_STATES, type JobState, type RecoverMode } from '../../actors/events.ts';
import { parseLabelSelector, type JobService, type ListQuery, type SubmitRequest } from '../../engine/index.ts';
import { by } from '../actor.ts';
import type {} from '../auth.ts';
import { jobRouteSchemas as schemas } from '../schemas/jobs.ts';

/** Options of {@link jobRoutes}. */
export interface JobRoutesOptions {
  service: JobService;
}

/** `GET /jobs` querystring after validation (`limit` and `active` have their defaults filled in). */
interface ListQuerystring {
  state?: string;
  type?: string;
  name?: string;
  label?: string;
  owner?: string;
  virtualCluster?: string;
  active?: 'true' | 'false' | 'all';
  limit: string;
  cursor?: string;
}

interface IdParams {
  id: string;
}

function isJobState(s: string): s is JobState {
  return (JOB_STATES as readonly string[]).includes(s);
}

/** Converts the validated querystring (strings only) into a ListQuery. */
export function toListQuery(q: ListQuerystring): ListQuery {
  const query: ListQuery = { limit: Number(q.limit) };
  if (q.state !== undefined) query.state = [...new Set(q.state.split(','))].filter(isJobState);
  if (q.type !== undefined) query.type = q.type;
  if (q.name !== undefined) query.name = q.name;
  if (q.label !== undefined) query.labels = parseLabelSelector(q.label);
  if (q.owner !== undefined) query.owner = q.owner;
  if (q.virtualCluster !== undefined) query.virtualCluster = q.virtualCluster;
  query.active = q.active === 'all' ? 'all' : q.active !== 'false';
  if (q.cursor !== undefined) query.cursor = q.cursor;
  return query;
}

/** Most tasks `GET /jobs/:id/tasks` lists (the first ones in plan order; `truncated` says if more). */
export const MAX_TASKS_LISTED = 10_000;

const READ = { auth: 'viewer' } as const;
// bodyOptional: `curl -X POST` sends no body, and some clients send an empty JSON one.
const WRITE = { auth: 'operator', bodyOptional: true } as const;

/** Registers the job routes; mount with a prefix (e.g. `/native/v1`). */
export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, { service }) => {
  const jobUrl = (id: string) => `${app.prefix}/jobs/${encodeURIComponent(id)}`;

  app.post<{ Body: SubmitRequest; Headers: { 'idempotency-key'?: string } }>(
    '/jobs',
    { schema: schemas.submit, config: { auth: 'operator' } },
    async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      const { job, created } = await service.submit(request.body, {
        ...by(request),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      // 200 on an idempotent replay tells the client nothing new was created.
      return reply.code(created ? 201 : 200).header('location', jobUrl(job.id)).send(job);
    },
  );

  app.get<{ Querystring: ListQuerystring }>('/jobs', { schema: schemas.list, config: READ }, async (request) =>
    service.list(toListQuery(request.query), request.caller),
  );

  app.get<{ Params: IdParams }>('/jobs/:id', { schema: schemas.get, config: READ }, async (request) =>
    service.get(request.params.id, request.caller),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/progress', { schema: schemas.progress, config: READ }, async (request) =>
    service.progress(request.params.id, request.caller),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/failures', { schema: schemas.failures, config: READ }, async (request) =>
    service.failures(request.params.id, request.caller),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/tasks', { schema: schemas.tasks, config: READ }, async (request) => {
    const tasks = await service.tasks(request.params.id, request.caller);
    return { jobId: request.params.id, tasks: tasks.slice(0, MAX_TASKS_LISTED), truncated: tasks.length > MAX_TASKS_LISTED };
  });

  app.get<{ Params: IdParams }>('/jobs/:id/history', { schema: schemas.history, config: READ }, async (request) => ({
    events: await service.history(request.params.id, request.caller),
  }));

  app.post<{ Params: IdParams; Body: { reason?: string; graceMs?: number; force?: boolean } | null }>(
    '/jobs/:id/stop',
    { schema: schemas.stop, config: WRITE },
    async (request) => {
      const b = request.body ?? {};
      return service.stop(request.params.id, {
        ...by(request, b.reason),
        ...(b.graceMs === undefined ? {} : { graceMs: b.graceMs }),
        ...(b.force === undefined ? {} : { force: b.force }),
      });
    },
  );

  for (const command of ['pause', 'resume'] as const) {
    app.post<{ Params: IdParams; Body: { reason?: string } | null }>(
      `/jobs/:id/${command}`,
      { schema: schemas.action, config: WRITE },
      async (request) => service[command](request.params.id, by(request, request.body?.reason)),
    );
  }

  app.post<{ Params: IdParams; Body: { reason?: string; mode?: RecoverMode } | null }>(
    '/jobs/:id/recover',
    { schema: schemas.recover, config: WRITE },
    async (request) => {
      const b = request.body ?? {};
      return service.recover(request.params.id, { ...by(request, b.reason), ...(b.mode === undefined ? {} : { mode: b.mode }) });
    },
  );

  app.post<{ Params: IdParams; Body: { reason?: string; parallelism: number | null } }>(
    '/jobs/:id/parallelism',
    { schema: schemas.parallelism, config: { auth: 'operator' } },
    async (request) => service.setParallelism(request.params.id, request.body.parallelism, by(request, request.body.reason)),
  );

  app.post<{ Params: IdParams; Body: { reason?: string } | null }>(
    '/jobs/:id/rerun',
    { schema: schemas.rerun, config: WRITE },
    async (request, reply) => {
      const job = await service.rerun(request.params.id, by(request, request.body?.reason));
      return reply.code(201).header('location', jobUrl(job.id)).send(job);
    },
  );

  for (const [command, active] of [['activate', true], ['deactivate', false]] as const) {
    app.post<{ Params: IdParams; Body: { reason?: string } | null }>(
      `/jobs/:id/${command}`,
      { schema: schemas.action, config: WRITE },
      async (request) => service.setActive(request.params.id, active, by(request, request.body?.reason)),
    );
  }
};
