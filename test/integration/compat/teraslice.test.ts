/**
 * The Teraslice facade (seed 001; clients.md §2) against the real engine and a real nats-server:
 * the wire (both `/` and `/v1`, pretty-printed JSON, `{error:<number>, message}`, 405 for unknown
 * routes, urlencoded bodies read as JSON), bad input refused with the original's status and nothing
 * written, and journeys: the docs example running to `completed` with its output written, a job
 * created without starting it, started, deleted; a persistent execution paused, resumed, given more
 * workers and stopped; failed slices listed and recovered into a new execution.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';
import { readAnswer } from '../../helpers/wire.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const base = (svc: TestService) => svc.facadeUrls['teraslice cluster master']!;

async function ts(svc: TestService, method: string, path: string, body?: unknown, contentType = 'application/json') {
  const init: RequestInit = { method, headers: body === undefined ? {} : { 'content-type': contentType } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${base(svc)}${path}`, init);
  const { status, text, json, headers } = await readAnswer(res);
  return { status, type: headers.get('content-type') ?? '', text, json: json as Record<string, unknown> & unknown[] };
}

async function ok(svc: TestService, method: string, path: string, body?: unknown) {
  const r = await ts(svc, method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
  return r.json;
}

async function status(svc: TestService, jobId: string): Promise<string> {
  return (await ok(svc, 'GET', `/v1/jobs/${jobId}/ex`))['_status'] as string;
}

async function until(svc: TestService, jobId: string, wanted: string | ((s: string) => boolean), timeoutMs = 30_000): Promise<string> {
  const test = typeof wanted === 'string' ? (s: string) => s === wanted : wanted;
  return waitFor(async () => {
    const s = await status(svc, jobId);
    return test(s) ? s : undefined;
  }, { what: `job ${jobId} status ${String(wanted)}`, timeoutMs, intervalMs: 50 });
}

async function outputRecords(svc: TestService, dir: string): Promise<unknown[]> {
  const root = join(svc.config.filesDir, dir);
  const names = (await readdir(root)).filter((n) => !n.startsWith('.'));
  const out: unknown[] = [];
  for (const n of names) for (const line of (await readFile(join(root, n), 'utf8')).split('\n')) if (line !== '') out.push(JSON.parse(line));
  return out;
}

const docsExample = (out: string, size = 2000) => ({
  name: 'testing', workers: 1, slicers: 1, lifecycle: 'once', assets: ['standard'],
  operations: [{ _op: 'data_generator', size }, { _op: 'noop' }, { _op: 'file_exporter', path: out, format: 'ldjson' }],
});

describe('Teraslice facade (auth none, operator)', () => {
  const env = useTestService({});

  it('serves the root info at / and /v1; unknown routes are 405 as the original; errors are {error:<number>, message}, pretty-printed', async () => {
    for (const path of ['/', '/v1', '/v1/']) {
      const r = await ts(env.svc, 'GET', path);
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.json).sort(), ['arch', 'clustering_type', 'name', 'node_version', 'platform', 'teraslice_version']);
      assert.equal(r.json['clustering_type'], 'native');
      assert.match(r.json['teraslice_version'] as string, /^v\d+\.\d+\.\d+$/);
      assert.match(r.text, /^\{\n {4}"/, 'pretty-printed with 4 spaces');
    }
    const unknown = await ts(env.svc, 'GET', '/nope?x=1');
    assert.deepEqual([unknown.status, unknown.json], [405, { error: 405, message: 'cannot GET endpoint /nope?x=1' }]);
    const post = await ts(env.svc, 'DELETE', '/v1/cluster/state');
    assert.equal(post.status, 405);
    const missing = await ts(env.svc, 'GET', '/v1/jobs/9a0c5a44-1111-4222-8333-444455556666');
    assert.equal(missing.status, 404);
    assert.equal(missing.json['error'], 404);
    assert.equal(typeof missing.json['message'], 'string');
    const under = await fetch(`${env.svc.baseUrl}/compat/teraslice/v1/cluster/stats`);
    assert.equal(under.status, 200, 'also under /compat/teraslice/ on the main port');
  });

  it('refuses bad submissions with the original status and message, writing nothing', async () => {
    const stored = async () => (await ok(env.svc, 'GET', '/jobs?size=10000')).length + (await ok(env.svc, 'GET', '/jobs?deleted=true&size=10000')).length;
    const before = await stored();
    const cases: [unknown, string, number, RegExp][] = [
      ['{"name": "x", "operations": [', 'application/json', 400, /^the json submitted is malformed$/],
      ['{"name": "x",', 'application/x-www-form-urlencoded', 400, /^the json submitted is malformed$/],
      [{ name: 'no ops' }, 'application/json', 400, /^No job was posted$/],
      [{ ...docsExample('o'), job_id: 'abc' }, 'application/json', 422, /^Job cannot include a job_id on submit$/],
      [{ operations: [{ _op: 'data_generator' }, { _op: 'elasticsearch_bulk', index: 'x' }] }, 'application/json', 400, /elasticsearch_bulk/],
      [{ operations: [{ _op: 'data_generator' }, { _op: 'my_custom_op' }] }, 'application/json', 400, /^Unable to find module for operation: my_custom_op/],
      [{ workers: 0, operations: [{ _op: 'data_generator' }, { _op: 'noop' }] }, 'application/json', 400, /workers/],
      [{ operations: [{ _op: 'data_generator', size: 1e30 }, { _op: 'noop' }] }, 'application/json', 400, /size/],
      [{ operations: [{ _op: 'noop' }] }, 'application/json', 400, /at least two operations/],
    ];
    for (const [body, type, code, message] of cases) {
      const r = await ts(env.svc, 'POST', '/v1/jobs', body, type);
      assert.equal(r.status, code, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json['error'], code);
      assert.match(r.json['message'] as string, message);
    }
    assert.equal(await stored(), before, 'nothing was written');
  });

  it('a submit the engine refuses when it starts the execution (a path through a symlink out of the files root) leaves no job behind', async () => {
    // found by the route fuzz: the job was stored before its execution was refused, so a 400 left a job
    const outside = await mkdtemp(join(tmpdir(), 'teraslice-outside-'));
    try {
      await symlink(outside, join(env.svc.config.filesDir, 'escape-link'));
      const before = (await ok(env.svc, 'GET', '/jobs?size=10000')).length;
      const executions = async () => (await http<{ jobs: unknown[] }>(env.svc.baseUrl, 'GET', '/native/v1/jobs?type=teraslice&active=all&limit=1000')).body.jobs.length;
      const exBefore = await executions();
      for (const op of [{ _op: 'file_reader', path: 'escape-link' }, { _op: 'data_generator', size: 5 }]) {
        const ops = op._op === 'file_reader' ? [op, { _op: 'noop' }] : [op, { _op: 'file_exporter', path: 'escape-link/out' }];
        const r = await ts(env.svc, 'POST', '/v1/jobs', { name: 'escape', operations: ops });
        assert.equal(r.status, 400, r.text);
        assert.deepEqual(Object.keys(r.json).sort(), ['error', 'message']);
      }
      assert.equal((await ok(env.svc, 'GET', '/jobs?size=10000')).length, before, 'no job was written');
      assert.equal(await executions(), exBefore, 'no execution was made');
      // created without starting it, it is stored (as the original stores any valid job); its start is refused, writing nothing
      const idle = (await ok(env.svc, 'POST', '/v1/jobs?start=false', { name: 'escape', operations: [{ _op: 'file_reader', path: 'escape-link' }, { _op: 'noop' }] })) as unknown as { job_id: string };
      assert.equal((await ts(env.svc, 'POST', `/v1/jobs/${idle.job_id}/_start`)).status, 400);
      assert.equal(await executions(), exBefore, 'no execution was made');
      assert.deepEqual(await readdir(outside), []);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('runs the docs example to completed and writes its output; a urlencoded body (curl -d@job.json) is read as JSON', async () => {
    const submitted = await ts(env.svc, 'POST', '/v1/jobs', JSON.stringify(docsExample('out1')), 'application/x-www-form-urlencoded');
    assert.equal(submitted.status, 200, submitted.text);
    const { job_id: jobId, ex_id: exId } = submitted.json as unknown as { job_id: string; ex_id: string };
    assert.match(jobId, UUID_RE);
    assert.match(exId, UUID_RE);
    assert.equal(await until(env.svc, jobId, (s) => ['completed', 'failed'].includes(s)), 'completed');
    assert.equal((await outputRecords(env.svc, 'out1')).length, 2000);

    const job = await ok(env.svc, 'GET', `/jobs/${jobId}`);
    assert.deepEqual([job['job_id'], job['_context'], job['name']], [jobId, 'job', 'testing']);
    assert.equal(job['workers'], 1);
    const ex = await ok(env.svc, 'GET', `/v1/ex/${exId}`);
    for (const k of ['ex_id', 'job_id', '_status', '_context', '_created', '_updated', '_has_errors', '_slicer_stats', '_failureReason', 'lifecycle', 'operations', 'max_retries']) assert.ok(Object.hasOwn(ex, k), k);
    assert.deepEqual([ex['_context'], ex['_status'], ex['job_id'], ex['_has_errors']], ['ex', 'completed', jobId, false]);
    const listed = (await ok(env.svc, 'GET', '/ex?status=completed')) as unknown as { ex_id: string }[];
    assert.ok(listed.some((e) => e.ex_id === exId));
    assert.ok(((await ok(env.svc, 'GET', '/ex?status=*')) as unknown as { ex_id: string }[]).some((e) => e.ex_id === exId), 'status=* is every status');
    assert.equal(((await ok(env.svc, 'GET', '/ex?status=running')) as unknown as { ex_id: string }[]).filter((e) => e.ex_id === exId).length, 0);
    const withEx = await ok(env.svc, 'GET', `/jobs/${jobId}?ex=_status,ex_id`);
    assert.deepEqual(withEx['ex'], { _status: 'completed', ex_id: exId });
    const txt = await ts(env.svc, 'GET', `/txt/jobs?fields=job_id,name,workers`);
    assert.match(txt.type, /text\/plain/);
    const lines = txt.text.split('\n');
    assert.match(lines[0]!, /^job_id {2,}name {2,}workers$/);
    assert.match(lines[1]!, /^-+ {2}-+ {2}-+$/);
    assert.ok(lines.some((l) => l.startsWith(jobId) && /testing\s+1$/.test(l)));
    assert.equal((await ts(env.svc, 'GET', '/txt/ex?headers=false&fields=ex_id,_status')).text.split('\n')[0]?.includes('ex_id'), false);
  });

  it('a job made without starting it: _start runs it, a second _start while it runs is 409, delete refuses a running job and soft-deletes a finished one', async () => {
    const created = await ok(env.svc, 'POST', '/jobs?start=false', { ...docsExample('out2', 300), operations: [{ _op: 'data_generator', size: 300 }, { _op: 'delay', ms: 300 }, { _op: 'file_exporter', path: 'out2' }] });
    assert.deepEqual(Object.keys(created), ['job_id']);
    const jobId = created['job_id'] as string;
    const none = await ts(env.svc, 'GET', `/v1/jobs/${jobId}/ex`);
    assert.deepEqual([none.status, none.json['message']], [404, `No execution was found for job ${jobId}`]);
    const started = await ok(env.svc, 'POST', `/v1/jobs/${jobId}/_start`);
    assert.equal(started['job_id'], jobId);
    const again = await ts(env.svc, 'POST', `/v1/jobs/${jobId}/_start`);
    assert.deepEqual([again.status, again.json['message']], [409, `Job ${jobId} is currently running, cannot have the same job concurrently running`]);
    const del = await ts(env.svc, 'DELETE', `/v1/jobs/${jobId}`);
    assert.equal(del.status, 409);
    await until(env.svc, jobId, 'completed');
    const deleted = await ok(env.svc, 'DELETE', `/v1/jobs/${jobId}`);
    assert.deepEqual([deleted['_deleted'], deleted['active']], [true, false]);
    assert.match(deleted['_deleted_on'] as string, /^\d{4}-/);
    const gone = await ts(env.svc, 'POST', `/v1/jobs/${jobId}/_start`);
    assert.deepEqual([gone.status, gone.json['message']], [410, `Job ${jobId} has been deleted and cannot be started.`]);
    assert.equal((await ts(env.svc, 'DELETE', `/v1/jobs/${jobId}`)).status, 410);
    const listed = (await ok(env.svc, 'GET', '/v1/jobs')) as unknown as { job_id: string }[];
    assert.ok(!listed.some((j) => j.job_id === jobId), 'deleted jobs are hidden by default');
    assert.ok(((await ok(env.svc, 'GET', '/v1/jobs?deleted=true')) as unknown as { job_id: string }[]).some((j) => j.job_id === jobId));
  });

  it('a persistent execution runs until stopped: pause keeps it, resume goes on, _workers changes its parallelism, the controller counts, blocking _stop waits for stopped', async () => {
    const spec = {
      name: 'stream', lifecycle: 'persistent', workers: 1, max_retries: 0,
      operations: [{ _op: 'data_generator', size: 50 }, { _op: 'delay', ms: 20 }, { _op: 'noop' }],
    };
    const { job_id: jobId, ex_id: exId } = (await ok(env.svc, 'POST', '/v1/jobs', spec)) as unknown as { job_id: string; ex_id: string };
    await until(env.svc, jobId, 'running');
    assert.deepEqual(await ok(env.svc, 'POST', `/v1/jobs/${jobId}/_pause`), { status: 'paused' });
    assert.equal(await status(env.svc, jobId), 'paused');
    assert.deepEqual(await ok(env.svc, 'POST', `/v1/jobs/${jobId}/_resume`), { status: 'running' });
    const added = await ok(env.svc, 'POST', `/v1/jobs/${jobId}/_workers?add=2`);
    assert.deepEqual(added, { message: `2 workers have been enqueued for execution: ${exId}` });
    for (const q of ['', '?add=-1', '?add=x', '?remove=3']) {
      const bad = await ts(env.svc, 'POST', `/v1/jobs/${jobId}/_workers${q}`);
      assert.equal(bad.status, 400, q);
    }
    const stats = await waitFor(async () => {
      const c = (await ok(env.svc, 'GET', `/v1/jobs/${jobId}/controller`)) as unknown as Record<string, number>[];
      return (c[0]?.['processed'] ?? 0) >= 5 ? c[0] : undefined;
    }, { what: 'five slices processed', timeoutMs: 30_000 });
    assert.equal(stats?.['ex_id'] as unknown, exId);
    assert.equal(stats?.['failed'], 0);
    assert.ok(((await ok(env.svc, 'GET', '/cluster/controllers')) as unknown as { ex_id: string }[]).some((c) => c.ex_id === exId));
    const stopped = await ok(env.svc, 'POST', `/v1/jobs/${jobId}/_stop`);
    assert.deepEqual(stopped, { status: 'stopped' });
    assert.equal(await status(env.svc, jobId), 'stopped');
    const again = await ok(env.svc, 'POST', `/v1/ex/${exId}/_stop`);
    assert.deepEqual(again, { status: 'stopped' });
    const ctl = await ts(env.svc, 'GET', `/v1/ex/${exId}/controller`);
    assert.deepEqual([ctl.status, ctl.json['message']], [404, `Could not find active slicer for ex_id: ${exId}`]);
    const paused = await ts(env.svc, 'POST', `/v1/jobs/${jobId}/_pause`);
    assert.deepEqual([paused.status, paused.json['message']], [404, `no active execution context was found for ex_id: ${exId}`]);
  });

  it('_stop with blocking=false answers stopping at once; a blocking _stop answers once the grace (timeout) for the slice in flight ran out', async () => {
    // a slice of 30 s: it is surely still running when the stop comes, and only the 2 s grace ends it
    const spec = { name: 'slow', lifecycle: 'persistent', workers: 1, operations: [{ _op: 'data_generator', size: 10 }, { _op: 'delay', ms: 30_000 }, { _op: 'noop' }] };
    const { job_id: jobId, ex_id: exId } = (await ok(env.svc, 'POST', '/jobs', spec)) as unknown as { job_id: string; ex_id: string };
    await waitFor(async () => {
      const c = (await ok(env.svc, 'GET', `/jobs/${jobId}/controller`)) as unknown as { workers_active: number }[];
      return (c[0]?.workers_active ?? 0) > 0 || undefined;
    }, { what: 'a slice in flight', timeoutMs: 30_000 });
    assert.deepEqual(await ok(env.svc, 'POST', `/jobs/${jobId}/_stop?blocking=false&timeout=2000`), { status: 'stopping' });
    assert.equal(await status(env.svc, jobId), 'stopping');
    assert.deepEqual(await ok(env.svc, 'POST', `/ex/${exId}/_stop`), { status: 'stopped' });
    const ex = await ok(env.svc, 'GET', `/ex/${exId}`);
    assert.equal(ex['_status'], 'stopped');
    assert.deepEqual(await ok(env.svc, 'POST', `/ex/${exId}/_stop?force=true`), { message: `Force stop complete for exId ${exId}`, status: 'stopped' });
  });

  it('failed slices are listed by /errors; _recover with cleanup_type=errors makes a new execution that re-runs only them', async () => {
    const dir = join(env.svc.config.filesDir, 'in3');
    await mkdir(dir, { recursive: true });
    const good = (i: number) => JSON.stringify({ i });
    await writeFile(join(dir, 'a.ldjson'), `${[0, 1, 2].map(good).join('\n')}\n`);
    await writeFile(join(dir, 'b.ldjson'), `${good(3)}\n{not json\n`);
    const spec = { name: 'files', workers: 2, max_retries: 0, operations: [{ _op: 'file_reader', path: 'in3', format: 'ldjson', size: 1_000_000 }, { _op: 'file_exporter', path: 'out3' }] };
    const { job_id: jobId, ex_id: first } = (await ok(env.svc, 'POST', '/v1/jobs', spec)) as unknown as { job_id: string; ex_id: string };
    assert.equal(await until(env.svc, jobId, (s) => ['completed', 'failed'].includes(s)), 'failed');
    const ex = await ok(env.svc, 'GET', `/v1/ex/${first}`);
    assert.equal(ex['_has_errors'], true);
    assert.notEqual(ex['_failureReason'], '');
    const errors = (await ok(env.svc, 'GET', `/v1/jobs/${jobId}/errors`)) as unknown as Record<string, unknown>[];
    assert.equal(errors.length, 1);
    assert.deepEqual([errors[0]!['ex_id'], errors[0]!['state']], [first, 'error']);
    assert.match(errors[0]!['slice_id'] as string, UUID_RE);
    assert.match(errors[0]!['request'] as string, /b\.ldjson/);
    assert.equal((await ts(env.svc, 'POST', `/v1/jobs/${jobId}/_recover?cleanup_type=nope`)).json['message'], 'cleanup_type must be empty or set to all, errors, pending');
    await writeFile(join(dir, 'b.ldjson'), `${good(3)}\n${good(4)}\n`);
    const recovered = await ok(env.svc, 'POST', `/v1/ex/${first}/_recover?cleanup=errors`);
    assert.equal(recovered['job_id'], jobId);
    assert.notEqual(recovered['ex_id'], first, 'a recovery is a new execution');
    assert.equal(await until(env.svc, jobId, (s) => ['completed', 'failed'].includes(s)), 'completed');
    const rex = await ok(env.svc, 'GET', `/v1/jobs/${jobId}/ex`);
    assert.deepEqual([rex['ex_id'], rex['recovered_execution'], rex['recovered_slice_type']], [recovered['ex_id'], first, 'errors']);
    const records = (await outputRecords(env.svc, 'out3')) as { i: number }[];
    assert.deepEqual(records.map((r) => r.i).sort(), [0, 1, 2, 3, 4], 'the good file once, the recovered one once');
    // the re-run slice wrote under the name of the slice it re-ran (a second recovery would rewrite it, not add one)
    const names = (await readdir(join(env.svc.config.filesDir, 'out3'))).filter((n) => !n.startsWith('.'));
    assert.equal(names.length, 2);
    assert.ok(names.every((n) => n.startsWith(`${first}.s`)), names.join(', '));
  });

  it('an execution is the job owner\'s: a native teraslice job merely labelled with the job id is not one of its executions', async () => {
    const { job_id: jobId, ex_id: exId } = (await ok(env.svc, 'POST', '/v1/jobs', docsExample('out5', 100))) as unknown as { job_id: string; ex_id: string };
    await until(env.svc, jobId, 'completed');
    const real = await http<{ spec: Record<string, unknown> }>(env.svc.baseUrl, 'GET', `/native/v1/jobs/${exId}`);
    // another user (the test admin) submits a job of the same spec with the job's label
    const forged = await http<{ id: string }>(env.svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'teraslice', spec: real.body.spec, labels: { 'teraslice/job': jobId } });
    assert.equal(forged.status, 201, JSON.stringify(forged.body));
    assert.equal((await ok(env.svc, 'GET', `/v1/jobs/${jobId}/ex`))['ex_id'], exId, 'the latest execution is still the real one');
    assert.equal((await ts(env.svc, 'GET', `/v1/ex/${forged.body.id}`)).status, 404);
    assert.ok(!((await ok(env.svc, 'GET', '/v1/ex?size=10000')) as unknown as { ex_id: string }[]).some((e) => e.ex_id === forged.body.id));
  });

  it('a client cannot pass the engine\'s recovery field: it is dropped with a warning and the job runs as submitted', async () => {
    const body = { ...docsExample('out6', 100), recovery: { slices: [{ payload: { count: 1_000_000, processed: 1_000_000 } }], resume: false } };
    const r = await ok(env.svc, 'POST', '/v1/jobs', body);
    assert.ok((r['warnings'] as string[]).some((w) => w.includes('recovery')), JSON.stringify(r));
    assert.equal(await until(env.svc, r['job_id'] as string, 'completed'), 'completed');
    assert.equal((await outputRecords(env.svc, 'out6')).length, 100);
    assert.equal(Object.hasOwn(await ok(env.svc, 'GET', `/v1/jobs/${r['job_id'] as string}`), 'recovery'), false);
  });
});

describe('Teraslice facade: recovery after retention compacted the execution', () => {
  const env = useTestService({ compactAfterMs: 0, retentionIntervalMs: 200 });

  it('is refused with 409: which slices failed is no longer known (rather than a recovery that re-runs nothing)', async () => {
    const dir = join(env.svc.config.filesDir, 'in7');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'bad.ldjson'), '{not json\n');
    const spec = { name: 'compacted', max_retries: 0, operations: [{ _op: 'file_reader', path: 'in7' }, { _op: 'noop' }] };
    const { job_id: jobId, ex_id: exId } = (await ok(env.svc, 'POST', '/v1/jobs', spec)) as unknown as { job_id: string; ex_id: string };
    assert.equal(await until(env.svc, jobId, (s) => ['completed', 'failed'].includes(s)), 'failed');
    await waitFor(async () => (await http<{ compacted: boolean }>(env.svc.baseUrl, 'GET', `/native/v1/jobs/${exId}`)).body.compacted || undefined, { what: 'the execution compacted', timeoutMs: 20_000 });
    const r = await ts(env.svc, 'POST', `/v1/jobs/${jobId}/_recover`);
    assert.equal(r.status, 409, r.text);
    assert.match(r.json['message'] as string, /compacted/);
  });
});
