/**
 * One contract for every TaskQueue implementation (the simulation runs on the in-memory one, so
 * this is what makes its runs count for JetStream's):
 * `taskQueueContract('memory', async (opts) => ({ queue: createMemoryTaskQueue({ ...opts, clock }), passTime: …, until: …, cleanup: … }))`.
 * Each test gets a fresh queue (its own pool names) and always calls its `cleanup`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../engine/errors.ts';
import type { Delivery, TaskMessage, TaskQueue, TaskQueueOptions } from '../../engine/taskqueue/taskQueue.ts';

export interface TaskQueueFixture {
  queue: TaskQueue;
  /**
   * Lets `ms` of the queue's time pass: a fake clock's advance in memory, real time on a server.
   * Used only where the claim is that something does NOT happen within a stretch of the queue's
   * time (a redelivery after the ack wait): no event could show its absence.
   */
  passTime(ms: number): Promise<void>;
  /**
   * Resolves once `cond` holds, letting the queue's time run meanwhile; rejects naming `what` when
   * `withinMs` of the queue's time pass first.
   */
  until(cond: () => boolean, what: string, withinMs?: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface TaskQueueContractOptions {
  /** Cases this implementation is known to fail: test title → the difference (the case is skipped, naming it). */
  knownDifferences?: Readonly<Record<string, string>>;
}

/** Long enough that only a nak, never the ack deadline, brings a task back within {@link SOON_MS}. */
const LONG_ACK_WAIT_MS = 60_000;
/** Time a queue has to do what it does at once (deliver, redeliver after a nak). */
const SOON_MS = 10_000;
/** The ack wait of the cases that wait for (or past) it. */
const SHORT_ACK_WAIT_MS = 400;

let poolNo = 0;
/** A new pool per test: a fixture may share one stream between tests. */
const newPool = () => `c${process.pid}p${++poolNo}`;
/** The dispatch msgId is (job, task, attempt, epoch) and deduplicated stream-wide: one job per pool. */
const task = (pool: string, taskId: string, attempt = 1): TaskMessage => ({
  jobId: `job-${pool}`, taskId, attempt, epoch: 1, type: 'sleep', payload: { ms: 1, nested: [1, 'two'] }, spec: { tasks: 3 },
});
const label = (d: Delivery) => `${d.task.taskId}:${d.task.attempt}#${d.deliveryCount}`;

export function taskQueueContract(name: string, make: (opts: TaskQueueOptions) => Promise<TaskQueueFixture>, options: TaskQueueContractOptions = {}): void {
  const known = options.knownDifferences ?? {};
  const test = (title: string, opts: TaskQueueOptions, fn: (f: TaskQueueFixture, pool: string) => Promise<void>) =>
    it(title, { skip: known[title] ?? false }, async () => {
      const f = await make(opts);
      try {
        await fn(f, newPool());
      } finally {
        await f.cleanup();
      }
    });

  describe(`TaskQueue contract: ${name}`, () => {
    test('delivers a task as dispatched, with deliveryCount 1; an acked task does not come back', { ackWaitMs: SHORT_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const seen: Delivery[] = [];
      const c = f.queue.consume(pool, 2, async (d) => {
        seen.push(d);
        await d.ack();
      });
      await f.queue.dispatch(pool, task(pool, 't1'));
      await f.until(() => seen.length === 1, 'the delivery', SOON_MS);
      assert.deepEqual(seen[0]?.task, task(pool, 't1'));
      assert.equal(seen[0]?.deliveryCount, 1);
      await f.passTime(3 * SHORT_ACK_WAIT_MS);
      await f.queue.dispatch(pool, task(pool, 'marker'));
      await f.until(() => seen.some((d) => d.task.taskId === 'marker'), 'the marker', SOON_MS);
      assert.deepEqual(seen.map(label), ['t1:1#1', 'marker:1#1']);
      await c.drain();
    });

    test('delivers in dispatch order; the same dispatch twice is delivered once, another attempt is another task', { ackWaitMs: LONG_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const seen: string[] = [];
      const c = f.queue.consume(pool, 1, async (d) => {
        seen.push(label(d));
        await d.ack();
      });
      for (const [id, attempt] of [['t1', 1], ['t2', 1], ['t1', 1], ['t3', 1], ['t1', 2], ['marker', 1]] as const) await f.queue.dispatch(pool, task(pool, id, attempt));
      await f.until(() => seen.includes('marker:1#1'), 'the marker', SOON_MS);
      assert.deepEqual(seen, ['t1:1#1', 't2:1#1', 't3:1#1', 't1:2#1', 'marker:1#1']);
      await c.drain();
    });

    test('runs at most `concurrency` handlers at once, and that many when tasks wait', { ackWaitMs: LONG_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      let running = 0;
      let maxRunning = 0;
      let done = 0;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const c = f.queue.consume(pool, 3, async (d) => {
        maxRunning = Math.max(maxRunning, ++running);
        await gate;
        running--;
        await d.ack();
        done++;
      });
      for (let i = 0; i < 10; i++) await f.queue.dispatch(pool, task(pool, `t${i}`));
      await f.until(() => running === 3, 'three handlers running', SOON_MS);
      open();
      await f.until(() => done === 10, 'every task', SOON_MS);
      assert.equal(maxRunning, 3);
      await c.drain();
    });

    test('an unacked delivery comes back after the ack wait with deliveryCount 2', { ackWaitMs: SHORT_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const seen: string[] = [];
      const c = f.queue.consume(pool, 1, async (d) => {
        seen.push(label(d));
        if (d.deliveryCount >= 2) await d.ack(); // the first delivery "crashes": no ack
      });
      await f.queue.dispatch(pool, task(pool, 't1'));
      await f.until(() => seen.length === 2, 'the redelivery', SOON_MS);
      await f.passTime(3 * SHORT_ACK_WAIT_MS);
      await f.queue.dispatch(pool, task(pool, 'marker'));
      await f.until(() => seen.includes('marker:1#1'), 'the marker', SOON_MS);
      assert.deepEqual(seen, ['t1:1#1', 't1:1#2', 'marker:1#1']);
      await c.drain();
    });

    test('working() holds off the redelivery past the ack wait', { ackWaitMs: 1_000, maxDeliver: 5 }, async (f, pool) => {
      const seen: string[] = [];
      let acked = false;
      const c = f.queue.consume(pool, 1, async (d) => {
        seen.push(label(d));
        if (d.task.taskId !== 'slow') return void (await d.ack());
        for (let i = 0; i < 8; i++) {
          await f.passTime(200); // 1.6 s in all, a working() every 200 ms of a 1 s ack wait
          d.working();
        }
        await d.ack();
        acked = true;
      });
      await f.queue.dispatch(pool, task(pool, 'slow'));
      await f.until(() => acked, 'the slow task acked', SOON_MS);
      await f.queue.dispatch(pool, task(pool, 'marker'));
      await f.until(() => seen.includes('marker:1#1'), 'the marker', SOON_MS);
      assert.deepEqual(seen, ['slow:1#1', 'marker:1#1']);
      await c.drain();
    });

    test('nak(delay) and a throwing handler give the task back: delivered again long before the ack wait', { ackWaitMs: LONG_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const seen: string[] = [];
      const c = f.queue.consume(pool, 2, async (d) => {
        seen.push(label(d));
        if (d.deliveryCount === 1 && d.task.taskId === 'nak') d.nak(200);
        else if (d.deliveryCount === 1 && d.task.taskId === 'boom') throw new Error('boom');
        else await d.ack();
      });
      await f.queue.dispatch(pool, task(pool, 'nak'));
      await f.queue.dispatch(pool, task(pool, 'boom'));
      await f.until(() => seen.includes('nak:1#2') && seen.includes('boom:1#2'), 'both redeliveries', SOON_MS);
      assert.deepEqual([...seen].sort(), ['boom:1#1', 'boom:1#2', 'nak:1#1', 'nak:1#2']);
      await c.drain();
    });

    test('term() drops the task for good', { ackWaitMs: SHORT_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const seen: string[] = [];
      const c = f.queue.consume(pool, 1, async (d) => {
        seen.push(label(d));
        if (d.task.taskId === 'term') d.term();
        else await d.ack();
      });
      await f.queue.dispatch(pool, task(pool, 'term'));
      await f.until(() => seen.length === 1, 'the delivery', SOON_MS);
      await f.passTime(3 * SHORT_ACK_WAIT_MS);
      await f.queue.dispatch(pool, task(pool, 'marker'));
      await f.until(() => seen.includes('marker:1#1'), 'the marker', SOON_MS);
      assert.deepEqual(seen, ['term:1#1', 'marker:1#1']);
      await c.drain();
    });

    test('after maxDeliver deliveries without an ack the task is reported to onExhausted, as dispatched, and not delivered again', { ackWaitMs: SHORT_ACK_WAIT_MS, maxDeliver: 2 }, async (f, pool) => {
      const seen: string[] = [];
      const reported: TaskMessage[] = [];
      const c = f.queue.consume(pool, 1, async (d) => {
        seen.push(label(d));
        if (d.task.taskId === 'marker') await d.ack(); // the others never ack
      }, { onExhausted: async (t) => void reported.push(t) });
      await f.queue.dispatch(pool, task(pool, 't1'));
      await f.until(() => reported.length > 0, 'the report', SOON_MS);
      assert.deepEqual(reported[0], task(pool, 't1'));
      await f.passTime(3 * SHORT_ACK_WAIT_MS);
      await f.queue.dispatch(pool, task(pool, 'marker'));
      await f.until(() => seen.includes('marker:1#1'), 'the marker', SOON_MS);
      assert.deepEqual(seen, ['t1:1#1', 't1:1#2', 'marker:1#1']);
      await c.drain();
    });

    test('consumers of one pool share it: each task goes to one of them', { ackWaitMs: LONG_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const byA: string[] = [];
      const byB: string[] = [];
      const handler = (into: string[]) => async (d: Delivery) => {
        into.push(d.task.taskId);
        await d.ack();
      };
      const a = f.queue.consume(pool, 1, handler(byA));
      const b = f.queue.consume(pool, 1, handler(byB));
      const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
      for (const id of ids) await f.queue.dispatch(pool, task(pool, id));
      await f.until(() => byA.length + byB.length >= ids.length, 'every task', SOON_MS);
      assert.deepEqual([...byA, ...byB].sort(), [...ids].sort());
      await Promise.all([a.drain(), b.drain()]);
    });

    test('drain() waits for running handlers and stops pulling: the pool\'s next task goes to another consumer', { ackWaitMs: LONG_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const order: string[] = [];
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const a = f.queue.consume(pool, 2, async (d) => {
        order.push(`a got ${d.task.taskId}`);
        await gate;
        await d.ack();
        order.push(`a done ${d.task.taskId}`);
      });
      await f.queue.dispatch(pool, task(pool, 't1'));
      await f.until(() => order.length === 1, 'a running handler', SOON_MS);
      const drained = a.drain().then(() => void order.push('a drained'));
      open();
      await drained;
      await f.queue.dispatch(pool, task(pool, 't2'));
      const b = f.queue.consume(pool, 1, async (d) => {
        order.push(`b got ${d.task.taskId}`);
        await d.ack();
      });
      await f.until(() => order.includes('b got t2'), 't2 on the second consumer', SOON_MS);
      assert.deepEqual(order, ['a got t1', 'a done t1', 'a drained', 'b got t2']);
      await b.drain();
    });

    test('close() drains every consumer', { ackWaitMs: LONG_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      const order: string[] = [];
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      f.queue.consume(pool, 1, async (d) => {
        order.push('started');
        await gate;
        await d.ack();
        order.push('finished');
      });
      await f.queue.dispatch(pool, task(pool, 't1'));
      await f.until(() => order.length === 1, 'a running handler', SOON_MS);
      const closed = f.queue.close().then(() => void order.push('closed'));
      open();
      await closed;
      assert.deepEqual(order, ['started', 'finished', 'closed']);
    });

    test('a pool name that is not a subject token is refused with INVALID_ID', { ackWaitMs: LONG_ACK_WAIT_MS, maxDeliver: 5 }, async (f, pool) => {
      await assert.rejects(f.queue.dispatch('a.b', task(pool, 't1')), (e) => isAppError(e, 'INVALID_ID'));
    });
  });
}
