/** Webhook routes through the real auth plugin (memory control store) over a stand-in JobService. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { authPlugin } from '../../../api/auth.ts';
import { installErrorHandlers } from '../../../api/errorResponses.ts';
import { registerJsonBodyParser } from '../../../api/jsonBody.ts';
import { webhookRoutes } from '../../../api/routes/webhooks.ts';
import { createIdentity } from '../../../engine/auth/identity.ts';
import { systemClock } from '../../../engine/clock.ts';
import { createMemoryControlStore } from '../../../engine/controlstore/controlStore.ts';
import { AppError } from '../../../engine/errors.ts';
import { createWebhookService } from '../../../engine/hooks/webhookService.ts';
import { webhookDefs } from '../../../engine/hooks/webhookStore.ts';
import { silentLogger } from '../../../engine/log.ts';
import type { By, Caller, DeliveryEntry, JobService } from '../../../engine/serviceTypes.ts';

const PREFIX = '/native/v1';
const PW = 'correct horse battery';
const JOB = '11111111-1111-4111-8111-111111111111';

describe('webhook routes', () => {
  const store = createMemoryControlStore();
  const identity = createIdentity({
    store, clock: systemClock, logger: silentLogger, scryptParams: { N: 2 ** 10, r: 8, p: 1 },
    config: { tokenTtlMs: 60_000, tokenMaxTtlMs: 600_000, adminToken: null, adminPassword: null },
  });
  const redelivered: { id: string; by: By & { target?: string } }[] = [];
  const entry: DeliveryEntry = { seq: 9, time: '2030-01-01T00:00:00.000Z', type: 'WebhookDelivered', data: { target: 'callback', attempt: 1 }, meta: { actor: 'webhooks' } };
  const service = {
    async deliveries(id: string, caller: Caller) {
      if (id !== JOB || (caller.role !== 'admin' && caller.user !== 'alice')) throw new AppError('JOB_NOT_FOUND');
      return [entry];
    },
    async redeliver(id: string, by: By & { target?: string }) {
      if (id !== JOB || (by.caller.role !== 'admin' && by.caller.user !== 'alice')) throw new AppError('JOB_NOT_FOUND');
      redelivered.push({ id, by });
    },
  } as unknown as JobService;
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};
  const as = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });

  before(async () => {
    for (const [name, role] of [['root', 'admin'], ['alice', 'operator'], ['bob', 'operator'], ['vic', 'viewer']] as const) {
      await identity.createUser({ name, password: PW, role });
      tokens[name] = (await identity.login(name, PW)).token;
    }
    // the server's Ajv settings: no coercion, unknown fields rejected (see api/server.ts)
    app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } } });
    installErrorHandlers(app);
    registerJsonBodyParser(app);
    await app.register(authPlugin, { identity, metricsPublic: true, rateLimitPerMinute: 100_000, loginRateLimitPerMinute: 100 });
    const webhooks = createWebhookService({ store, jobs: service, config: { callbackSecret: null, webhookAllowPrivate: false }, clock: systemClock });
    await app.register(webhookRoutes, { prefix: PREFIX, webhooks });
    await app.ready();
  });
  after(() => app.close());

  it('refuses a webhook to a loopback, private or link-local address, writing nothing', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://localhost:8080/x', 'http://[::ffff:10.0.0.1]/x', 'http://2130706433/x']) {
      const res = await app.inject({ method: 'POST', url: `${PREFIX}/webhooks`, headers: as('root'), payload: { url } });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().code, 'INVALID_CALLBACK_URL');
      assert.match(res.json().message, /webhookAllowPrivate/);
    }
    const list = await app.inject({ method: 'GET', url: `${PREFIX}/webhooks`, headers: as('root') });
    assert.ok(!list.body.includes('169.254'), list.body);
  });

  it('admin creates (secret shown once), lists (no secret) and deletes global webhooks', async () => {
    const created = await app.inject({ method: 'POST', url: `${PREFIX}/webhooks`, headers: as('root'), payload: { url: 'https://hooks.example.com/x', events: ['job.failed'] } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers['cache-control'], 'no-store');
    const hook = created.json() as { id: string; secret: string; events: string[]; createdBy: string };
    assert.match(hook.secret, /^whsec_/);
    assert.deepEqual(hook.events, ['job.failed']);
    assert.equal(hook.createdBy, 'root');
    const list = await app.inject({ method: 'GET', url: `${PREFIX}/webhooks`, headers: as('root') });
    assert.equal(list.statusCode, 200);
    assert.deepEqual((list.json() as { webhooks: { id: string }[] }).webhooks.map((w) => w.id), [hook.id]);
    assert.ok(!list.body.includes(hook.secret) && !list.body.includes('"secret"'));
    const del = await app.inject({ method: 'DELETE', url: `${PREFIX}/webhooks/${hook.id}`, headers: as('root') });
    assert.equal(del.statusCode, 204);
    const again = await app.inject({ method: 'DELETE', url: `${PREFIX}/webhooks/${hook.id}`, headers: as('root') });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().code, 'WEBHOOK_NOT_FOUND');
  });

  it('rejects bad webhook bodies with 400 and stores nothing', async () => {
    for (const [payload, code] of [
      [{ url: 'file:///etc/passwd' }, 'INVALID_CALLBACK_URL'],
      [{ url: 'https://user:pw@example.com/' }, 'INVALID_CALLBACK_URL'],
      [{ url: 'https://example.com/', events: ['job.started'] }, 'VALIDATION_FAILED'],
      [{ url: 'https://example.com/', events: [] }, 'VALIDATION_FAILED'],
      [{ url: 'https://example.com/', secret: 'short' }, 'VALIDATION_FAILED'],
      [{ url: 'https://example.com/', extra: 1 }, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: `${PREFIX}/webhooks`, headers: as('root'), payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().code, code);
    }
    assert.deepEqual(webhookDefs(store), []);
  });

  it('webhook admin routes and the callback secret are admin only', async () => {
    for (const user of ['alice', 'vic']) {
      for (const [method, url] of [['GET', '/webhooks'], ['POST', '/webhooks'], ['DELETE', '/webhooks/wh_x'], ['GET', '/webhooks/callback-secret']] as const) {
        const res = await app.inject({ method, url: `${PREFIX}${url}`, headers: as(user), ...(method === 'POST' ? { payload: { url: 'https://x.example.com/' } } : {}) });
        assert.equal(res.statusCode, 403, `${user} ${method} ${url}`);
      }
    }
    const anon = await app.inject({ method: 'GET', url: `${PREFIX}/webhooks` });
    assert.equal(anon.statusCode, 401);
    const s1 = await app.inject({ method: 'GET', url: `${PREFIX}/webhooks/callback-secret`, headers: as('root') });
    const s2 = await app.inject({ method: 'GET', url: `${PREFIX}/webhooks/callback-secret`, headers: as('root') });
    assert.equal(s1.statusCode, 200);
    assert.equal(s1.headers['cache-control'], 'no-store');
    assert.equal(s1.json().secret, s2.json().secret);
  });

  it('delivery log: own jobs for any role, 404 for others', async () => {
    const mine = await app.inject({ method: 'GET', url: `${PREFIX}/jobs/${JOB}/deliveries`, headers: as('alice') });
    assert.equal(mine.statusCode, 200);
    assert.deepEqual(mine.json(), { deliveries: [entry] });
    const other = await app.inject({ method: 'GET', url: `${PREFIX}/jobs/${JOB}/deliveries`, headers: as('bob') });
    assert.equal(other.statusCode, 404);
    assert.equal(other.json().code, 'JOB_NOT_FOUND');
    const badId = await app.inject({ method: 'GET', url: `${PREFIX}/jobs/nope/deliveries`, headers: as('alice') });
    assert.equal(badId.statusCode, 400);
  });

  it('redeliver: operator on own job → 202 with target and reason; viewer 403; another user 404', async () => {
    const ok = await app.inject({ method: 'POST', url: `${PREFIX}/jobs/${JOB}/deliveries/redeliver`, headers: as('alice'), payload: { target: 'callback', reason: 'receiver fixed' } });
    assert.equal(ok.statusCode, 202, ok.body);
    assert.equal(ok.body, '');
    assert.equal(redelivered.at(-1)?.by.target, 'callback');
    assert.equal(redelivered.at(-1)?.by.reason, 'receiver fixed');
    assert.equal(redelivered.at(-1)?.by.caller.user, 'alice');
    const noBody = await app.inject({ method: 'POST', url: `${PREFIX}/jobs/${JOB}/deliveries/redeliver`, headers: as('alice') });
    assert.equal(noBody.statusCode, 202, noBody.body);
    assert.equal(redelivered.at(-1)?.by.target, undefined);
    const viewer = await app.inject({ method: 'POST', url: `${PREFIX}/jobs/${JOB}/deliveries/redeliver`, headers: as('vic'), payload: {} });
    assert.equal(viewer.statusCode, 403);
    const other = await app.inject({ method: 'POST', url: `${PREFIX}/jobs/${JOB}/deliveries/redeliver`, headers: as('bob'), payload: {} });
    assert.equal(other.statusCode, 404);
    const bad = await app.inject({ method: 'POST', url: `${PREFIX}/jobs/${JOB}/deliveries/redeliver`, headers: as('alice'), payload: { target: 'a.b' } });
    assert.equal(bad.statusCode, 400);
  });
});
