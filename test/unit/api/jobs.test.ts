/** Job routes over the fake JobService: happy paths, response shapes, idempotency, transitions. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobView } from '../../../engine/service.ts';
import { assertError, createApi, post, PREFIX, submitJob, UNKNOWN_ID, VALID_SUBMIT, type Api } from './harness.ts';

const JOB_VIEW_KEYS = [
  'coordinatorId', 'epoch', 'error', 'finishedAt', 'id', 'name', 'owner', 'priority', 'progress', 'reclaims',
  'spec', 'startedAt', 'state', 'submittedAt', 'summary', 'type',
];

function assertJobView(body: unknown): asserts body is JobView {
  assert.ok(body !== null && typeof body === 'object');
  assert.deepEqual(Object.keys(body).sort(), JOB_VIEW_KEYS);
}

describe('POST /jobs', () => {
  let api: Api;
  before(() => {
    api = createApi();
  });
  after(() => api.app.close());

  it('creates a WAITING job: 201, location, JobView; name defaults to the type (in the service)', async () => {
    const res = await post(api.app, `${PREFIX}/jobs`, { type: 'noop', spec: {} });
    assert.equal(res.statusCode, 201);
    const job = res.json();
    assertJobView(job);
    assert.equal(res.headers['location'], `${PREFIX}/jobs/${job.id}`);
    assert.equal(job.state, 'WAITING');
    assert.equal(job.name, 'noop');
    assert.equal(job.owner, 'api');
  });

  it('passes every field and the actor to the service', async () => {
    const body = { ...VALID_SUBMIT, priority: -1000, maxTaskAttempts: 100, maxFailedRatio: 0.5 };
    const res = await post(api.app, `${PREFIX}/jobs`, body);
    assert.equal(res.statusCode, 201);
    assert.equal(res.json<JobView>().priority, -1000);
    const call = api.service.calls.at(-1);
    assert.deepEqual(call, { method: 'submit', args: [body, { actor: 'api' }] });
  });

  it('accepts names built from the whole allow-list', async () => {
    const name = 'Copy 2025-01-01T00:00 a_b.c/d@e+f';
    const res = await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, name });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json<JobView>().name, name);
  });

  it('replays an identical submission with the same idempotency key: 200 and the original job', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const first = await post(api.app, `${PREFIX}/jobs`, VALID_SUBMIT, headers);
    // Same body, keys in another order: still the same request.
    const second = await post(api.app, `${PREFIX}/jobs`, { spec: { ms: 10 }, name: 'nightly copy', type: 'sleep' }, headers);
    assert.equal(first.statusCode, 201);
    assert.equal(second.statusCode, 200);
    assert.equal(second.json<JobView>().id, first.json<JobView>().id);
    assert.equal(second.headers['location'], first.headers['location']);
    assert.deepEqual(api.service.calls.at(-1)?.args[1], { actor: 'api', idempotencyKey: 'order-42' });
  });

  it('propagates 409 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    const headers = { 'idempotency-key': 'order-43' };
    assert.equal((await post(api.app, `${PREFIX}/jobs`, VALID_SUBMIT, headers)).statusCode, 201);
    const res = await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, priority: 5 }, headers);
    assertError(res, 409, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('creates two jobs for two identical submissions without a key', async () => {
    const a = await post(api.app, `${PREFIX}/jobs`, VALID_SUBMIT);
    const b = await post(api.app, `${PREFIX}/jobs`, VALID_SUBMIT);
    assert.equal(a.statusCode, 201);
    assert.equal(b.statusCode, 201);
    assert.notEqual(a.json<JobView>().id, b.json<JobView>().id);
  });

  it('passes the engine 400 for an unknown job type through', async () => {
    assertError(await post(api.app, `${PREFIX}/jobs`, { type: 'rm_rf', spec: {} }), 400, 'UNKNOWN_JOB_TYPE', 'sleep');
  });
});

describe('GET /jobs', () => {
  let api: Api;
  const ids: string[] = [];
  before(async () => {
    api = createApi();
    ids.push(await submitJob(api.app), await submitJob(api.app, { type: 'noop', name: 'other', spec: {} }), await submitJob(api.app));
    api.service.setState(ids[1]!, 'RUNNING');
  });
  after(() => api.app.close());

  it('lists with the default limit 100 and a null cursor at the end', async () => {
    const res = await api.app.inject({ url: `${PREFIX}/jobs` });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ jobs: JobView[]; nextCursor: string | null }>();
    assert.deepEqual(Object.keys(body).sort(), ['jobs', 'nextCursor']);
    assert.deepEqual(body.jobs.map((j) => j.id), ids);
    body.jobs.forEach(assertJobView);
    assert.equal(body.nextCursor, null);
    assert.deepEqual(api.service.calls.at(-1), { method: 'list', args: [{ limit: 100 }] });
  });

  it('pages with limit and cursor', async () => {
    const first = (await api.app.inject({ url: `${PREFIX}/jobs?limit=2` })).json<{ jobs: JobView[]; nextCursor: string }>();
    assert.equal(first.jobs.length, 2);
    assert.equal(typeof first.nextCursor, 'string');
    const res = await api.app.inject({ url: `${PREFIX}/jobs`, query: { limit: '2', cursor: first.nextCursor } });
    const second = res.json<{ jobs: JobView[]; nextCursor: string | null }>();
    assert.deepEqual(second.jobs.map((j) => j.id), [ids[2]]);
    assert.equal(second.nextCursor, null);
  });

  it('filters by a state list (deduplicated), type and exact name', async () => {
    let res = await api.app.inject({ url: `${PREFIX}/jobs?state=RUNNING,PAUSED,RUNNING&limit=1000` });
    assert.deepEqual(res.json<{ jobs: JobView[] }>().jobs.map((j) => j.id), [ids[1]]);
    assert.deepEqual(api.service.calls.at(-1)?.args[0], { limit: 1000, state: ['RUNNING', 'PAUSED'] });
    res = await api.app.inject({ url: `${PREFIX}/jobs?type=sleep` });
    assert.deepEqual(res.json<{ jobs: JobView[] }>().jobs.map((j) => j.id), [ids[0], ids[2]]);
    res = await api.app.inject({ url: `${PREFIX}/jobs?name=${encodeURIComponent('nightly copy')}` });
    assert.equal(res.json<{ jobs: JobView[] }>().jobs.length, 2);
    res = await api.app.inject({ url: `${PREFIX}/jobs?name=nightly` });
    assert.equal(res.json<{ jobs: JobView[] }>().jobs.length, 0);
  });
});

describe('GET /jobs/:id, /progress, /history', () => {
  let api: Api;
  let id: string;
  before(async () => {
    api = createApi();
    id = await submitJob(api.app);
  });
  after(() => api.app.close());

  it('returns the job', async () => {
    const res = await api.app.inject({ url: `${PREFIX}/jobs/${id}` });
    assert.equal(res.statusCode, 200);
    assertJobView(res.json());
    assert.equal(res.json<JobView>().id, id);
  });

  it('returns progress', async () => {
    const res = await api.app.inject({ url: `${PREFIX}/jobs/${id}/progress` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(Object.keys(res.json()).sort(), [
      'bytesDone', 'bytesTotal', 'elapsedMs', 'failures', 'itemsDone', 'itemsFailed', 'itemsTotal', 'jobId', 'state',
      'tasksFailed', 'tasksSucceeded', 'tasksTotal', 'throughputBytesPerSec',
    ]);
  });

  it('returns history as { events }', async () => {
    const res = await api.app.inject({ url: `${PREFIX}/jobs/${id}/history` });
    assert.equal(res.statusCode, 200);
    const { events } = res.json<{ events: { type: string }[] }>();
    assert.deepEqual(Object.keys(res.json()), ['events']);
    assert.equal(events[0]?.type, 'JobSubmitted');
    assert.deepEqual(Object.keys(events[0] ?? {}).sort(), ['data', 'meta', 'seq', 'subject', 'time', 'type']);
  });

  for (const suffix of ['', '/progress', '/history']) {
    it(`404 JOB_NOT_FOUND for an unknown id (${suffix || 'job'})`, async () => {
      assertError(await api.app.inject({ url: `${PREFIX}/jobs/${UNKNOWN_ID}${suffix}` }), 404, 'JOB_NOT_FOUND');
    });
  }

  it('serializes only the documented fields, whatever the service returns', async () => {
    const real = api.service.get.bind(api.service);
    api.service.get = async (jobId) => Object.assign(await real(jobId), { secret: 'hunter2', ownerToken: 'x' });
    try {
      const res = await api.app.inject({ url: `${PREFIX}/jobs/${id}` });
      assertJobView(res.json());
      assert.ok(!res.body.includes('hunter2'));
    } finally {
      api.service.get = real;
    }
  });
});

describe('POST /jobs/:id/{stop,pause,resume}', () => {
  let api: Api;
  before(() => {
    api = createApi();
  });
  after(() => api.app.close());

  it('pause → resume → stop, each with no body and no content-type (curl -X POST)', async () => {
    const id = await submitJob(api.app);
    for (const [command, state] of [['pause', 'PAUSED'], ['resume', 'WAITING'], ['stop', 'STOPPED']] as const) {
      const res = await api.app.inject({ method: 'POST', url: `${PREFIX}/jobs/${id}/${command}` });
      assert.equal(res.statusCode, 200, res.body);
      assertJobView(res.json());
      assert.equal(res.json<JobView>().state, state);
      assert.deepEqual(api.service.calls.at(-1), { method: command, args: [id, { actor: 'api' }] });
    }
  });

  it('accepts an empty body with content-type application/json, a JSON null and a reason', async () => {
    const id = await submitJob(api.app);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/pause`, '')).statusCode, 200);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/resume`, 'null')).statusCode, 200);
    const res = await post(api.app, `${PREFIX}/jobs/${id}/stop`, { reason: 'no longer needed' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(api.service.calls.at(-1)?.args, [id, { actor: 'api', reason: 'no longer needed' }]);
  });

  it('stop twice is 200 both times; stopping a finished job is 409 INVALID_TRANSITION', async () => {
    const id = await submitJob(api.app);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/stop`)).statusCode, 200);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/stop`)).statusCode, 200);
    const done = await submitJob(api.app);
    api.service.setState(done, 'SUCCEEDED');
    assertError(await post(api.app, `${PREFIX}/jobs/${done}/stop`), 409, 'INVALID_TRANSITION', 'SUCCEEDED');
    assertError(await post(api.app, `${PREFIX}/jobs/${done}/pause`), 409, 'INVALID_TRANSITION');
  });

  it('resume of a job that is not paused is 409', async () => {
    const id = await submitJob(api.app);
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/resume`), 409, 'INVALID_TRANSITION', 'WAITING');
  });

  it('404 for an unknown id, 400 for a bad body', async () => {
    assertError(await post(api.app, `${PREFIX}/jobs/${UNKNOWN_ID}/stop`), 404, 'JOB_NOT_FOUND');
    const id = await submitJob(api.app);
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, { reason: 'x'.repeat(501) }), 400, 'VALIDATION_FAILED', 'body/reason');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, { force: true }), 400, 'VALIDATION_FAILED', 'body/force is not allowed');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, { reason: 7 }), 400, 'VALIDATION_FAILED', 'body/reason must be string');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, '[]'), 400, 'VALIDATION_FAILED');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, 'stop', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});
