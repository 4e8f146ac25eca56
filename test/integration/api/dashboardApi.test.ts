/**
 * What the dashboard reads, over HTTP against a real service and nats-server: GET /overview, the
 * job list's search, each job's origin (native or the facade it came through, kept across a
 * restart), and the dashboard's own files under /ui/ (types, caching, CSP) beside an API whose
 * routes still need a token.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DASHBOARD_CSP } from '../../../api/dashboard.ts';
import type { JobView } from '../../../engine/index.ts';
import { http, useTestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

interface Overview {
  counts: Record<string, number>;
  series: { waiting: number | null; active: number | null; succeeded: number; tasksSucceeded: number }[];
  waits: { count: number; p50Ms: number; maxMs: number } | null;
  coordinators: { alive: boolean }[];
  workers: { registered: number; alive: number };
  virtualClusters: { name: string }[];
}

const NATIVE = '/native/v1';

describe('dashboard API', () => {
  const ctx = useTestService();

  async function finished(id: string): Promise<JobView> {
    return waitFor(async () => {
      const j = (await http<JobView>(ctx.svc.baseUrl, 'GET', `${NATIVE}/jobs/${id}`)).body;
      return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state) ? j : undefined;
    }, { timeoutMs: 30_000, what: `job ${id} finished` });
  }

  it('GET /overview counts jobs by state, and its series has the finished job, its tasks, its wait and the queue depth', async () => {
    const before = (await http<Overview>(ctx.svc.baseUrl, 'GET', `${NATIVE}/overview`)).body;
    const r = await http<JobView>(ctx.svc.baseUrl, 'POST', `${NATIVE}/jobs`, { type: 'sleep', spec: { ms: 50, tasks: 3 } });
    assert.equal(r.status, 201);
    await finished(r.body.id);
    const o = (await http<Overview>(ctx.svc.baseUrl, 'GET', `${NATIVE}/overview`)).body;
    assert.equal(o.counts['SUCCEEDED'], (before.counts['SUCCEEDED'] ?? 0) + 1);
    const sum = (k: 'succeeded' | 'tasksSucceeded', ov: Overview) => ov.series.reduce((a, s) => a + s[k], 0);
    assert.equal(sum('succeeded', o), sum('succeeded', before) + 1);
    assert.equal(sum('tasksSucceeded', o), sum('tasksSucceeded', before) + 3);
    assert.ok(o.waits !== null && o.waits.count >= 1 && o.waits.maxMs >= o.waits.p50Ms);
    assert.deepEqual([o.series.at(-1)?.waiting, o.series.at(-1)?.active], [0, 0]);
    assert.deepEqual(o.coordinators.map((c) => c.alive), [true]);
    assert.deepEqual(o.workers, { registered: 1, alive: 1 });
    assert.ok(o.virtualClusters.some((v) => v.name === 'default'));
    assert.equal((await http(ctx.svc.baseUrl, 'GET', `${NATIVE}/overview`, undefined, { authorization: '' })).status, 401);
  });

  it('GET /jobs?q= finds jobs by a piece of their name, id or type, whatever the case', async () => {
    const a = (await http<JobView>(ctx.svc.baseUrl, 'POST', `${NATIVE}/jobs`, { type: 'noop', name: 'Nightly Reindex', spec: {} })).body;
    await http(ctx.svc.baseUrl, 'POST', `${NATIVE}/jobs`, { type: 'noop', name: 'hourly sync', spec: {} });
    const names = async (q: string) => (await http<{ jobs: JobView[] }>(ctx.svc.baseUrl, 'GET', `${NATIVE}/jobs?q=${encodeURIComponent(q)}&active=all`)).body.jobs.map((j) => j.name);
    assert.deepEqual(await names('nightly re'), ['Nightly Reindex']);
    assert.deepEqual(await names(a.id.slice(0, 13).toUpperCase()), ['Nightly Reindex']);
    assert.ok((await names('NOOP')).includes('hourly sync'));
    assert.deepEqual(await names('no such job'), []);
    assert.equal((await http(ctx.svc.baseUrl, 'GET', `${NATIVE}/jobs?q=`)).status, 400);
  });

  it('a job shows the API it came through: native, Teraslice, Alluxio; the same after a restart (replayed from the log)', async () => {
    const native = (await http<JobView>(ctx.svc.baseUrl, 'POST', `${NATIVE}/jobs`, { type: 'noop', spec: {} })).body;
    assert.equal(native.origin, 'native');
    const ts = await fetch(`${ctx.svc.facadeUrls['teraslice cluster master']!}/v1/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'origin', operations: [{ _op: 'data_generator', size: 10 }, { _op: 'noop' }] }),
    });
    assert.equal(ts.status, 200, await ts.clone().text());
    await mkdir(join(ctx.svc.config.filesDir, 'origin'), { recursive: true });
    await writeFile(join(ctx.svc.config.filesDir, 'origin', 'a.txt'), 'a');
    const al = await fetch(`${ctx.svc.facadeUrls['alluxio job master']!}/api/v1/master/job/run`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ '@type': 'Load', filePath: '/origin/' }),
    });
    assert.equal(al.status, 200, await al.clone().text());
    const origins = async () => {
      const { jobs } = (await http<{ jobs: JobView[] }>(ctx.svc.baseUrl, 'GET', `${NATIVE}/jobs?active=all&limit=1000`)).body;
      return Object.fromEntries(['native', 'teraslice', 'alluxio'].map((o) => [o, jobs.filter((j) => j.origin === o).map((j) => j.type).sort()[0]]));
    };
    const seen = await origins();
    assert.deepEqual(seen, { native: 'noop', teraslice: 'teraslice', alluxio: 'load' });
    await ctx.svc.restart();
    assert.deepEqual(await origins(), seen);
    assert.equal((await http<JobView>(ctx.svc.baseUrl, 'GET', `${NATIVE}/jobs/${native.id}`)).body.origin, 'native');
  });

  it('serves the dashboard under /ui/ (deep links get the app; hashed assets are cached; a strict CSP) and / leads there', async () => {
    const base = ctx.svc.baseUrl;
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    assert.deepEqual([root.status, root.headers.get('location')], [302, '/ui/']);
    const page = await fetch(`${base}/ui/jobs/0b6a3c1e-1111-4222-8333-444455556666`);
    assert.equal(page.status, 200, 'the build is there (scripts/setup.sh makes it)');
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    const script = /src="\/ui\/(assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    assert.ok(script !== undefined, html);
    const js = await fetch(`${base}/ui/${script}`);
    assert.deepEqual([js.status, js.headers.get('content-type'), js.headers.get('cache-control')], [200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    assert.equal((await fetch(`${base}/ui/assets/app-NOTTHERE.js`)).status, 404);
    assert.equal((await fetch(`${base}/ui/../native/v1/jobs`)).status, 401, 'a path that leaves /ui/ is the API, with its auth');
    assert.equal((await http(base, 'GET', `${NATIVE}/jobs`, undefined, { authorization: '' })).status, 401);
  });
});
