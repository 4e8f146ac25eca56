/**
 * The Alluxio Enterprise coordinator REST facade (seed 004; clients.md §4.3) against the real engine
 * and a real nats-server: load by path, EE's progress JSON, jobs by (type, path) with the 409 rule
 * (also for simultaneous submissions), stop, and EE's error shape (`{status}` with real HTTP
 * statuses), on its own port and under `/compat/alluxio/` beside the OSS routes and their shape.
 * One running job at a time (runningJobCapacity 1): a native sleep job keeps loads WAITING where a
 * test needs an active one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PROGRESS_KEYS = [
  'id', 'startTime', 'state', 'runningState', 'errorMessage', 'failedFileListPath', 'paths', 'index', 'skipIfExists', 'loadMetadataOnly',
  'verify', 'bandwidth', 'timeElapsedMilliseconds', 'loadedBytes', 'skippedBytes', 'totalBytes', 'loadedNonEmptyFiles', 'failedFiles',
  'scannedFiles', 'quota', 'quotaCheckError',
];

/** A raw request (no native token): status, content type and parsed JSON body. */
async function raw(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

const ee = (svc: TestService) => svc.facadeUrls['alluxio EE coordinator']!;

async function files(svc: TestService, dir: string, n: number) {
  await mkdir(join(svc.config.filesDir, dir), { recursive: true });
  for (let i = 0; i < n; i++) await writeFile(join(svc.config.filesDir, dir, `f${i}.txt`), `file ${i}\n`);
}

async function load(svc: TestService, body: unknown, base = ee(svc)): Promise<string> {
  const r = await raw(`${base}/api/v1/load`, 'POST', body);
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.json['id']), UUID_RE);
  return r.json['id'] as string;
}

async function progress(svc: TestService, query: string): Promise<Record<string, unknown>> {
  const r = await raw(`${ee(svc)}/api/v1/load?${query}`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.type, /application\/json/);
  return r.json;
}

async function finished(svc: TestService, id: string): Promise<Record<string, unknown>> {
  return waitFor(async () => {
    const p = await progress(svc, `id=${id}`);
    return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(p['state'] as string) ? p : undefined;
  }, { what: `EE load ${id} finished`, timeoutMs: 30_000, intervalMs: 50 });
}

/** The native load jobs of a path (as the test admin: every owner). */
async function nativeLoads(svc: TestService, path: string): Promise<JobView[]> {
  const list = await http<{ jobs: JobView[] }>(svc.baseUrl, 'GET', '/native/v1/jobs?limit=1000&active=all&type=load');
  return list.body.jobs.filter((j) => j.spec['path'] === path);
}

/** Runs `fn` while a native sleep job holds the one running slot, so loads stay WAITING. */
async function whileBlocked(svc: TestService, fn: () => Promise<void>): Promise<void> {
  const sleeper = await http<JobView>(svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'sleep', spec: { tasks: 1, ms: 60_000 } });
  assert.equal(sleeper.status, 201, JSON.stringify(sleeper.body));
  try {
    await waitFor(async () => (await http<JobView>(svc.baseUrl, 'GET', `/native/v1/jobs/${sleeper.body.id}`)).body.state === 'RUNNING', { what: 'the sleep job running', timeoutMs: 15_000 });
    await fn();
  } finally {
    await http(svc.baseUrl, 'POST', `/native/v1/jobs/${sleeper.body.id}/stop`, { force: true });
  }
}

