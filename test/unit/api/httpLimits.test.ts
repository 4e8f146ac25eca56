/**
 * The HTTP transport limits on a real listening server (raw sockets, short timeouts): a stalled
 * request is answered 408 and closed, one address cannot hold more than its share of connections,
 * and every early refusal carries the one error shape.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { parseServerOptions } from '../../../api/server.ts';
import { DEFAULTS, readEnv, resolveConfig } from '../../../engine/config.ts';
import type { ErrorCode } from '../../../engine/errors.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { createApi, PREFIX, type Api } from './harness.ts';

/** Longest any answer below may take: far above the configured timeouts, far below the test runner's. */
const WITHIN_MS = 5000;
const AUTH = `Authorization: Bearer ${TEST_ADMIN_TOKEN}\r\n`;

interface RawAnswer {
  status: number;
  headers: string;
  body: Record<string, unknown>;
}

/** Parses the first whole response in `text`, or undefined while it is incomplete. */
function parseAnswer(text: string): RawAnswer | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const headers = text.slice(0, end);
  const length = Number(/content-length: *(\d+)/i.exec(headers)?.[1] ?? NaN);
  const body = text.slice(end + 4);
  if (!(body.length >= length)) return undefined;
  return { status: Number(headers.split(' ')[1]), headers, body: JSON.parse(body.slice(0, length)) as Record<string, unknown> };
}

/** Resolves with `promise`, or rejects once `ms` passed. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // the server may reset a socket it refuses; what it answered counts
  await once(socket, 'connect');
  return socket;
}

/** Writes `text` on a fresh socket and waits until the server answered and closed the connection. */
async function answerThenClose(port: number, text: string): Promise<RawAnswer & { ms: number }> {
  const started = Date.now();
  const socket = await open(port);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  if (text !== '') socket.write(text);
  try {
    await within(WITHIN_MS, 'close', once(socket, 'close'));
  } finally {
    socket.destroy();
  }
  const answer = parseAnswer(received);
  assert.ok(answer, `no whole response before the close: ${JSON.stringify(received)}`);
  return { ...answer, ms: Date.now() - started };
}

/** Sends one request on an open socket and waits for its whole response. */
async function exchange(socket: Socket, text: string): Promise<RawAnswer> {
  let received = '';
  const answer = new Promise<RawAnswer>((resolve) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const parsed = parseAnswer(received);
      if (parsed) {
        socket.off('data', onData);
        resolve(parsed);
      }
    };
    socket.on('data', onData);
  });
  socket.write(text);
  return within(WITHIN_MS, 'response', answer);
}

function assertShape(answer: RawAnswer, status: number, code: ErrorCode, message?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer));
  assert.match(answer.headers, /content-type: application\/json/i);
  assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'error', 'message', 'statusCode']);
  assert.equal(answer.body['statusCode'], status);
  assert.equal(answer.body['code'], code);
  assert.equal(answer.body['error'], STATUS_CODES[status]);
  if (message) assert.match(String(answer.body['message']), message);
}

async function listen(api: Api): Promise<number> {
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const address = api.app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

const HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

describe('request timeouts (real socket)', () => {
  let api: Api;
  let port: number;
  before(async () => {
    api = createApi({ settings: { httpRequestTimeoutMs: 400, httpHeadersTimeoutMs: 300 } });
    port = await listen(api);
  });
  after(() => api.app.close());

  it('a body that stops arriving → 408 in the error shape, connection closed, no job written', async () => {
    const head = `POST ${PREFIX}/jobs HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const answer = await answerThenClose(port, `${head}{"type":"noop",`);
    assertShape(answer, 408, 'VALIDATION_FAILED', /too long/);
    assert.ok(answer.ms >= 300, `answered after ${answer.ms} ms, before the timeout`);
    assert.equal(api.service.calls.filter((c) => c.method === 'submit').length, 0);
  });

  it('headers that stop arriving, or nothing at all → 408 and closed', async () => {
    assertShape(await answerThenClose(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n`), 408, 'VALIDATION_FAILED');
    assertShape(await answerThenClose(port, ''), 408, 'VALIDATION_FAILED');
  });

  it('a request that arrives in time is served', async () => {
    const socket = await open(port);
    try {
      assert.equal((await exchange(socket, HEALTHZ)).status, 200);
    } finally {
      socket.destroy();
    }
  });
});

