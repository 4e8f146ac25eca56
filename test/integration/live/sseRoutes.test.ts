/** SSE routes over the real liveStream (memory event log + projection) and a stand-in for auth. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { entryView } from '../../../engine/projections/jobEntry.ts';
import { installErrorHandlers } from '../../../api/errorResponses.ts';
import { eventRoutes } from '../../../api/routes/events.ts';
import { systemClock } from '../../../engine/clock.ts';
import { AppError } from '../../../engine/errors.ts';
import { createMemoryEventLog } from '../../../engine/eventlog/memoryEventLog.ts';
import { liveStream } from '../../../engine/live/liveStream.ts';
import { silentLogger } from '../../../engine/log.ts';
import { createJobProjection, type JobEntry } from '../../../engine/projections/jobProjection.ts';
import type { Caller, JobService } from '../../../engine/serviceTypes.ts';
import { createJobWriter } from '../../unit/engine/live/jobWriter.fixture.ts';
import { createSseParser, type SseMessage } from '../../helpers/sse.ts';
import { waitFor } from '../../helpers/wait.ts';

const PREFIX = '/native/v1';
const owner = (e: JobEntry) => (e.snapshot.context as { owner: string }).owner;

/** An SSE client over node:http that records every message and comment. */
function openStream(base: string, path: string, headers: Record<string, string> = {}) {
  const messages: SseMessage[] = [];
  let status = 0;
  let body = '';
  let ended = false;
  const req = http.get(`${base}${path}`, { headers }, (res) => {
    status = res.statusCode ?? 0;
    res.setEncoding('utf8');
    const parse = createSseParser((m) => messages.push(m));
    res.on('data', (chunk: string) => {
      body += chunk;
      parse(chunk);
    });
    res.on('end', () => (ended = true));
    res.on('close', () => (ended = true));
  });
  req.on('error', () => (ended = true));
  return {
    messages,
    get status() {
      return status;
    },
    get body() {
      return body;
    },
    get ended() {
      return ended;
    },
    events: () => messages.filter((m) => m.event !== undefined && m.comment === undefined && m.data !== undefined),
    close: () => req.destroy(),
  };
}

