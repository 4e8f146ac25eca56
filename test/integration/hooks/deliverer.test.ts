/**
 * Webhook delivery end to end on a real nats-server: the JetStream event log, a projection, the
 * deliverer on the durable `hooks` consumer, and a local HTTP receiver that checks signatures.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import type { WebhookAttemptData } from '../../../actors/events.ts';
import { systemClock } from '../../../engine/clock.ts';
import { createMemoryControlStore } from '../../../engine/controlstore/controlStore.ts';
import type { EventLog, Follower } from '../../../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import { startHookDeliverer } from '../../../engine/hooks/deliverer.ts';
import { createJetStreamHookQueue } from '../../../engine/nats/jetStreamHookQueue.ts';
import { verifySignature } from '../../../engine/hooks/sign.ts';
import { callbackSecret, createWebhook } from '../../../engine/hooks/webhookStore.ts';
import { silentLogger } from '../../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../../engine/projections/jobProjection.ts';
import { jobHookSubject } from '../../../engine/subjects.ts';
import { connectTest, startTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { createJobWriter, type JobWriter } from '../../unit/engine/live/jobWriter.fixture.ts';
import { waitFor } from '../../helpers/wait.ts';

interface Received {
  path: string;
  event: string;
  deliveryId: string;
  body: { deliveryId: string; event: string; seq: number; job: { id: string; state: string } };
  signatureOk: boolean;
  raw: string;
  signature: string | string[] | undefined;
  at: number;
}

/** The receivers listen on 127.0.0.1: private targets must be allowed. */
const CONFIG = { callbackSecret: null, webhookMaxAttempts: 3, webhookBackoffMs: 150, webhookTimeoutMs: 2000, webhookAllowPrivate: true };

