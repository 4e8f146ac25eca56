import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, useTestService } from '../../helpers/service.ts';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { waitFor } from '../../helpers/wait.ts';

const API = '/native/v1';

describe('NATS unavailable', () => {
  const env = useTestService();

  it('answers 503 with retry-after (never 500) while NATS is down, serves reads, and recovers by itself', async () => {
    const done = (await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} })).body;
    await waitFor(async () => ((await http<JobView>(env.svc.baseUrl, 'GET', `${API}/jobs/${done.id}`)).body.state === 'SUCCEEDED' ? true : undefined), { what: 'first job done', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    await env.nats.stop();
    try {
      const r = await waitFor(async () => {
        const res = await http<{ code: string }>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} });
        return res.status === 503 ? res : undefined;
      }, { what: '503 while down', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
      assert.equal(r.body.code, 'UNAVAILABLE');
      assert.equal(r.headers.get('retry-after'), '1');
      const ready = await http<{ ready: boolean }>(env.svc.baseUrl, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      const read = await http<JobView>(env.svc.baseUrl, 'GET', `${API}/jobs/${done.id}`);
      assert.equal(read.status, 200, 'jobs already known are still served from the projection');
      assert.equal(read.body.state, 'SUCCEEDED');
    } finally {
      await env.nats.restart();
    }
    // no process restart: the connection, follower, queue and liveness come back on their own
    const again = await waitFor(async () => {
      const res = await http<JobView>(env.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} });
      return res.status === 201 ? res.body : undefined;
    }, { what: 'submissions accepted again', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
    await waitFor(async () => ((await http<JobView>(env.svc.baseUrl, 'GET', `${API}/jobs/${again.id}`)).body.state === 'SUCCEEDED' ? true : undefined), { what: 'job after the outage finishes', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
  });
});
