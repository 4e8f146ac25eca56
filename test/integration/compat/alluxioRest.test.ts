/**
 * The Alluxio OSS job master REST facade (seed 000; clients.md §4.1) against the real engine and a
 * real nats-server: status, body shape, field types, state names, id types, and the original's
 * error shape (HTTP 500 `{status, message}`), on its own port and under `/compat/alluxio/`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

const MASTER = '/api/v1/master/job';

/** A raw request to the facade (no native token), answering status, content type and text. */
async function raw(url: string, method = 'GET', body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
}

const master = (svc: TestService) => svc.facadeUrls['alluxio job master']!;
const worker = (svc: TestService) => svc.facadeUrls['alluxio job worker']!;

async function run(svc: TestService, config: unknown): Promise<number> {
  const r = await raw(`${master(svc)}${MASTER}/run`, 'POST', JSON.stringify(config));
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /^\d+$/, 'run answers the id as a bare JSON number');
  return Number(r.text);
}

async function status(svc: TestService, id: number): Promise<Record<string, unknown>> {
  const r = await raw(`${master(svc)}${MASTER}/get_status?jobId=${id}`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.type, /application\/json/);
  return JSON.parse(r.text) as Record<string, unknown>;
}

async function finished(svc: TestService, id: number): Promise<Record<string, unknown>> {
  return waitFor(async () => {
    const info = await status(svc, id);
    return ['COMPLETED', 'FAILED', 'CANCELED'].includes(info['status'] as string) ? info : undefined;
  }, { what: `Alluxio job ${id} finished`, timeoutMs: 30_000, intervalMs: 50 });
}

async function ids(svc: TestService, query = ''): Promise<number[]> {
  const r = await raw(`${master(svc)}${MASTER}/list${query}`);
  assert.equal(r.status, 200, r.text);
  const list = JSON.parse(r.text) as unknown[];
  assert.ok(list.every((x) => Number.isSafeInteger(x)), `ids are numbers: ${r.text}`);
  return list as number[];
}

async function files(svc: TestService, dir: string, n: number) {
  await mkdir(join(svc.config.filesDir, dir), { recursive: true });
  for (let i = 0; i < n; i++) await writeFile(join(svc.config.filesDir, dir, `f${i}.txt`), `file ${i}\n`);
}

