/** The SSRF guard at delivery time: a real POST to a receiver on loopback, refused unless allowed. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPostWebhook } from '../../../engine/hooks/deliverer.ts';
import { guardedLookup, isBlockedAddress } from '../../../engine/hooks/targetPolicy.ts';

describe('webhook target policy', () => {
  let server: Server;
  let port: number;
  let received = 0;
  before(async () => {
    server = createServer((req, res) => {
      received++;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('by default never connects to a loopback receiver, by address or by a name resolving to it', async () => {
    const post = createPostWebhook({ allowPrivate: false });
    for (const url of [`http://127.0.0.1:${port}/hook`, `http://localhost:${port}/hook`, `http://[::ffff:7f00:1]:${port}/hook`]) {
      const r = await post(url, {}, '{}', 2_000);
      assert.equal(r.status, null, url);
      assert.match(r.error ?? '', /^EBLOCKEDTARGET/, url);
    }
    assert.equal(received, 0);
  });

  it('a name is checked on the addresses it resolves to at delivery, not only as written', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    assert.equal(err?.code, 'EBLOCKEDTARGET');
  });

  it('with private targets allowed, the same receiver gets the POST', async () => {
    const r = await createPostWebhook({ allowPrivate: true })(`http://127.0.0.1:${port}/hook`, {}, '{}', 2_000);
    assert.equal(r.status, 204);
    assert.equal(received, 1);
  });

  it('classifies addresses in every written form', () => {
    for (const ip of ['127.0.0.1', '10.255.0.1', '169.254.169.254', '::1', '[::1]', 'fd12::1', 'fe80::1', '::ffff:192.168.0.1', '::ffff:c0a8:1', '64:ff9b::a00:1', 'ff02::1']) {
      assert.equal(isBlockedAddress(ip), true, ip);
    }
    for (const ip of ['8.8.8.8', '172.15.255.255', '2001:4860:4860::8888', '::ffff:808:808', 'example.com']) {
      assert.equal(isBlockedAddress(ip), false, ip);
    }
  });
});
