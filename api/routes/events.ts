/**
 * Live events as Server-Sent Events: `GET /jobs/:id/events` and `GET /events`. A stream is the
 * engine's live iterator written raw to the socket; a disconnect aborts it and never touches a job.
 * Resume with `Last-Event-ID` (sent by EventSource on reconnect) or `?after=<seq>`.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '../auth.ts';
import { AppError, liveMessageFor, type JobService, type LiveMessage } from '../../engine/index.ts';
import { createStreamSlots, writeHeld } from '../streamSlots.ts';
import { errorBody, toAppError } from '../errorResponses.ts';
import { eventRouteSchemas as schemas } from '../schemas/events.ts';

/** A comment line every this often keeps proxies and clients from timing the stream out. */
export const SSE_KEEP_ALIVE_MS = 15_000;
/** Reconnect delay suggested to EventSource clients. */
export const SSE_RETRY_MS = 2000;

/** Options of {@link eventRoutes}. */
export interface EventRoutesOptions {
  service: JobService;
  /** Open streams per user (config.sseMaxPerUser). */
  sseMaxPerUser: number;
  /** Open streams in this process (config.sseMaxTotal). */
  sseMaxTotal: number;
  /** @defaultValue {@link SSE_KEEP_ALIVE_MS} */
  keepAliveMs?: number;
}

const SEQ_RE = /^[0-9]{1,15}$/;

/** `Last-Event-ID` wins over `?after`; both digits only. */
function resumeAfter(request: FastifyRequest<{ Querystring: { after?: string } }>): number | undefined {
  const header = request.headers['last-event-id'];
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw !== undefined && raw !== '') {
    if (!SEQ_RE.test(raw)) throw new AppError('VALIDATION_FAILED', 'headers/last-event-id must be a stream sequence (digits only)');
    return Number(raw);
  }
  return request.query.after === undefined ? undefined : Number(request.query.after);
}

/**
 * One SSE message. JSON never contains a raw newline, so `data` is a single line. Events stored
 * together in one record share a sequence: only the record's last event carries `id:`, so a client
 * that drops mid-record resumes from the previous record and sees the whole group again, never half.
 */
export function formatSse(m: LiveMessage): string {
  if (m.kind === 'removed') return `event: removed\ndata: ${JSON.stringify(m)}\n\n`; // not a record: no id
  const event = m.kind === 'snapshot' ? 'snapshot' : m.type;
  const id = m.kind === 'snapshot' || m.lastInRecord ? `id: ${m.seq}\n` : '';
  return `${id}event: ${event}\ndata: ${JSON.stringify(m)}\n\n`;
}

/** Registers the SSE routes; mount with the API prefix. */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, opts) => {
  const keepAliveMs = opts.keepAliveMs ?? SSE_KEEP_ALIVE_MS;
  const slots = createStreamSlots(app, { maxPerUser: opts.sseMaxPerUser, maxTotal: opts.sseMaxTotal, what: 'live streams' });

  async function serve(request: FastifyRequest<{ Querystring: { after?: string } }>, reply: FastifyReply, jobId?: string): Promise<void> {
    const caller = request.caller;
    const afterSeq = resumeAfter(request);
    // Visibility first: another user's job is a plain 404 before any stream starts.
    if (jobId !== undefined) await opts.service.get(jobId, caller);
    const release = slots.reserve(caller);
    const ac = new AbortController();
    let iterator: AsyncIterator<LiveMessage>;
    try {
      const live = opts.service.live({ caller, signal: ac.signal, ...(jobId === undefined ? {} : { jobId }), ...(afterSeq === undefined ? {} : { afterSeq }) });
      iterator = live[Symbol.asyncIterator]();
    } catch (err) {
      release();
      throw err;
    }

    reply.hijack();
    const untrack = slots.track(ac);
    const res = reply.raw;
    const onClose = () => ac.abort();
    res.on('close', onClose);
    request.raw.on('close', onClose);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const write = (chunk: string): Promise<void> => writeHeld(res, ac.signal, chunk);
    const keepAlive = setInterval(() => {
      if (!ac.signal.aborted && !res.destroyed) res.write(': keep-alive\n\n');
    }, keepAliveMs);
    keepAlive.unref();
    try {
      await write(`retry: ${SSE_RETRY_MS}\n\n`);
      for (;;) {
        const r = await iterator.next();
        if (r.done || ac.signal.aborted) break;
        // Delivery records show a global webhook's URL to admins only.
        await write(formatSse(liveMessageFor(caller, r.value)));
      }
    } catch (err) {
      const e = toAppError(err);
      if (e.status >= 500) request.log.warn({ err: e.cause ?? e, code: e.code }, 'live stream ended with an error');
      await write(`event: error\ndata: ${JSON.stringify(errorBody(e))}\n\n`);
    } finally {
      clearInterval(keepAlive);
      ac.abort();
      untrack();
      await iterator.return?.().catch(() => undefined);
      release();
      res.off('close', onClose);
      request.raw.off('close', onClose);
      if (!res.destroyed) res.end();
    }
  }

  app.get<{ Params: { id: string }; Querystring: { after?: string } }>(
    '/jobs/:id/events',
    { schema: schemas.job, config: { auth: 'viewer' } },
    async (request, reply) => serve(request, reply, request.params.id),
  );

  app.get<{ Querystring: { after?: string } }>('/events', { schema: schemas.all, config: { auth: 'viewer' } }, async (request, reply) =>
    serve(request, reply),
  );
};
