/** The webhook handler over the in-memory log, with a simulated consumer (nak = redeliver after the delay). */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../engine/clock.ts';
import { createMemoryControlStore, type ControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { createHookHandler, mayTrigger, webhookBackoffMs, type PostFn, type PostResult } from '../../../../engine/hooks/deliverer.ts';
import type { HookMessage } from '../../../../engine/hooks/hookMessage.ts';
import { verifySignature } from '../../../../engine/hooks/sign.ts';
import { callbackSecret, createWebhook } from '../../../../engine/hooks/webhookStore.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createJobProjection } from '../../../../engine/projections/jobProjection.ts';
import { jobHookSubject } from '../../../../engine/subjects.ts';
import type { WebhookAttemptData } from '../../../../actors/events.ts';
import { createJobWriter } from '../live/jobWriter.fixture.ts';
import { decide } from '../../../../actors/decide.ts';
import { jobEvSubject } from '../../../../engine/subjects.ts';
import { waitFor } from '../../../helpers/wait.ts';

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A deliverer over a memory log; `respond` decides each POST's outcome. */
async function setup(respond: (s: Sent, n: number) => PostResult | Promise<PostResult>, config: { webhookMaxAttempts?: number } = {}) {
  const log: MemoryEventLog = createMemoryEventLog();
  const store: ControlStore = createMemoryControlStore();
  const projection = createJobProjection({ logger: silentLogger });
  await log.follow(1, (r) => projection.apply(r)).caughtUp;
  const sent: Sent[] = [];
  const post: PostFn = async (url, headers, body) => {
    const s = { url, headers, body };
    sent.push(s);
    return respond(s, sent.length);
  };
  const cfg = { callbackSecret: null, webhookMaxAttempts: config.webhookMaxAttempts ?? 3, webhookBackoffMs: 20, webhookTimeoutMs: 1000 };
  const outcomes: string[] = [];
  const handle = createHookHandler({ eventLog: log, projection, store, config: cfg, clock: systemClock, logger: silentLogger, post, onAttempt: (o) => outcomes.push(o) });
  const naks: { seq: number; delayMs: number }[] = [];
  const acked: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const handlerErrors: unknown[] = [];
  /** Every record seq given to the handler, in order. */
  const seen: number[] = [];
  const deliver = (subject: string, seq: number, data: Uint8Array) => {
    seen.push(seq);
    const m: HookMessage = {
      subject, seq, data,
      ack: () => void acked.push(seq),
      nak: (delayMs) => {
        naks.push({ seq, delayMs });
        const t = setTimeout(() => (timers.delete(t), deliver(subject, seq, data)), delayMs);
        timers.add(t);
      },
      working: () => undefined,
    };
    handle(m).catch((e: unknown) => handlerErrors.push(e));
  };
  const consumer = log.follow(1, (r) => deliver(r.subject, r.seq, Buffer.from(JSON.stringify(r.events))));
  const hookLog = async (jobId: string) =>
    (await log.readSubject(jobHookSubject(jobId))).flatMap((r) => r.events.map((e) => ({ type: e.type, data: e.data as WebhookAttemptData & { final?: boolean; error?: string }, time: r.time })));
  return {
    log, store, projection, writer: createJobWriter(log), sent, naks, acked, seen, hookLog, handlerErrors, outcomes,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      await consumer.stop();
      await log.close();
    },
  };
}

