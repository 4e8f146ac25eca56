/**
 * `/jobs` (clients.md §3.2): start an uploaded binary as a `script` job (`appName`+`classPath`, or
 * `cp`+`mainClass`), in a context or ad hoc, async (202 STARTED) or `sync=true` (held until the job
 * ends or `timeout` seconds pass, on a live subscription only); list, report, config, kill.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError, BINARY_NAME_RE, BINARY_TYPES, SYSTEM_CALLER, baseContentType, isAppError, runtimeMinimumMemoryMb, sparkOutcome,
  type BinaryStore, type Caller, type JobService, type JobView, type RuntimeCommands,
} from '../../../engine/index.ts';
import { requireRole } from '../facade.ts';
import { configPath, parseConfigBody } from './body.ts';
import { CONTEXT_ID_LABEL, CONTEXT_LABEL, type SparkContexts } from './contexts.ts';
import { exceptionData, SparkError } from './errors.ts';
import { activeScriptJobs, UNFINISHED } from './jobQueries.ts';
import { jobReport, sparkStatus, SPARK_JOB_STATUSES, type SparkJobStatus } from './jobReport.ts';
import { parseBool, parseIntParam, postOrDelete, single } from './query.ts';
import { waitForEnd } from './syncWait.ts';
import { createStreamSlots } from '../../streamSlots.ts';

export interface JobRouteOptions {
  service: JobService;
  binaries: BinaryStore;
  runtimes: RuntimeCommands;
  contexts: SparkContexts;
  /** The `scriptMemoryLimitMb` setting: a context's `memory-per-node` cannot raise a job above it. */
  memoryLimitMb: number;
  /** Sync requests held at once, per user and per process (the SSE limits: `sseMaxPerUser`, `sseMaxTotal`); past them 429. */
  syncMax: { perUser: number; total: number };
}

/** Spark's DefaultSyncTimeout. */
const DEFAULT_SYNC_TIMEOUT_S = 10;
const MAX_SYNC_TIMEOUT_S = 86_400;
/** Spark's DefaultJobLimit. */
const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 100_000;
const CLASS_RE = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/;
const CALLBACK_MAX = 2048;
/** What the JavaScript and Java runners call a classPath that names nothing (Python's ImportError/AttributeError stay job errors: they may come from the job's own imports). */
const classNotFound = (e: { errorClass: string; message: string }, classPath: string): boolean =>
  e.errorClass === 'ClassNotFound' || (e.errorClass === 'java.lang.ClassNotFoundException' && e.message.trim() === classPath); // not a Class.forName of the job's own

const noSuchJob = (id: string) => new SparkError(404, `No such job ID ${id.slice(0, 100)}`);

/** The caller's `script` job of that id, else 404 `No such job ID` (other types and others' jobs alike). */
async function scriptJob(service: JobService, id: string, caller: Caller): Promise<JobView> {
  try {
    const job = await service.get(id, caller);
    if (job.type !== 'script') throw noSuchJob(id);
    return job;
  } catch (err) {
    if (isAppError(err, 'JOB_NOT_FOUND') || isAppError(err, 'INVALID_ID') || isAppError(err, 'VALIDATION_FAILED')) throw noSuchJob(id);
    throw err;
  }
}

/** `appName`+`classPath` or `cp`+`mainClass` (params first, then the config's `cp`/`mainClass`), with Spark's messages. */
function entryPoint(q: Record<string, unknown>, config: Record<string, unknown>): { binary: string; mainClass: string } {
  const appName = single(q.appName, 'appName');
  const classPath = single(q.classPath, 'classPath');
  const cpParam = single(q.cp, 'cp');
  const mainParam = single(q.mainClass, 'mainClass');
  let mainClass: string;
  let cp: string[];
  if (appName !== undefined) {
    if (classPath === undefined) throw new SparkError(400, 'Cannot parse config: classPath parameter is missing!');
    mainClass = classPath;
    cp = [appName];
  } else {
    const fromConfig = configPath(config, 'cp');
    cp = cpParam !== undefined ? cpParam.split(',') : Array.isArray(fromConfig) ? fromConfig.map(String) : typeof fromConfig === 'string' ? fromConfig.split(',') : [];
    cp = cp.map((s) => s.trim()).filter((s) => s !== '');
    if (cp.length === 0) throw new SparkError(400, 'Cannot parse config: To start the job appName or cp parameters should be configured!');
    const m = mainParam ?? configPath(config, 'mainClass');
    if (typeof m !== 'string' || m === '') throw new SparkError(400, 'Cannot parse config: mainClass parameter is missing!');
    mainClass = m;
  }
  if (cp.length !== 1 || !BINARY_NAME_RE.test(cp[0]!)) {
    throw new SparkError(400, exceptionData(`cp must name exactly one uploaded binary (URIs and several binaries are not supported here): ${JSON.stringify(cp.join(',').slice(0, 120))}`, 'java.lang.IllegalArgumentException'), 'JOB LOADING FAILED');
  }
  if (!CLASS_RE.test(mainClass) || mainClass.length > 512) throw new SparkError(404, `classPath ${mainClass.slice(0, 120)} not found`);
  return { binary: cp[0]!, mainClass };
}

