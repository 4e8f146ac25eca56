/**
 * `GET /jobs/:id/tasks/:taskId/logs`: a task's stdout/stderr (script and exec tasks) from the
 * engine's TaskLogs, as text or NDJSON, read once or followed until the attempt ends. The caller
 * must see the job (`service.get`, else 404 JOB_NOT_FOUND); the task id is checked before any read.
 * A follow is a chunked response written raw; a client disconnect or server close ends it.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { AppError, TASK_ID_RE, type JobService, type LogChunk, type LogEnd, type LogReadResult, type LogStream, type TaskLogs } from '../../engine/index.ts';
import { createStreamSlots, writeHeld } from '../streamSlots.ts';
import type {} from '../auth.ts';
import { errorBody, toAppError } from '../errorResponses.ts';
import { taskLogRouteSchemas as schemas } from '../schemas/taskLogs.ts';

/** Options of {@link taskLogRoutes}. */
export interface TaskLogRoutesOptions {
  service: JobService;
  taskLogs: TaskLogs;
  /** Follows open per user (the live events' `sseMaxPerUser`, counted apart). */
  maxFollowsPerUser: number;
  /** Follows open in this process (the live events' `sseMaxTotal`, counted apart). */
  maxFollowsTotal: number;
}

export const NDJSON = 'application/x-ndjson';

interface Params {
  id: string;
  taskId: string;
}
interface Query {
  stream?: LogStream;
  attempt?: string;
  tail?: string;
  follow?: 'true' | 'false';
  after?: string;
}

const isEnd = (x: LogChunk | LogEnd): x is LogEnd => 'reason' in x;

/** One NDJSON line. */
export function ndjsonLine(x: LogChunk | LogEnd): string {
  return `${JSON.stringify(isEnd(x) ? { type: 'end', ...x } : { type: 'chunk', ...x })}\n`;
}

function wantsNdjson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === NDJSON);
}

/** A read, limited to what was stored after `after` (no tail then). */
function afterSeq(r: LogReadResult, after: number | undefined): LogReadResult {
  if (after === undefined) return r;
  return { ...r, chunks: r.chunks.filter((c) => c.seq > after), end: r.end !== null && r.end.seq > after ? r.end : null };
}

/** Registers the route; mount with the API prefix. */
export const taskLogRoutes: FastifyPluginAsync<TaskLogRoutesOptions> = async (app, opts) => {
  const { service, taskLogs } = opts;
  const slots = createStreamSlots(app, { maxPerUser: opts.maxFollowsPerUser, maxTotal: opts.maxFollowsTotal, what: 'log follows' });

  function sendRead(reply: FastifyReply, r: LogReadResult, ndjson: boolean): FastifyReply {
    const last = r.end ?? r.chunks.at(-1);
    reply.header('x-log-truncated', String(r.truncated));
    if (r.attempt !== null) reply.header('x-log-attempt', String(r.attempt));
    if (last !== undefined) reply.header('x-log-last-seq', String(last.seq));
    if (r.end !== null) {
      reply.header('x-log-end-reason', r.end.reason);
      reply.header('x-log-exit-code', r.end.exitCode === null ? 'null' : String(r.end.exitCode));
    }
    reply.header('cache-control', 'no-store');
    if (ndjson) {
      const items: (LogChunk | LogEnd)[] = r.end === null ? r.chunks : [...r.chunks, r.end];
      return reply.type(`${NDJSON}; charset=utf-8`).send(items.map(ndjsonLine).join(''));
    }
    return reply.type('text/plain; charset=utf-8').send(r.chunks.map((c) => c.text).join(''));
  }

  async function follow(request: FastifyRequest, reply: FastifyReply, iterable: AsyncIterable<LogChunk | LogEnd>, ndjson: boolean, ac: AbortController, release: () => void): Promise<void> {
    const iterator = iterable[Symbol.asyncIterator]();
    reply.hijack();
    const untrack = slots.track(ac);
    const res = reply.raw;
    const onClose = () => ac.abort();
    res.on('close', onClose);
    res.writeHead(200, {
      'content-type': `${ndjson ? NDJSON : 'text/plain'}; charset=utf-8`,
      'cache-control': 'no-store, no-transform',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const write = (text: string): Promise<void> => writeHeld(res, ac.signal, text);
    try {
      for (;;) {
        const r = await iterator.next();
        if (r.done || ac.signal.aborted) break;
        await write(ndjson ? ndjsonLine(r.value) : isEnd(r.value) ? '' : r.value.text);
      }
    } catch (err) {
      const e = toAppError(err);
      request.log.warn({ err: e.cause ?? e, code: e.code }, 'task log follow ended with an error');
      // text has no room for an error: the response just ends
      if (ndjson) await write(`${JSON.stringify({ type: 'error', ...errorBody(e) })}\n`);
    } finally {
      ac.abort();
      untrack();
      await iterator.return?.().catch(() => undefined);
      release();
      res.off('close', onClose);
      if (!res.destroyed) res.end();
    }
  }

  app.get<{ Params: Params; Querystring: Query }>(
    '/jobs/:id/tasks/:taskId/logs',
    { schema: schemas.logs, config: { auth: 'viewer' } },
    async (request, reply) => {
      const { id, taskId } = request.params;
      if (!TASK_ID_RE.test(taskId)) throw new AppError('INVALID_ID', 'params/taskId must be a task id (t00000, s000000, r000000)');
      const q = request.query;
      const readOpts = {
        ...(q.stream !== undefined ? { stream: q.stream } : {}),
        ...(q.attempt !== undefined ? { attempt: Number(q.attempt) } : {}),
        ...(q.tail !== undefined && q.after === undefined ? { tailBytes: Number(q.tail) } : {}),
      };
      const after = q.after === undefined ? undefined : Number(q.after);
      // visibility first: another user's job is a plain 404
      const job = await service.get(id, request.caller);
      const ndjson = wantsNdjson(request);
      // a finished job's tasks write nothing more: answer what is stored (an attempt whose worker
      // died has no end record, and a follow of it would never end)
      if (q.follow !== 'true' || TERMINAL_STATES.has(job.state) || request.method === 'HEAD') {
        return sendRead(reply, afterSeq(await taskLogs.read(id, taskId, readOpts), after), ndjson);
      }
      const release = slots.reserve(request.caller);
      const ac = new AbortController();
      let iterable: AsyncIterable<LogChunk | LogEnd>;
      try {
        iterable = taskLogs.follow(id, taskId, { ...readOpts, ...(after !== undefined ? { afterSeq: after } : {}), signal: ac.signal });
      } catch (err) {
        release();
        throw err;
      }
      await follow(request, reply, iterable, ndjson, ac, release);
    },
  );
};
