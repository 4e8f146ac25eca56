/** The command line's HTTP client: what it shows of a server that answers oddly, and of the URL it was given. */
/* eslint-disable no-control-regex -- the tests look for terminal control characters */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createClient, printable, shownUrl } from '../../../cli/client.ts';
import { CliError, EXIT } from '../../../cli/exitCodes.ts';

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
});