describe('Alluxio job master REST (facade, auth none, acting as an admin)', () => {
  // as admin: the native jobs of these tests (the test's admin token) are visible through the facade too
  const env = useTestService({ alluxioRole: 'admin' });

  it('service_name and service_version answer as the original', async () => {
    const name = await raw(`${master(env.svc)}${MASTER}/service_name`);
    assert.equal(name.status, 200);
    assert.equal(JSON.parse(name.text), 'JobMasterClient');
    const version = await raw(`${master(env.svc)}${MASTER}/service_version`);
    assert.equal(JSON.parse(version.text), 1);
  });

  it('run (all three @type spellings) → get_status polls to COMPLETED with the files in the cache', async () => {
    await files(env.svc, 'a1', 3);
    await files(env.svc, 'a2', 2);
    await files(env.svc, 'a3', 1);
    const spellings = ['alluxio.job.plan.load.LoadConfig', 'alluxio.job.load.LoadConfig', 'Load'];
    const submitted = [];
    for (const [i, t] of spellings.entries()) submitted.push(await run(env.svc, { '@type': t, filePath: `/a${i + 1}`, replication: 1, unknownField: 'ignored' }));
    assert.equal(new Set(submitted).size, 3, 'every run gets its own id');
    for (const [i, id] of submitted.entries()) {
      const info = await finished(env.svc, id);
      assert.equal(info['status'], 'COMPLETED', JSON.stringify(info));
      assert.equal(info['id'], id);
      assert.equal(info['parentId'], null);
      assert.equal(info['name'], 'Load');
      assert.deepEqual(info['affectedPaths'], [`/a${i + 1}`]);
      assert.equal(info['errorType'], '');
      assert.equal(info['errorMessage'], '');
      assert.ok(Number.isSafeInteger(info['lastUpdated']) && (info['lastUpdated'] as number) > 1.6e12, 'lastUpdated is epoch ms');
      assert.equal(typeof info['description'], 'string');
      // children: one TaskInfo per task (a few files: one task), finished as the job did
      const children = info['children'] as Record<string, unknown>[];
      assert.equal(children.length, 1, JSON.stringify(children));
      for (const [n, c] of children.entries()) {
        assert.deepEqual(Object.keys(c), ['id', 'taskId', 'jobId', 'parentId', 'name', 'description', 'status', 'lastUpdated', 'workerHost', 'children', 'result', 'errorType', 'errorMessage', 'affectedPaths']);
        assert.deepEqual([c['id'], c['taskId'], c['jobId'], c['parentId'], c['name'], c['status']], [n, n, id, id, `Task ${n}`, 'COMPLETED']);
        assert.deepEqual([c['children'], c['affectedPaths'], c['result'], c['errorType'], c['errorMessage']], [[], [], null, '', '']);
        assert.ok(Number.isSafeInteger(c['lastUpdated']) && (c['lastUpdated'] as number) > 1.6e12, 'a task\'s lastUpdated is epoch ms');
        assert.ok(typeof c['workerHost'] === 'string' && c['workerHost'] !== '', 'the host of the worker that ran it');
        assert.match(c['description'] as string, /^t\d{5}: \d+ items, \d+ bytes, 1 attempt$/);
      }
    }
    assert.equal(await readFile(join(env.svc.config.cacheDir, 'a1', 'f2.txt'), 'utf8'), 'file 2\n');
  });

  it('a job run through Alluxio is an ordinary native job, and a native job has an Alluxio id', async () => {
    await files(env.svc, 'b1', 1);
    const id = await run(env.svc, { '@type': 'alluxio.job.plan.load.LoadConfig', filePath: '/b1' });
    const list = await http<{ jobs: JobView[] }>(env.svc.baseUrl, 'GET', '/native/v1/jobs?limit=1000&active=all');
    const job = list.body.jobs.find((j) => j.submitSeq === id);
    assert.ok(job, 'the native list shows the job with submitSeq = the Alluxio id');
    assert.equal(job.type, 'load');
    assert.equal(job.owner, 'alluxio', 'the facade user owns what it submits');
    assert.deepEqual(job.spec['path'], 'b1');
    const native = await http<JobView>(env.svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'load', spec: { path: 'b1' } });
    assert.equal(native.status, 201);
    const info = await status(env.svc, native.body.submitSeq);
    assert.equal(info['name'], 'Load');
    assert.deepEqual(info['affectedPaths'], ['/b1']);
  });

  it('list filters by repeated status and by name; ids are bare numbers', async () => {
    await files(env.svc, 'c1', 1);
    const id = await run(env.svc, { '@type': 'Load', filePath: '/c1' });
    await finished(env.svc, id);
    assert.ok((await ids(env.svc)).includes(id));
    assert.ok((await ids(env.svc, '?status=COMPLETED&status=FAILED')).includes(id));
    assert.ok(!(await ids(env.svc, '?status=RUNNING&status=CREATED')).includes(id));
    assert.ok((await ids(env.svc, '?name=Load')).includes(id));
    assert.ok(!(await ids(env.svc, '?name=Migrate')).includes(id));
  });

  it('migrate copies (or moves with deleteSource) inside the files root', async () => {
    await files(env.svc, 'm1', 2);
    const copy = await run(env.svc, { '@type': 'alluxio.job.plan.migrate.MigrateConfig', source: '/m1', destination: '/m1copy', overwrite: true });
    assert.equal((await finished(env.svc, copy))['status'], 'COMPLETED');
    assert.equal(await readFile(join(env.svc.config.filesDir, 'm1copy', 'f1.txt'), 'utf8'), 'file 1\n');
    const info = await status(env.svc, copy);
    assert.equal(info['name'], 'Migrate');
    assert.deepEqual(info['affectedPaths'], ['/m1', '/m1copy']);
  });

  it('persist writes cached files back to the files root (load, delete the originals, persist)', async () => {
    await files(env.svc, 'p1', 3);
    const load = await run(env.svc, { '@type': 'alluxio.job.plan.load.LoadConfig', filePath: '/p1' });
    assert.equal((await finished(env.svc, load))['status'], 'COMPLETED');
    await rm(join(env.svc.config.filesDir, 'p1'), { recursive: true });
    // mountId and ufsPath name Alluxio's under storage: ours is the files root, so they are ignored
    const persist = await run(env.svc, { '@type': 'alluxio.job.plan.persist.PersistConfig', filePath: '/p1', mountId: 1, overwrite: false, ufsPath: 'hdfs://nn/p1' });
    const info = await finished(env.svc, persist);
    assert.equal(info['status'], 'COMPLETED', JSON.stringify(info));
    assert.equal(info['name'], 'Persist');
    assert.equal(info['description'], 'PersistConfig{filePath=/p1, overwrite=false}');
    assert.deepEqual(info['affectedPaths'], ['/p1']);
    for (let i = 0; i < 3; i++) assert.equal(await readFile(join(env.svc.config.filesDir, 'p1', `f${i}.txt`), 'utf8'), `file ${i}\n`);
    assert.ok((await ids(env.svc, '?name=Persist')).includes(persist));
    // overwrite defaults to false, as in Alluxio: a file already in the files root is left alone and the job fails
    await writeFile(join(env.svc.config.filesDir, 'p1', 'f0.txt'), 'changed\n');
    const again = await finished(env.svc, await run(env.svc, { '@type': 'Persist', filePath: '/p1/f0.txt' }));
    assert.deepEqual([again['status'], again['errorType']], ['FAILED', 'TOO_MANY_FAILURES']);
    assert.equal(await readFile(join(env.svc.config.filesDir, 'p1', 'f0.txt'), 'utf8'), 'changed\n');
    const missing = await run(env.svc, { '@type': 'Persist', filePath: '/not-cached' });
    const failed = await finished(env.svc, missing);
    assert.equal(failed['status'], 'FAILED');
    assert.equal(failed['errorType'], 'INVALID_SPEC', JSON.stringify(failed));
  });

  it('cancel stops a running job (CANCELED) and is a no-op on a finished one', async () => {
    const sleeper = await http<JobView>(env.svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'sleep', spec: { tasks: 2, ms: 60_000 } });
    assert.equal(sleeper.status, 201, JSON.stringify(sleeper.body));
    const id = sleeper.body.submitSeq;
    const running = await waitFor(async () => {
      const info = await status(env.svc, id);
      return info['status'] === 'RUNNING' && (info['children'] as unknown[]).length === 2 ? info : undefined;
    }, { what: 'the sleep job running, planned', timeoutMs: 15_000 });
    assert.deepEqual((running['children'] as { status: string }[]).map((c) => c.status), ['RUNNING', 'RUNNING']);
    const r = await raw(`${master(env.svc)}${MASTER}/cancel?jobId=${id}`, 'POST');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '');
    const cancelled = await finished(env.svc, id);
    assert.equal(cancelled['status'], 'CANCELED');
    // tasks that never finished in a cancelled job are CANCELED
    assert.deepEqual((cancelled['children'] as { status: string }[]).map((c) => c.status), ['CANCELED', 'CANCELED']);
    const again = await raw(`${master(env.svc)}${MASTER}/cancel?jobId=${id}`, 'POST');
    assert.equal(again.status, 200, again.text);
  });

  it('errors come as the original sends them: HTTP 500 {status, message}, nothing written', async () => {
    const before = (await ids(env.svc)).length;
    const cases: [string, string, string | undefined, string][] = [
      ['GET', `${MASTER}/get_status?jobId=987654321`, undefined, 'NOT_FOUND'],
      ['GET', `${MASTER}/get_status?jobId=abc`, undefined, 'INVALID_ARGUMENT'],
      ['GET', `${MASTER}/get_status`, undefined, 'INVALID_ARGUMENT'],
      ['POST', `${MASTER}/cancel?jobId=987654321`, undefined, 'NOT_FOUND'],
      ['POST', `${MASTER}/run`, JSON.stringify({ '@type': 'alluxio.job.plan.nope.NopeConfig', filePath: '/x' }), 'INVALID_ARGUMENT'],
      ['POST', `${MASTER}/run`, JSON.stringify({ filePath: '/x' }), 'INVALID_ARGUMENT'],
      ['POST', `${MASTER}/run`, JSON.stringify({ '@type': 'Load', filePath: 'relative/x' }), 'INVALID_ARGUMENT'],
      ['POST', `${MASTER}/run`, JSON.stringify({ '@type': 'Load', filePath: '/../outside' }), 'INVALID_ARGUMENT'],
      ['POST', `${MASTER}/run`, '{"@type": "Load", ', 'INVALID_ARGUMENT'],
      ['POST', `${MASTER}/run`, '[1,2]', 'INVALID_ARGUMENT'],
      ['GET', `${MASTER}/list?status=DONE`, undefined, 'INVALID_ARGUMENT'],
    ];
    for (const [method, path, body, want] of cases) {
      const r = await raw(master(env.svc) + path, method, body);
      assert.equal(r.status, 500, `${method} ${path}: ${r.text}`);
      const b = JSON.parse(r.text) as { status: string; message: string };
      assert.equal(b.status, want, `${method} ${path}: ${r.text}`);
      assert.equal(typeof b.message, 'string');
      assert.deepEqual(Object.keys(b).sort(), ['message', 'status']);
    }
    assert.equal((await ids(env.svc)).length, before, 'no refused request wrote a job');
    const unknown = await raw(`${master(env.svc)}/api/v1/master/job/nope`);
    assert.equal(unknown.status, 404);
  });

  it('job_master/info lists the workers; job_worker/info is on the worker port', async () => {
    const r = await raw(`${master(env.svc)}/api/v1/job_master/info`);
    assert.equal(r.status, 200, r.text);
    const info = JSON.parse(r.text) as Record<string, unknown>;
    for (const k of ['configuration', 'startTimeMs', 'uptimeMs', 'version', 'workers']) assert.ok(k in info, `${k} in ${r.text}`);
    const workers = info['workers'] as Record<string, unknown>[];
    assert.ok(workers.length >= 1);
    for (const k of ['id', 'address', 'lastContactSec', 'state', 'capacityBytes', 'usedBytes', 'startTimeMs']) assert.ok(k in workers[0]!, k);
    const w = await raw(`${worker(env.svc)}/api/v1/job_worker/info`);
    assert.equal(w.status, 200, w.text);
    assert.deepEqual(Object.keys(JSON.parse(w.text) as object).sort(), ['configuration', 'startTimeMs', 'uptimeMs', 'version']);
    assert.equal((await raw(`${worker(env.svc)}${MASTER}/service_name`)).status, 404, 'the worker port serves the worker routes only');
  });

  it('the same routes answer under /compat/alluxio/ on the API port, without a native token', async () => {
    const r = await raw(`${env.svc.baseUrl}/compat/alluxio${MASTER}/service_name`);
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text), 'JobMasterClient');
    const w = await raw(`${env.svc.baseUrl}/compat/alluxio/api/v1/job_worker/info`);
    assert.equal(w.status, 200, w.text);
    const missing = await raw(`${env.svc.baseUrl}/compat/alluxio${MASTER}/get_status?jobId=987654321`);
    assert.equal(missing.status, 500);
    assert.equal((JSON.parse(missing.text) as { status: string }).status, 'NOT_FOUND');
  });
});

