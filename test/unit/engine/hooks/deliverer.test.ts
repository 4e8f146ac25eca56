/**
 * The webhook handler over the in-memory log, with a simulated consumer of `job.*.hook` records
 * (nak = redeliver after the delay), and the due writer (hookDue.ts) that feeds it.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../engine/clock.ts';
import { createMemoryControlStore, type ControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { createHookHandler, mayTrigger, webhookBackoffMs, type PostFn, type PostResult } from '../../../../engine/hooks/deliverer.ts';
import { startHookDue, type HookDue } from '../../../../engine/hooks/hookDue.ts';
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
/** Grace of the due writers in these tests: short, so a missing due record is written soon. */
const GRACE_MS = 50;

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
  // the durable's one filter: job.*.hook
  const consumer = log.follow(1, (r) => {
    if (r.subject.endsWith('.hook')) deliver(r.subject, r.seq, Buffer.from(JSON.stringify(r.events)));
  });
  const dues: HookDue[] = [];
  /** A due writer, as in a coordinator process (`coordinatorId`) or not. */
  const dueWriter = (coordinatorId?: string, extra: { startupLookbackMs?: number; startupMaxJobs?: number } = {}) => {
    const d = startHookDue({ eventLog: log, projection, store, clock: systemClock, logger: silentLogger, graceMs: GRACE_MS, ...(coordinatorId === undefined ? {} : { coordinatorId }), ...extra });
    dues.push(d);
    return d;
  };
  await dueWriter('c-test').started;
  /** The delivery log as GET /jobs/:id/deliveries shows it: attempts and redelivery requests. */
  const hookLog = async (jobId: string) =>
    (await log.readSubject(jobHookSubject(jobId))).flatMap((r) => r.events.filter((e) => e.type !== 'WebhookDue').map((e) => ({ type: e.type, data: e.data as WebhookAttemptData & { final?: boolean; error?: string }, time: r.time })));
  /** The job's WebhookDue records: [seq, eventSeq]. */
  const dueRecords = async (jobId: string) =>
    (await log.readSubject(jobHookSubject(jobId))).flatMap((r) => r.events.filter((e) => e.type === 'WebhookDue').map((e) => [r.seq, (e.data as { eventSeq: number }).eventSeq] as const));
  return {
    log, store, projection, dues, writer: createJobWriter(log), sent, naks, acked, seen, hookLog, dueRecords, dueWriter, handlerErrors, outcomes,
    close: async () => {
      for (const d of dues) await d.stop();
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

  it('the hot-path check lets through only due records and redelivery requests', () => {
    const enc = (events: unknown[]) => Buffer.from(JSON.stringify(events));
    assert.equal(mayTrigger('job.a.ev', enc([{ type: 'JobClaimed' }])), false);
    assert.equal(mayTrigger('job.a.ev', enc([{ type: 'JobStopped' }])), false, 'terminal records trigger through their WebhookDue');
    assert.equal(mayTrigger('job.a.ev', enc([{ type: 'JobSucceeded' }])), false);
    assert.equal(mayTrigger('job.a.task', enc([{ type: 'JobSucceeded' }])), false);
    assert.equal(mayTrigger('job.a.hook', enc([{ type: 'WebhookDue' }])), true);
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
    const terminal = await s.writer.fail(id);
    await waitFor(async () => (await s.hookLog(id)).some((e) => e.data.final === true), { what: 'final failure', timeoutMs: 5000, intervalMs: 2 });
    const [[seq, eventSeq]] = await s.dueRecords(id) as [[number, number]];
    assert.equal(eventSeq, terminal);
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
    // NATS redelivers the due record (e.g. an ack lost): nothing is sent twice
    const again = createHookHandler({
      eventLog: s.log, projection: s.projection, store: s.store, clock: systemClock, logger: silentLogger,
      config: { callbackSecret: null, webhookMaxAttempts: 3, webhookBackoffMs: 20, webhookTimeoutMs: 1000 },
      post: async () => assert.fail('must not post'),
    });
    const [[dueSeq, eventSeq]] = await s.dueRecords(id) as [[number, number]];
    assert.equal(eventSeq, seq);
    const [rec] = (await s.log.readSubject(jobHookSubject(id))).filter((r) => r.seq === dueSeq);
    let acked = false;
    await again({ subject: rec!.subject, seq: dueSeq, data: Buffer.from(JSON.stringify(rec!.events)), ack: () => (acked = true), nak: () => assert.fail('nak'), working: () => undefined });
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

  it('a job with no target leaves no WebhookDue and nothing reaches the handler', async () => {
    const s = await start(() => ({ status: 200 }));
    const plain = await s.writer.submit();
    const plainEnd = await s.writer.succeed(plain);
    // a job with a target finishing after it: once it is delivered, the first one's terminal was seen long before
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    await s.writer.succeed(id);
    await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'the second job delivered', timeoutMs: 5000, intervalMs: 2 });
    assert.ok(s.projection.lastSeq() > plainEnd);
    assert.deepEqual(await s.dueRecords(plain), []);
    assert.deepEqual(await s.log.readSubject(jobHookSubject(plain)), []);
    const hookSeqs = (await s.log.readSubject(jobHookSubject(id))).map((r) => r.seq);
    assert.ok(s.seen.includes((await s.dueRecords(id))[0]![0]));
    assert.ok(s.seen.every((seq) => hookSeqs.includes(seq)), 'the handler got the other job\'s `.hook` records only');
    assert.equal(s.sent.length, 1);
  });

  it('a global webhook alone is a target: the job without a callbackUrl gets its due record and notification', async () => {
    const s = await start(() => ({ status: 200 }));
    await createWebhook(s.store, { url: 'https://hooks.example.com/failed-only', events: ['job.failed'] }, 'admin', systemClock);
    const ok = await s.writer.submit();
    await s.writer.succeed(ok);
    const bad = await s.writer.submit();
    const seq = await s.writer.fail(bad);
    await waitFor(async () => (await s.hookLog(bad)).length === 1, { what: 'the failed job notified', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual(await s.dueRecords(ok), [], 'not subscribed to job.succeeded: no target');
    assert.equal(JSON.parse(s.sent[0]!.body).seq, seq);
    assert.equal(s.sent.length, 1);
  });

  it("a job's records are handled one at a time: a second due record that arrives while the first attempt is in flight continues its numbering", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // the first POST hangs until the second due record has reached the handler, then fails
    const s = await start((_sent, n) => (n === 1 ? gate.then(() => ({ status: 500 })) : { status: 200 }));
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    const terminal = await s.writer.succeed(id);
    await waitFor(() => s.sent.length === 1, { what: 'the first attempt in flight', timeoutMs: 5000, intervalMs: 2 });
    // as written again past the msg-id window (another msg id)
    const { seq } = await s.log.append(jobHookSubject(id), [{ type: 'WebhookDue', data: { event: 'job.succeeded', eventSeq: terminal }, meta: { jobId: id, epoch: 1, actor: 'webhooks', at: new Date().toISOString(), v: 1 } }]);
    await waitFor(() => s.seen.includes(seq), { what: 'the second due record given to the handler', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(s.sent.length, 1, 'the second record waits for the attempt of the same job in flight');
    release();
    await waitFor(async () => (await s.hookLog(id)).some((e) => e.type === 'WebhookDelivered'), { what: 'delivered', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual((await s.hookLog(id)).map((e) => [e.type, e.data.attempt]), [['WebhookFailed', 1], ['WebhookDelivered', 2]]);
    assert.deepEqual(s.handlerErrors, []);
  });

  /** Retention's compaction of a finished job: its `.ev` history rolled up into one JobCompacted. */
  async function compact(s: Awaited<ReturnType<typeof setup>>, id: string): Promise<number> {
    await waitFor(() => s.projection.get(id)?.state === 'SUCCEEDED', { what: 'projection has the job finished', timeoutMs: 5000, intervalMs: 2 });
    const e = s.projection.get(id)!;
    const d = decide({ kind: 'compact', submitSeq: e.submitSeq }, e.snapshot, { actor: 'retention', at: new Date().toISOString() });
    assert.ok(d.ok);
    return (await s.log.append(jobEvSubject(id), d.events, { expectedLastSubjectSeq: e.lastEvSeq, rollup: true })).seq;
  }

  it('compacting a job whose notifications were delivered sends nothing again', async () => {
    const s = await start(() => ({ status: 200 }));
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    await s.writer.succeed(id);
    await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'delivered', timeoutMs: 5000, intervalMs: 2 });
    const seq = await compact(s, id);
    assert.ok(await s.projection.waitFor(seq, 5000));
    // a due writer started after the compaction finds nothing owed either
    await s.dueWriter('c-later').started;
    assert.equal(s.sent.length, 1);
    assert.equal((await s.dueRecords(id)).length, 1);
  });

  it('a retry pending when the job is compacted goes on: the due record is not rolled up', async () => {
    const s = await start((_x, n) => (n === 1 ? { status: 503 } : { status: 200 }));
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    await s.writer.succeed(id);
    await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'the first attempt failed', timeoutMs: 5000, intervalMs: 2 });
    await compact(s, id);
    await waitFor(async () => (await s.hookLog(id)).some((e) => e.type === 'WebhookDelivered'), { what: 'delivered after the compaction', timeoutMs: 5000, intervalMs: 2 });
    const log = await s.hookLog(id);
    assert.deepEqual(log.map((e) => [e.type, e.data.attempt]), [['WebhookFailed', 1], ['WebhookDelivered', 2]]);
    assert.equal(log[0]!.data.deliveryId, log[1]!.data.deliveryId);
  });

  it('an owner that dies after its terminal record: another coordinator writes the due record after the grace', async () => {
    const s = await start(() => ({ status: 200 }));
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    await s.writer.command(id, { kind: 'claim', coordinatorId: 'c-dead', tasks: [] }, 'coordinator:c-dead');
    await s.writer.command(id, { kind: 'startVerification' }, 'coordinator:c-dead');
    const terminal = await s.writer.command(id, { kind: 'finish', outcome: 'succeeded' }, 'coordinator:c-dead');
    assert.ok(await s.projection.waitFor(terminal, 5000));
    // c-dead never writes it; c-test (the setup's writer) waits out its grace first
    await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'delivered through the grace reconciler', timeoutMs: 5000, intervalMs: 2 });
    const due = (await s.log.readSubject(jobHookSubject(id)))[0]!;
    assert.equal(due.events[0]!.type, 'WebhookDue');
    assert.deepEqual(await s.dueRecords(id), [[due.seq, terminal]]);
    assert.equal(JSON.parse(s.sent[0]!.body).deliveryId, `${id}:${terminal}:callback`);
  });

  it('two coordinators write one due record: at once (no owner: stopped while waiting) and after the grace (owner gone)', async () => {
    const s = await start(() => ({ status: 200 }));
    s.dueWriter('c-other');
    const waiting = await s.writer.submit({ callbackUrl: 'https://cb.example.com/w' });
    const stopSeq = await s.writer.command(waiting, { kind: 'stop' }, 'user:alice');
    const orphan = await s.writer.submit({ callbackUrl: 'https://cb.example.com/o' });
    await s.writer.command(orphan, { kind: 'claim', coordinatorId: 'c-dead', tasks: [] }, 'coordinator:c-dead');
    const failSeq = await s.writer.command(orphan, { kind: 'finish', outcome: 'failed', error: { code: 'BOOM', message: 'x' } }, 'coordinator:c-dead');
    await waitFor(async () => (await s.hookLog(waiting)).length === 1 && (await s.hookLog(orphan)).length === 1, { what: 'both delivered', timeoutMs: 5000, intervalMs: 2 });
    // both writers are done once neither has anything pending
    await waitFor(() => s.projection.lastSeq() > failSeq, { what: 'the deliveries applied', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual((await s.dueRecords(waiting)).map(([, e]) => e), [stopSeq]);
    assert.deepEqual((await s.dueRecords(orphan)).map(([, e]) => e), [failSeq]);
    assert.equal(s.sent.length, 2);
  });

  // Simulation seed 297722144: the owner died after its terminal record, the other coordinator compacted
  // the job and died within its grace, and the coordinators that started skipped the compacted job.
  it('a process that starts after a job ended without a due record and was compacted writes it, under the JobCompacted seq', async () => {
    const s = await start(() => ({ status: 200 }));
    for (const d of s.dues.splice(0)) await d.stop(); // every coordinator that saw the end is gone
    const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
    await s.writer.command(id, { kind: 'claim', coordinatorId: 'c-dead', tasks: [] }, 'coordinator:c-dead');
    await s.writer.command(id, { kind: 'startVerification' }, 'coordinator:c-dead');
    await s.writer.command(id, { kind: 'finish', outcome: 'succeeded' }, 'coordinator:c-dead');
    const compacted = await compact(s, id);
    assert.ok(await s.projection.waitFor(compacted, 5000));
    await s.dueWriter('c-restarted').started;
    await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'the compacted job notified', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual((await s.dueRecords(id)).map(([, e]) => e), [compacted]);
    const body = JSON.parse(s.sent[0]!.body);
    assert.deepEqual([body.event, body.seq, body.deliveryId, body.job.state], ['job.succeeded', compacted, `${id}:${compacted}:callback`, 'SUCCEEDED']);
    // a later start finds it owed no more
    await s.dueWriter('c-later').started;
    assert.equal(s.sent.length, 1);
    assert.equal((await s.dueRecords(id)).length, 1);
  });

  it('a recovered job compacted later: a start writes the due record its last end is missing, and none when each end has one', async () => {
    const s = await start(() => ({ status: 200 }));
    const endTwice = async (lastBy: string, beforeLastEnd = async () => {}) => {
      const id = await s.writer.submit({ callbackUrl: 'https://cb.example.com/' });
      await s.writer.fail(id); // written by no coordinator: the due record goes at once
      await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'the failure notified', timeoutMs: 5000, intervalMs: 2 });
      await s.writer.command(id, { kind: 'recover', mode: 'failed' }, 'user:alice');
      await beforeLastEnd();
      await s.writer.command(id, { kind: 'claim', coordinatorId: 'c2', tasks: [] }, lastBy);
      await s.writer.command(id, { kind: 'startVerification' }, lastBy);
      await s.writer.command(id, { kind: 'finish', outcome: 'succeeded' }, lastBy);
      return id;
    };
    const both = await endTwice('test'); // its second due record goes at once too
    await waitFor(async () => (await s.hookLog(both)).length === 2, { what: 'both ends notified', timeoutMs: 5000, intervalMs: 2 });
    // its owner died before the due record of its second end, and every coordinator that saw that end too
    const missing = await endTwice('coordinator:c-dead', async () => {
      for (const d of s.dues.splice(0)) await d.stop();
    });
    await compact(s, both);
    const compacted = await compact(s, missing);
    assert.ok(await s.projection.waitFor(compacted, 5000));
    await s.dueWriter('c-restarted').started;
    await waitFor(async () => (await s.hookLog(missing)).length === 2, { what: 'the last end notified', timeoutMs: 5000, intervalMs: 2 });
    assert.equal((await s.dueRecords(missing)).at(-1)![1], compacted);
    assert.deepEqual((await s.hookLog(missing)).map((e) => e.data.event), ['job.failed', 'job.succeeded']);
    assert.equal((await s.dueRecords(both)).length, 2, 'each end of the other has its due record: nothing more');
    assert.equal((await s.hookLog(both)).length, 2);
  });

  it('a process that starts after a job ended with targets and no due record writes it; a webhook created after the job ended is not owed', async () => {
    const s = await start(() => ({ status: 200 }));
    const id = await s.writer.submit();
    const terminal = await s.writer.succeed(id);
    assert.ok(await s.projection.waitFor(terminal, 5000));
    const longAgo = { ...systemClock, now: () => Date.parse('2020-01-01T00:00:00Z') };
    const owed = await createWebhook(s.store, { url: 'https://hooks.example.com/owed' }, 'admin', longAgo);
    const later = { ...systemClock, now: () => Date.now() + 5 * 60_000 }; // created after the job finished
    await createWebhook(s.store, { url: 'https://hooks.example.com/newer' }, 'admin', later);
    await s.dueWriter('c-restarted').started;
    await waitFor(async () => (await s.hookLog(id)).length === 1, { what: 'the owed webhook notified', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual(s.sent.map((x) => x.url), ['https://hooks.example.com/owed']);
    assert.equal(JSON.parse(s.sent[0]!.body).event, 'job.succeeded');
    assert.deepEqual((await s.hookLog(id)).map((e) => [e.type, e.data.target]), [['WebhookDelivered', owed.id]]);
  });

  it('a start-up pass reads at most startupMaxJobs jobs, the most recently finished first', async () => {
    const s = await start(() => ({ status: 200 }));
    const longAgo = { ...systemClock, now: () => Date.parse('2020-01-01T00:00:00Z') };
    await createWebhook(s.store, { url: 'https://hooks.example.com/all' }, 'admin', longAgo);
    // three jobs end while no due writer runs: the first process's writer is stopped
    for (const d of s.dues.splice(0)) await d.stop();
    const ids: string[] = [];
    let last = 0;
    for (let i = 0; i < 3; i++) {
      const id = await s.writer.submit();
      last = await s.writer.succeed(id);
      ids.push(id);
      const t = Date.now();
      await waitFor(() => Date.now() > t + 1, { what: 'a later millisecond (distinct finishedAt)' });
    }
    assert.ok(await s.projection.waitFor(last, 5000));
    await s.dueWriter('c-restarted', { startupMaxJobs: 2 }).started;
    await waitFor(async () => (await s.hookLog(ids[1]!)).length === 1 && (await s.hookLog(ids[2]!)).length === 1, { what: 'the two newest notified', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual(await s.dueRecords(ids[0]!), [], 'the oldest is past the cap');
    assert.equal(s.sent.length, 2);
  });
});