describe('Alluxio EE coordinator REST (facade, auth none, operator)', () => {
  const env = useTestService({ runningJobCapacity: 1 });

  it('POST /api/v1/load by path → progress JSON (fields, types) → SUCCEEDED with the files in the cache', async () => {
    await files(env.svc, 'e1', 3);
    const r = await raw(`${ee(env.svc)}/api/v1/load`, 'POST', { paths: ['/e1'], alias: 'nightly e1', options: { batchSize: 2, replicas: 1, skipIfExists: true, loadPolicy: 'default', loadMetadataOnly: false, fileFilterRegex: '', verify: true } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['id', 'ids', 'paths']);
    const id = r.json['id'] as string;
    assert.deepEqual([r.json['ids'], r.json['paths']], [[id], ['/e1']]);

    const p = await finished(env.svc, id);
    assert.deepEqual(Object.keys(p), PROGRESS_KEYS);
    assert.equal(p['state'], 'SUCCEEDED', JSON.stringify(p));
    assert.equal(p['id'], id);
    assert.ok(Number.isSafeInteger(p['startTime']) && (p['startTime'] as number) > 1.6e12, 'startTime is epoch ms');
    assert.ok(Number.isSafeInteger(p['timeElapsedMilliseconds']) && (p['timeElapsedMilliseconds'] as number) >= 0);
    assert.deepEqual(p['paths'], ['/e1']);
    assert.deepEqual([p['runningState'], p['errorMessage'], p['failedFileListPath'], p['index'], p['bandwidth'], p['quotaCheckError']], [null, null, null, null, null, null]);
    assert.deepEqual([p['skipIfExists'], p['loadMetadataOnly'], p['verify']], [false, false, true]);
    assert.deepEqual([p['scannedFiles'], p['loadedNonEmptyFiles'], p['failedFiles'], p['skippedBytes']], [3, 3, 0, 0]);
    assert.equal(p['loadedBytes'], 3 * 'file 0\n'.length);
    assert.equal(p['totalBytes'], p['loadedBytes']);
    assert.deepEqual(p['quota'], { totalBytes: null, remaining: null });
    assert.equal(await readFile(join(env.svc.config.cacheDir, 'e1', 'f2.txt'), 'utf8'), 'file 2\n');

    // the same job by path (any spelling), by alias, on the AI-3.3 path, and in the listing
    assert.equal((await progress(env.svc, 'path=/e1/'))['id'], id);
    assert.equal((await progress(env.svc, `path=${encodeURIComponent('alluxio://m:19998/e1')}`))['id'], id);
    assert.equal((await progress(env.svc, `alias=${encodeURIComponent('nightly e1')}`))['id'], id);
    const old = await raw(`${ee(env.svc)}/api/v1/master/progress_job/load?id=${id}`);
    assert.equal(old.json['id'], id);
    const all = await progress(env.svc, '');
    assert.deepEqual(Object.keys(all), ['results']);
    assert.ok((all['results'] as Record<string, unknown>[]).some((x) => x['id'] === id));
  });

  it('a job loaded through EE is a native job (owner = the facade user) and has an OSS id', async () => {
    await files(env.svc, 'e2', 1);
    const id = await load(env.svc, { paths: ['/e2'], options: { batchSize: 5 } }, `${env.svc.baseUrl}/compat/alluxio`);
    const native = await http<JobView>(env.svc.baseUrl, 'GET', `/native/v1/jobs/${id}`);
    assert.equal(native.status, 200);
    assert.deepEqual([native.body.id, native.body.type, native.body.owner, native.body.spec['path'], native.body.spec['batchSize']], [id, 'load', 'alluxio', 'e2', 5]);
    const oss = await raw(`${env.svc.facadeUrls['alluxio job master']!}/api/v1/master/job/get_status?jobId=${native.body.submitSeq}`);
    assert.equal(oss.status, 200, oss.text);
    assert.deepEqual([oss.json['name'], oss.json['affectedPaths']], ['Load', ['/e2']]);
    await finished(env.svc, id);
  });

  it('an identical active job: 409, nothing written; simultaneous identical submissions make one job; DELETE stops; afterwards the same (type, path) is a new job', async () => {
    await files(env.svc, 'e3', 2);
    await files(env.svc, 'e4', 2);
    await whileBlocked(env.svc, async () => {
      const first = await load(env.svc, { paths: ['/e3'] });
      assert.equal((await progress(env.svc, `id=${first}`))['state'], 'WAITING');
      for (const body of [{ paths: ['/e3'] }, { paths: ['/e3/'], options: { batchSize: 1 } }, { paths: ['alluxio://m:19998/e3'] }, { paths: ['/e4', '/e3'] }]) {
        const again = await raw(`${ee(env.svc)}/api/v1/load`, 'POST', body);
        assert.equal(again.status, 409, again.text);
        assert.deepEqual(Object.keys(again.json), ['status']);
        assert.match(again.json['status'] as string, /already WAITING/);
      }
      assert.equal((await nativeLoads(env.svc, 'e3')).length, 1, 'nothing written');
      assert.equal((await nativeLoads(env.svc, 'e4')).length, 0, 'a request with one conflicting path submits none');

      // simultaneous: each may see no active job, the idempotency key makes them one
      const racers = await Promise.all(Array.from({ length: 6 }, () => raw(`${ee(env.svc)}/api/v1/load`, 'POST', { paths: ['/e4'] })));
      assert.deepEqual(racers.map((x) => x.status).sort(), [200, 409, 409, 409, 409, 409], racers.map((x) => x.text).join('\n'));
      const e4 = await nativeLoads(env.svc, 'e4');
      assert.equal(e4.length, 1);
      assert.equal(racers.find((x) => x.status === 200)!.json['id'], e4[0]!.id);

      // stop by path and by id (old path for submit: same semantics)
      const byPath = await raw(`${ee(env.svc)}/api/v1/load?path=/e3`, 'DELETE');
      assert.equal(byPath.status, 200, byPath.text);
      assert.deepEqual([byPath.json['id'], byPath.json['state']], [first, 'STOPPED']);
      const byId = await raw(`${ee(env.svc)}/api/v1/load?id=${e4[0]!.id}`, 'DELETE');
      assert.equal(byId.json['state'], 'STOPPED');
      const none = await raw(`${ee(env.svc)}/api/v1/load?path=/e3`, 'DELETE');
      assert.equal(none.status, 404, 'no active job of that path is left');
      assert.match(none.json['status'] as string, /^No job found/);

      const second = await raw(`${ee(env.svc)}/api/v1/master/submit_job/load`, 'POST', { paths: ['/e3'] });
      assert.equal(second.status, 200, second.text);
      assert.notEqual(second.json['id'], first, 'a new job once the old one finished');
      assert.equal((await progress(env.svc, 'path=/e3'))['id'], second.json['id'], 'the path names its most recent job');
      assert.equal((await nativeLoads(env.svc, 'e3')).length, 2);
    });
    const last = await progress(env.svc, 'path=/e3');
    assert.equal((await finished(env.svc, last['id'] as string))['state'], 'SUCCEEDED');
  });

  it('one identity across the Alluxio faces: an OSS run of a path is the active job EE refuses to duplicate; DELETE by alias stops the active one of that name', async () => {
    await files(env.svc, 'e5', 1);
    await whileBlocked(env.svc, async () => {
      const run = await raw(`${env.svc.facadeUrls['alluxio job master']!}/api/v1/master/job/run`, 'POST', { '@type': 'Load', filePath: '/e5/' });
      assert.equal(run.status, 200, run.text);
      const dup = await raw(`${ee(env.svc)}/api/v1/load`, 'POST', { paths: ['/e5'] });
      assert.equal(dup.status, 409, dup.text);
      const hash = createHash('sha256').update('e5').digest('hex').slice(0, 32);
      const labelled = await http<{ jobs: JobView[] }>(env.svc.baseUrl, 'GET', `/native/v1/jobs?active=all&label=${encodeURIComponent(`alluxio/path=${hash}`)}`);
      const [oss, ...others] = labelled.body.jobs;
      assert.deepEqual([oss?.submitSeq, others.length], [Number(run.text), 0], 'the native API selects the path\'s jobs by their label');
      assert.ok(oss);
      // alias: the newest job of the name is finished, an older one of the same name still waits
      await files(env.svc, 'e6', 1);
      const older = await load(env.svc, { paths: ['/e6'], alias: 'twice' });
      const stopped = await raw(`${ee(env.svc)}/api/v1/load?id=${oss.id}`, 'DELETE');
      assert.equal(stopped.status, 200, stopped.text);
      const newer = await load(env.svc, { paths: ['/e5'], alias: 'twice' });
      assert.equal((await raw(`${ee(env.svc)}/api/v1/load?id=${newer}`, 'DELETE')).status, 200);
      const byAlias = await raw(`${ee(env.svc)}/api/v1/load?alias=twice`, 'DELETE');
      assert.equal(byAlias.status, 200, byAlias.text);
      assert.deepEqual([byAlias.json['id'], byAlias.json['state']], [older, 'STOPPED']);
    });
  });

  it('a multi-path load with one path its job type refuses writes nothing, whichever path it is', async () => {
    await files(env.svc, 'e7', 1);
    const tooLong = `/${'x'.repeat(300)}`; // ENAMETOOLONG when the spec is checked
    for (const paths of [['/e7', tooLong], [tooLong, '/e7']]) {
      const r = await raw(`${ee(env.svc)}/api/v1/load`, 'POST', { paths, alias: 'multi' });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(await nativeLoads(env.svc, 'e7'), [], `nothing written for ${JSON.stringify(paths.map((p) => p.slice(0, 8)))}`);
    }
  });

  it('errors: EE shape {status} with real HTTP statuses; under /compat/alluxio/ each route keeps its own shape', async () => {
    const base = ee(env.svc);
    const cases: [string, string, unknown, number, RegExp][] = [
      [`${base}/api/v1/load?id=00000000-0000-4000-8000-000000000000`, 'GET', undefined, 404, /^No job found/],
      [`${base}/api/v1/load?id=junk`, 'GET', undefined, 404, /^No job found/],
      [`${base}/api/v1/load?path=/never`, 'GET', undefined, 404, /^No job found/],
      [`${base}/api/v1/load?alias=never`, 'GET', undefined, 404, /^No job found/],
      [`${base}/api/v1/load`, 'POST', undefined, 400, /body/],
      [`${base}/api/v1/load`, 'POST', {}, 400, /paths/],
      [`${base}/api/v1/load`, 'POST', { paths: [] }, 400, /paths/],
      [`${base}/api/v1/load`, 'POST', { paths: ['relative'] }, 400, /absolute/],
      [`${base}/api/v1/load`, 'POST', { paths: ['/../outside'] }, 400, /./],
      [`${base}/api/v1/load`, 'POST', { index: '/idx' }, 400, /index/],
      [`${base}/api/v1/load`, 'POST', { paths: ['/e1'], options: { loadMetadataOnly: true } }, 400, /loadMetadataOnly/],
      [`${base}/api/v1/load`, 'POST', { paths: ['/e1'], options: { batchSize: 'ten' } }, 400, /batchSize/],
      [`${base}/api/v1/load`, 'POST', 'not json', 400, /./],
      [`${base}/api/v1/load`, 'DELETE', undefined, 400, /id, alias or path/],
      [`${base}/api/v1/nothing`, 'GET', undefined, 404, /No resource/],
      [`${env.svc.baseUrl}/compat/alluxio/api/v1/load?id=00000000-0000-4000-8000-000000000000`, 'GET', undefined, 404, /^No job found/],
      [`${env.svc.baseUrl}/compat/alluxio/api/v1/load`, 'POST', {}, 400, /paths/],
    ];
    for (const [url, method, body, status, message] of cases) {
      const r = await raw(url, method, body);
      assert.equal(r.status, status, `${method} ${url}: ${r.text}`);
      assert.deepEqual(Object.keys(r.json), ['status'], `${method} ${url}: ${r.text}`);
      assert.match(r.json['status'] as string, message, `${method} ${url}: ${r.text}`);
    }
    assert.equal((await nativeLoads(env.svc, 'e1')).length, 1, 'refused requests wrote nothing');
    // the OSS routes beside them keep Alluxio OSS's shape
    const oss = await raw(`${env.svc.baseUrl}/compat/alluxio/api/v1/master/job/get_status?jobId=999999`);
    assert.equal(oss.status, 500);
    assert.deepEqual(Object.keys(oss.json), ['status', 'message']);
    assert.equal(oss.json['status'], 'NOT_FOUND');
  });
});
