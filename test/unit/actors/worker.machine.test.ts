import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventMeta, WorkerDraining, WorkerLeft, WorkerRegistered } from '../../../actors/events.ts';
import { IllegalEventError } from '../../../actors/illegalEventError.ts';
import {
  canApplyWorker,
  evolveWorker,
  foldWorker,
  isAcceptingTasks,
  startWorker,
  toWorkerView,
  workerState,
} from '../../../actors/workerFold.ts';

const meta = (at: string, workerId = 'w1', reason?: string): EventMeta => ({
  jobId: workerId, epoch: 0, actor: `worker:${workerId}`, at, v: 1, ...(reason === undefined ? {} : { reason }),
});
const registered: WorkerRegistered = {
  type: 'WorkerRegistered',
  data: { workerId: 'w1', pool: 'default', concurrency: 4, host: 'h1', pid: 42 },
  meta: meta('t0'),
};
const draining: WorkerDraining = { type: 'WorkerDraining', data: {}, meta: meta('t1', 'w1', 'SIGTERM') };
const left: WorkerLeft = { type: 'WorkerLeft', data: {}, meta: meta('t2') };

describe('worker machine', () => {
  it('starts ACTIVE with the registration in context', () => {
    const s = startWorker(registered);
    assert.equal(workerState(s), 'ACTIVE');
    assert.equal(isAcceptingTasks(s), true);
    assert.deepEqual(toWorkerView(s), { ...registered.data, registeredAt: 't0', state: 'ACTIVE' });
  });

  it('drains, then leaves', () => {
    const d = evolveWorker(startWorker(registered), draining);
    assert.deepEqual([workerState(d), isAcceptingTasks(d), d.context.drainingSince, d.context.lastReason], ['DRAINING', false, 't1', 'SIGTERM']);
    const l = evolveWorker(d, left);
    assert.deepEqual([workerState(l), l.context.leftAt], ['LEFT', 't2']);
  });

  it('leaves straight from ACTIVE', () => {
    assert.equal(workerState(foldWorker([registered, left])), 'LEFT');
  });

  it('rejects repeats, anything after LEFT, a second registration and another worker’s events', () => {
    const d = foldWorker([registered, draining]);
    const l = foldWorker([registered, left]);
    const cases: [ReturnType<typeof startWorker>, WorkerRegistered | WorkerDraining | WorkerLeft][] = [
      [d, draining], [l, draining], [l, left], [startWorker(registered), registered], [d, registered],
      [startWorker(registered), { ...draining, meta: meta('t1', 'w2') }],
    ];
    for (const [s, ev] of cases) {
      assert.equal(canApplyWorker(s, ev), false, `${ev.type} in ${workerState(s)}`);
      assert.throws(() => evolveWorker(s, ev), IllegalEventError);
    }
  });

  it('foldWorker requires WorkerRegistered first', () => {
    assert.throws(() => foldWorker([]), RangeError);
    assert.throws(() => foldWorker([left]), IllegalEventError);
  });
});