describe('SSE routes', () => {
  const log = createMemoryEventLog();
  const projection = createJobProjection({ logger: silentLogger });
  const writer = createJobWriter(log);
  let liveCalls = 0;
  let openIterators = 0;
  const service = {
    async get(id: string, caller: Caller) {
      const e = projection.get(id);
      if (!e || (caller.role !== 'admin' && owner(e) !== caller.user)) throw new AppError('JOB_NOT_FOUND');
      return entryView(e);
    },
    live(o: { caller: Caller; jobId?: string; afterSeq?: number; signal: AbortSignal }) {
      liveCalls++;
      const canSee = (e: JobEntry) => o.caller.role === 'admin' || owner(e) === o.caller.user;
      const inner = liveStream({ eventLog: log, projection, canSee, clock: systemClock }, o);
      return {
        async *[Symbol.asyncIterator]() {
          openIterators++;
          try {
            yield* inner;
          } finally {
            openIterators--;
          }
        },
      };
    },
  } as unknown as JobService;

  let app: FastifyInstance;
  let base = '';
  before(async () => {
    const feeder = log.follow(1, (r) => projection.apply(r));
    await feeder.caughtUp;
    app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } } });
    installErrorHandlers(app);
    // Stand-in for H1's auth plugin: the caller comes from a test header.
    app.addHook('onRequest', async (request) => {
      const user = String(request.headers['x-user'] ?? 'alice');
      (request as unknown as { caller: Caller }).caller = { user, role: user === 'root' ? 'admin' : 'viewer', virtualClusters: [] };
    });
    await app.register(eventRoutes, { prefix: PREFIX, service, sseMaxPerUser: 2, sseMaxTotal: 3, keepAliveMs: 50 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    await log.close();
  });

  it('streams a snapshot then the events of one job, with ids, event names and keep-alives', async () => {
    const id = await writer.submit({ owner: 'alice' });
    await waitFor(() => projection.get(id) !== undefined, { what: 'projection', timeoutMs: 5000, intervalMs: 5 });
    const s = openStream(base, `${PREFIX}/jobs/${id}/events`);
    try {
      await waitFor(() => s.events().length >= 1, { what: 'snapshot', timeoutMs: 5000, intervalMs: 5 });
      assert.equal(s.status, 200);
      const [snap] = s.events();
      assert.equal(snap!.event, 'snapshot');
      assert.equal(snap!.id, String(projection.lastSeq()));
      assert.deepEqual((JSON.parse(snap!.data!) as { jobs: { id: string }[] }).jobs.map((j) => j.id), [id]);
      const seq = await writer.stop(id);
      await waitFor(() => s.events().length >= 2, { what: 'event', timeoutMs: 5000, intervalMs: 5 });
      const ev = s.events()[1]!;
      assert.equal(ev.event, 'JobStopped');
      assert.equal(ev.id, String(seq));
      const data = JSON.parse(ev.data!) as { jobId: string; job: { state: string } };
      assert.equal(data.jobId, id);
      assert.equal(data.job.state, 'STOPPED');
      await waitFor(() => s.messages.some((m) => m.comment === 'keep-alive'), { what: 'keep-alive', timeoutMs: 5000, intervalMs: 5 });
    } finally {
      s.close();
    }
    await waitFor(() => openIterators === 0, { what: 'stream released', timeoutMs: 5000, intervalMs: 5 });
  });

  it('resumes from Last-Event-ID (header) or ?after without a snapshot, each event once', async () => {
    const id = await writer.submit({ owner: 'alice' });
    const claimSeq = await writer.command(id, { kind: 'claim', coordinatorId: 'c1', tasks: [] });
    await writer.command(id, { kind: 'startVerification' });
    await writer.command(id, { kind: 'finish', outcome: 'succeeded' });
    for (const [path, headers] of [
      [`${PREFIX}/jobs/${id}/events`, { 'last-event-id': String(claimSeq) }],
      [`${PREFIX}/jobs/${id}/events?after=${claimSeq}`, {}],
      [`${PREFIX}/jobs/${id}/events?after=1`, { 'last-event-id': String(claimSeq) }],
    ] as const) {
      const s = openStream(base, path, headers);
      try {
        await waitFor(() => s.events().length >= 2, { what: 'events', timeoutMs: 5000, intervalMs: 5 });
        assert.deepEqual(s.events().map((m) => m.event), ['VerificationStarted', 'JobSucceeded']);
      } finally {
        s.close();
      }
    }
  });

  it('gives an id only to the last event of a record, so a resume never starts inside a group', async () => {
    const id = await writer.submit({ owner: 'alice' });
    await waitFor(() => projection.get(id) !== undefined, { what: 'projection', timeoutMs: 5000, intervalMs: 5 });
    const s = openStream(base, `${PREFIX}/jobs/${id}/events`);
    try {
      await waitFor(() => s.events().length >= 1, { what: 'snapshot', timeoutMs: 5000, intervalMs: 5 });
      // JobClaimed + TasksPlanned are appended as one record
      const seq = await writer.command(id, { kind: 'claim', coordinatorId: 'c1', tasks: [{ taskId: 't0', payload: null, items: 1, bytes: 0 }] });
      await waitFor(() => s.events().length >= 3, { what: 'both events', timeoutMs: 5000, intervalMs: 5 });
      const [claimed, planned] = s.events().slice(1);
      assert.deepEqual([claimed!.event, planned!.event], ['JobClaimed', 'TasksPlanned']);
      assert.equal(claimed!.id, undefined);
      assert.equal(planned!.id, String(seq));
    } finally {
      s.close();
    }
  });

  it('answers 404 for another user\'s job and 400 for a bad Last-Event-ID, before any stream', async () => {
    const id = await writer.submit({ owner: 'bob' });
    await waitFor(() => projection.get(id) !== undefined, { what: 'projection', timeoutMs: 5000, intervalMs: 5 });
    const before = liveCalls;
    const res = await app.inject({ method: 'GET', url: `${PREFIX}/jobs/${id}/events`, headers: { 'x-user': 'alice' } });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'JOB_NOT_FOUND');
    const bad = await app.inject({ method: 'GET', url: `${PREFIX}/jobs/${id}/events`, headers: { 'x-user': 'bob', 'last-event-id': '12a' } });
    assert.equal(bad.statusCode, 400);
    const badQuery = await app.inject({ method: 'GET', url: `${PREFIX}/events?after=-1` });
    assert.equal(badQuery.statusCode, 400);
    assert.equal(liveCalls, before);
  });

  it('all-jobs stream shows only the caller\'s jobs', async () => {
    const s = openStream(base, `${PREFIX}/events`, { 'x-user': 'carol' });
    try {
      await waitFor(() => s.events().length >= 1, { what: 'snapshot', timeoutMs: 5000, intervalMs: 5 });
      assert.deepEqual((JSON.parse(s.events()[0]!.data!) as { jobs: unknown[] }).jobs, []);
      await writer.submit({ owner: 'dave' });
      const mine = await writer.submit({ owner: 'carol' });
      await waitFor(() => s.events().length >= 2, { what: 'event', timeoutMs: 5000, intervalMs: 5 });
      assert.equal(s.events().length, 2);
      assert.equal((JSON.parse(s.events()[1]!.data!) as { jobId: string }).jobId, mine);
    } finally {
      s.close();
    }
  });

  it('limits open streams per user and in total with 429 TOO_MANY_STREAMS; a disconnect frees the slot', async () => {
    const a1 = openStream(base, `${PREFIX}/events`, { 'x-user': 'erin' });
    const a2 = openStream(base, `${PREFIX}/events`, { 'x-user': 'erin' });
    const b1 = openStream(base, `${PREFIX}/events`, { 'x-user': 'frank' });
    try {
      await waitFor(() => [a1, a2, b1].every((s) => s.events().length >= 1), { what: '3 streams', timeoutMs: 5000, intervalMs: 5 });
      const third = await app.inject({ method: 'GET', url: `${PREFIX}/events`, headers: { 'x-user': 'erin' } });
      assert.equal(third.statusCode, 429);
      assert.equal(third.json().code, 'TOO_MANY_STREAMS');
      assert.equal(third.headers['retry-after'], '1');
      const total = await app.inject({ method: 'GET', url: `${PREFIX}/events`, headers: { 'x-user': 'gina' } });
      assert.equal(total.statusCode, 429);
      a1.close();
      await waitFor(() => openIterators === 2, { what: 'slot freed', timeoutMs: 5000, intervalMs: 5 });
      const again = openStream(base, `${PREFIX}/events`, { 'x-user': 'erin' });
      try {
        await waitFor(() => again.events().length >= 1, { what: 'new stream', timeoutMs: 5000, intervalMs: 5 });
        assert.equal(again.status, 200);
      } finally {
        again.close();
      }
    } finally {
      a1.close();
      a2.close();
      b1.close();
    }
    await waitFor(() => openIterators === 0, { what: 'all released', timeoutMs: 5000, intervalMs: 5 });
  });

  it('closing the server ends open streams instead of hanging', async () => {
    const other = Fastify({ logger: false });
    installErrorHandlers(other);
    other.addHook('onRequest', async (request) => {
      (request as unknown as { caller: Caller }).caller = { user: 'alice', role: 'viewer', virtualClusters: [] };
    });
    await other.register(eventRoutes, { prefix: PREFIX, service, sseMaxPerUser: 2, sseMaxTotal: 3 });
    await other.listen({ host: '127.0.0.1', port: 0 });
    const s = openStream(`http://127.0.0.1:${(other.server.address() as AddressInfo).port}`, `${PREFIX}/events`);
    try {
      await waitFor(() => s.events().length >= 1, { what: 'snapshot', timeoutMs: 5000, intervalMs: 5 });
      const closed = other.close();
      await waitFor(() => s.ended, { what: 'stream ended', timeoutMs: 5000, intervalMs: 5 });
      await closed;
    } finally {
      s.close();
    }
  });
});