/** Spark URL-decodes `callbackUrl` once more and takes only http/https. */
function callbackOf(q: Record<string, unknown>): string | undefined {
  const raw = single(q.callbackUrl, 'callbackUrl');
  if (raw === undefined) return undefined;
  let url: string;
  try {
    // java.net.URLDecoder: `+` is a space, then %-escapes
    url = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new SparkError(400, 'Callback Url is not a valid URL');
  }
  if (url.length > CALLBACK_MAX || !/^https?:\/\//i.test(url)) throw new SparkError(400, "Callback Url has to be 'http'/'https'");
  return url;
}

const jobName = (mainClass: string) => `spark ${mainClass}`.replace(/[^A-Za-z0-9_\-.:/ ]/g, '_').slice(0, 128);

export function registerJobRoutes(app: FastifyInstance, opts: JobRouteOptions): void {
  const { service, binaries, contexts } = opts;
  const syncSlots = createStreamSlots(app, { maxPerUser: opts.syncMax.perUser, maxTotal: opts.syncMax.total, what: 'sync job requests' });

  app.post<{ Querystring: Record<string, unknown> }>('/jobs', async (request, reply) => {
    requireRole(request.caller, 'operator');
    const q = request.query;
    // DELETE /jobs is no route: a start only as a POST
    if (postOrDelete(q) !== 'POST') throw new SparkError(404, 'The requested resource could not be found.');
    const sync = parseBool(single(q.sync, 'sync'), 'sync') ?? false;
    const timeoutS = parseIntParam(single(q.timeout, 'timeout'), 'timeout', 0, MAX_SYNC_TIMEOUT_S) ?? DEFAULT_SYNC_TIMEOUT_S;
    const contextName = single(q.context, 'context');
    const proxyUser = single(q['spark.proxy.user'], 'spark.proxy.user');
    if (proxyUser !== undefined && proxyUser.length > 256) throw new SparkError(400, 'spark.proxy.user is longer than 256 characters');
    const config = parseConfigBody(request.body);
    const { binary, mainClass } = entryPoint(q, config);
    // a sync request holds a slot from here (nothing is written when none is free) until it answers
    const release = sync ? syncSlots.reserve(request.caller) : undefined;
    reply.raw.once('close', () => release?.());
    const callbackUrl = callbackOf(q);

    const info = await binaries.info(binary);
    if (info === undefined) throw new SparkError(404, `appName ${binary} not found`);
    const type = BINARY_TYPES[baseContentType(info.contentType)];
    if (type === undefined) throw new SparkError(400, exceptionData(`binary ${binary} has content type ${info.contentType}, which no runtime runs`, 'java.lang.IllegalArgumentException'), 'JOB LOADING FAILED');
    const runtime = opts.runtimes[type.runtime];
    if ('missing' in runtime) throw new SparkError(400, exceptionData(`${binary} is ${info.contentType}: ${runtime.missing}`, 'RuntimeUnavailable'), 'JOB LOADING FAILED');

    const ctx = contextName === undefined || contextName === '' ? undefined : contexts.get(contextName);
    if (contextName !== undefined && contextName !== '' && ctx === undefined) throw new SparkError(404, `context ${contextName.slice(0, 128)} not found`);
    const full = () => new SparkError(503, `Too many running jobs (${ctx!.slots}) for job context '${ctx!.name}'`, 'NO SLOTS AVAILABLE');
    if (ctx !== undefined && (await activeScriptJobs(service, SYSTEM_CALLER, { [CONTEXT_LABEL]: ctx.name })).length >= ctx.slots) throw full();

    const memoryLimitMb = ctx?.memoryMb == null ? undefined : Math.min(opts.memoryLimitMb, runtimeMinimumMemoryMb(type.runtime, opts.runtimes) + ctx.memoryMb);
    const { job } = await service.submit({
      type: 'script',
      name: jobName(mainClass),
      spec: {
        binary, classPath: mainClass, runtime: type.runtime, config,
        ...(ctx !== undefined ? { context: ctx.name } : {}),
        ...(proxyUser !== undefined ? { proxyUser } : {}),
        ...(memoryLimitMb !== undefined ? { memoryLimitMb } : {}),
      },
      // a script's own failure is its result, never retried; a second attempt covers a retryable task
      // error (a binary fetch that failed, no free sandbox uid); a worker lost mid-run is redelivered
      maxTaskAttempts: 2,
      ...(ctx !== undefined ? { labels: { [CONTEXT_LABEL]: ctx.name, [CONTEXT_ID_LABEL]: ctx.id } } : {}),
      ...(callbackUrl !== undefined ? { callbackUrl, callbackFormat: 'spark' as const } : {}),
    }, { caller: request.caller, reason: 'Spark Jobserver POST /jobs' });

    if (ctx !== undefined) {
      // two starts racing for the last slot both passed the check above: the later one gives way
      const inContext = await activeScriptJobs(service, SYSTEM_CALLER, { [CONTEXT_LABEL]: ctx.name });
      const place = inContext.findIndex((j) => j.id === job.id);
      if (place >= ctx.slots) {
        await service.stop(job.id, { caller: SYSTEM_CALLER, force: true, reason: `no slot free in Spark context ${ctx.name}` }).catch(() => undefined);
        throw full();
      }
    }
    if (!sync) return reply.code(202).type('application/json').send(jobReport(job, { started: true }));
    return answerSync(request, reply, job, timeoutS);
  });

  async function answerSync(request: FastifyRequest, reply: FastifyReply, job: JobView, timeoutS: number): Promise<FastifyReply> {
    const ac = new AbortController();
    const untrack = syncSlots.track(ac);
    const ended = await waitForEnd(service, job.id, request.caller, timeoutS * 1000, reply.raw, ac.signal).finally(untrack);
    const outcome = ended === undefined ? undefined : sparkOutcome(ended);
    if (outcome === undefined) {
      // Spark's ask times out: 500, and the job goes on (GET /jobs/<id> tells the rest)
      reply.header('location', `/jobs/${job.id}`);
      throw new SparkError(500, exceptionData(`Ask timed out after [${timeoutS * 1000} ms]: job ${job.id} is still running; GET /jobs/${job.id} for its status and result`, 'akka.pattern.AskTimeoutException'));
    }
    if (outcome.status === 'FINISHED') return reply.code(200).type('application/json').send({ jobId: job.id, result: outcome.result });
    if (ended!.error?.code === 'SCRIPT_VALIDATION') throw new SparkError(400, outcome.error, 'VALIDATION FAILED');
    // the runner found no such class: Spark's NoSuchClass answer
    if (classNotFound(outcome.error, (ended!.spec as { classPath?: string }).classPath ?? '')) throw new SparkError(404, `classPath ${(ended!.spec as { classPath?: string }).classPath ?? ''} not found`);
    return reply.code(200).type('application/json').send({ jobId: job.id, status: outcome.status, result: outcome.error });
  }

  app.get<{ Querystring: Record<string, unknown> }>('/jobs', async (request, reply) => {
    requireRole(request.caller, 'viewer');
    const limit = parseIntParam(single(request.query.limit, 'limit'), 'limit', 0, MAX_LIST_LIMIT) ?? DEFAULT_LIST_LIMIT;
    const statusParam = single(request.query.status, 'status')?.toUpperCase();
    const want = statusParam === undefined ? undefined : (SPARK_JOB_STATUSES as readonly string[]).includes(statusParam) ? (statusParam as SparkJobStatus) : null;
    const out: Record<string, unknown>[] = [];
    if (want !== null && want !== 'STARTED' && limit > 0) {
      const states = want === undefined ? undefined : want === 'FINISHED' ? ['SUCCEEDED' as const] : want === 'ERROR' ? ['FAILED' as const] : want === 'KILLED' ? ['STOPPED' as const] : [...UNFINISHED];
      let cursor: string | undefined;
      do {
        const page = await service.list({ type: 'script', ...(states ? { state: states } : {}), limit: Math.min(1000, Math.max(limit - out.length, 1)), ...(cursor ? { cursor } : {}) }, request.caller);
        for (const j of page.jobs) if (want === undefined || sparkStatus(j) === want) out.push(jobReport(j, { withResult: false }));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && out.length < limit);
    }
    return reply.type('application/json').send(out.slice(0, limit));
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    requireRole(request.caller, 'viewer');
    return reply.type('application/json').send(jobReport(await scriptJob(service, request.params.id, request.caller)));
  });

  app.get<{ Params: { id: string } }>('/jobs/:id/config', async (request, reply) => {
    requireRole(request.caller, 'viewer');
    const job = await scriptJob(service, request.params.id, request.caller);
    return reply.type('application/json').send((job.spec as { config?: unknown }).config ?? {});
  });

  async function kill(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): Promise<FastifyReply> {
    requireRole(request.caller, 'operator');
    const id = request.params.id;
    const job = await scriptJob(service, id, request.caller);
    const o = sparkOutcome(job);
    if (o?.status === 'ERROR') return reply.code(200).type('application/json').send({ status: 'ERROR', ERROR: o.error });
    if (o !== undefined) throw new SparkError(404, `No running job with ID ${id}`);
    try {
      await service.stop(id, { caller: request.caller, force: true, reason: 'Spark Jobserver DELETE /jobs' });
    } catch (err) {
      // it finished between the read and the stop: answer for the state it reached
      if (!isAppError(err, 'INVALID_TRANSITION')) throw err;
      const now = sparkOutcome(await scriptJob(service, id, request.caller));
      if (now?.status === 'ERROR') return reply.code(200).type('application/json').send({ status: 'ERROR', ERROR: now.error });
      if (now?.status !== 'KILLED') throw new SparkError(404, `No running job with ID ${id}`);
    }
    return reply.code(200).type('application/json').send({ status: 'KILLED' });
  }
  app.delete<{ Params: { id: string } }>('/jobs/:id', kill);
  app.post<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/jobs/:id', async (request, reply) => {
    if (postOrDelete(request.query) === 'DELETE') return kill(request, reply);
    throw new AppError('NOT_FOUND', 'The requested resource could not be found.');
  });
}