describe('webhook handler', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });
  const start = async (...args: Parameters<typeof setup>) => {
    const s = await setup(...args);
    cleanups.push(s.close);
    return s;
  };

  it('the hot-path check lets through only terminal events and redelivery requests', () => {
    const enc = (events: unknown[]) => Buffer.from(JSON.stringify(events));
    assert.equal(mayTrigger('job.a.ev', enc([{ type: 'JobClaimed' }])), false);
    assert.equal(mayTrigger('job.a.ev', enc([{ type: 'JobStopped' }])), true);
    assert.equal(mayTrigger('job.a.ev', enc([{ type: 'JobSucceeded' }])), true);
    assert.equal(mayTrigger('job.a.task', enc([{ type: 'JobSucceeded' }])), false);
    assert.equal(mayTrigger('job.a.hook', enc([{ type: 'WebhookDelivered' }])), false);
    assert.equal(mayTrigger('job.a.hook', enc([{ type: 'WebhookRedeliveryRequested' }])), true);
    assert.equal(webhookBackoffMs(1000, 1), 1000);
    assert.equal(webhookBackoffMs(1000, 3), 4000);
    assert.equal(webhookBackoffMs(1000, 20), 300_000);
  });

  it('posts signed notifications to the callback and the subscribed global webhooks, once each', async () => {
    const s = await start(() => ({ status: 204 }));
    const all = await createWebhook(s.store, { url: 'https://hooks.example.com/all' }, 'admin', systemClock);
    await createWebhook(s.store, { url: 'https://hooks.example.com/failed-only', events: ['job.failed'] }, 'admin', systemClock);
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/done?token=abc' });
    const seq = await s.writer.succeed(id);
    await waitFor(async () => (await s.hookLog(id)).length === 2, { what: 'two deliveries logged', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(s.sent.length, 2);
    const cbSecret = await callbackSecret(s.store, { callbackSecret: null });
    const byUrl = new Map(s.sent.map((x) => [x.url, x]));
    const cb = byUrl.get('https://cb.example.com/done?token=abc')!;
    assert.ok(verifySignature(cbSecret, cb.headers['x-jetjobs-signature'], cb.body, 60));
    assert.equal(cb.headers['x-jetjobs-event'], 'job.succeeded');
    const payload = JSON.parse(cb.body) as { deliveryId: string; event: string; seq: number; job: { id: string; state: string } };
    assert.equal(payload.event, 'job.succeeded');
    assert.equal(payload.seq, seq);
    assert.equal(payload.job.id, id);
    assert.equal(payload.job.state, 'SUCCEEDED');
    assert.equal(cb.headers['x-jetjobs-delivery'], payload.deliveryId);
    const g = byUrl.get('https://hooks.example.com/all')!;
    assert.ok(verifySignature(all.secret, g.headers['x-jetjobs-signature'], g.body, 60));
    assert.ok(!verifySignature(cbSecret, g.headers['x-jetjobs-signature'], g.body, 60));
    const entries = await s.hookLog(id);
    assert.deepEqual(entries.map((e) => [e.type, e.data.target, e.data.attempt, e.data.status]).sort(), [
      ['WebhookDelivered', 'callback', 1, 204],
      ['WebhookDelivered', all.id, 1, 204],
    ].sort());
    // url without the query string, and no secret anywhere in the log
    assert.ok(entries.some((e) => e.data.url === 'https://cb.example.com/done'));
    const raw = JSON.stringify(await s.log.readSubject(jobHookSubject(id)));
    assert.ok(!raw.includes('token=abc') && !raw.includes(cbSecret) && !raw.includes(all.secret));
    assert.deepEqual(s.handlerErrors, []);
    assert.deepEqual(s.outcomes, ['delivered', 'delivered']);
  });

  it('retries a failing target with growing delays and marks the last failure final', async () => {
    const s = await start((_x, n) => (n === 3 ? { status: 301 } : n % 2 === 0 ? { status: null, error: 'ECONNREFUSED' } : { status: 500 }));
    const id = await s.writer.submit({ callbackUrl: 'http://127.0.0.1:9/x' });
    const seq = await s.writer.fail(id);
    await waitFor(async () => (await s.hookLog(id)).some((e) => e.data.final === true), { what: 'final failure', timeoutMs: 5000, intervalMs: 2 });
    const entries = await s.hookLog(id);
    assert.deepEqual(entries.map((e) => [e.type, e.data.attempt, e.data.status, e.data.final]), [
      ['WebhookFailed', 1, 500, false],
      ['WebhookFailed', 2, null, false],
      ['WebhookFailed', 3, 301, true],
    ]);
    assert.match(entries[2]!.data.error!, /redirect/);
    assert.deepEqual(s.naks.filter((n) => n.seq === seq).map((n) => n.delayMs), [20, 40]);
    assert.ok(s.acked.includes(seq));
    assert.equal(s.sent.length, 3);
    assert.deepEqual(s.outcomes, ['retrying', 'retrying', 'failed'], 'each logged attempt is reported (metrics)');
  });

  it('a repeated delivery of the record skips targets already delivered; a redelivery request sends again', async () => {
    const s = await start(() => ({ status: 200 }));
    const hook = await createWebhook(s.store, { url: 'https://hooks.example.com/all' }, 'admin', systemClock);
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    const seq = await s.writer.stop(id);
    await waitFor(async () => (await s.hookLog(id)).length === 2, { what: 'delivered', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(JSON.parse(s.sent[0]!.body).event, 'job.stopped');
    // NATS redelivers the terminal record (e.g. an ack lost): nothing is sent twice
    const again = createHookHandler({
      eventLog: s.log, projection: s.projection, store: s.store, clock: systemClock, logger: silentLogger,
      config: { callbackSecret: null, webhookMaxAttempts: 3, webhookBackoffMs: 20, webhookTimeoutMs: 1000 },
      post: async () => assert.fail('must not post'),
    });
    const [rec] = (await s.log.readSubject(`job.${id}.ev`)).filter((r) => r.seq === seq);
    let acked = false;
    await again({ subject: rec!.subject, seq, data: Buffer.from(JSON.stringify(rec!.events)), ack: () => (acked = true), nak: () => assert.fail('nak'), working: () => undefined });
    assert.equal(acked, true);

    await s.log.append(jobHookSubject(id), [{ type: 'WebhookRedeliveryRequested', data: { target: hook.id }, meta: { jobId: id, epoch: 0, actor: 'user:alice', at: new Date().toISOString(), v: 1 } }]);
    await waitFor(async () => (await s.hookLog(id)).filter((e) => e.type === 'WebhookDelivered').length === 3, { what: 'redelivered', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(s.sent.length, 3);
    assert.equal(s.sent[2]!.url, 'https://hooks.example.com/all');
    const p = JSON.parse(s.sent[2]!.body) as { event: string; seq: number; deliveryId: string };
    assert.equal(p.event, 'job.stopped');
    assert.equal(p.seq, seq);
    assert.notEqual(p.deliveryId, JSON.parse(s.sent[0]!.body).deliveryId);
  });

  it('acks records that trigger nothing without posting (no callback, no webhooks, not terminal)', async () => {
    const s = await start(() => assert.fail('must not post'));
    const id = await s.writer.submit();
    const seq = await s.writer.succeed(id);
    await waitFor(() => s.acked.includes(seq) && s.acked.length >= 4, { what: 'all acked', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(s.sent.length, 0);
  });

  /** Retention's compaction of a finished job: its `.ev` history rolled up into one JobCompacted. */
  async function compact(s: Awaited<ReturnType<typeof setup>>, id: string): Promise<number> {
    await waitFor(() => s.projection.get(id)?.state === 'SUCCEEDED', { what: 'projection has the job finished', timeoutMs: 5000, intervalMs: 2 });
    const e = s.projection.get(id)!;
    const d = decide({ kind: 'compact', submitSeq: e.submitSeq }, e.snapshot, { actor: 'retention', at: new Date().toISOString() });
    assert.ok(d.ok);
    return (await s.log.append(jobEvSubject(id), d.events, { expectedLastSubjectSeq: e.lastEvSeq, rollup: true })).seq;
  }

  it("a job's records are handled one at a time: a compaction's resume that arrives while the first attempt is in flight continues its numbering", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // the first POST hangs until the compaction record has reached the handler, then fails
    const s = await start((_sent, n) => (n === 1 ? gate.then(() => ({ status: 500 })) : { status: 200 }));
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    await s.writer.succeed(id);
    await waitFor(() => s.sent.length === 1, { what: 'the first attempt in flight', timeoutMs: 5000, intervalMs: 2 });
    const seq = await compact(s, id);
    await waitFor(() => s.seen.includes(seq), { what: 'the compaction record given to the handler', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(s.sent.length, 1, 'the resume waits for the attempt of the same job in flight');
    release();
    await waitFor(async () => (await s.hookLog(id)).some((e) => e.type === 'WebhookDelivered'), { what: 'delivered', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual((await s.hookLog(id)).map((e) => [e.type, e.data.attempt]), [['WebhookFailed', 1], ['WebhookDelivered', 2]]);
    assert.deepEqual(s.handlerErrors, []);
  });

  it('compacting a job whose notifications were delivered sends nothing again', async () => {
    const s = await start(() => ({ status: 200 }));
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    await s.writer.succeed(id);
    await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'delivered', timeoutMs: 5000, intervalMs: 2 });
    const seq = await compact(s, id);
    await waitFor(() => s.acked.includes(seq), { what: 'compaction record acked', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(s.sent.length, 1);
  });

  it('after compaction, a webhook that existed when the job finished but has no delivery is notified; a newer one is not', async () => {
    const s = await start(() => ({ status: 200 }));
    const id = await s.writer.submit();
    const terminal = await s.writer.succeed(id);
    await waitFor(() => s.acked.includes(terminal), { what: 'terminal record handled (no targets then)', timeoutMs: 5000, intervalMs: 2 });
    const longAgo = { ...systemClock, now: () => Date.parse('2020-01-01T00:00:00Z') };
    const owed = await createWebhook(s.store, { url: 'https://hooks.example.com/owed' }, 'admin', longAgo);
    const later = { ...systemClock, now: () => Date.now() + 60_000 }; // created after the job finished
    await createWebhook(s.store, { url: 'https://hooks.example.com/newer' }, 'admin', later);
    const seq = await compact(s, id);
    await waitFor(() => s.acked.includes(seq), { what: 'compaction record acked', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual(s.sent.map((x) => x.url), ['https://hooks.example.com/owed']);
    assert.equal(JSON.parse(s.sent[0]!.body).event, 'job.succeeded');
    assert.deepEqual((await s.hookLog(id)).map((e) => [e.type, e.data.target]), [['WebhookDelivered', owed.id]]);
  });
});
