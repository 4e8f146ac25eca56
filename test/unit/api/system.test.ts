/** System routes, probes, server options and logging. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { buildServer, parseServerOptions } from '../../../api/server.ts';
import { createFakeJobService, FAKE_JOB_TYPES } from '../../helpers/fakeJobService.ts';
import { withAuth } from '../../helpers/auth.ts';
import { asUser, assertError, createApi, post, PREFIX, VALID_SUBMIT, type Api } from './harness.ts';

describe('system routes', () => {
  let api: Api;
  before(() => {
    api = createApi();
  });
  after(() => api.app.close());

  it('GET /workers → { workers }', async () => {
    const res = await api.app.inject({ url: `${PREFIX}/workers` });
    assert.equal(res.statusCode, 200);
    const { workers } = res.json<{ workers: object[] }>();
    assert.deepEqual(Object.keys(res.json()), ['workers']);
    assert.deepEqual(Object.keys(workers[0] ?? {}).sort(), ['alive', 'concurrency', 'host', 'id', 'pid', 'pool', 'registeredAt', 'state', 'tasks']);
  });

  it('GET /job-types → { jobTypes: [{ name, specSchema }] }', async () => {
    const res = await api.app.inject({ url: `${PREFIX}/job-types` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { jobTypes: FAKE_JOB_TYPES });
  });

  it('GET /info → ServiceInfo, for admins only (it shows the data dir and the NATS URL)', async () => {
    const res = await api.app.inject({ url: `${PREFIX}/info` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), api.service.info());
    assertError(await api.app.inject({ url: `${PREFIX}/info`, headers: asUser('olga', 'operator') }), 403, 'FORBIDDEN');
    assertError(await api.app.inject({ url: `${PREFIX}/info`, headers: { authorization: '' } }), 401, 'UNAUTHENTICATED');
  });

  it('GET /healthz → 200 { status: ok }, even when the service is unavailable', async () => {
    api.service.unavailable = true;
    try {
      const res = await api.app.inject({ url: '/healthz' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok' });
    } finally {
      api.service.unavailable = false;
    }
  });

  it('GET /readyz → 200 when ready, 503 + retry-after when not, 503 when the check throws', async () => {
    let res = await api.app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ready: true, checks: { nats: true, projection: true } });

    api.service.ready = false;
    res = await api.app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.deepEqual(res.json(), { ready: false, checks: { nats: false, projection: true } });

    api.service.ready = true;
    api.service.unavailable = true;
    try {
      res = await api.app.inject({ url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.deepEqual(res.json(), { ready: false, checks: {} });
    } finally {
      api.service.unavailable = false;
    }
  });

  it('serves HEAD for GET routes', async () => {
    const res = await api.app.inject({ method: 'HEAD', url: `${PREFIX}/workers` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
  });
});

describe('server options', () => {
  it('mounts the API under another prefix; probes stay at the root', async () => {
    const { app } = createApi({ prefix: '/jj/v9' });
    try {
      const res = await post(app, '/jj/v9/jobs', VALID_SUBMIT);
      assert.equal(res.statusCode, 201);
      assert.match(String(res.headers['location']), /^\/jj\/v9\/jobs\/[0-9a-f-]{36}$/);
      assertError(await app.inject({ url: `${PREFIX}/workers` }), 404, 'NOT_FOUND');
      assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('applies bodyLimitBytes', async () => {
    const { app } = createApi({ bodyLimitBytes: 64 });
    try {
      assert.equal((await post(app, `${PREFIX}/jobs`, { type: 'noop', spec: {} })).statusCode, 201);
      assertError(await post(app, `${PREFIX}/jobs`, { ...VALID_SUBMIT, spec: { pad: 'x'.repeat(64) } }), 413, 'BODY_TOO_LARGE');
    } finally {
      await app.close();
    }
  });

  it('rejects options that would build a broken server', () => {
    const { identity, webhooks } = createApi();
    const service = createFakeJobService();
    assert.equal(parseServerOptions({ service, identity, webhooks, logger: false }).prefix, '/native/v1');
    assert.equal(parseServerOptions({ service, identity, webhooks, logger: false }).bodyLimitBytes, 1024 * 1024);
    for (const prefix of ['', 'native', '/native/', '/a b', '/a/../b/']) {
      assert.throws(() => parseServerOptions({ service, identity, webhooks, logger: false, prefix }), /prefix/);
    }
    for (const bodyLimitBytes of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => parseServerOptions({ service, identity, webhooks, logger: false, bodyLimitBytes }), /bodyLimitBytes/);
    }
  });
});

describe('logging', () => {
  it('logs each request with the x-request-id, never credentials, and the cause of a 500', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const service = createFakeJobService();
    const { identity, webhooks } = createApi();
    const app = buildServer({ service, identity, webhooks, logger: pino({ level: 'info' }, destination) });
    try {
      await app.inject({
        url: `${PREFIX}/workers`,
        headers: { authorization: 'Bearer tok-secret', cookie: 'sid=cookie-secret', 'x-request-id': 'trace-123' },
      });
      // Redaction also covers anything a handler might log about the request.
      app.log.info({ req: { headers: { authorization: 'Bearer tok-secret' } }, user: { password: 'pw-secret' } }, 'probe');
      service.crash = new Error('engine exploded');
      const res = await app.inject({ url: `${PREFIX}/workers`, headers: withAuth() });
      assert.equal(res.statusCode, 500);
      assert.ok(!res.body.includes('exploded'));
    } finally {
      await app.close();
    }
    const logs = lines.join('');
    assert.match(logs, /"reqId":"trace-123".*"incoming request"/);
    assert.match(logs, /"request completed"/);
    assert.match(logs, /engine exploded/);
    for (const secret of ['tok-secret', 'cookie-secret', 'pw-secret']) assert.ok(!logs.includes(secret), secret);
  });
});

/** Sends raw bytes and returns the status and parsed body of the answer. */
function rawRequest(port: number, text: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    // The server may reset the socket while we still write; what it answered first counts.
    socket.on('error', (err) => (out ? undefined : reject(err)));
    socket.on('close', () => {
      const [head = '', body = ''] = out.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body: JSON.parse(body) as Record<string, unknown> });
    });
  });
}

describe('errors raised before a request exists (real socket)', () => {
  let api: Api;
  let port: number;
  before(async () => {
    api = createApi();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const address = api.app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    port = address.port;
  });
  after(() => api.app.close());

  it('headers over 16 KiB → 431 in the one error shape', async () => {
    const res = await rawRequest(port, `GET ${PREFIX}/workers HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(res.status, 431);
    assert.deepEqual(res.body, { statusCode: 431, code: 'VALIDATION_FAILED', error: 'Request Header Fields Too Large', message: 'The request headers are too large.' });
  });

  it('a malformed request line → 400 in the one error shape', async () => {
    const res = await rawRequest(port, 'HELLO THERE\r\n\r\n');
    assert.equal(res.status, 400);
    assert.deepEqual(Object.keys(res.body).sort(), ['code', 'error', 'message', 'statusCode']);
    assert.equal(res.body['code'], 'VALIDATION_FAILED');
  });

  it('still serves requests afterwards', async () => {
    const res = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });
});
