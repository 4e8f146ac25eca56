/**
 * Job routes over the fake JobService: happy paths, response shapes, idempotency, transitions, the
 * controls (stop with grace, recover, rerun, (de)activate) and per-caller visibility. Requests carry
 * the harness's admin token unless they use `asUser` headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { By, Caller, JobView, TaskView } from '../../../engine/serviceTypes.ts';
import { asUser, assertError, createApi, post, PREFIX, submitJob, UNKNOWN_ID, VALID_SUBMIT, type Api } from './harness.ts';

const JOB_VIEW_KEYS = [
  'active', 'callbackFormat', 'callbackUrl', 'compacted', 'coordinatorId', 'epoch', 'error', 'finishedAt', 'id', 'labels', 'name', 'origin', 'owner', 'parallelism', 'pauseRequested', 'planOpen', 'priority',
  'progress', 'reclaims', 'recoveries', 'rerunOf', 'retries', 'spec', 'startedAt', 'state', 'stopRequested', 'submitSeq', 'submittedAt', 'summary',
  'type', 'virtualCluster',
];

/** The last call the service received: its method and arguments, with the By's caller split off. */
function lastCall(api: Api): { method: string; args: unknown[]; caller: Caller | undefined } {
  const call = api.service.calls.at(-1)!;
  let caller: Caller | undefined;
  const args = call.args.map((a) => {
    if (a !== null && typeof a === 'object' && 'caller' in a) {
      const { caller: c, ...rest } = a as By;
      caller = c;
      return rest;
    }
    if (a !== null && typeof a === 'object' && 'role' in a && 'user' in a) {
      caller = a as Caller;
      return '<caller>';
    }
    return a;
  });
  return { method: call.method, args, caller };
}

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
    const { caller } = lastCall(api);
    assert.equal(caller?.role, 'admin');
    assert.equal(job.owner, caller?.user, 'the caller owns the job');
    assert.deepEqual([job.virtualCluster, job.active, job.stopRequested, job.rerunOf, job.recoveries, job.compacted], ['default', true, null, null, 0, false]);
  });

  it('passes every field and the caller to the service', async () => {
    const body = { ...VALID_SUBMIT, priority: -1000, maxTaskAttempts: 100, maxFailedRatio: 0.5, virtualCluster: 'gpu', callbackUrl: 'https://hooks.example/done?k=1' };
    const res = await post(api.app, `${PREFIX}/jobs`, body);
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual([res.json<JobView>().priority, res.json<JobView>().virtualCluster, res.json<JobView>().callbackUrl], [-1000, 'gpu', body.callbackUrl]);
    assert.deepEqual(lastCall(api), { method: 'submit', args: [body, { origin: 'native' }], caller: lastCall(api).caller });
  });

  it('refuses bad virtual cluster names and overlong callback URLs before the service', async () => {
    const calls = api.service.calls.length;
    for (const virtualCluster of ['GPU', 'a.b', 'a>', '', 'x'.repeat(33), 'gpu\u202e']) {
      assertError(await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, virtualCluster }), 400, 'VALIDATION_FAILED', 'virtualCluster');
    }
    assertError(await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, callbackUrl: `https://x.test/${'a'.repeat(2040)}` }), 400, 'VALIDATION_FAILED', 'callbackUrl');
    assertError(await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, callbackUrl: 7 }), 400, 'VALIDATION_FAILED', 'callbackUrl');
    assert.equal(api.service.calls.length, calls, 'nothing reached the service');
  });

  it('passes the engine 404 / 403 for a virtual cluster through', async () => {
    assertError(await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, virtualCluster: 'tpu' }), 404, 'VIRTUAL_CLUSTER_NOT_FOUND');
    assertError(await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, virtualCluster: 'gpu' }, asUser('carol', 'operator')), 403, 'VIRTUAL_CLUSTER_FORBIDDEN');
    assert.deepEqual([lastCall(api).caller?.user, lastCall(api).caller?.role], ['carol', 'operator']);
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
    assert.deepEqual(lastCall(api).args[1], { origin: 'native', idempotencyKey: 'order-42' });
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

  it('takes labels, and refuses bad keys, bad values and too many before the engine sees them', async () => {
    const res = await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, labels: { team: 'data', 'ex/id': 'a1:b2' } });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(lastCall(api).args[0], { ...VALID_SUBMIT, labels: { team: 'data', 'ex/id': 'a1:b2' } });
    const calls = api.service.calls.length;
    for (const labels of [{ Team: 'x' }, { team: 'a b' }, { team: 'a,b' }, { team: 7 }, [], Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))]) {
      assertError(await post(api.app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, labels }), 400, 'VALIDATION_FAILED', 'labels');
    }
    assert.equal(api.service.calls.length, calls, 'nothing reached the engine');
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
    assert.deepEqual(lastCall(api).args, [{ limit: 100, active: true }, '<caller>']);
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
    assert.deepEqual(lastCall(api).args[0], { limit: 1000, state: ['RUNNING', 'PAUSED'], active: true });
    res = await api.app.inject({ url: `${PREFIX}/jobs?type=sleep` });
    assert.deepEqual(res.json<{ jobs: JobView[] }>().jobs.map((j) => j.id), [ids[0], ids[2]]);
    res = await api.app.inject({ url: `${PREFIX}/jobs?name=${encodeURIComponent('nightly copy')}` });
    assert.equal(res.json<{ jobs: JobView[] }>().jobs.length, 2);
    res = await api.app.inject({ url: `${PREFIX}/jobs?name=nightly` });
    assert.equal(res.json<{ jobs: JobView[] }>().jobs.length, 0);
  });

  it('selects by labels (k=v,k2=v2); a malformed selector is a 400', async () => {
    await api.app.inject({ url: `${PREFIX}/jobs?label=${encodeURIComponent('b=2,a=1')}` });
    assert.deepEqual(lastCall(api).args[0], { limit: 100, labels: { a: '1', b: '2' }, active: true });
    for (const q of ['label=a', 'label=%3D1', 'label=a%3D1%2Ca%3D2', 'label=A%3D1', 'label=a%3Db%20c']) {
      assertError(await api.app.inject({ url: `${PREFIX}/jobs?${q}` }), 400, 'VALIDATION_FAILED');
    }
  });

  it('passes owner, virtual cluster and the active filter (true, false, all)', async () => {
    await api.app.inject({ url: `${PREFIX}/jobs?owner=alice&virtualCluster=gpu&active=all` });
    assert.deepEqual(lastCall(api).args[0], { limit: 100, owner: 'alice', virtualCluster: 'gpu', active: 'all' });
    await api.app.inject({ url: `${PREFIX}/jobs?active=false` });
    assert.deepEqual(lastCall(api).args[0], { limit: 100, active: false });
    for (const q of ['active=yes', 'active=1', 'owner=1alice', 'owner=a%2Eb', 'virtualCluster=a*', 'virtualCluster=Gpu', 'owner=']) {
      assertError(await api.app.inject({ url: `${PREFIX}/jobs?${q}` }), 400, 'VALIDATION_FAILED');
    }
    // user names may have upper-case letters (OpenPAI's); virtual-cluster names may not
    await api.app.inject({ url: `${PREFIX}/jobs?owner=nonadminTestUser` });
    assert.deepEqual(lastCall(api).args[0], { limit: 100, owner: 'nonadminTestUser', active: true });
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

  it('returns tasks as { jobId, tasks, truncated }, at most 10,000 of them', async () => {
    const empty = await api.app.inject({ url: `${PREFIX}/jobs/${id}/tasks` });
    assert.equal(empty.statusCode, 200);
    assert.deepEqual(empty.json(), { jobId: id, tasks: [], truncated: false });
    const task = (index: number): TaskView => ({
      taskId: `t${String(index).padStart(5, '0')}`, index, state: index === 0 ? 'failed' : 'succeeded', attempts: 1, firstAttempt: 1,
      lastUpdated: '2025-01-01T00:00:00.000Z', worker: 'w-1', items: 2, bytes: 10, output: index === 0 ? { exitCode: 3 } : null,
      error: index === 0 ? { code: 'EIO', message: 'disk error', retryable: false } : null,
    });
    api.service.setTasks(id, [task(0), task(1)]);
    const two = await api.app.inject({ url: `${PREFIX}/jobs/${id}/tasks` });
    assert.deepEqual(two.json(), { jobId: id, tasks: [task(0), task(1)], truncated: false });
    api.service.setTasks(id, Array.from({ length: 10_001 }, (_, i) => task(i)));
    const capped = (await api.app.inject({ url: `${PREFIX}/jobs/${id}/tasks` })).json<{ tasks: TaskView[]; truncated: boolean }>();
    assert.deepEqual([capped.tasks.length, capped.tasks.at(-1)?.index, capped.truncated], [10_000, 9_999, true]);
    api.service.setTasks(id, []);
  });

  for (const suffix of ['', '/progress', '/history', '/tasks']) {
    it(`404 JOB_NOT_FOUND for an unknown id (${suffix || 'job'})`, async () => {
      assertError(await api.app.inject({ url: `${PREFIX}/jobs/${UNKNOWN_ID}${suffix}` }), 404, 'JOB_NOT_FOUND');
    });
  }

  it('serializes only the documented fields, whatever the service returns', async () => {
    const real = api.service.get.bind(api.service);
    api.service.get = async (jobId, caller) => Object.assign(await real(jobId, caller), { secret: 'hunter2', ownerToken: 'x' });
    try {
      const res = await api.app.inject({ url: `${PREFIX}/jobs/${id}` });
      assertJobView(res.json());
      assert.ok(!res.body.includes('hunter2'));
    } finally {
      api.service.get = real;
    }
  });
});

