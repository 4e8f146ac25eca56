/**
 * Job routes: submit (one, or up to 1000 with `POST /jobs:batch`; a dry run with `POST /jobs:plan`), list, read (job, progress,
 * failures, tasks, history; job and history also `?asOf=` a past moment; explain) and the commands (stop, pause, resume, recover, rerun, activate,
 * deactivate). Handlers only translate HTTP to JobService calls
 * with the request's Caller; every rule (visibility, ownership, transitions) lives in the engine.
 * Reads need a logged-in user (viewer); submit and commands need an operator.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { FastifyPluginAsync } from 'fastify';
import { JOB_STATES, type JobState, type RecoverMode } from '../../actors/events.ts';
import { AppError, parseAsOf, parseLabelSelector, type JobService, type ListQuery, type SubmitRequest } from '../../engine/index.ts';
import { by } from '../actor.ts';
import type {} from '../auth.ts';
import { errorBody, toAppError } from '../errorResponses.ts';
import { jobRouteSchemas as schemas } from '../schemas/jobs.ts';
import { BATCH_BODY_LIMIT_BYTES, batchEnvelope, batchItemSchema, jobsBatchSchema } from '../schemas/jobsBatch.ts';

/** Options of {@link jobRoutes}. */
export interface JobRoutesOptions {
  service: JobService;
}

/** `GET /jobs` querystring after validation (`limit` and `active` have their defaults filled in). */
interface ListQuerystring {
  state?: string;
  type?: string;
  name?: string;
  q?: string;
  label?: string;
  owner?: string;
  virtualCluster?: string;
  active?: 'true' | 'false' | 'all';
  limit: string;
  cursor?: string;
}

/** `GET /jobs/:id` and `/history` querystring after validation. */
interface AsOfQuerystring {
  asOf?: string;
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
  if (q.q !== undefined) query.search = q.q;
  if (q.label !== undefined) query.labels = parseLabelSelector(q.label);
  if (q.owner !== undefined) query.owner = q.owner;
  if (q.virtualCluster !== undefined) query.virtualCluster = q.virtualCluster;
  query.active = q.active === 'all' ? 'all' : q.active !== 'false';
  if (q.cursor !== undefined) query.cursor = q.cursor;
  return query;
}

/** Most tasks `GET /jobs/:id/tasks` lists (the first ones in plan order; `truncated` says if more). */
export const MAX_TASKS_LISTED = 10_000;

// The server's Ajv options (api/server.ts): no coercion, nothing removed, first error only.
const batchAjv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false });
/** The whole request's check: the envelope only, so that a bad item does not refuse the others. */
const validateBatchEnvelope = batchAjv.compile(batchEnvelope);
const validateBatchItem = batchAjv.compile(batchItemSchema);

/** A batch item (a `POST /jobs` body and its idempotency key) once it passed {@link batchItemSchema}. */
type BatchItemBody = SubmitRequest & { idempotencyKey?: string };

/** One result of `POST /jobs:batch`. */
type BatchResult = { status: number; job?: unknown; error?: { code: string; message: string } };

/** The error `POST /jobs` answers for a body failing its schema, naming the field under the item (`body/jobs/3/priority must be integer`). */
function itemSchemaError(index: number, errors: ErrorObject[] | null | undefined): AppError {
  // shaped as Fastify's own validation error, so the message is built as for every other route
  return toAppError(Object.assign(new Error('batch item failed its schema'), { code: 'FST_ERR_VALIDATION', validation: errors ?? [], validationContext: `body/jobs/${index}` }));
}

function errorResult(err: AppError): BatchResult {
  const { statusCode, code, message } = errorBody(err);
  return { status: statusCode, error: { code, message } };
}

/** `origin` of the jobs this API submits (a facade records its own name: api/compat/facade.ts). */
export const NATIVE_ORIGIN = 'native';

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
        origin: NATIVE_ORIGIN,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      // 200 on an idempotent replay tells the client nothing new was created.
      return reply.code(created ? 201 : 200).header('location', jobUrl(job.id)).send(job);
    },
  );

  // `::` is a literal `:` to Fastify's router: the path is /jobs:batch.
  app.post<{ Body: { jobs: unknown[] } }>(
    '/jobs::batch',
    {
      schema: jobsBatchSchema,
      // the schema documents each item; only the envelope is checked for the whole request
      validatorCompiler: () => validateBatchEnvelope,
      bodyLimit: Math.max(BATCH_BODY_LIMIT_BYTES, app.initialConfig.bodyLimit ?? 0),
      config: { auth: 'operator' },
    },
    async (request) => {
      if (request.headers['idempotency-key'] !== undefined) {
        throw new AppError('VALIDATION_FAILED', 'The Idempotency-Key header does not apply to /jobs:batch; give each item its own idempotencyKey.');
      }
      const results: BatchResult[] = [];
      const valid: { index: number; item: BatchItemBody }[] = [];
      request.body.jobs.forEach((item, index) => {
        if (validateBatchItem(item)) valid.push({ index, item: item as BatchItemBody });
        else results[index] = errorResult(itemSchemaError(index, validateBatchItem.errors));
      });
      const answers = valid.length === 0 ? [] : await service.submitMany(valid.map(({ item: { idempotencyKey, ...req } }) => ({
        req, ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      })), { ...by(request), origin: NATIVE_ORIGIN });
      answers.forEach((a, k) => {
        const { index } = valid[k]!;
        if (a.ok) results[index] = { status: a.created ? 201 : 200, job: a.job };
        else {
          results[index] = errorResult(a.error);
          if (a.error.status >= 500) request.log.error({ err: a.error.cause ?? a.error, item: index }, 'batch item failed');
        }
      });
      // Nothing written and the store out of reach: the whole request is a 503 (with retry-after), as POST /jobs's.
      const unavailable = answers.find((a) => !a.ok && a.error.status === 503);
      if (unavailable !== undefined && !unavailable.ok && !results.some((r) => r.status < 300)) throw unavailable.error;
      return { results };
    },
  );

  // A dry run of POST /jobs (`jetjobs submit --dry-run`): nothing is written.
  app.post<{ Body: SubmitRequest }>('/jobs::plan', { schema: schemas.plan, config: { auth: 'operator' } }, async (request) =>
    service.planSubmission(request.body, request.caller),
  );

  app.get<{ Querystring: ListQuerystring }>('/jobs', { schema: schemas.list, config: READ }, async (request) =>
    service.list(toListQuery(request.query), request.caller),
  );

  app.get<{ Params: IdParams; Querystring: AsOfQuerystring }>('/jobs/:id', { schema: schemas.get, config: READ }, async (request) => {
    const { asOf } = request.query;
    if (asOf === undefined) return service.get(request.params.id, request.caller);
    return service.getAsOf(request.params.id, request.caller, parseAsOf(asOf));
  });

  app.get<{ Params: IdParams }>('/jobs/:id/explain', { schema: schemas.explain, config: READ }, async (request) =>
    service.explain(request.params.id, request.caller),
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

  app.get<{ Params: IdParams; Querystring: AsOfQuerystring }>('/jobs/:id/history', { schema: schemas.history, config: READ }, async (request) => {
    const { asOf } = request.query;
    if (asOf === undefined) return { events: await service.history(request.params.id, request.caller) };
    return service.historyAsOf(request.params.id, request.caller, parseAsOf(asOf));
  });

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
      const job = await service.rerun(request.params.id, { ...by(request, request.body?.reason), origin: NATIVE_ORIGIN });
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
