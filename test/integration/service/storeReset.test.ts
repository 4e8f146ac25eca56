import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { http, useTestService } from '../../helpers/service.ts';
import { isAppError } from '../../../engine/errors.ts';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { waitFor } from '../../helpers/wait.ts';

const API = '/native/v1';

describe('a NATS restart with its store deleted', () => {
  const env = useTestService();

  it('is detected: readiness fails and writes get STATE_STORE_RESET; a restart refuses the new store unless told to accept it', async () => {
    const job = (await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} })).body;
    await waitFor(async () => ((await http<JobView>(env.svc.baseUrl, 'GET', `${API}/jobs/${job.id}`)).body.state === 'SUCCEEDED' ? true : undefined), { what: 'job done', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    await env.nats.stop();
    await rm(join(env.nats.storeDir, 'jetstream'), { recursive: true, force: true });
    await env.nats.restart();

    const ready = await waitFor(async () => {
      const r = await http<{ ready: boolean; checks: Record<string, boolean> }>(env.svc.baseUrl, 'GET', '/readyz');
      return r.status === 503 && r.body.checks['store'] === false ? r.body : undefined;
    }, { what: 'readiness fails', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    assert.equal(ready.ready, false);
    const submit = await http<{ code: string }>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} });
    assert.equal(submit.status, 503);
    assert.equal(submit.body.code, 'STATE_STORE_RESET');

    // A restart of the service on the empty store is refused: no silent amnesia.
    await assert.rejects(env.svc.restart(), (e) => isAppError(e, 'STATE_STORE_RESET'));
    // The operator re-bootstraps explicitly.
    await env.svc.restart({ acceptNewStore: true });
    const fresh = await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} });
    assert.equal(fresh.status, 201);
    assert.equal((await http(env.svc.baseUrl, 'GET', `${API}/jobs/${job.id}`)).status, 404, 'the old job is gone with its store');
  });
});
