/**
 * Job routes: submit, list, read (job, progress, history) and the stop/pause/resume commands.
 * Handlers only translate HTTP to JobService calls; every rule lives in the engine.
 */
import type { FastifyPluginAsync } from 'fastify';
import { JOB_STATES, type JobState } from '../../actors/events.ts';
import type { JobService, ListQuery, SubmitRequest } from '../../engine/service.ts';
import { actorRef } from '../actor.ts';
import { jobRouteSchemas as schemas } from '../schemas/jobs.ts';

/** Options of {@link jobRoutes}. */
export interface JobRoutesOptions {
  service: JobService;
}

/** `GET /jobs` querystring after validation (`limit` has its default filled in). */
interface ListQuerystring {
  state?: string;
  type?: string;
  name?: string;
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
  if (q.cursor !== undefined) query.cursor = q.cursor;
  return query;
}

const COMMANDS = ['stop', 'pause', 'resume'] as const;

/** Registers the job routes; mount with a prefix (e.g. `/native/v1`). */
export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, { service }) => {
  const jobUrl = (id: string) => `${app.prefix}/jobs/${encodeURIComponent(id)}`;

  app.post<{ Body: SubmitRequest; Headers: { 'idempotency-key'?: string } }>(
    '/jobs',
    { schema: schemas.submit },
    async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      const { job, created } = await service.submit(request.body, {
        ...actorRef(request),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      // 200 on an idempotent replay tells the client nothing new was created.
      return reply.code(created ? 201 : 200).header('location', jobUrl(job.id)).send(job);
    },
  );

  app.get<{ Querystring: ListQuerystring }>('/jobs', { schema: schemas.list }, async (request) =>
    service.list(toListQuery(request.query)),
  );

  app.get<{ Params: IdParams }>('/jobs/:id', { schema: schemas.get }, async (request) =>
    service.get(request.params.id),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/progress', { schema: schemas.progress }, async (request) =>
    service.progress(request.params.id),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/failures', { schema: schemas.failures }, async (request) =>
    service.failures(request.params.id),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/history', { schema: schemas.history }, async (request) => ({
    events: await service.history(request.params.id),
  }));

  for (const command of COMMANDS) {
    app.post<{ Params: IdParams; Body: { reason?: string } | null }>(
      `/jobs/:id/${command}`,
      // bodyOptional: `curl -X POST` sends no body, and some clients send an empty JSON one.
      { schema: schemas.action, config: { bodyOptional: true } },
      async (request) => service[command](request.params.id, actorRef(request, request.body?.reason)),
    );
  }
};
