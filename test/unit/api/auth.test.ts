/**
 * The identity API on a small Fastify app of its own: auth plugin, auth/users/virtual-cluster
 * routes, the real Identity over a memory control store, and a fake `service.virtualClusters`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { authPlugin, type AuthPluginOptions } from '../../../api/auth.ts';
import { by } from '../../../api/actor.ts';
import { installErrorHandlers } from '../../../api/errorResponses.ts';
import { registerJsonBodyParser } from '../../../api/jsonBody.ts';
import { authRoutes } from '../../../api/routes/auth.ts';
import { userRoutes } from '../../../api/routes/users.ts';
import { virtualClusterRoutes } from '../../../api/routes/virtualClusters.ts';
import { createIdentity, type Identity } from '../../../engine/auth/identity.ts';
import type { Clock } from '../../../engine/clock.ts';
import { createMemoryControlStore } from '../../../engine/controlstore/controlStore.ts';
import { silentLogger } from '../../../engine/log.ts';
import { effectiveClusters } from '../../../engine/quota/shares.ts';
import type { Caller, VirtualClusterStatus } from '../../../engine/serviceTypes.ts';
import type { ErrorCode } from '../../../engine/errors.ts';

const PREFIX = '/native/v1';
const ADMIN_PW = 'admin password 123';
const PW = 'viewer password 123';
const ADMIN_TOKEN = 'static-admin-token-for-tests-0123456789';

interface TestApi {
  app: FastifyInstance;
  identity: Identity;
  clock: Clock & { advance(ms: number): void };
  logs: string[];
  /** A token of a fresh user with this role. */
  tokenFor(role: 'admin' | 'operator' | 'viewer', name?: string, grants?: string[]): Promise<string>;
}

async function createTestApi(opts: Partial<Omit<AuthPluginOptions, 'identity'>> = {}): Promise<TestApi> {
  let t = Date.parse('2030-01-01T00:00:00Z');
  const clock = { now: () => t, monotonic: () => t, setTimeout: () => undefined, clearTimeout: () => undefined, advance: (ms: number) => void (t += ms) };
  const store = createMemoryControlStore();
  const identity = createIdentity({
    store, clock, logger: silentLogger, scryptParams: { N: 2 ** 10, r: 8, p: 1 },
    config: { tokenTtlMs: 60_000, tokenMaxTtlMs: 3_600_000, adminToken: ADMIN_TOKEN, adminPassword: ADMIN_PW },
  });
  await identity.bootstrap();
  const service = {
    async virtualClusters(_caller: Caller): Promise<VirtualClusterStatus[]> {
      return effectiveClusters(identity.listVirtualClusters()).map((d) => ({
        name: d.name, capacity: d.capacity, maxCapacity: d.maxCapacity, usedCapacity: 0,
        numJobs: 0, numActiveJobs: 0, numPendingJobs: 0, slots: { guaranteed: 0, max: 0, used: 0, total: 10 },
      }));
    },
  };
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (logs.push(chunk.toString()), cb()) });
  // typed as the base logger so the instance is a plain FastifyInstance (as in api/server.ts)
  const loggerInstance: FastifyBaseLogger = pino({ level: 'trace' }, sink);
  const app = Fastify({
    loggerInstance,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
  });
  installErrorHandlers(app);
  registerJsonBodyParser(app);
  await app.register(authPlugin, { identity, metricsPublic: true, rateLimitPerMinute: 10_000, loginRateLimitPerMinute: 100, ...opts });
  for (const routes of [authRoutes, userRoutes, virtualClusterRoutes]) await app.register(routes, { prefix: PREFIX, identity, service });
  // routes of other teams, as the server registers them
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async () => 'metrics');
  app.post(`${PREFIX}/op`, { config: { auth: 'operator', bodyOptional: true } }, async (request) => ({ actor: by(request, 'why').caller.user }));
  await app.ready();
  let n = 0;
  return {
    app, identity, clock, logs,
    async tokenFor(role, name = `${role}${++n}`, grants) {
      await identity.createUser({ name, password: PW, role, ...(grants ? { virtualClusters: grants } : {}) });
      return (await identity.login(name, PW)).token;
    },
  };
}

