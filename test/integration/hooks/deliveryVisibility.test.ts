/**
 * Who sees which webhook target: a job's owner sees the callback URL they gave, but the admin's
 * global webhook only by its id (`url: "global"`), in the delivery log and in the live stream; the
 * admin sees every URL. Real service on a real nats-server, a local receiver.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GLOBAL_WEBHOOK_URL, hideGlobalTarget } from '../../../engine/hooks/deliveryView.ts';
import { http, useTestService } from '../../helpers/service.ts';
import { API, as, openSse, startReceiver, submit, userToken, type Receiver } from '../journey/journeyKit.ts';
import { waitFor } from '../../helpers/wait.ts';

interface Delivery {
  seq: number;
  type: string;
  data: { target?: string; url?: string; error?: string };
}

/** The admin's receiver path: must never reach a non-admin. */
const ADMIN_PATH = '/admins-own-receiver';

describe('delivery records by role', () => {
  const suite = useTestService({ webhookBackoffMs: 100, webhookTimeoutMs: 2000, webhookAllowPrivate: true });
  let recv: Receiver;
  before(async () => {
    recv = await startReceiver();
  });
  after(() => recv?.close());

  it('an operator sees its callback URL and the global webhook as "global"; the admin sees both URLs', async () => {
    const base = suite.svc.baseUrl;
    const hook = await http<{ id: string }>(base, 'POST', `${API}/webhooks`, { url: `${recv.url}${ADMIN_PATH}?k=v` });
    assert.equal(hook.status, 201);
    const olga = await userToken(base, 'olga', 'operator');
    const mine = await openSse(base, `${API}/events`, olga);
    const admins = await openSse(base, `${API}/events`, undefined);
    try {
      const job = await submit(base, { type: 'sleep', spec: { ms: 0 }, callbackUrl: `${recv.url}/olga-cb`, name: 'watched' }, olga);
      const log = async (token?: string) =>
        (await http<{ deliveries: Delivery[] }>(base, 'GET', `${API}/jobs/${job.id}/deliveries`, undefined, token ? as(token) : {})).body;
      const delivered = (ds: Delivery[], target: string) => ds.find((d) => d.type === 'WebhookDelivered' && d.data.target === target);
      const adminLog = await waitFor(async () => {
        const l = (await log()).deliveries;
        return delivered(l, 'callback') && delivered(l, hook.body.id) ? l : undefined;
      }, { what: 'both deliveries logged', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
      assert.equal(delivered(adminLog, hook.body.id)!.data.url, `${recv.url}${ADMIN_PATH}`);

      const olgaLog = await log(olga);
      assert.equal(delivered(olgaLog.deliveries, 'callback')!.data.url, `${recv.url}/olga-cb`);
      assert.equal(delivered(olgaLog.deliveries, hook.body.id)!.data.url, GLOBAL_WEBHOOK_URL);
      assert.ok(!JSON.stringify(olgaLog).includes(ADMIN_PATH), JSON.stringify(olgaLog));

      const hookEvents = (s: typeof mine) => s.messages.filter((m) => m.event === 'WebhookDelivered' && m.data?.includes(job.id));
      await mine.until('both deliveries live', () => hookEvents(mine).length >= 2);
      await admins.until('both deliveries live (admin)', () => hookEvents(admins).length >= 2);
      assert.ok(hookEvents(mine).some((m) => m.data!.includes('/olga-cb')));
      assert.ok(!mine.messages.some((m) => m.data?.includes(ADMIN_PATH)), 'the live stream hides the global URL too');
      assert.ok(hookEvents(admins).some((m) => m.data!.includes(ADMIN_PATH)));
    } finally {
      mine.close();
      admins.close();
    }
  });
});

describe('hideGlobalTarget', () => {
  const attempt = { deliveryId: 'j:9:wh_1', target: 'wh_1', url: 'https://hooks.internal.example/x', event: 'job.failed', eventSeq: 9, attempt: 1, status: null, ms: 3 };

  it('keeps errors that name no host and cuts the others to their code', () => {
    for (const [error, shown] of [
      ['HTTP 500', 'HTTP 500'],
      ['HTTP 302 (redirects are not followed)', 'HTTP 302 (redirects are not followed)'],
      ['timed out after 5000 ms', 'timed out after 5000 ms'],
      ['ECONNREFUSED', 'ECONNREFUSED'],
      ['EBLOCKEDTARGET: hooks.internal.example is a loopback name', 'EBLOCKEDTARGET'],
      ['getaddrinfo failed for hooks.internal.example', 'delivery failed'],
    ]) {
      assert.deepEqual(hideGlobalTarget({ ...attempt, error, final: false }), { ...attempt, url: GLOBAL_WEBHOOK_URL, error: shown, final: false });
    }
  });

  it('leaves the callback target and records without a URL as they are', () => {
    const callback = { ...attempt, target: 'callback', error: 'EBLOCKEDTARGET: mine.example is a loopback name' };
    assert.equal(hideGlobalTarget(callback), callback);
    const redelivery = { target: 'wh_1' };
    assert.equal(hideGlobalTarget(redelivery), redelivery);
  });
});
