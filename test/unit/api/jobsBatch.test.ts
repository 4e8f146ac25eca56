/**
 * `POST /jobs:batch` over the fake JobService: what the HTTP layer decides (the envelope, each item's
 * schema, the mapping of results, the whole-request 503). The engine's part runs in
 * test/integration/api/jobsBatch.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertError, asUser, createApi, post, PREFIX, VALID_SUBMIT, type Api } from './harness.ts';

const BATCH = `${PREFIX}/jobs:batch`;

interface Result {
  status: number;
  job?: { id: string };
  error?: { code: string; message: string };
}

describe('POST /jobs:batch (HTTP layer)', () => {
  let api: Api;
  before(() => {
    api = createApi();
  });
  after(() => api.app.close());

  it('answers each item in order; a schema failure fails alone, named under its item', async () => {
    const res = await post(api.app, BATCH, {
      jobs: [VALID_SUBMIT, { ...VALID_SUBMIT, priority: 'high' }, 5, { ...VALID_SUBMIT, idempotencyKey: 'a b' }, { ...VALID_SUBMIT, extra: 1 }, { ...VALID_SUBMIT, idempotencyKey: 'k1' }],
    });
    assert.equal(res.statusCode, 200, res.body);
    const { results } = res.json<{ results: Result[] }>();
    assert.deepEqual(results.map((r) => r.status), [201, 400, 400, 400, 400, 201]);
    assert.deepEqual(Object.keys(results[0]!).sort(), ['job', 'status']);
    assert.deepEqual(results[1]!.error, { code: 'VALIDATION_FAILED', message: 'body/jobs/1/priority must be integer' });
    assert.deepEqual(results[2]!.error, { code: 'VALIDATION_FAILED', message: 'body/jobs/2 must be object' });
    assert.match(results[3]!.error!.message, /^body\/jobs\/3\/idempotencyKey must match pattern/);
    assert.deepEqual(results[4]!.error, { code: 'VALIDATION_FAILED', message: 'body/jobs/4/extra is not allowed' });
    // only the valid items reached the service, with the key split off the request
    const call = api.service.calls.findLast((c) => c.method === 'submit');
    assert.deepEqual((call?.args[1] as { idempotencyKey?: string }).idempotencyKey, 'k1');
    assert.equal(api.service.calls.filter((c) => c.method === 'submit').length, 2);
  });

  it('refuses a wrong envelope as a whole (nothing submitted)', async () => {
    const before = api.service.calls.length;
    const cases: [unknown, RegExp][] = [
      [[], /body must be object/],
      [{}, /body\/jobs is required/],
      [{ jobs: {} }, /body\/jobs must be array/],
      [{ jobs: [] }, /body\/jobs must NOT have fewer than 1 items/],
      [{ jobs: Array.from({ length: 1001 }, () => VALID_SUBMIT) }, /body\/jobs must NOT have more than 1000 items/],
      [{ jobs: [VALID_SUBMIT], extra: true }, /body\/extra is not allowed/],
    ];
    for (const [body, message] of cases) assertError(await post(api.app, BATCH, body), 400, 'VALIDATION_FAILED', message);
    assertError(await post(api.app, BATCH, { jobs: [VALID_SUBMIT] }, { 'idempotency-key': 'k' }), 400, 'VALIDATION_FAILED', /own idempotencyKey/);
    assertError(await post(api.app, BATCH, '{"jobs":[{"type":"sleep","type":"noop","spec":{}}]}'), 400, 'VALIDATION_FAILED', /twice/);
    assert.equal(api.service.calls.length, before);
  });

  it('takes 1000 items of a realistic size (its own body limit, above the 1 MiB of other routes)', async () => {
    const item = { ...VALID_SUBMIT, labels: { team: 'x'.repeat(256), owner: 'y'.repeat(256) }, name: 'n'.repeat(200), spec: { ms: 10, note: 'z'.repeat(500) } };
    const body = { jobs: Array.from({ length: 1000 }, () => item) };
    assert.ok(JSON.stringify(body).length > 1024 * 1024);
    const res = await post(api.app, BATCH, body);
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.equal(res.json<{ results: Result[] }>().results.length, 1000);
  });

  it('needs an operator', async () => {
    assertError(await post(api.app, BATCH, { jobs: [VALID_SUBMIT] }, asUser('vera', 'viewer')), 403, 'FORBIDDEN');
    const ok = await post(api.app, BATCH, { jobs: [VALID_SUBMIT] }, asUser('otto', 'operator'));
    assert.equal(ok.json<{ results: Result[] }>().results[0]!.status, 201);
  });

  it('is a 503 with retry-after when the store is unreachable and nothing was written', async () => {
    api.service.unavailable = true;
    try {
      const res = await post(api.app, BATCH, { jobs: [VALID_SUBMIT, { ...VALID_SUBMIT, priority: 'x' }] });
      assertError(res, 503, 'UNAVAILABLE');
      assert.equal(res.headers['retry-after'], '1');
    } finally {
      api.service.unavailable = false;
    }
  });
});
