import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../../../engine/errors.ts';
import { createMemoryTaskQueue } from '../../../../engine/taskqueue/memoryTaskQueue.ts';
import type { Delivery, TaskMessage } from '../../../../engine/taskqueue/taskQueue.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

/** Lets queued microtasks and immediate callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

const task = (taskId: string, attempt = 1): TaskMessage => ({
  jobId: 'job1', taskId, attempt, epoch: 1, type: 'sleep', payload: { ms: 1 }, spec: {},
});

describe('memoryTaskQueue', () => {
  it('delivers each dispatch once (dedup by dispatch id) in order; ack removes it', async () => {
    const q = createMemoryTaskQueue({ ackWaitMs: 1_000, maxDeliver: 3, clock: createFakeClock() });
    const seen: Delivery[] = [];
    const c = q.consume('p', 4, async (d) => {
      seen.push(d);
      await d.ack();
    });
    for (const id of ['t1', 't2', 't3']) await q.dispatch('p', task(id));
    await q.dispatch('p', task('t1'));
    await q.dispatch('p', task('t1', 2)); // another attempt is another message
    await settle();
    await c.drain();
    assert.deepEqual(seen.map((d) => `${d.task.taskId}:${d.task.attempt}`), ['t1:1', 't2:1', 't3:1', 't1:2']);
    assert.ok(seen.every((d) => d.deliveryCount === 1));
  });

  it('never runs more than `concurrency` handlers at once', async () => {
    const q = createMemoryTaskQueue({ ackWaitMs: 1_000, maxDeliver: 3, clock: createFakeClock() });
    let running = 0;
    let max = 0;
    let done = 0;
    const c = q.consume('p', 3, async (d) => {
      max = Math.max(max, ++running);
      await settle();
      running--;
      done++;
      await d.ack();
    });
    await Promise.all(Array.from({ length: 10 }, (_, i) => q.dispatch('p', task(`t${i}`))));
    while (done < 10) await settle();
    await c.drain();
    assert.equal(max, 3);
  });

  it('redelivers after the ack deadline with deliveryCount 2; working() extends it', async () => {
    const clock = createFakeClock();
    const q = createMemoryTaskQueue({ ackWaitMs: 1_000, maxDeliver: 5, clock });
    const got: Delivery[] = [];
    const c = q.consume('p', 2, async (d) => void got.push(d)); // never acks by itself
    await q.dispatch('p', task('t1'));
    await settle();
    assert.equal(got.length, 1);
    await clock.advance(900);
    got[0]?.working();
    await clock.advance(900); // 1800 ms since delivery, 900 since working()
    assert.equal(got.length, 1);
    await clock.advance(100);
    assert.deepEqual(got.map((d) => d.deliveryCount), [1, 2]);
    got[0]?.working(); // the first delivery no longer owns the message
    await got[1]?.ack();
    await clock.advance(10_000);
    assert.equal(got.length, 2);
    await c.drain();
  });

  it('gives up after maxDeliver deliveries', async () => {
    const clock = createFakeClock();
    const q = createMemoryTaskQueue({ ackWaitMs: 100, maxDeliver: 3, clock });
    const counts: number[] = [];
    const c = q.consume('p', 1, async (d) => void counts.push(d.deliveryCount));
    await q.dispatch('p', task('t1'));
    await settle();
    await clock.advance(1_000);
    assert.deepEqual(counts, [1, 2, 3]);
    await c.drain();
  });

  it('nak(delay) redelivers after the delay; a throwing handler naks; term() drops', async () => {
    const clock = createFakeClock();
    const q = createMemoryTaskQueue({ ackWaitMs: 10_000, maxDeliver: 5, clock });
    const log: string[] = [];
    const c = q.consume('p', 3, async (d) => {
      log.push(`${d.task.taskId}#${d.deliveryCount}`);
      if (d.task.taskId === 'nak' && d.deliveryCount === 1) d.nak(500);
      else if (d.task.taskId === 'boom' && d.deliveryCount === 1) throw new Error('boom');
      else if (d.task.taskId === 'term') d.term();
      else await d.ack();
    });
    for (const id of ['nak', 'boom', 'term']) await q.dispatch('p', task(id));
    await settle();
    assert.deepEqual(log.sort(), ['boom#1', 'boom#2', 'nak#1', 'term#1']);
    await clock.advance(499);
    assert.ok(!log.includes('nak#2'));
    await clock.advance(1);
    assert.ok(log.includes('nak#2'));
    await clock.advance(60_000);
    assert.equal(log.filter((l) => l.startsWith('term')).length, 1);
    await c.drain();
  });

  it('shares a pool between consumers; drain waits for running handlers and stops pulling', async () => {
    const q = createMemoryTaskQueue({ ackWaitMs: 1_000, maxDeliver: 3, clock: createFakeClock() });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const byA: string[] = [];
    const byB: string[] = [];
    const a = q.consume('p', 1, async (d) => {
      byA.push(d.task.taskId);
      await gate;
      await d.ack();
    });
    await q.dispatch('p', task('t1'));
    await settle();
    let drained = false;
    const drainP = a.drain().then(() => (drained = true));
    await settle();
    assert.equal(drained, false);
    release();
    await drainP;
    const b = q.consume('p', 1, async (d) => {
      byB.push(d.task.taskId);
      await d.ack();
    });
    await q.dispatch('p', task('t2'));
    await settle();
    await b.drain();
    assert.deepEqual([byA, byB], [['t1'], ['t2']]);
  });

  it('rejects an invalid pool name', async () => {
    const q = createMemoryTaskQueue({ ackWaitMs: 1_000, maxDeliver: 3 });
    await assert.rejects(q.dispatch('a.b', task('x')), (e) => isAppError(e, 'INVALID_ID'));
  });
});
