/**
 * `/contexts` (clients.md §3.2): named pools of job slots (contexts.ts). Deleting a context stops
 * its unfinished jobs (gracefully, or at once with `force=true`); `PUT /contexts?reset=reboot` stops
 * every context the caller may stop (Spark then re-creates the contexts of its config file: we
 * have none).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SYSTEM_CALLER, type Caller, type JobService } from '../../../engine/index.ts';
import { requireRole } from '../facade.ts';
import { configPath, parseConfigBody } from './body.ts';
import { checkContextName, CONTEXT_ID_LABEL, CONTEXT_LABEL, type SparkContexts, type SparkContextDoc } from './contexts.ts';
import { SparkError, sendSuccess } from './errors.ts';
import { activeScriptJobs } from './jobQueries.ts';
import { parseBool, postOrDelete, single } from './query.ts';

export interface ContextRouteOptions {
  service: JobService;
  contexts: SparkContexts;
  now(): string;
}

export function contextReport(c: SparkContextDoc): Record<string, string> {
  return { id: c.id, name: c.name, startTime: new Date(c.startTime).toISOString(), endTime: c.endTime === null ? 'Empty' : new Date(c.endTime).toISOString(), state: c.state };
}

/** Query parameters and `spark.context-settings` of the body, as strings (the body wins, as Spark's fallback order has it). */
function contextParams(query: Record<string, string>, body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (k !== '_method') out[k] = single(v, k)!.slice(0, 256);
  const settings = configPath(parseConfigBody(body), 'spark.context-settings');
  if (settings !== undefined && settings !== null && typeof settings === 'object' && !Array.isArray(settings)) {
    for (const [k, v] of Object.entries(settings)) if (v === null || typeof v !== 'object') out[k] = String(v).slice(0, 256);
  }
  if (Object.keys(out).length > 64) throw new SparkError(400, 'at most 64 context settings');
  return out;
}

export function registerContextRoutes(app: FastifyInstance, opts: ContextRouteOptions): void {
  const { service, contexts } = opts;

  app.get('/contexts', async (request, reply) => {
    requireRole(request.caller, 'viewer');
    return reply.type('application/json').send(contexts.list().map((c) => c.name));
  });

  app.get<{ Params: { name: string } }>('/contexts/:name', async (request, reply) => {
    requireRole(request.caller, 'viewer');
    const c = contexts.get(request.params.name);
    if (c === undefined) throw new SparkError(404, `can't find context with name ${request.params.name}`);
    return reply.type('application/json').send(contextReport(c));
  });

  app.post<{ Params: { name: string }; Querystring: Record<string, string> }>('/contexts/:name', async (request, reply) => {
    if (postOrDelete(request.query) === 'DELETE') return remove(request, reply);
    requireRole(request.caller, 'operator');
    const name = checkContextName(request.params.name);
    await contexts.create(name, contextParams(request.query, request.body), request.caller.user, opts.now());
    return sendSuccess(reply, 200, 'Context initialized');
  });

  async function stopContext(c: SparkContextDoc, caller: Caller, force: boolean): Promise<void> {
    if (caller.role !== 'admin' && c.owner !== caller.user) throw new SparkError(403, `context ${c.name} belongs to another user; only they or an admin may stop it`);
    await contexts.stop(c.name, opts.now());
    const reason = `Spark context ${c.name} deleted by ${caller.user}`;
    // by the context's id: a context re-created under the name meanwhile keeps its new jobs
    for (const job of await activeScriptJobs(service, SYSTEM_CALLER, { [CONTEXT_LABEL]: c.name, [CONTEXT_ID_LABEL]: c.id })) {
      await service.stop(job.id, { caller: SYSTEM_CALLER, reason, ...(force ? { force: true } : {}) }).catch(() => undefined); // finished meanwhile
    }
  }

  async function remove(request: FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string> }>, reply: FastifyReply): Promise<FastifyReply> {
    requireRole(request.caller, 'operator');
    const force = parseBool(request.query.force, 'force') ?? false;
    const c = contexts.get(request.params.name);
    if (c === undefined) throw new SparkError(404, `context ${request.params.name} not found`);
    await stopContext(c, request.caller, force);
    return sendSuccess(reply, 200, 'Context stopped');
  }
  app.delete<{ Params: { name: string }; Querystring: Record<string, string> }>('/contexts/:name', remove);

  app.put<{ Querystring: Record<string, string> }>('/contexts', async (request, reply) => {
    requireRole(request.caller, 'operator');
    const reset = request.query.reset;
    // the original answers 500 {"status":"ERROR","result":"ERROR"} here; a client's mistake is a 400 with us
    if (reset !== 'reboot') throw new SparkError(400, reset === undefined ? 'the reset parameter is missing (reset=reboot)' : `unknown reset ${JSON.stringify(String(reset).slice(0, 40))} (reset=reboot)`);
    const sync = parseBool(request.query.sync, 'sync');
    const mine = contexts.list().filter((c) => request.caller.role === 'admin' || c.owner === request.caller.user);
    const work = Promise.all(mine.map((c) => stopContext(c, request.caller, false)));
    if (sync === false) {
      work.catch((err: unknown) => request.log.warn({ err }, 'context reset failed'));
      return sendSuccess(reply, 200, 'Context reset requested');
    }
    await work;
    return sendSuccess(reply, 200, 'Context reset');
  });
}
