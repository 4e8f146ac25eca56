/** /ui/ without a build: 503 saying how to build it, and the API beside it works as before. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { withOrigin } from '../../../api/compat/facade.ts';
import { createFakeJobService } from '../../helpers/fakeJobService.ts';
import { createApi, PREFIX } from './harness.ts';

describe('dashboard serving', () => {
  it('answers 503 with how to build it when there is no build; the API still answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-nodash-'));
    const api = createApi({ dashboardDir: dir });
    after(async () => { await api.app.close(); await rm(dir, { recursive: true, force: true }); });
    const r = await api.app.inject({ method: 'GET', url: '/ui/jobs' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /scripts\/buildDashboard\.ts/);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    assert.equal((await api.app.inject({ method: 'GET', url: `${PREFIX}/job-types` })).statusCode, 200);
  });

  it('withOrigin stamps the facade on every submit, batch and re-run, over what the route said', async () => {
    const service = createFakeJobService();
    const caller = { user: 'alice', role: 'operator' as const, virtualClusters: [] };
    const ts = withOrigin(service, 'teraslice');
    const { job } = await ts.submit({ type: 'noop', spec: {} }, { caller, origin: 'native' });
    assert.equal(job.origin, 'teraslice');
    await ts.submitMany([{ req: { type: 'noop', spec: {} } }], { caller });
    await ts.rerun(job.id, { caller }).catch(() => undefined);
    assert.deepEqual(service.calls.filter((c) => ['submit', 'submitMany', 'rerun'].includes(c.method)).map((c) => (c.args.at(-1) as { origin?: string }).origin), ['teraslice', 'teraslice', 'teraslice']);
  });
});