describe('webhook deliverer on JetStream', () => {
  let srv: TestNats;
  const conns: NatsConnection[] = [];
  let eventLog: EventLog;
  let projection: JobProjection;
  let feeder: Follower;
  let writer: JobWriter;
  const store = createMemoryControlStore();
  const stops: (() => Promise<void>)[] = [];
  let receiver: http.Server;
  let base = '';
  let cbSecret = '';
  const received: Received[] = [];
  const flakyCount = new Map<string, number>();

  /** The delivery log as GET /jobs/:id/deliveries shows it (without the WebhookDue trigger). */
  const hookLog = async (jobId: string) =>
    (await eventLog.readSubject(jobHookSubject(jobId))).flatMap((r) =>
      r.events.filter((e) => e.type !== 'WebhookDue').map((e) => ({ type: e.type, time: Date.parse(r.time), data: e.data as WebhookAttemptData & { final?: boolean } })),
    );
  const startDeliverer = async () => {
    const nc = await connectTest(srv.url);
    conns.push(nc);
    const d = await startHookDeliverer({ queue: createJetStreamHookQueue({ nc }), eventLog, projection, store, config: CONFIG, clock: systemClock, logger: silentLogger });
    stops.push(() => d.stop());
    return d;
  };

  before(async () => {
    srv = await startTestNats();
    const nc = await connectTest(srv.url);
    conns.push(nc);
    eventLog = createJetStreamEventLog({ nc });
    projection = createJobProjection({ logger: silentLogger });
    feeder = eventLog.follow(1, (r) => projection.apply(r));
    await feeder.caughtUp;
    writer = createJobWriter(eventLog);
    cbSecret = await callbackSecret(store, CONFIG);
    receiver = http.createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        const path = req.url ?? '';
        const body = JSON.parse(raw) as Received['body'];
        received.push({
          path, body, raw, signature: req.headers['x-jetjobs-signature'], at: Date.now(),
          event: String(req.headers['x-jetjobs-event']),
          deliveryId: String(req.headers['x-jetjobs-delivery']),
          signatureOk: verifySignature(cbSecret, req.headers['x-jetjobs-signature'], raw, 60),
        });
        if (path.startsWith('/flaky/')) {
          const n = (flakyCount.get(path) ?? 0) + 1;
          flakyCount.set(path, n);
          res.statusCode = n <= 2 ? 503 : 200;
        } else res.statusCode = 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    await startDeliverer();
  });

  after(async () => {
    for (const s of stops) await s().catch(() => undefined);
    await feeder?.stop().catch(() => undefined);
    await eventLog?.close().catch(() => undefined);
    for (const c of conns) await c.close().catch(() => undefined);
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
    await srv?.cleanup();
  });

  it('notifies the callback, signed, on succeeded, failed and stopped', async () => {
    const ok = await writer.submit({ callbackUrl: `${base}/cb/ok` });
    const failed = await writer.submit({ callbackUrl: `${base}/cb/failed` });
    const stopped = await writer.submit({ callbackUrl: `${base}/cb/stopped?token=t0ps3cret` });
    const seqs = { ok: await writer.succeed(ok), failed: await writer.fail(failed), stopped: await writer.stop(stopped) };
    await waitFor(() => received.filter((r) => r.path.startsWith('/cb/')).length >= 3, { what: '3 callbacks', timeoutMs: 15_000 });
    const byPath = new Map(received.map((r) => [r.path, r]));
    for (const [path, id, event, state, seq] of [
      ['/cb/ok', ok, 'job.succeeded', 'SUCCEEDED', seqs.ok],
      ['/cb/failed', failed, 'job.failed', 'FAILED', seqs.failed],
      ['/cb/stopped?token=t0ps3cret', stopped, 'job.stopped', 'STOPPED', seqs.stopped],
    ] as const) {
      const r = byPath.get(path);
      assert.ok(r, path);
      assert.equal(r.signatureOk, true, path);
      assert.equal(r.event, event);
      assert.equal(r.body.event, event);
      assert.equal(r.body.seq, seq);
      assert.equal(r.body.job.id, id);
      assert.equal(r.body.job.state, state);
      assert.equal(r.deliveryId, r.body.deliveryId);
    }
    await waitFor(async () => (await hookLog(stopped)).length === 1, { what: 'delivery logged', timeoutMs: 15_000 });
    const [entry] = await hookLog(stopped);
    assert.equal(entry!.type, 'WebhookDelivered');
    assert.equal(entry!.data.url, `${base}/cb/stopped`);
    assert.equal(entry!.data.status, 200);
    assert.equal(received.filter((r) => r.path.startsWith('/cb/')).length, 3);
  });

  it('retries a receiver that fails twice: 3 attempts logged, with growing delays', async () => {
    const id = await writer.submit({ callbackUrl: `${base}/flaky/a` });
    await writer.succeed(id);
    await waitFor(async () => (await hookLog(id)).some((e) => e.type === 'WebhookDelivered'), { what: 'delivered', timeoutMs: 15_000 });
    const log = await hookLog(id);
    assert.deepEqual(log.map((e) => [e.type, e.data.attempt, e.data.status]), [
      ['WebhookFailed', 1, 503],
      ['WebhookFailed', 2, 503],
      ['WebhookDelivered', 3, 200],
    ]);
    const calls = received.filter((r) => r.path === '/flaky/a');
    assert.equal(calls.length, 3);
    assert.equal(new Set(calls.map((c) => c.deliveryId)).size, 1, 'one delivery id across retries');
    const gap1 = calls[1]!.at - calls[0]!.at;
    const gap2 = calls[2]!.at - calls[1]!.at;
    assert.ok(gap1 >= 140, `first retry after ${gap1} ms (backoff 150)`);
    assert.ok(gap2 >= 290 && gap2 > gap1, `second retry after ${gap2} ms (backoff 300) vs ${gap1}`);
  });

  it('gives up on an unreachable target with a final failure in the log', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const id = await writer.submit({ callbackUrl: `http://127.0.0.1:${port}/gone` });
    await writer.fail(id);
    await waitFor(async () => (await hookLog(id)).some((e) => e.data.final === true), { what: 'final failure', timeoutMs: 15_000 });
    const log = await hookLog(id);
    assert.deepEqual(log.map((e) => [e.type, e.data.attempt, e.data.status, e.data.final]), [
      ['WebhookFailed', 1, null, false],
      ['WebhookFailed', 2, null, false],
      ['WebhookFailed', 3, null, true],
    ]);
    assert.match((log[2]!.data as unknown as { error: string }).error, /ECONNREFUSED/);
  });

  it('sends again on a redelivery request, with a new delivery id', async () => {
    const id = await writer.submit({ callbackUrl: `${base}/redo` });
    const seq = await writer.stop(id);
    await waitFor(() => received.some((r) => r.path === '/redo'), { what: 'first delivery', timeoutMs: 15_000 });
    await eventLog.append(jobHookSubject(id), [
      { type: 'WebhookRedeliveryRequested', data: {}, meta: { jobId: id, epoch: 0, actor: 'user:alice', at: new Date().toISOString(), v: 1 } },
    ]);
    await waitFor(() => received.filter((r) => r.path === '/redo').length >= 2, { what: 'second delivery', timeoutMs: 15_000 });
    const [first, second] = received.filter((r) => r.path === '/redo');
    assert.equal(second!.body.event, 'job.stopped');
    assert.equal(second!.body.seq, seq);
    assert.equal(second!.signatureOk, true);
    assert.notEqual(second!.deliveryId, first!.deliveryId);
    await waitFor(async () => (await hookLog(id)).filter((e) => e.type === 'WebhookDelivered').length === 2, { what: 'logged twice', timeoutMs: 15_000 });
  });

  it('two deliverers share the consumer: every notification is delivered once, global webhooks too', async () => {
    await startDeliverer();
    const hook = await createWebhook(store, { url: `${base}/global`, events: ['job.succeeded'] }, 'admin', systemClock, true);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await writer.submit({ callbackUrl: `${base}/pair/${i}` }));
    await Promise.all(ids.map((id) => writer.succeed(id)));
    await waitFor(() => received.filter((r) => r.path.startsWith('/pair/')).length >= 20 && received.filter((r) => r.path === '/global').length >= 20, { what: '20 callbacks + 20 global', timeoutMs: 15_000 });
    // let any duplicate arrive before counting
    await waitFor(async () => (await Promise.all(ids.map(hookLog))).every((l) => l.length === 2), { what: 'logs complete', timeoutMs: 15_000 });
    const pair = received.filter((r) => r.path.startsWith('/pair/'));
    const global = received.filter((r) => r.path === '/global');
    assert.equal(pair.length, 20);
    assert.equal(global.length, 20);
    assert.deepEqual(new Set(global.map((g) => g.body.job.id)), new Set(ids));
    assert.ok(pair.every((r) => r.signatureOk));
    // global webhooks are signed with their own secret
    assert.ok(global.every((g) => !g.signatureOk && verifySignature(hook.secret, g.signature, g.raw, 60)));
  });

  it('an owner that dies after its terminal record: a peer writes the one due record after its grace; a job no coordinator ended gets one record from three writers', async () => {
    const nc = await connectTest(srv.url);
    conns.push(nc);
    const d = await startHookDeliverer({ queue: createJetStreamHookQueue({ nc }), eventLog, projection, store, config: CONFIG, clock: systemClock, logger: silentLogger, coordinatorId: 'c-live', dueGraceMs: 200 });
    stops.push(() => d.stop());
    const dues = async (jobId: string) => (await eventLog.readSubject(jobHookSubject(jobId))).filter((r) => r.events[0]?.type === 'WebhookDue');
    const orphan = await writer.submit({ callbackUrl: `${base}/orphan` });
    await writer.command(orphan, { kind: 'claim', coordinatorId: 'c-dead', tasks: [] }, 'coordinator:c-dead');
    // failed and stopped: the global webhook of the test before is subscribed to job.succeeded only
    const terminal = await writer.command(orphan, { kind: 'finish', outcome: 'failed', error: { code: 'BOOM', message: 'owner died next' } }, 'coordinator:c-dead');
    const waiting = await writer.submit({ callbackUrl: `${base}/stopped-waiting` });
    const stopSeq = await writer.command(waiting, { kind: 'stop' }, 'user:alice');
    await waitFor(() => received.some((r) => r.path === '/orphan') && received.some((r) => r.path === '/stopped-waiting'), { what: 'both notified', timeoutMs: 15_000 });
    const byPath = new Map(received.map((r) => [r.path, r]));
    assert.equal(byPath.get('/orphan')!.body.seq, terminal);
    assert.equal(byPath.get('/orphan')!.deliveryId, `${orphan}:${terminal}:callback`);
    assert.equal(byPath.get('/stopped-waiting')!.body.seq, stopSeq);
    await waitFor(async () => (await hookLog(waiting)).length === 1 && (await hookLog(orphan)).length === 1, { what: 'both logged', timeoutMs: 15_000 });
    assert.deepEqual((await dues(orphan)).map((r) => (r.events[0]!.data as { eventSeq: number }).eventSeq), [terminal]);
    assert.deepEqual((await dues(waiting)).map((r) => (r.events[0]!.data as { eventSeq: number }).eventSeq), [stopSeq]);
    assert.equal(received.filter((r) => r.path === '/orphan' || r.path === '/stopped-waiting').length, 2);
  });

  it('a job without targets writes no due record and nothing of it reaches the hooks durable', async () => {
    // failed: the global webhook of a test before is subscribed to job.succeeded only
    const plain = await writer.submit();
    const end = await writer.fail(plain);
    const marked = await writer.submit({ callbackUrl: `${base}/after-plain` });
    await writer.fail(marked);
    await waitFor(async () => (await hookLog(marked)).length === 1, { what: 'the later job delivered', timeoutMs: 15_000 });
    assert.ok(projection.lastSeq() > end);
    assert.deepEqual(await eventLog.readSubject(jobHookSubject(plain)), []);
  });
});
