import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature, webhookHeaders } from '../../../../engine/hooks/sign.ts';

const SECRET = 'whsec_test';
const BODY = '{"event":"job.succeeded","seq":7}';
const NOW = 1_700_000_000_000;

test('the header is t=<seconds>,v1=<HMAC-SHA256(secret, t.body)> and verifies', () => {
  const h = signatureHeader(SECRET, BODY, NOW);
  const t = NOW / 1000;
  assert.equal(h, `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${BODY}`).digest('hex')}`);
  assert.equal(verifySignature(SECRET, h, BODY, 300, NOW), true);
  assert.equal(verifySignature(SECRET, h, Buffer.from(BODY), 300, NOW + 299_000), true);
});

test('rejects a wrong secret, a changed body, an old or future timestamp and garbage', () => {
  const h = signatureHeader(SECRET, BODY, NOW);
  assert.equal(verifySignature('other', h, BODY, 300, NOW), false);
  assert.equal(verifySignature(SECRET, h, BODY + ' ', 300, NOW), false);
  assert.equal(verifySignature(SECRET, h, BODY, 300, NOW + 301_000), false);
  assert.equal(verifySignature(SECRET, h, BODY, 300, NOW - 301_000), false);
  for (const bad of [undefined, '', 'v1=abc', `t=${NOW / 1000}`, 't=x,v1=' + 'a'.repeat(64), h.replace('v1=', 'v0=')]) {
    assert.equal(verifySignature(SECRET, bad, BODY, 300, NOW), false, String(bad));
  }
});

test('accepts any matching v1 among several (secret rotation)', () => {
  const good = signatureHeader(SECRET, BODY, NOW);
  const other = signatureHeader('old', BODY, NOW).split(',')[1]!;
  assert.equal(verifySignature(SECRET, `${other},${good}`, BODY, 300, NOW), true);
});

test('delivery headers name the delivery and the event', () => {
  const h = webhookHeaders({ secret: SECRET, rawBody: BODY, nowMs: NOW, deliveryId: 'd1', event: 'job.stopped' });
  assert.equal(h['x-jetjobs-delivery'], 'd1');
  assert.equal(h['x-jetjobs-event'], 'job.stopped');
  assert.equal(h['content-type'], 'application/json');
  assert.equal(verifySignature(SECRET, h['x-jetjobs-signature'], BODY, 300, NOW), true);
});
