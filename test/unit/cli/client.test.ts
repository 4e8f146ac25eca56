/** The command line's HTTP client: what it shows of a server that answers oddly, and of the URL it was given. */
/* eslint-disable no-control-regex -- the tests look for terminal control characters */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createClient, printable, shownUrl } from '../../../cli/client.ts';
import { CliError, EXIT, NATIVE_EXIT, NATIVE_STATUS_EXITS } from '../../../cli/exitCodes.ts';
import { createHttp } from '../../../cli/http.ts';

describe('CLI client', () => {
  let server: Server;
  let url = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.url?.includes('/jobs/html')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>\x1b[2Jnot a jetjobs service</html>');
      } else if (req.method === 'POST' && req.url?.endsWith('/jobs')) {
        res.writeHead(req.headers['idempotency-key'] === 'seen' ? 200 : 201, { 'content-type': 'application/json' }).end('{"id":"j1","submitSeq":3}');
      } else {
        res.writeHead(418, { 'content-type': 'text/plain' }).end('teapot\x1b]0;owned\x07');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a 200 that is not JSON is an error saying so (exit 3), not a crash; control characters are escaped', async () => {
    const client = createClient({ url, token: undefined, timeoutMs: 5_000 });
    await assert.rejects(client.job('html'), (e: unknown) => {
      assert.ok(e instanceof CliError);
      assert.equal(e.exitCode, EXIT.UNAVAILABLE);
      assert.match(e.message, /HTTP 200 with a body that is not JSON/);
      assert.doesNotMatch(e.message, /\x1b/);
      return true;
    });
  });

  it('an error body reaches the terminal without its control characters', async () => {
    const client = createClient({ url, token: undefined, timeoutMs: 5_000 });
    await assert.rejects(client.progress('x'), (e: unknown) => e instanceof CliError && !/[\x07\x1b]/.test(e.message) && e.message.includes('teapot\\u001b]0;owned\\u0007'));
  });

  it('submit tells a new job (201) from an idempotent replay (200) and sends the key', async () => {
    const client = createClient({ url, token: undefined, timeoutMs: 5_000 });
    assert.equal((await client.submit({ type: 'load', spec: {} }, 'new')).created, true);
    assert.equal((await client.submit({ type: 'load', spec: {} }, 'seen')).created, false);
  });

  it('a URL with credentials or of another scheme is invalid input, and the message does not repeat the password', () => {
    for (const bad of ['http://ann:s3cret@127.0.0.1:1', 'ftp://127.0.0.1', 'not a url\x1b[2J']) {
      assert.throws(() => createClient({ url: bad, token: undefined, timeoutMs: 5_000 }), (e: unknown) => {
        assert.ok(e instanceof CliError);
        assert.equal(e.exitCode, EXIT.INVALID_INPUT);
        assert.doesNotMatch(e.message, /s3cret|\x1b/);
        return true;
      }, bad);
    }
    assert.equal(shownUrl('http://a:b@h:1/p'), 'http://h:1/p');
    assert.equal(shownUrl('not a url\x1b[2J'), JSON.stringify('not a url\x1b[2J'));
    assert.equal(printable('ok\tline\n\x1b'), 'ok\tline\n\\u001b');
  });

  it('follows no redirect: a 307 to another host gets neither the body (a password) nor the token, and is an error naming it', async () => {
    const seen: string[] = [];
    const elsewhere = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"stolen"}');
      });
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/native/v1/auth/login`;
    const redirecting = createServer((_req, res) => res.writeHead(307, { location: target }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const http = createHttp({ url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`, token: 'jjt_secret', timeoutMs: 5_000, exits: NATIVE_STATUS_EXITS });
      await assert.rejects(http.call('POST', '/auth/login', { body: { username: 'ann', password: 'pw-secret' } }), (e: unknown) => {
        assert.ok(e instanceof CliError);
        assert.equal(e.exitCode, NATIVE_EXIT.INVALID_INPUT);
        assert.match(e.message, /HTTP 307, a redirect to http:\/\/127\.0\.0\.1:\d+\/native\/v1\/auth\/login, which the command line does not follow/);
        return true;
      });
      await assert.rejects(http.call('GET', '/jobs'), /HTTP 307/);
      assert.deepEqual(seen, [], 'the other host got no request');
    } finally {
      await Promise.all([redirecting, elsewhere].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    }
  });
});
