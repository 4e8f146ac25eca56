import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { foldJob, jobState } from '../../../../actors/jobFold.ts';
import type { CoordinatorContext } from '../../../../engine/coordinator/context.ts';
import { dispatch, taskRetryDelayMs } from '../../../../engine/coordinator/dispatcher.ts';
import type { Owned } from '../../../../engine/coordinator/types.ts';
import type { JobEntry } from '../../../../engine/projections/jobProjection.ts';
import type { TaskMessage } from '../../../../engine/taskqueue/taskQueue.ts';
import { jobEvents, runningWith, taskPlans } from '../../actors/jobEvents.fixture.ts';

/** The task retry backoff as it was written before it went through engine/retry.ts. */
const formerDelay = (retryBackoffMs: number, nextAttempt: number) => retryBackoffMs * 2 ** Math.min(10, nextAttempt - 2);

describe('task retry backoff', () => {
  it('gives the former numbers for every retry: base retryBackoffMs from attempt 2, doubling, capped at 2^10 times', () => {
    for (const base of [0, 1, 3, 10, 50, 100, 250, 1000, 1500, 0.5]) {
      for (let attempt = 2; attempt <= 200; attempt++) {
        assert.equal(taskRetryDelayMs(base, attempt), formerDelay(base, attempt), `base ${base}, attempt ${attempt}`);
      }
    }
    assert.equal(taskRetryDelayMs(100, 2), 100);
    assert.equal(taskRetryDelayMs(100, 3), 200);
    assert.equal(taskRetryDelayMs(100, 12), 102_400);
    assert.equal(taskRetryDelayMs(100, 13), 102_400);
    assert.equal(taskRetryDelayMs(100, Number.MAX_SAFE_INTEGER), 102_400);
  });

  it('never delays attempt 1 (the former formula, never reached for it, would have said base / 2)', () => {
    const h = fakeContext(100);
    const o = owned();
    dispatch(h.cx, h.entry, o, [{ task: taskPlans(1)[0]!, nextAttempt: 1 }]);
    assert.equal(h.timers.length, 0);
    assert.deepEqual(h.sent.map((t) => [t.taskId, t.attempt]), [['t0', 1]]);
  });

  it('holds a retry off the window until its backoff is due, then sends it', () => {
    const h = fakeContext(100);
    const o = owned();
    const pending = [{ task: taskPlans(1)[0]!, nextAttempt: 3 }];
    dispatch(h.cx, h.entry, o, pending);
    assert.deepEqual(h.timers.map((t) => t.ms), [200]);
    assert.equal(h.sent.length, 0);
    h.timers[0]!.fn();
    assert.deepEqual(h.dirty, ['job-1']);
    dispatch(h.cx, h.entry, o, pending);
    assert.deepEqual(h.sent.map((t) => [t.taskId, t.attempt]), [['t0', 3]]);
    assert.equal(h.timers.length, 1);
    assert.equal(o.retries.size, 0);
    assert.deepEqual([...o.dispatched], [['t0', 3]]);
  });
});

describe('what a task carries', () => {
  it('the job type\'s taskSpec of the spec when the type has one (an exec job\'s source stays out), else the spec', () => {
    const plain = fakeContext(100);
    dispatch(plain.cx, plain.entry, owned(), [{ task: taskPlans(1)[0]!, nextAttempt: 1 }]);
    assert.deepEqual(plain.sent[0]!.spec, plain.entry.snapshot.context.spec);

    const trimmed = fakeContext(100, { get: () => ({ taskSpec: (spec: Record<string, unknown>) => ({ ...spec, trimmed: true }) }) });
    dispatch(trimmed.cx, trimmed.entry, owned(), [{ task: taskPlans(1)[0]!, nextAttempt: 1 }]);
    assert.deepEqual(trimmed.sent[0]!.spec, { ...trimmed.entry.snapshot.context.spec, trimmed: true });
  });
});

function owned(): Owned {
  return { epoch: 1, vc: 'default', dispatched: new Map(), retries: new Map(), verifying: false, abort: new AbortController() };
}

/** Just what dispatch() uses: a window that always has room, a recording queue, clock and wake-ups. */
function fakeContext(retryBackoffMs: number, registry: { get(name: string): unknown } = { get: () => undefined }) {
  const ev = jobEvents('job-1');
  const snapshot = foldJob(runningWith(ev, 1));
  const entry: JobEntry = { id: 'job-1', snapshot, state: jobState(snapshot), submitSeq: 1, lastEvSeq: 3 };
  const timers: { fn: () => void; ms: number }[] = [];
  const sent: TaskMessage[] = [];
  const dirty: string[] = [];
  const cx = {
    config: { retryBackoffMs, pool: 'default' },
    registry,
    clock: { now: () => 0, setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms }), clearTimeout: () => undefined },
    tasks: { pass: () => () => true, count: () => undefined },
    taskQueue: { dispatch: (_pool: string, t: TaskMessage) => (sent.push(t), Promise.resolve()) },
    starved: new Set<string>(),
    owned: new Map<string, Owned>(),
    wake: { markDirty: (id: string) => dirty.push(id) },
  } as unknown as CoordinatorContext;
  return { cx, entry, timers, sent, dirty };
}