describe('Alluxio facade with auth basic', () => {
  const env = useTestService({ alluxioAuth: 'basic' });

  it('without credentials: 401 with a Basic challenge; with a user\'s password: the user owns the job', async () => {
    const none = await raw(`${master(env.svc)}${MASTER}/list`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.equal((JSON.parse(none.text) as { status: string }).status, 'UNAUTHENTICATED');
    const created = await http(env.svc.baseUrl, 'POST', '/native/v1/users', { name: 'ann', password: 'ann-password-123', role: 'operator' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const wrong = await raw(`${master(env.svc)}${MASTER}/list`, 'GET', undefined, { authorization: `Basic ${Buffer.from('ann:nope').toString('base64')}` });
    assert.equal(wrong.status, 401);
    const auth = { authorization: `Basic ${Buffer.from('ann:ann-password-123').toString('base64')}` };
    await files(env.svc, 'd1', 1);
    const r = await raw(`${master(env.svc)}${MASTER}/run`, 'POST', JSON.stringify({ '@type': 'Load', filePath: '/d1' }), auth);
    assert.equal(r.status, 200, r.text);
    const id = Number(r.text);
    const list = await raw(`${master(env.svc)}${MASTER}/list`, 'GET', undefined, auth);
    assert.deepEqual(JSON.parse(list.text), [id], 'an operator lists its own jobs only');
    const native = await http<{ jobs: JobView[] }>(env.svc.baseUrl, 'GET', '/native/v1/jobs?limit=10&active=all', undefined, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    assert.equal(native.body.jobs.find((j) => j.submitSeq === id)?.owner, 'ann');

    // checked credentials are trusted only while the user is unchanged: a new password or a deletion counts at once
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    assert.equal((await http(env.svc.baseUrl, 'PUT', '/native/v1/users/ann/password', { password: 'ann-password-456' }, admin)).status, 204);
    await waitFor(async () => (await raw(`${master(env.svc)}${MASTER}/list`, 'GET', undefined, auth)).status === 401, { what: 'the old password refused' });
    const fresh = { authorization: `Basic ${Buffer.from('ann:ann-password-456').toString('base64')}` };
    assert.equal((await raw(`${master(env.svc)}${MASTER}/list`, 'GET', undefined, fresh)).status, 200);
    assert.equal((await http(env.svc.baseUrl, 'DELETE', '/native/v1/users/ann', undefined, admin)).status, 204);
    await waitFor(async () => (await raw(`${master(env.svc)}${MASTER}/list`, 'GET', undefined, fresh)).status === 401, { what: 'a deleted user refused' });
  });
});
