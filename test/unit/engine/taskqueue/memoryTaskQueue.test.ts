import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryTaskQueue } from '../../../../engine/taskqueue/memoryTaskQueue.ts';
import type { Delivery, TaskMessage } from '../../../../engine/taskqueue/taskQueue.ts';
import { taskQueueContract } from '../../../contract/taskQueue.contract.ts';
import { createFakeClock, fakeTime } from '../../../helpers/fakeClock.ts';

taskQueueContract('memory', async (opts) => {
  const clock = createFakeClock();
  const queue = createMemoryTaskQueue({ ...opts, clock });
  return { queue, ...fakeTime(clock), cleanup: () => queue.close() };
});

/** Lets queued microtasks and immediate callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

const task = (taskId: string, attempt = 1): TaskMessage => ({
  jobId: 'job1', taskId, attempt, epoch: 1, type: 'sleep', payload: { ms: 1 }, spec: {},
});

describe('memoryTaskQueue', () => {
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

});
