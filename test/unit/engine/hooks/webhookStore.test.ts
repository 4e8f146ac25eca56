import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../engine/clock.ts';
import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { isAppError } from '../../../../engine/errors.ts';
import { callbackSecret, createWebhook, deleteWebhook, listWebhooks, webhookDefs } from '../../../../engine/hooks/webhookStore.ts';

test('create returns the secret once; list never shows it; delete removes', async () => {
  const store = createMemoryControlStore();
  const a = await createWebhook(store, { url: 'https://example.com/hook' }, 'admin', systemClock);
  assert.match(a.secret, /^whsec_/);
  assert.deepEqual(a.events, ['job.succeeded', 'job.failed', 'job.stopped']);
  assert.equal(a.createdBy, 'admin');
  const b = await createWebhook(store, { url: 'http://10.0.0.1:81/x', events: ['job.stopped', 'job.failed', 'job.failed'], secret: 'my-own-secret-123456' }, 'admin', systemClock, true);
  assert.deepEqual(b.events, ['job.failed', 'job.stopped']);
  assert.equal(b.secret, 'my-own-secret-123456');
  const listed = listWebhooks(store);
  assert.equal(listed.length, 2);
  assert.ok(listed.every((w) => !('secret' in w)));
  assert.ok(!JSON.stringify(listed).includes('my-own-secret'));
  assert.equal(webhookDefs(store).find((w) => w.id === b.id)?.secret, 'my-own-secret-123456');
  await deleteWebhook(store, a.id);
  assert.deepEqual(listWebhooks(store).map((w) => w.id), [b.id]);
  await assert.rejects(deleteWebhook(store, a.id), (e) => isAppError(e, 'WEBHOOK_NOT_FOUND'));
  await assert.rejects(deleteWebhook(store, '../x'), (e) => isAppError(e, 'WEBHOOK_NOT_FOUND'));
});

test('create validates the url, the events and a given secret, and stores nothing on error', async () => {
  const store = createMemoryControlStore();
  await assert.rejects(createWebhook(store, { url: 'file:///etc/passwd' }, 'a', systemClock), (e) => isAppError(e, 'INVALID_CALLBACK_URL'));
  await assert.rejects(createWebhook(store, { url: 'https://u:p@x.com/' }, 'a', systemClock), (e) => isAppError(e, 'INVALID_CALLBACK_URL'));
  await assert.rejects(createWebhook(store, { url: 'http://10.0.0.1:81/x' }, 'a', systemClock), (e) => isAppError(e, 'INVALID_CALLBACK_URL'), 'a private address, by default');
  await assert.rejects(createWebhook(store, { url: 'https://x.com/', events: ['job.started'] }, 'a', systemClock), (e) => isAppError(e, 'VALIDATION_FAILED'));
  await assert.rejects(createWebhook(store, { url: 'https://x.com/', events: [] }, 'a', systemClock), (e) => isAppError(e, 'VALIDATION_FAILED'));
  await assert.rejects(createWebhook(store, { url: 'https://x.com/', secret: 'short' }, 'a', systemClock), (e) => isAppError(e, 'VALIDATION_FAILED'));
  assert.deepEqual(listWebhooks(store), []);
});

test('callbackSecret: the configured one wins; otherwise one generated secret shared by concurrent callers', async () => {
  const store = createMemoryControlStore();
  assert.equal(await callbackSecret(store, { callbackSecret: 'from-config' }), 'from-config');
  const all = await Promise.all(Array.from({ length: 8 }, () => callbackSecret(store, { callbackSecret: null })));
  assert.equal(new Set(all).size, 1);
  assert.match(all[0]!, /^whsec_/);
  assert.equal(await callbackSecret(store, { callbackSecret: null }), all[0]);
});