describe('connections per address (real socket)', () => {
  const CAP = 3;
  let api: Api;
  let port: number;
  before(async () => {
    api = createApi({ settings: { httpMaxConnectionsPerAddress: CAP } });
    port = await listen(api);
  });
  after(() => api.app.close());

  it(`the connection over ${CAP} is answered 429 and closed; the first ${CAP} still work; a freed slot is reused`, async () => {
    const held = await Promise.all(Array.from({ length: CAP }, () => open(port)));
    try {
      const refused = await answerThenClose(port, HEALTHZ);
      assertShape(refused, 429, 'RATE_LIMITED', /connections/);
      assert.match(refused.headers, /retry-after: 1/i);
      for (const socket of held) assert.equal((await exchange(socket, HEALTHZ)).status, 200);
      held.pop()!.destroy();
      const again = await within(WITHIN_MS, 'a free slot', (async () => {
        for (;;) {
          const socket = await open(port);
          const answer = await exchange(socket, HEALTHZ).finally(() => socket.destroy());
          if (answer.status === 200) return answer;
          await new Promise((r) => setTimeout(r, 10)); // the server may not have seen the close yet
        }
      })());
      assert.equal(again.status, 200);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});

describe('early refusals carry the error shape (real socket)', () => {
  let api: Api;
  let port: number;
  before(async () => {
    api = createApi();
    port = await listen(api);
  });
  after(() => api.app.close());

  const cases: [string, string, number, ErrorCode][] = [
    ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\n\r\n', 400, 'VALIDATION_FAILED'],
    ['a garbage request line', 'HELLO THERE\r\n\r\n', 400, 'VALIDATION_FAILED'],
    ['an unknown method', 'FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'VALIDATION_FAILED'],
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'VALIDATION_FAILED'],
    ['a request line over 16 KiB', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'VALIDATION_FAILED'],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
    ['an unknown Expect', `POST ${PREFIX}/jobs HTTP/1.1\r\nHost: x\r\nExpect: telepathy\r\nContent-Length: 0\r\n\r\n`, 417, 'VALIDATION_FAILED'],
  ];
  for (const [name, text, status, code] of cases) {
    it(`${name} → ${status} ${code}, connection closed`, async () => {
      assertShape(await answerThenClose(port, text), status, code);
    });
  }

  it('HTTP/1.0 without Host is still served', async () => {
    assert.equal((await answerThenClose(port, 'GET /healthz HTTP/1.0\r\n\r\n')).status, 200);
  });
});

describe('HTTP limit settings', () => {
  it('come from the environment and flags like the others, with finite defaults', () => {
    assert.deepEqual(
      [DEFAULTS.httpRequestTimeoutMs, DEFAULTS.httpHeadersTimeoutMs, DEFAULTS.httpKeepAliveTimeoutMs, DEFAULTS.httpMaxConnectionsPerAddress],
      [30_000, 10_000, 72_000, 256],
    );
    const env = readEnv({ JETJOBS_HTTP_REQUEST_TIMEOUT_MS: '5000', JETJOBS_HTTP_HEADERS_TIMEOUT_MS: '2000', JETJOBS_HTTP_KEEP_ALIVE_TIMEOUT_MS: '4000', JETJOBS_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0' });
    assert.deepEqual(env, { httpRequestTimeoutMs: 5000, httpHeadersTimeoutMs: 2000, httpKeepAliveTimeoutMs: 4000, httpMaxConnectionsPerAddress: 0 });
    assert.throws(() => resolveConfig({ httpRequestTimeoutMs: 1000, httpHeadersTimeoutMs: 2000 }), /httpHeadersTimeoutMs must not exceed/);
    assert.throws(() => resolveConfig({ httpRequestTimeoutMs: 0 }), /httpRequestTimeoutMs must be >= 1/);
  });

  it('refuses a headers timeout above the request timeout and non-positive timeouts', () => {
    const base = createApi();
    try {
      const opts = { service: base.service, identity: base.identity, webhooks: base.webhooks, logger: false as const };
      assert.throws(() => parseServerOptions({ ...opts, settings: { httpRequestTimeoutMs: 1000, httpHeadersTimeoutMs: 2000 } }), /httpHeadersTimeoutMs/);
      assert.throws(() => parseServerOptions({ ...opts, settings: { httpKeepAliveTimeoutMs: 0 } }), /httpKeepAliveTimeoutMs/);
      assert.throws(() => parseServerOptions({ ...opts, settings: { httpMaxConnectionsPerAddress: -1 } }), /httpMaxConnectionsPerAddress/);
      assert.equal(parseServerOptions({ ...opts, settings: { httpMaxConnectionsPerAddress: 0 } }).settings.httpMaxConnectionsPerAddress, 0);
    } finally {
      void base.app.close();
    }
  });
});
