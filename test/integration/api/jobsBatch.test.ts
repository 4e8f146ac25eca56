/**
 * `POST /jobs:batch` over real HTTP against a whole service on a real nats-server: per-item results
 * as POST /jobs answers each item alone, nothing written for an invalid item or a wrong envelope,
 * idempotency per item, roles, and a 503 while NATS is down.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { http, useTestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';
import { API, as, userToken, type ApiError } from '../journey/journeyKit.ts';

const BATCH = `${API}/jobs:batch`;

interface Result {
  status: number;
  job?: JobView;
  error?: { code: string; message: string };
}

type Item = Record<string, unknown>;

/** A noop job labelled `run=<run>`, so a test lists exactly its own jobs. */
const noop = (run: string, more: Item = {}): Item => ({ type: 'noop', spec: {}, labels: { run }, ...more });

describe('POST /jobs:batch', () => {
  const env = useTestService();
  const base = () => env.svc.baseUrl;

  async function batch(jobs: unknown, headers: Record<string, string> = {}) {
    return http<{ results: Result[] } & ApiError>(base(), 'POST', BATCH, { jobs }, headers);
  }

  async function listed(run: string): Promise<JobView[]> {
    const r = await http<{ jobs: JobView[] }>(base(), 'GET', `${API}/jobs?label=run=${run}&active=all&limit=1000`);
    assert.equal(r.status, 200);
    return r.body.jobs;
  }

  it('writes a batch of valid items: 201 each in item order, listed, and every job succeeds', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => noop('valid', { name: `job-${i}` }));
    const res = await batch(jobs);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { results } = res.body;
    assert.equal(results.length, 40);
    assert.ok(results.every((r) => r.status === 201 && r.error === undefined), JSON.stringify(results.find((r) => r.status !== 201)));
    assert.deepEqual(results.map((r) => r.job!.name), jobs.map((j) => j['name']));
    assert.equal(new Set(results.map((r) => r.job!.id)).size, 40);
    // the job view POST /jobs returns: the job as GET shows it right after the write (read-your-writes:
    // at least the write; a coordinator may have claimed it by the time the answer is built)
    const one = results[7]!.job!;
    assert.deepEqual([one.owner, one.type, one.labels], ['admin', 'noop', { run: 'valid' }]);
    assert.ok(['WAITING', 'RUNNING', 'VERIFYING', 'SUCCEEDED'].includes(one.state), one.state);
    const got = await http<JobView>(base(), 'GET', `${API}/jobs/${one.id}`);
    assert.equal(got.body.submitSeq, one.submitSeq);
    assert.deepEqual((await listed('valid')).map((j) => j.id).sort(), results.map((r) => r.job!.id).sort());
    await waitFor(async () => ((await listed('valid')).every((j) => j.state === 'SUCCEEDED') ? true : undefined), {
      what: 'every batch job SUCCEEDED', timeoutMs: 60_000, intervalMs: 100, retryErrors: true,
    });
  });

  it('fails an invalid item alone, with the status and code POST /jobs answers for it; the others are written', async () => {
    const invalid: [number, Item, Record<string, string>][] = [
      [1, noop('mixed', { type: 'nope' }), {}],
      [2, noop('mixed', { spec: { tasks: 0 } }), {}],
      [3, noop('mixed', { priority: 'high' }), {}],
      [4, noop('mixed', { virtualCluster: 'nowhere' }), {}],
      [5, noop('mixed', { callbackUrl: 'http://127.0.0.1/hook' }), {}],
      [6, noop('mixed', { name: 'key with a space' }), { 'idempotency-key': 'a b' }],
    ];
    const items: Item[] = [noop('mixed', { name: 'first' })];
    for (const [, item, headers] of invalid) items.push(headers['idempotency-key'] ? { ...item, idempotencyKey: headers['idempotency-key'] } : item);
    items.push(noop('mixed', { name: 'last' }));
    const res = await batch(items);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { results } = res.body;
    assert.deepEqual([results[0]!.status, results[7]!.status], [201, 201]);
    for (const [i, item, headers] of invalid) {
      const alone = await http<ApiError>(base(), 'POST', `${API}/jobs`, item, headers);
      const r = results[i]!;
      assert.ok(alone.status >= 400, `item ${i} alone: ${alone.status}`);
      assert.deepEqual([r.status, r.error?.code], [alone.status, alone.body.code], `item ${i}: ${JSON.stringify(r)}`);
      assert.equal(r.job, undefined);
    }
    assert.deepEqual(results.map((r) => r.error?.code ?? r.status), [201, 'UNKNOWN_JOB_TYPE', 'INVALID_SPEC', 'VALIDATION_FAILED', 'VIRTUAL_CLUSTER_NOT_FOUND', 'INVALID_CALLBACK_URL', 'VALIDATION_FAILED', 201]);
    assert.match(results[3]!.error!.message, /^body\/jobs\/3\/priority /);
    assert.match(results[6]!.error!.message, /^body\/jobs\/6\/idempotencyKey /);
    // nothing written for the invalid items (they carry the same label)
    assert.deepEqual((await listed('mixed')).map((j) => j.name).sort(), ['first', 'last']);
  });

  it('idempotency per item: the same batch again replays (200, same ids); a reused key with another body is a 409 item', async () => {
    const items = [noop('idem', { idempotencyKey: 'k1' }), noop('idem', { idempotencyKey: 'k2', priority: 3 }), noop('idem', { name: 'keyless' })];
    const first = await batch(items);
    assert.deepEqual(first.body.results.map((r) => r.status), [201, 201, 201]);
    const again = await batch(items);
    assert.deepEqual(again.body.results.map((r) => r.status), [200, 200, 201]);
    assert.deepEqual(again.body.results.slice(0, 2).map((r) => r.job!.id), first.body.results.slice(0, 2).map((r) => r.job!.id));
    // POST /jobs shares the key space
    const { idempotencyKey: _k, ...k1Body } = items[0]!;
    const single = await http<JobView>(base(), 'POST', `${API}/jobs`, k1Body, { 'idempotency-key': 'k1' });
    assert.deepEqual([single.status, single.body.id], [200, first.body.results[0]!.job!.id]);
    const reused = await batch([noop('idem', { idempotencyKey: 'k1', priority: 9 }), noop('idem', { idempotencyKey: 'k3' }), noop('idem', { idempotencyKey: 'k3' }), noop('idem', { idempotencyKey: 'k3', name: 'other' })]);
    assert.deepEqual(reused.body.results.map((r) => r.error?.code ?? r.status), ['IDEMPOTENCY_KEY_REUSED', 201, 200, 'IDEMPOTENCY_KEY_REUSED']);
    assert.equal(reused.body.results[0]!.status, 409);
    assert.equal(reused.body.results[2]!.job!.id, reused.body.results[1]!.job!.id);
    // k1, k2, two keyless, k3
    assert.equal((await listed('idem')).length, 5);
  });

  it('refuses a wrong envelope as a whole with 400, writing nothing; 1001 items too', async () => {
    const wrong: unknown[] = [undefined, {}, [noop('env')], { jobs: {} }, { jobs: [] }, { jobs: [noop('env')], more: 1 }];
    for (const body of wrong) {
      const r = await http<ApiError>(base(), 'POST', BATCH, body === undefined ? 'not an object' : body);
      assert.deepEqual([r.status, r.body.code], [400, 'VALIDATION_FAILED'], JSON.stringify(body));
    }
    const tooMany = await batch(Array.from({ length: 1001 }, () => noop('env')));
    assert.deepEqual([tooMany.status, tooMany.body.code], [400, 'VALIDATION_FAILED']);
    assert.match(tooMany.body.message, /more than 1000/);
    assert.deepEqual(await listed('env'), []);
  });

  it('needs an operator: a viewer is 403; an operator\'s jobs are its own', async () => {
    const viewer = await userToken(base(), 'batchviewer', 'viewer');
    const refused = await batch([noop('roles')], as(viewer));
    assert.deepEqual([refused.status, refused.body.code], [403, 'FORBIDDEN']);
    const operator = await userToken(base(), 'batchop', 'operator');
    const ok = await batch([noop('roles')], as(operator));
    assert.deepEqual([ok.status, ok.body.results[0]!.status, ok.body.results[0]!.job!.owner], [200, 201, 'batchop']);
    assert.equal((await listed('roles')).length, 1);
  });

  // last: it stops NATS
  it('answers 503 with retry-after while NATS is down (nothing written), and writes again once it is back', async () => {
    await env.nats.stop();
    try {
      const r = await waitFor(async () => {
        const res = await batch([noop('down'), noop('down', { type: 'nope' })]);
        return res.status === 503 ? res : undefined;
      }, { what: '503 while down', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
      assert.equal(r.body.code, 'UNAVAILABLE');
      assert.equal(r.headers.get('retry-after'), '1');
    } finally {
      await env.nats.restart();
    }
    const back = await waitFor(async () => {
      const res = await batch([noop('down', { name: 'after' })]);
      return res.status === 200 && res.body.results[0]!.status === 201 ? res : undefined;
    }, { what: 'batches accepted again', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
    assert.equal(back.body.results[0]!.job!.name, 'after');
    assert.deepEqual((await listed('down')).map((j) => j.name), ['after']);
  });
});
