import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import type { JobView, HistoryEntry, TaskView } from '../../../engine/serviceTypes.ts';
import { waitFor } from '../../helpers/wait.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';

const API = '/native/v1';

async function submit(svc: TestService, body: unknown, headers: Record<string, string> = {}) {
  const r = await http<JobView>(svc.baseUrl, 'POST', `${API}/jobs`, body, headers);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function terminal(svc: TestService, id: string, timeoutMs = 30_000): Promise<JobView> {
  return waitFor(async () => {
    const r = await http<JobView>(svc.baseUrl, 'GET', `${API}/jobs/${id}`);
    return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(r.body.state) ? r.body : undefined;
  }, { what: `job ${id} terminal`, timeoutMs, intervalMs: 50, retryErrors: true });
}

async function history(svc: TestService, id: string) {
  const r = await http<{ events: HistoryEntry[] }>(svc.baseUrl, 'GET', `${API}/jobs/${id}/history`);
  assert.equal(r.status, 200);
  return r.body.events;
}

async function tree(dir: string, prefix = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) for (const [k, v] of await tree(join(dir, d.name), rel)) out.set(k, v);
    else out.set(rel, await readFile(join(dir, d.name), 'utf8'));
  }
  return out;
}

describe('every job type over HTTP, against a real nats-server', () => {
  const env = useTestService();

  async function dataset(name: string, files: number): Promise<Map<string, string>> {
    const want = new Map<string, string>();
    for (let i = 0; i < files; i++) {
      const rel = `${i % 2 ? 'sub/' : ''}f${i}.txt`;
      const content = `file ${i} of ${name} `.repeat(i + 1);
      await mkdir(join(env.svc.config.filesDir, name, i % 2 ? 'sub' : ''), { recursive: true });
      await writeFile(join(env.svc.config.filesDir, name, rel), content);
      want.set(rel, content);
    }
    return want;
  }

  it('load copies every file into the cache, in batches, WAITING → RUNNING → VERIFYING → SUCCEEDED', async () => {
    const want = await dataset('ds1', 7);
    const job = await submit(env.svc, { type: 'load', spec: { path: 'ds1', batchSize: 3 } });
    assert.equal(job.state, 'WAITING');
    const done = await terminal(env.svc, job.id);
    assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
    assert.deepEqual(await tree(join(env.svc.config.cacheDir, 'ds1')), want);
    assert.equal(done.progress.tasksTotal, 3);
    assert.equal(done.progress.itemsTotal, 7);
    assert.equal(done.progress.itemsDone, 7);
    const bytes = [...want.values()].reduce((a, c) => a + Buffer.byteLength(c), 0);
    assert.equal(done.progress.bytesDone, bytes);
    const types = (await history(env.svc, job.id)).filter((e) => e.subject === 'ev').map((e) => e.type);
    assert.deepEqual(types, ['JobSubmitted', 'JobClaimed', 'TasksPlanned', 'VerificationStarted', 'JobSucceeded']);
    const p = await http<{ itemsDone: number; throughputBytesPerSec: number }>(env.svc.baseUrl, 'GET', `${API}/jobs/${job.id}/progress`);
    assert.equal(p.body.itemsDone, 7);
    // its tasks: the plan's three batches, each succeeded by the service's worker
    const t = await http<{ jobId: string; tasks: TaskView[]; truncated: boolean }>(env.svc.baseUrl, 'GET', `${API}/jobs/${job.id}/tasks`);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.deepEqual([t.body.jobId, t.body.truncated], [job.id, false]);
    assert.deepEqual(t.body.tasks.map((x) => [x.index, x.state, x.items, x.attempts, x.error]), [[0, 'succeeded', 3, 1, null], [1, 'succeeded', 3, 1, null], [2, 'succeeded', 1, 1, null]]);
    assert.equal(t.body.tasks.reduce((a, x) => a + x.bytes, 0), bytes);
    const workerIds = (await http<{ workers: { id: string }[] }>(env.svc.baseUrl, 'GET', `${API}/workers`)).body.workers.map((w) => w.id);
    for (const x of t.body.tasks) {
      assert.ok(x.worker !== null && workerIds.includes(x.worker), `${x.worker} is one of ${workerIds.join(', ')}`);
      assert.ok(x.lastUpdated !== null && Date.parse(x.lastUpdated) >= Date.parse(done.startedAt!), 'after the job started');
    }
  });

  it('free evicts a loaded path from the cache', async () => {
    await dataset('ds2', 2);
    const load = await terminal(env.svc, (await submit(env.svc, { type: 'load', spec: { path: 'ds2' } })).id);
    assert.equal(load.state, 'SUCCEEDED');
    await stat(join(env.svc.config.cacheDir, 'ds2', 'f0.txt'));
    const free = await terminal(env.svc, (await submit(env.svc, { type: 'free', spec: { path: 'ds2' } })).id);
    assert.equal(free.state, 'SUCCEEDED', JSON.stringify(free.error));
    await assert.rejects(stat(join(env.svc.config.cacheDir, 'ds2')), { code: 'ENOENT' });
  });

  it('persist writes cached files back to the files root, in batches, and an existing file is a failed item unless overwrite', async () => {
    const want = await dataset('ds4', 5);
    const load = await terminal(env.svc, (await submit(env.svc, { type: 'load', spec: { path: 'ds4' } })).id);
    assert.equal(load.state, 'SUCCEEDED');
    await rm(join(env.svc.config.filesDir, 'ds4'), { recursive: true });
    const persist = await terminal(env.svc, (await submit(env.svc, { type: 'persist', spec: { path: 'ds4', batchSize: 2 } })).id);
    assert.equal(persist.state, 'SUCCEEDED', JSON.stringify(persist.error));
    assert.deepEqual([persist.progress.tasksTotal, persist.progress.itemsDone, persist.progress.itemsFailed], [3, 5, 0]);
    assert.deepEqual(await tree(join(env.svc.config.filesDir, 'ds4')), want);
    await writeFile(join(env.svc.config.filesDir, 'ds4', 'f0.txt'), 'changed');
    const kept = await terminal(env.svc, (await submit(env.svc, { type: 'persist', spec: { path: 'ds4/f0.txt' } })).id);
    assert.deepEqual([kept.state, kept.error?.code, kept.progress.itemsFailed], ['FAILED', 'TOO_MANY_FAILURES', 1]);
    assert.equal(await readFile(join(env.svc.config.filesDir, 'ds4', 'f0.txt'), 'utf8'), 'changed');
    const replaced = await terminal(env.svc, (await submit(env.svc, { type: 'persist', spec: { path: 'ds4/f0.txt', overwrite: true } })).id);
    assert.equal(replaced.state, 'SUCCEEDED');
    assert.equal(await readFile(join(env.svc.config.filesDir, 'ds4', 'f0.txt'), 'utf8'), want.get('f0.txt'));
    const escape = await http<{ code: string }>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'persist', spec: { path: '../x' } });
    assert.deepEqual([escape.status, escape.body.code], [400, 'PATH_OUTSIDE_ROOT']);
  });

  it('copy duplicates a directory; move relocates it and removes the source only after verifying', async () => {
    const want = await dataset('src3', 4);
    const copy = await terminal(env.svc, (await submit(env.svc, { type: 'copy', spec: { src: 'src3', dst: 'copy3' } })).id);
    assert.equal(copy.state, 'SUCCEEDED', JSON.stringify(copy.error));
    assert.deepEqual(await tree(join(env.svc.config.filesDir, 'copy3')), want);
    assert.deepEqual(await tree(join(env.svc.config.filesDir, 'src3')), want);
    const move = await terminal(env.svc, (await submit(env.svc, { type: 'move', spec: { src: 'copy3', dst: 'moved3' } })).id);
    assert.equal(move.state, 'SUCCEEDED', JSON.stringify(move.error));
    assert.deepEqual(await tree(join(env.svc.config.filesDir, 'moved3')), want);
    await assert.rejects(stat(join(env.svc.config.filesDir, 'copy3', 'f0.txt')), { code: 'ENOENT' });
  });

  it('sleep and noop succeed; a stopped sleep job ends STOPPED (cooperatively, then forced) and stays stopped', async () => {
    const noop = await terminal(env.svc, (await submit(env.svc, { type: 'noop', spec: { tasks: 5 } })).id);
    assert.equal(noop.state, 'SUCCEEDED');
    assert.equal(noop.progress.tasksSucceeded, 5);
    const quick = await terminal(env.svc, (await submit(env.svc, { type: 'sleep', spec: { ms: 50 } })).id);
    assert.equal(quick.state, 'SUCCEEDED');
    const long = await submit(env.svc, { type: 'sleep', spec: { ms: 60_000 } });
    await waitFor(async () => ((await http<JobView>(env.svc.baseUrl, 'GET', `${API}/jobs/${long.id}`)).body.state === 'RUNNING' ? true : undefined), { what: 'sleep running', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    // A cooperative stop: the running task gets the grace period, then the stop is forced.
    const stopped = await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs/${long.id}/stop`, { graceMs: 300, reason: 'test over' });
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, 'RUNNING');
    assert.equal(stopped.body.stopRequested?.graceMs, 300);
    const again = await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs/${long.id}/stop`);
    assert.equal(again.status, 200, 'stop is idempotent');
    const final = await terminal(env.svc, long.id);
    assert.equal(final.state, 'STOPPED');
    const history = (await http<{ events: { type: string; meta: { actor: string; reason?: string } }[] }>(env.svc.baseUrl, 'GET', `${API}/jobs/${long.id}/history`)).body.events;
    const requested = history.find((e) => e.type === 'StopRequested');
    assert.equal(requested?.meta.reason, 'test over');
    assert.equal(requested?.meta.actor, 'user:admin');
    assert.match(history.find((e) => e.type === 'JobStopped')?.meta.reason ?? '', /grace period over/);
    // the worker aborted the task: nothing keeps running
    await waitFor(() => (env.svc.engine.worker!.running() === 0 ? true : undefined), { what: 'worker idle', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
  });

  it('a failing load (missing source) ends FAILED with a reason, and a retried task counts once', async () => {
    const missing = await terminal(env.svc, (await submit(env.svc, { type: 'load', spec: { path: 'no-such-dir' } })).id);
    assert.equal(missing.state, 'FAILED');
    assert.ok(missing.error?.code);
    const doomed = await terminal(env.svc, (await submit(env.svc, { type: 'sleep', spec: { ms: 1, failTimes: 9 }, maxTaskAttempts: 2 })).id);
    assert.equal(doomed.state, 'FAILED');
    const report = await http<{ tasksFailed: number; tasks: { taskId: string; attempts: number[] }[] }>(env.svc.baseUrl, 'GET', `${API}/jobs/${doomed.id}/failures`);
    assert.equal(report.status, 200);
    assert.deepEqual(report.body.tasks.map((t) => t.attempts), [[1, 2]]);
    const flaky = await terminal(env.svc, (await submit(env.svc, { type: 'sleep', spec: { ms: 1, tasks: 3, failTimes: 1 } })).id);
    assert.equal(flaky.state, 'SUCCEEDED', JSON.stringify(flaky.error));
    assert.equal(flaky.progress.tasksSucceeded, 3);
  });

  it('idempotency: same key and body returns the first job; same key, other body is 409', async () => {
    const key = { 'idempotency-key': 'abc-123' };
    const first = await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} }, key);
    assert.equal(first.status, 201);
    const second = await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} }, key);
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
    const other = await http<{ code: string }>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: { tasks: 2 } }, key);
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('lists with filters and pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(env.svc, { type: 'noop', name: 'page-me', spec: {} })).id);
    const page1 = await http<{ jobs: JobView[]; nextCursor: string | null }>(env.svc.baseUrl, 'GET', `${API}/jobs?name=page-me&limit=3`);
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.body.jobs.map((j) => j.id), ids.slice(2).reverse());
    assert.ok(page1.body.nextCursor);
    const page2 = await http<{ jobs: JobView[]; nextCursor: string | null }>(env.svc.baseUrl, 'GET', `${API}/jobs?name=page-me&limit=3&cursor=${page1.body.nextCursor}`);
    assert.deepEqual(page2.body.jobs.map((j) => j.id), ids.slice(0, 2).reverse());
    assert.equal(page2.body.nextCursor, null);
    for (const id of ids) await terminal(env.svc, id);
    const ok = await http<{ jobs: JobView[] }>(env.svc.baseUrl, 'GET', `${API}/jobs?name=page-me&state=SUCCEEDED`);
    assert.equal(ok.body.jobs.length, 5);
  });

  it('reports workers, info and readiness', async () => {
    const w = await http<{ workers: { alive: boolean; state: string }[] }>(env.svc.baseUrl, 'GET', `${API}/workers`);
    assert.ok(w.body.workers.some((x) => x.alive && x.state === 'ACTIVE'));
    const ready = await http<{ ready: boolean }>(env.svc.baseUrl, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.ready, true);
  });
  it('script: runs an uploaded JavaScript binary in the sandbox; its result is the summary, its output the task log', async () => {
    const fixture = join(import.meta.dirname, '../../fixtures/spark/jobs.mjs');
    const up = await fetch(`${env.svc.facadeUrls['spark job server']}/binaries/chatty`, { method: 'POST', headers: { 'content-type': 'application/javascript' }, body: await readFile(fixture) });
    assert.equal(up.status, 201, await up.text());
    const job = await submit(env.svc, { type: 'script', spec: { binary: 'chatty', classPath: 'Chatty', config: { lines: 3 } } });
    const done = await terminal(env.svc, job.id, 60_000);
    assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
    assert.equal((done.summary as { result: unknown }).result, 3);
    const res = await fetch(`${env.svc.baseUrl}${API}/jobs/${job.id}/tasks/t00000/logs?stream=stdout`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'line 0\nline 1\nline 2\n');
  });
});