describe('POST /jobs/:id/{stop,pause,resume,recover,rerun,activate,deactivate}', () => {
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
      const call = lastCall(api);
      assert.deepEqual([call.method, call.args, call.caller?.role], [command, [id, {}], 'admin']);
    }
  });

  it('accepts an empty body with content-type application/json, a JSON null and a reason', async () => {
    const id = await submitJob(api.app);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/pause`, '')).statusCode, 200);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/resume`, 'null')).statusCode, 200);
    const res = await post(api.app, `${PREFIX}/jobs/${id}/stop`, { reason: 'no longer needed' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(lastCall(api).args, [id, { reason: 'no longer needed' }]);
  });

  it('parallelism: sets a limit or lifts it (null); refuses a missing, zero, fractional or too large value before the engine', async () => {
    const id = await submitJob(api.app);
    const res = await post(api.app, `${PREFIX}/jobs/${id}/parallelism`, { parallelism: 8, reason: 'scale up' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<JobView>().parallelism, 8);
    assert.deepEqual(lastCall(api).args.slice(0, 2), [id, 8]);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/parallelism`, { parallelism: null })).json<JobView>().parallelism, null);
    const calls = api.service.calls.length;
    for (const body of [{}, { parallelism: 0 }, { parallelism: 1.5 }, { parallelism: 10_001 }, { parallelism: '4' }, null]) {
      assertError(await post(api.app, `${PREFIX}/jobs/${id}/parallelism`, body), 400, 'VALIDATION_FAILED');
    }
    assert.equal(api.service.calls.length, calls, 'nothing reached the engine');
  });

  it('stop passes the grace period and force; recover the mode', async () => {
    const id = await submitJob(api.app);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/stop`, { reason: 'drain', graceMs: 3_600_000 })).statusCode, 200);
    assert.deepEqual(lastCall(api).args, [id, { reason: 'drain', graceMs: 3_600_000 }]);
    const other = await submitJob(api.app);
    assert.equal((await post(api.app, `${PREFIX}/jobs/${other}/stop`, { graceMs: 0, force: true })).statusCode, 200);
    assert.deepEqual(lastCall(api).args, [other, { graceMs: 0, force: true }]);
    const res = await post(api.app, `${PREFIX}/jobs/${id}/recover`, { mode: 'notSucceeded', reason: 'retry' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json<JobView>().state, res.json<JobView>().recoveries], ['WAITING', 1]);
    assert.deepEqual(lastCall(api).args, [id, { mode: 'notSucceeded', reason: 'retry' }]);
    api.service.setState(id, 'FAILED');
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/recover`)).statusCode, 200);
    assert.deepEqual(lastCall(api).args, [id, {}]);
  });

  it('recover of a live job is 409; rerun of a finished job is 201 with the new job\'s location', async () => {
    const id = await submitJob(api.app);
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/recover`), 409, 'INVALID_TRANSITION');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/rerun`), 409, 'INVALID_TRANSITION');
    api.service.setState(id, 'SUCCEEDED');
    const res = await post(api.app, `${PREFIX}/jobs/${id}/rerun`, { reason: 'fresh data' });
    assert.equal(res.statusCode, 201, res.body);
    const job = res.json<JobView>();
    assertJobView(job);
    assert.deepEqual([job.rerunOf, job.state], [id, 'WAITING']);
    assert.equal(res.headers['location'], `${PREFIX}/jobs/${job.id}`);
    assert.deepEqual(lastCall(api).args, [id, { reason: 'fresh data', origin: 'native' }]);
  });

  it('deactivate hides a finished job from the default list; activate brings it back', async () => {
    const id = await submitJob(api.app);
    api.service.setState(id, 'STOPPED');
    const res = await post(api.app, `${PREFIX}/jobs/${id}/deactivate`, { reason: 'archived' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<JobView>().active, false);
    assert.deepEqual([lastCall(api).method, lastCall(api).args], ['setActive', [id, false, { reason: 'archived' }]]);
    const listed = async (q: string) => (await api.app.inject({ url: `${PREFIX}/jobs?${q}` })).json<{ jobs: JobView[] }>().jobs.map((j) => j.id);
    assert.ok(!(await listed('limit=1000')).includes(id));
    assert.ok((await listed('active=false')).includes(id));
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/activate`)).json<JobView>().active, true);
    assert.ok((await listed('limit=1000')).includes(id));
  });

  it('refuses out-of-range grace periods, unknown modes and unsafe reasons', async () => {
    const id = await submitJob(api.app);
    const calls = api.service.calls.length;
    for (const [command, body, field] of [
      ['stop', { graceMs: -1 }, 'graceMs'], ['stop', { graceMs: 3_600_001 }, 'graceMs'], ['stop', { graceMs: 1.5 }, 'graceMs'],
      ['stop', { graceMs: '10' }, 'graceMs'], ['stop', { force: 'yes' }, 'force'], ['recover', { mode: 'all' }, 'mode'],
      ['pause', { reason: '' }, 'reason'], ['pause', { reason: 'a\u0000b' }, 'reason'], ['resume', { reason: 'line\nbreak' }, 'reason'],
      ['rerun', { reason: 'evil\u202etxt' }, 'reason'], ['deactivate', { reason: 'zero\u200bwidth' }, 'reason'],
      ['activate', { reason: 'x'.repeat(501) }, 'reason'], ['recover', { graceMs: 1 }, 'graceMs'],
    ] as const) {
      assertError(await post(api.app, `${PREFIX}/jobs/${id}/${command}`, body), 400, 'VALIDATION_FAILED', field);
    }
    assert.equal(api.service.calls.length, calls, 'nothing reached the service');
    assert.equal((await post(api.app, `${PREFIX}/jobs/${id}/pause`, { reason: 'Wartung: Plattentausch ✓ 维护' })).statusCode, 200);
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
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, { now: true }), 400, 'VALIDATION_FAILED', 'body/now is not allowed');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, { reason: 7 }), 400, 'VALIDATION_FAILED', 'body/reason must be string');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, '[]'), 400, 'VALIDATION_FAILED');
    assertError(await post(api.app, `${PREFIX}/jobs/${id}/stop`, 'stop', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('visibility and roles', () => {
  let api: Api;
  let alices: string;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let viewer: Record<string, string>;
  before(async () => {
    api = createApi();
    alice = asUser('alice', 'operator');
    bob = asUser('bob', 'operator');
    viewer = asUser('vera', 'viewer');
    const res = await post(api.app, `${PREFIX}/jobs`, VALID_SUBMIT, alice);
    assert.equal(res.statusCode, 201, res.body);
    alices = res.json<JobView>().id;
  });
  after(() => api.app.close());

  it('another user gets 404 for every read and command on a job that is not theirs', async () => {
    for (const suffix of ['', '/progress', '/history', '/failures', '/tasks']) {
      assertError(await api.app.inject({ url: `${PREFIX}/jobs/${alices}${suffix}`, headers: bob }), 404, 'JOB_NOT_FOUND');
    }
    assert.equal((await api.app.inject({ url: `${PREFIX}/jobs/${alices}/tasks`, headers: alice })).statusCode, 200);
    assert.equal((await api.app.inject({ url: `${PREFIX}/jobs/${alices}/tasks`, headers: viewer })).statusCode, 404, 'a viewer reads only its own jobs');
    for (const command of ['stop', 'pause', 'resume', 'recover', 'rerun', 'activate', 'deactivate']) {
      assertError(await post(api.app, `${PREFIX}/jobs/${alices}/${command}`, undefined, bob), 404, 'JOB_NOT_FOUND');
    }
    assert.equal((await api.app.inject({ url: `${PREFIX}/jobs/${alices}`, headers: alice })).json<JobView>().state, 'WAITING');
    assert.equal(lastCall(api).caller?.user, 'alice');
  });

  it('lists only the caller\'s own jobs; the admin sees everyone\'s', async () => {
    const ids = async (headers: Record<string, string> = {}) =>
      (await api.app.inject({ url: `${PREFIX}/jobs`, headers })).json<{ jobs: JobView[] }>().jobs.map((j) => j.id);
    assert.deepEqual(await ids(bob), []);
    assert.deepEqual(await ids(alice), [alices]);
    assert.ok((await ids()).includes(alices));
  });

  it('a viewer reads but may not submit or command (403 FORBIDDEN)', async () => {
    assert.equal((await api.app.inject({ url: `${PREFIX}/jobs`, headers: viewer })).statusCode, 200);
    assertError(await post(api.app, `${PREFIX}/jobs`, VALID_SUBMIT, viewer), 403, 'FORBIDDEN');
    for (const command of ['stop', 'pause', 'resume', 'recover', 'rerun', 'activate', 'deactivate']) {
      assertError(await post(api.app, `${PREFIX}/jobs/${alices}/${command}`, undefined, viewer), 403, 'FORBIDDEN');
    }
  });

  it('every route answers 401 without a token', async () => {
    const none = { authorization: '' };
    assertError(await api.app.inject({ url: `${PREFIX}/jobs`, headers: none }), 401, 'UNAUTHENTICATED');
    assertError(await api.app.inject({ url: `${PREFIX}/jobs/${alices}`, headers: none }), 401, 'UNAUTHENTICATED');
    assertError(await post(api.app, `${PREFIX}/jobs`, VALID_SUBMIT, none), 401, 'UNAUTHENTICATED');
    assertError(await post(api.app, `${PREFIX}/jobs/${alices}/stop`, undefined, none), 401, 'UNAUTHENTICATED');
  });
});