/** The response is exactly `{ statusCode, code, error, message }` with this status and code. */
function assertError(res: LightMyRequestResponse, status: number, code: ErrorCode): void {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}: ${res.body}`);
  assert.deepEqual(res.json(), { statusCode: status, code, error: STATUS_CODES[status], message: res.json().message });
  assert.equal(typeof res.json().message, 'string');
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };
function call(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, token?: string, body?: unknown) {
  return app.inject({
    method, url: `${PREFIX}${url}`,
    headers: { ...(token ? auth(token) : {}), ...(body === undefined ? {} : json) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}
const login = (app: FastifyInstance, username: string, password: string, extra: object = {}) =>
  call(app, 'POST', '/auth/login', undefined, { username, password, ...extra });

describe('api auth: login, tokens, roles', async () => {
  const api = await createTestApi();
  after(() => api.app.close());
  const { app } = api;

  it('login returns a bearer token that works, and the user without its hash', async () => {
    const res = await login(app, 'admin', ADMIN_PW);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['expiresAt', 'token', 'tokenType', 'user']);
    assert.equal(body.tokenType, 'Bearer');
    assert.equal(body.user.name, 'admin');
    assert.ok(!res.body.includes('scrypt'));
    const me = await call(app, 'GET', '/auth/me', body.token);
    assert.equal(me.statusCode, 200, me.body);
    const { createdAt, ...rest } = me.json() as Record<string, unknown>;
    assert.equal(typeof createdAt, 'string');
    assert.deepEqual({ ...rest, updatedAt: null }, { name: 'admin', role: 'admin', virtualClusters: ['default'], updatedAt: null });
  });

  it('a wrong password and an unknown user are both 401 INVALID_CREDENTIALS', async () => {
    assertError(await login(app, 'admin', 'not the password'), 401, 'INVALID_CREDENTIALS');
    assertError(await login(app, 'nobody', ADMIN_PW), 401, 'INVALID_CREDENTIALS');
  });

  it('login bodies are validated: unknown fields, bad names, oversize passwords', async () => {
    assertError(await login(app, 'admin', ADMIN_PW, { role: 'admin' }), 400, 'VALIDATION_FAILED');
    assertError(await login(app, 'Admin\u202e', ADMIN_PW), 400, 'VALIDATION_FAILED');
    assertError(await login(app, 'admin', 'x'.repeat(257)), 400, 'VALIDATION_FAILED');
    assertError(await login(app, 'admin', ADMIN_PW, { ttlMs: '60000' }), 400, 'VALIDATION_FAILED');
  });

  it('missing, malformed, forged and expired tokens are 401 UNAUTHENTICATED', async () => {
    const res = await call(app, 'GET', '/auth/me');
    assertError(res, 401, 'UNAUTHENTICATED');
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    assertError(await app.inject({ method: 'GET', url: `${PREFIX}/auth/me`, headers: { authorization: 'Basic YWRtaW46eA==' } }), 401, 'UNAUTHENTICATED');
    assertError(await call(app, 'GET', '/auth/me', `jjt_${'A'.repeat(43)}`), 401, 'UNAUTHENTICATED');
    const token = (await login(app, 'admin', ADMIN_PW, { ttlMs: 5_000 })).json().token as string;
    assert.equal((await call(app, 'GET', '/auth/me', token)).statusCode, 200);
    api.clock.advance(5_000);
    assertError(await call(app, 'GET', '/auth/me', token), 401, 'UNAUTHENTICATED');
  });

  it('the static admin token is an admin', async () => {
    const res = await call(app, 'GET', '/users', ADMIN_TOKEN);
    assert.equal(res.statusCode, 200, res.body);
  });

  it('a viewer gets 403 FORBIDDEN on admin and operator routes; an operator passes operator routes', async () => {
    const viewer = await api.tokenFor('viewer');
    assertError(await call(app, 'GET', '/users', viewer), 403, 'FORBIDDEN');
    assertError(await call(app, 'POST', '/virtual-clusters', viewer, { name: 'x', capacity: 1, maxCapacity: 1 }), 403, 'FORBIDDEN');
    assertError(await call(app, 'POST', '/op', viewer), 403, 'FORBIDDEN');
    const operator = await api.tokenFor('operator', 'opal');
    const res = await call(app, 'POST', '/op', operator);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { actor: 'opal' });
    assertError(await call(app, 'GET', '/users', operator), 403, 'FORBIDDEN');
  });

  it('an application token acts as its user on jobs and reads, but is 403 on user and virtual-cluster administration', async () => {
    await api.identity.createUser({ name: 'appAdmin', password: PW, role: 'admin' });
    const session = (await api.identity.issueToken('appAdmin')).token;
    const application = (await api.identity.issueToken('appAdmin', { application: true })).token;
    // jobs (an operator route) and reads
    const op = await call(app, 'POST', '/op', application);
    assert.equal(op.statusCode, 200, op.body);
    assert.deepEqual(op.json(), { actor: 'appAdmin' });
    assert.equal((await call(app, 'GET', '/auth/me', application)).json().name, 'appAdmin');
    assert.equal((await call(app, 'GET', '/virtual-clusters', application)).statusCode, 200);
    assert.equal((await call(app, 'GET', '/virtual-clusters/default', application)).statusCode, 200);
    // administration
    const refused: [Parameters<typeof call>[1], string, unknown?][] = [
      ['GET', '/users'],
      ['POST', '/users', { name: 'made-by-app', password: PW, role: 'viewer' }],
      ['GET', '/users/appAdmin'],
      ['PATCH', '/users/appAdmin', { role: 'viewer' }],
      ['PUT', '/users/appAdmin/password', { password: 'a new password 1', currentPassword: PW }],
      ['PUT', '/users/appAdmin/virtual-clusters', { virtualClusters: [] }],
      ['DELETE', '/users/appAdmin'],
      ['POST', '/virtual-clusters', { name: 'appvc', capacity: 1, maxCapacity: 1 }],
      ['PATCH', '/virtual-clusters/default', { capacity: 1 }],
      ['DELETE', '/virtual-clusters/default'],
    ];
    for (const [method, url, body] of refused) {
      const res = await call(app, method, url, application, body);
      assertError(res, 403, 'FORBIDDEN');
      assert.equal(res.json().message, 'Application tokens cannot do this.', `${method} ${url}`);
    }
    assert.equal(api.identity.getUser('appAdmin').role, 'admin', 'nothing was written');
    assertError(await call(app, 'GET', '/users/made-by-app', ADMIN_TOKEN), 404, 'USER_NOT_FOUND');
    // the same user's session token may
    assert.equal((await call(app, 'GET', '/users', session)).statusCode, 200);
    // an application token may still log itself out
    assert.equal((await call(app, 'POST', '/auth/logout', application)).statusCode, 204);
    assertError(await call(app, 'GET', '/auth/me', application), 401, 'UNAUTHENTICATED');
  });

  it('health is public even with a bad token; /metrics is public here; unknown routes are 404', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/healthz', headers: auth('garbage') })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
    assertError(await app.inject({ method: 'GET', url: `${PREFIX}/nope` }), 404, 'NOT_FOUND');
  });

  it('logout revokes the presented token only', async () => {
    const a = (await login(app, 'admin', ADMIN_PW)).json().token as string;
    const b = (await login(app, 'admin', ADMIN_PW)).json().token as string;
    const res = await call(app, 'POST', '/auth/logout', a);
    assert.equal(res.statusCode, 204, res.body);
    assertError(await call(app, 'GET', '/auth/me', a), 401, 'UNAUTHENTICATED');
    assert.equal((await call(app, 'GET', '/auth/me', b)).statusCode, 200);
  });

  it('changing your own password needs the current one and revokes your old tokens', async () => {
    const old = await api.tokenFor('viewer', 'vera');
    const other = await api.tokenFor('viewer', 'otto');
    assertError(await call(app, 'PUT', '/users/vera/password', old, { password: 'a new password 1' }), 400, 'VALIDATION_FAILED');
    assertError(await call(app, 'PUT', '/users/vera/password', old, { password: 'a new password 1', currentPassword: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    assertError(await call(app, 'PUT', '/users/otto/password', old, { password: 'a new password 1', currentPassword: PW }), 403, 'FORBIDDEN');
    assertError(await call(app, 'PUT', '/users/vera/password', old, { password: 'short', currentPassword: PW }), 400, 'VALIDATION_FAILED');
    const res = await call(app, 'PUT', '/users/vera/password', old, { password: 'a new password 1', currentPassword: PW });
    assert.equal(res.statusCode, 204, res.body);
    assertError(await call(app, 'GET', '/auth/me', old), 401, 'UNAUTHENTICATED');
    assert.equal((await call(app, 'GET', '/auth/me', other)).statusCode, 200);
    assertError(await login(app, 'vera', PW), 401, 'INVALID_CREDENTIALS');
    assert.equal((await login(app, 'vera', 'a new password 1')).statusCode, 200);
    // an admin sets anyone's, without the current one
    const otto = await call(app, 'PUT', '/users/otto/password', ADMIN_TOKEN, { password: 'reset by admin 1' });
    assert.equal(otto.statusCode, 204, otto.body);
    assertError(await call(app, 'GET', '/auth/me', other), 401, 'UNAUTHENTICATED');
  });

  it('neither passwords nor tokens reach the log', async () => {
    const token = (await login(app, 'admin', ADMIN_PW)).json().token as string;
    await call(app, 'GET', '/auth/me', token);
    await login(app, 'admin', 'a wrong password');
    const text = api.logs.join('');
    assert.ok(text.length > 0);
    for (const secret of [token, ADMIN_PW, 'a wrong password', ADMIN_TOKEN]) assert.ok(!text.includes(secret), 'a secret was logged');
  });
});

describe('api auth: rate limits', () => {
  it('login attempts are limited per address and user name: 429 with retry-after', async () => {
    const { app } = await createTestApi({ loginRateLimitPerMinute: 3 });
    try {
      for (let i = 0; i < 3; i++) assertError(await login(app, 'admin', 'wrong password'), 401, 'INVALID_CREDENTIALS');
      // even the right password is refused now
      const res = await login(app, 'admin', ADMIN_PW);
      assertError(res, 429, 'RATE_LIMITED');
      assert.ok(Number(res.headers['retry-after']) >= 1, `retry-after ${String(res.headers['retry-after'])}`);
      // another user name from the same address is not affected
      assertError(await login(app, 'someone', 'wrong password'), 401, 'INVALID_CREDENTIALS');
    } finally {
      await app.close();
    }
  });

  it('password checks from one address are also limited whatever the user names (password spraying)', async () => {
    const { app } = await createTestApi({ loginRateLimitPerMinute: 3, loginRateLimitPerAddressPerMinute: 5 });
    try {
      for (let i = 0; i < 5; i++) assertError(await login(app, `user${i}`, 'wrong password'), 401, 'INVALID_CREDENTIALS');
      const res = await login(app, 'admin', ADMIN_PW); // a fresh user name, the right password: still refused
      assertError(res, 429, 'RATE_LIMITED');
      assert.ok(Number(res.headers['retry-after']) >= 1, `retry-after ${String(res.headers['retry-after'])}`);
      // other routes from the same address are not affected
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('requests are limited per user: 429 RATE_LIMITED with retry-after; other users and probes are not affected', async () => {
    const api = await createTestApi({ rateLimitPerMinute: 5 });
    try {
      const a = await api.tokenFor('viewer');
      const b = await api.tokenFor('viewer');
      for (let i = 0; i < 5; i++) assert.equal((await call(api.app, 'GET', '/auth/me', a)).statusCode, 200);
      const res = await call(api.app, 'GET', '/auth/me', a);
      assertError(res, 429, 'RATE_LIMITED');
      assert.ok(Number(res.headers['retry-after']) >= 1);
      assert.equal((await call(api.app, 'GET', '/auth/me', b)).statusCode, 200);
      for (let i = 0; i < 10; i++) assert.equal((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    } finally {
      await api.app.close();
    }
  });

  it('/metrics needs an admin when not public', async () => {
    const api = await createTestApi({ metricsPublic: false });
    try {
      assertError(await api.app.inject({ method: 'GET', url: '/metrics' }), 401, 'UNAUTHENTICATED');
      const viewer = await api.tokenFor('viewer');
      assertError(await api.app.inject({ method: 'GET', url: '/metrics', headers: auth(viewer) }), 403, 'FORBIDDEN');
      assert.equal((await api.app.inject({ method: 'GET', url: '/metrics', headers: auth(ADMIN_TOKEN) })).statusCode, 200);
    } finally {
      await api.app.close();
    }
  });
});

describe('api users', async () => {
  const api = await createTestApi();
  after(() => api.app.close());
  const { app } = api;

  it('create, read, list, patch, grant and delete a user', async () => {
    const created = await call(app, 'POST', '/users', ADMIN_TOKEN, { name: 'carol', password: PW, role: 'viewer' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers['location'], `${PREFIX}/users/carol`);
    assert.deepEqual(Object.keys(created.json()).sort(), ['createdAt', 'name', 'role', 'updatedAt', 'virtualClusters']);
    assertError(await call(app, 'POST', '/users', ADMIN_TOKEN, { name: 'carol', password: PW, role: 'viewer' }), 409, 'USER_EXISTS');
    assert.equal((await call(app, 'GET', '/users/carol', ADMIN_TOKEN)).json().role, 'viewer');
    assert.ok((await call(app, 'GET', '/users', ADMIN_TOKEN)).json().users.some((u: { name: string }) => u.name === 'carol'));
    const patched = await call(app, 'PATCH', '/users/carol', ADMIN_TOKEN, { role: 'operator' });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().role, 'operator');
    assertError(await call(app, 'PUT', '/users/carol/virtual-clusters', ADMIN_TOKEN, { virtualClusters: ['gpu'] }), 404, 'VIRTUAL_CLUSTER_NOT_FOUND');
    assert.equal((await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name: 'gpu', capacity: 20, maxCapacity: 50 })).statusCode, 201);
    const granted = await call(app, 'PUT', '/users/carol/virtual-clusters', ADMIN_TOKEN, { virtualClusters: ['gpu'] });
    assert.deepEqual(granted.json().virtualClusters, ['gpu']);
    const token = (await login(app, 'carol', PW)).json().token as string;
    assert.deepEqual([...(await call(app, 'GET', '/auth/me', token)).json().virtualClusters].sort(), ['default', 'gpu']);
    const del = await call(app, 'DELETE', '/users/carol', ADMIN_TOKEN);
    assert.equal(del.statusCode, 204, del.body);
    assertError(await call(app, 'GET', '/auth/me', token), 401, 'UNAUTHENTICATED');
    assertError(await call(app, 'GET', '/users/carol', ADMIN_TOKEN), 404, 'USER_NOT_FOUND');
  });

  it('bad input is a 4xx and writes nothing', async () => {
    const before = api.identity.listUsers().length;
    for (const body of [
      { name: '1bad', password: PW, role: 'viewer' },
      { name: 'a.b', password: PW, role: 'viewer' },
      { name: 'a>', password: PW, role: 'viewer' },
      { name: 'dave', password: 'short', role: 'viewer' },
      { name: 'dave', password: PW, role: 'root' },
      { name: 'dave', password: PW, role: 'viewer', extra: 1 },
      { name: 'dave', password: PW, role: 'viewer', virtualClusters: ['default', 'default'] },
    ]) {
      assertError(await call(app, 'POST', '/users', ADMIN_TOKEN, body), 400, 'VALIDATION_FAILED');
    }
    assertError(await call(app, 'GET', '/users/..%2Fetc', ADMIN_TOKEN), 400, 'VALIDATION_FAILED');
    assertError(await call(app, 'PATCH', '/users/admin', ADMIN_TOKEN, {}), 400, 'VALIDATION_FAILED');
    assertError(await call(app, 'PATCH', '/users/ghost', ADMIN_TOKEN, { role: 'viewer' }), 404, 'USER_NOT_FOUND');
    assert.equal(api.identity.listUsers().length, before);
  });

  it('user names may have upper-case letters: nonadminTestUser is created, logs in and changes its password', async () => {
    const created = await call(app, 'POST', '/users', ADMIN_TOKEN, { name: 'nonadminTestUser', password: PW, role: 'operator' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers['location'], `${PREFIX}/users/nonadminTestUser`);
    const res = await login(app, 'nonadminTestUser', PW);
    assert.equal(res.statusCode, 200, res.body);
    const token = res.json().token as string;
    assert.equal((await call(app, 'GET', '/auth/me', token)).json().name, 'nonadminTestUser');
    assert.equal((await call(app, 'GET', '/users/nonadminTestUser', ADMIN_TOKEN)).json().role, 'operator');
    const pw = await call(app, 'PUT', '/users/nonadminTestUser/password', token, { password: 'a new password 1', currentPassword: PW });
    assert.equal(pw.statusCode, 204, pw.body);
    assertError(await call(app, 'GET', '/users/nonadmintestuser', ADMIN_TOKEN), 404, 'USER_NOT_FOUND');
    const bad = await call(app, 'GET', '/users/1bad', ADMIN_TOKEN);
    assertError(bad, 400, 'VALIDATION_FAILED');
    assert.ok(bad.json().message.includes('^[A-Za-z][A-Za-z0-9_-]{0,31}$'), bad.body);
    // virtual-cluster names keep the lower-case rule
    assertError(await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name: 'Gpu', capacity: 1, maxCapacity: 1 }), 400, 'VALIDATION_FAILED');
    assertError(await call(app, 'GET', '/virtual-clusters/Gpu', ADMIN_TOKEN), 400, 'VALIDATION_FAILED');
    assert.equal((await call(app, 'DELETE', '/users/nonadminTestUser', ADMIN_TOKEN)).statusCode, 204);
  });

  it('the last admin cannot be deleted or demoted', async () => {
    assertError(await call(app, 'DELETE', '/users/admin', ADMIN_TOKEN), 409, 'INVALID_TRANSITION');
    assertError(await call(app, 'PATCH', '/users/admin', ADMIN_TOKEN, { role: 'viewer' }), 409, 'INVALID_TRANSITION');
  });
});

describe('api virtual clusters', async () => {
  const api = await createTestApi();
  after(() => api.app.close());
  const { app } = api;

  it('admins define, change and delete VCs; the shares are checked', async () => {
    const res = await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name: 'batch', capacity: 40, maxCapacity: 80, description: 'Nightly' });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers['location'], `${PREFIX}/virtual-clusters/batch`);
    assert.equal(res.json().capacity, 40);
    assertError(await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name: 'batch', capacity: 1, maxCapacity: 1 }), 409, 'VIRTUAL_CLUSTER_EXISTS');
    assertError(await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name: 'big', capacity: 61, maxCapacity: 80 }), 400, 'VALIDATION_FAILED');
    assertError(await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name: 'big', capacity: 1, maxCapacity: 101 }), 400, 'VALIDATION_FAILED');
    assertError(await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name: 'big', capacity: 1, maxCapacity: 2, description: 'a\u202eb' }), 400, 'VALIDATION_FAILED');
    const patched = await call(app, 'PATCH', '/virtual-clusters/batch', ADMIN_TOKEN, { capacity: 30 });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().capacity, 30);
    const list = (await call(app, 'GET', '/virtual-clusters', ADMIN_TOKEN)).json().virtualClusters as { name: string; capacity: number }[];
    assert.deepEqual(list.map((v) => [v.name, v.capacity]), [['batch', 30], ['default', 70]]);
    assertError(await call(app, 'DELETE', '/virtual-clusters/default', ADMIN_TOKEN), 409, 'VIRTUAL_CLUSTER_IN_USE');
    assert.equal((await call(app, 'DELETE', '/virtual-clusters/batch', ADMIN_TOKEN)).statusCode, 204);
    assertError(await call(app, 'GET', '/virtual-clusters/batch', ADMIN_TOKEN), 404, 'VIRTUAL_CLUSTER_NOT_FOUND');
  });

  it('a non-admin sees only the VCs granted to it (and default)', async () => {
    for (const name of ['red', 'blue']) {
      assert.equal((await call(app, 'POST', '/virtual-clusters', ADMIN_TOKEN, { name, capacity: 10, maxCapacity: 20 })).statusCode, 201);
    }
    const viewer = await api.tokenFor('viewer', 'val', ['red']);
    const list = (await call(app, 'GET', '/virtual-clusters', viewer)).json().virtualClusters as { name: string }[];
    assert.deepEqual(list.map((v) => v.name).sort(), ['default', 'red']);
    assert.equal((await call(app, 'GET', '/virtual-clusters/red', viewer)).statusCode, 200);
    assertError(await call(app, 'GET', '/virtual-clusters/blue', viewer), 404, 'VIRTUAL_CLUSTER_NOT_FOUND');
  });
});
