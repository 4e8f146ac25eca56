/**
 * `GET /jobs/:id/tasks/:taskId/logs` over the fake JobService and the memory TaskLogs: text and
 * NDJSON, the query parameters and their validation, visibility, and follow over real HTTP (live
 * chunks before the end, a disconnect that frees the slot, a finished job that is not followed).
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { DOCS_PREFIX } from '../../../api/openapi.ts';
import { createMemoryTaskLogs, type TaskLogs } from '../../../engine/index.ts';
import { withAuth } from '../../helpers/auth.ts';
import { waitFor } from '../../helpers/wait.ts';
import { asUser, assertError, createApi, PREFIX, submitJob, UNKNOWN_ID, type Api } from './harness.ts';

const enc = new TextEncoder();
const logsUrl = (id: string, taskId = 't00000', query = '') => `${PREFIX}/jobs/${id}/tasks/${taskId}/logs${query}`;

async function writeAttempt(logs: TaskLogs, jobId: string, taskId: string, attempt: number, parts: [('stdout' | 'stderr'), string][], end?: { reason: string; exitCode: number | null }) {
  const w = logs.writer(jobId, taskId, attempt);
  for (const [stream, text] of parts) w.write(stream, enc.encode(text));
  if (end) await w.end(end);
  return w;
}

describe('GET /jobs/:id/tasks/:taskId/logs', () => {
  let api: Api;
  let logs: TaskLogs;
  let job: string;
  before(async () => {
    logs = createMemoryTaskLogs();
    api = createApi({ taskLogs: logs, settings: { sseMaxPerUser: 1 } });
    job = await submitJob(api.app);
    await writeAttempt(logs, job, 't00000', 1, [['stdout', 'first\n']], { reason: 'exited', exitCode: 2 });
    await writeAttempt(logs, job, 't00000', 2, [['stdout', 'hello\n'], ['stderr', 'warning\n'], ['stdout', 'done\n']], { reason: 'exited', exitCode: 0 });
  });
  after(async () => {
    await api.app.close();
    await logs.close();
  });

  it('text/plain: the newest attempt, both streams in order; headers describe the read', async () => {
    const res = await api.app.inject({ method: 'GET', url: logsUrl(job) });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/plain; charset=utf-8/);
    assert.equal(res.body, 'hello\nwarning\ndone\n');
    assert.equal(res.headers['x-log-attempt'], '2');
    assert.equal(res.headers['x-log-truncated'], 'false');
    assert.equal(res.headers['x-log-end-reason'], 'exited');
    assert.equal(res.headers['x-log-exit-code'], '0');
    assert.match(String(res.headers['x-log-last-seq']), /^\d+$/);
  });

  it('stream, attempt and tail select; a task without output answers empty', async () => {
    assert.equal((await api.app.inject({ method: 'GET', url: logsUrl(job, 't00000', '?stream=stderr') })).body, 'warning\n');
    const one = await api.app.inject({ method: 'GET', url: logsUrl(job, 't00000', '?attempt=1') });
    assert.equal(one.body, 'first\n');
    assert.equal(one.headers['x-log-exit-code'], '2');
    const tail = await api.app.inject({ method: 'GET', url: logsUrl(job, 't00000', '?tail=8&stream=stdout') });
    assert.equal(tail.body, 'lo\ndone\n');
    assert.equal(tail.headers['x-log-truncated'], 'true');
    const none = await api.app.inject({ method: 'GET', url: logsUrl(job, 's000001') });
    assert.equal(none.statusCode, 200);
    assert.equal(none.body, '');
    assert.equal(none.headers['x-log-attempt'], undefined);
  });

  it('Accept: application/x-ndjson: one JSON object a line, the end record last; after= skips what the client has', async () => {
    const res = await api.app.inject({ method: 'GET', url: logsUrl(job), headers: { accept: 'text/html, application/x-ndjson;q=0.9' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l['type'], l['stream'] ?? l['reason'], l['text'] ?? l['exitCode']]), [
      ['chunk', 'stdout', 'hello\n'], ['chunk', 'stderr', 'warning\n'], ['chunk', 'stdout', 'done\n'], ['end', 'exited', 0],
    ]);
    assert.deepEqual(Object.keys(lines[0]!).sort(), ['at', 'attempt', 'seq', 'stream', 'text', 'type']);
    assert.deepEqual(Object.keys(lines[3]!).sort(), ['at', 'attempt', 'droppedBytes', 'exitCode', 'reason', 'seq', 'type']);
    const after = await api.app.inject({ method: 'GET', url: logsUrl(job, 't00000', `?after=${String(lines[1]!['seq'])}`), headers: { accept: 'application/x-ndjson' } });
    assert.deepEqual(after.body.trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type), ['chunk', 'end']);
  });

  it('refuses bad ids and bad query parameters with 400', async () => {
    for (const t of ['t1', 'x00000', 't00000.>', '%2A', 'T00000', 's00000']) assertError(await api.app.inject({ method: 'GET', url: logsUrl(job, t) }), 400, 'INVALID_ID');
    assertError(await api.app.inject({ method: 'GET', url: logsUrl('not-a-job') }), 400, 'INVALID_ID');
    for (const q of ['?stream=stdin', '?attempt=0', '?attempt=-1', '?attempt=1.5', '?tail=-1', '?tail=abc', '?tail=1e3', '?tail=1000000000', '?follow=yes', '?after=x', '?foo=1', '?stream=stdout&stream=stderr']) {
      assertError(await api.app.inject({ method: 'GET', url: logsUrl(job, 't00000', q) }), 400, 'VALIDATION_FAILED');
    }
  });

  it('is in the OpenAPI document: both path parameters, the query, text and NDJSON, the bearer token', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/json` })).json<{ paths: Record<string, Record<string, {
      parameters: { name: string; in: string; required?: boolean }[]; responses: Record<string, { content?: Record<string, unknown> }>; security: unknown[];
    }>> }>();
    const op = doc.paths[`${PREFIX}/jobs/{id}/tasks/{taskId}/logs`]?.['get'];
    assert.ok(op, Object.keys(doc.paths).join(' '));
    assert.deepEqual(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, p.required]), [['id', true], ['taskId', true]]);
    assert.deepEqual(op.parameters.filter((p) => p.in === 'query').map((p) => p.name).sort(), ['after', 'attempt', 'follow', 'stream', 'tail']);
    assert.deepEqual(Object.keys(op.responses['200']?.content ?? {}).sort(), ['application/x-ndjson', 'text/plain']);
    assert.equal(op.security.length, 1);
  });

  it('needs a token; another user\'s job and an unknown job are 404', async () => {
    assertError(await api.app.inject({ method: 'GET', url: logsUrl(job), headers: { authorization: '' } }), 401, 'UNAUTHENTICATED');
    assertError(await api.app.inject({ method: 'GET', url: logsUrl(job), headers: asUser('mallory', 'viewer') }), 404, 'JOB_NOT_FOUND');
    assertError(await api.app.inject({ method: 'GET', url: logsUrl(UNKNOWN_ID) }), 404, 'JOB_NOT_FOUND');
    // no follow is opened for a job the caller cannot see
    assertError(await api.app.inject({ method: 'GET', url: logsUrl(job, 't00000', '?follow=true'), headers: asUser('mallory', 'viewer') }), 404, 'JOB_NOT_FOUND');
  });

  describe('follow=true over HTTP', () => {
    let port: number;
    before(async () => {
      await api.app.listen({ host: '127.0.0.1', port: 0 });
      port = (api.app.server.address() as { port: number }).port;
    });

    /** A streaming GET: the body as it arrives, the response, and a way to hang up. */
    function get(path: string, headers: Record<string, string> = {}) {
      let body = '';
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: withAuth(headers) });
      const response = new Promise<IncomingMessage>((resolve, reject) => {
        req.on('response', (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          resolve(res);
        });
        req.on('error', reject);
      });
      const ended = response.then((res) => new Promise<void>((resolve) => res.on('end', resolve).on('close', resolve)));
      req.end();
      return { response, ended, body: () => body, hangUp: () => req.destroy() };
    }

    it('sends what is stored, then live chunks before the end, and ends with the attempt', async () => {
      const w = await writeAttempt(logs, job, 't00001', 1, [['stdout', 'stored\n']]);
      await waitFor(async () => (await logs.read(job, 't00001')).chunks.length === 1, { what: 'the stored chunk' });
      const f = get(logsUrl(job, 't00001', '?follow=true'), { accept: 'application/x-ndjson' });
      const res = await f.response;
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      await waitFor(() => f.body().includes('stored'), { what: 'the stored chunk' });
      w.write('stderr', enc.encode('live\n'));
      await waitFor(() => f.body().includes('live'), { what: 'a live chunk before the end' });
      await w.end({ reason: 'exited', exitCode: 0 });
      await f.ended;
      const types = f.body().trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string; text?: string }).text ?? 'end');
      assert.deepEqual(types, ['stored\n', 'live\n', 'end']);
    });

    it('text/plain follow of a task with no output yet; a hang-up ends the follow and frees the slot (one per user here)', async () => {
      const first = get(logsUrl(job, 't00002', '?follow=true'));
      assert.equal((await first.response).statusCode, 200);
      // the one slot is taken
      const second = await api.app.inject({ method: 'GET', url: logsUrl(job, 't00002', '?follow=true') });
      assertError(second, 429, 'TOO_MANY_STREAMS');
      const w = await writeAttempt(logs, job, 't00002', 1, [['stdout', 'at last\n']]);
      await waitFor(() => first.body() === 'at last\n', { what: 'the first output' });
      first.hangUp();
      // the server notices and gives the slot back
      const again = await waitFor(async () => {
        const g = get(logsUrl(job, 't00002', '?follow=true'));
        const res = await g.response;
        if (res.statusCode === 200) return g;
        await g.ended;
        return false;
      }, { what: 'the slot back' });
      await w.end({ reason: 'exited', exitCode: 0 });
      await again.ended;
      assert.equal(again.body(), 'at last\n');
    });

    it('a finished job is not followed: what is stored, at once', async () => {
      const done = await submitJob(api.app);
      await writeAttempt(logs, done, 't00000', 1, [['stdout', 'no end record: its worker died\n']]);
      await waitFor(async () => (await logs.read(done, 't00000')).chunks.length === 1, { what: 'the chunk' });
      api.service.setState(done, 'FAILED');
      const res = await api.app.inject({ method: 'GET', url: logsUrl(done, 't00000', '?follow=true') });
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, 'no end record: its worker died\n');
      assert.equal(res.headers['x-log-end-reason'], undefined);
    });
  });
});

describe('without taskLogs', () => {
  it('the route does not exist', async () => {
    const api = createApi();
    try {
      const job = await submitJob(api.app);
      assertError(await api.app.inject({ method: 'GET', url: logsUrl(job) }), 404, 'NOT_FOUND');
    } finally {
      await api.app.close();
    }
  });
});
