import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../engine/clock.ts';
import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { isAppError } from '../../../../engine/errors.ts';
import { GLOBAL_WEBHOOK_URL } from '../../../../engine/hooks/deliveryView.ts';
import { createWebhookService } from '../../../../engine/hooks/webhookService.ts';
import type { By, Caller, DeliveryEntry } from '../../../../engine/serviceTypes.ts';

const admin: Caller = { user: 'root', role: 'admin', virtualClusters: [] };
const operator: Caller = { user: 'alice', role: 'operator', virtualClusters: [] };
const entry: DeliveryEntry = {
  seq: 7, time: '2030-01-01T00:00:00.000Z', type: 'WebhookFailed',
  data: { target: 'wh_1', url: 'https://secret-host.example.com/x', error: 'ECONNREFUSED secret-host' }, meta: {},
};

function setup() {
  const redelivered: { id: string; by: By & { target?: string } }[] = [];
  const webhooks = createWebhookService({
    store: createMemoryControlStore(),
    jobs: {
      deliveries: async () => [entry],
      redeliver: async (id, by) => void redelivered.push({ id, by }),
    },
    config: { callbackSecret: null, webhookAllowPrivate: false },
    clock: systemClock,
  });
  return { webhooks, redelivered };
}

describe('webhook service', () => {
  it('lets only admins manage global webhooks and read the callback secret', async () => {
    const { webhooks } = setup();
    const forbidden = (e: unknown) => isAppError(e, 'FORBIDDEN');
    await assert.rejects(webhooks.create({ url: 'https://hooks.example.com/x' }, operator), forbidden);
    assert.throws(() => webhooks.list(operator), forbidden);
    await assert.rejects(webhooks.delete('wh_x', operator), forbidden);
    await assert.rejects(webhooks.callbackSecret(operator), forbidden);
    const hook = await webhooks.create({ url: 'https://hooks.example.com/x' }, admin);
    assert.equal(hook.createdBy, 'root');
    assert.deepEqual(webhooks.list(admin).map((w) => w.id), [hook.id]);
    assert.match(await webhooks.callbackSecret(admin), /^whsec_/);
    await webhooks.delete(hook.id, admin);
    assert.deepEqual(webhooks.list(admin), []);
    await assert.rejects(webhooks.delete(hook.id, admin), (e: unknown) => isAppError(e, 'WEBHOOK_NOT_FOUND'));
  });

  it('shows a global webhook by id only to non-admins, and passes redelivery on', async () => {
    const { webhooks, redelivered } = setup();
    assert.deepEqual(await webhooks.deliveries('j', admin), [entry]);
    const seen = (await webhooks.deliveries('j', operator))[0]!.data as Record<string, unknown>;
    assert.equal(seen['url'], GLOBAL_WEBHOOK_URL);
    assert.equal(seen['error'], 'ECONNREFUSED');
    await webhooks.redeliver('j', { caller: operator, target: 'callback' });
    assert.deepEqual(redelivered, [{ id: 'j', by: { caller: operator, target: 'callback' } }]);
  });
});
