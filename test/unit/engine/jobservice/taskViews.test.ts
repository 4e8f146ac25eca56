/** A job's per-task views from its folded snapshot and its `.task` records (pure; no engine). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../../../actors/events.ts';
import { foldJob } from '../../../../actors/jobFold.ts';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';
import { lastOutcomes, taskViews } from '../../../../engine/jobservice/taskViews.ts';
import { jobEvents, result, runningWith } from '../../actors/jobEvents.fixture.ts';

const e = jobEvents();

/** Outcome records as the `.task` subject holds them, written by `worker:<id>` at `at`. */
function records(outcomes: { ev: JobEvent; worker?: string; at: string }[]): LogRecord[] {
  return outcomes.map(({ ev, worker, at }, i) => ({
    seq: i + 10, subject: `job.${e.jobId}.task`, time: at,
    events: [{ ...ev, meta: { ...ev.meta, at, actor: worker === undefined ? 'coordinator:c1' : `worker:${worker}` } }],
  }) as LogRecord);
}

function views(events: JobEvent[], outs: { ev: JobEvent; worker?: string; at: string }[] = []) {
  const tasks = outs.map((o) => o.ev);
  return taskViews(foldJob([...events, ...tasks]), lastOutcomes(records(outs)));
}

describe('taskViews', () => {
  it('none before the plan', () => {
    assert.deepEqual(views([e.submitted(), e.claimed(1)]), []);
  });

  it('a running job: not-final tasks run; outcomes give time, worker, attempts; items and bytes from the plan', () => {
    const ok = e.taskOk('t0', 1, result(10));
    const v = views(runningWith(e, 2), [{ ev: ok, worker: 'w-a', at: '2024-05-01T12:00:05.000Z' }]);
    assert.deepEqual(v, [
      { taskId: 't0', index: 0, state: 'succeeded', attempts: 1, firstAttempt: 1, lastUpdated: '2024-05-01T12:00:05.000Z', worker: 'w-a', error: null, items: 10, bytes: 100, output: null },
      { taskId: 't1', index: 1, state: 'running', attempts: 0, firstAttempt: 1, lastUpdated: null, worker: null, error: null, items: 10, bytes: 100, output: null },
    ]);
  });

  it('a retried task shows its last error while it waits, none once it succeeds, and fails for good with its budget used', () => {
    const f1 = { ev: e.taskFail('t0', 1), worker: 'w-a', at: '2024-05-01T12:00:01.000Z' };
    const waiting = views(runningWith(e, 1, { maxTaskAttempts: 2 }), [f1])[0]!;
    assert.deepEqual([waiting.state, waiting.attempts, waiting.error, waiting.worker], ['running', 1, { code: 'EIO', message: 'disk error', retryable: true }, 'w-a']);
    const ok = { ev: e.taskOk('t0', 2), worker: 'w-b', at: '2024-05-01T12:00:02.000Z' };
    const done = views(runningWith(e, 1, { maxTaskAttempts: 2 }), [f1, ok])[0]!;
    assert.deepEqual([done.state, done.attempts, done.error, done.worker, done.lastUpdated], ['succeeded', 2, null, 'w-b', '2024-05-01T12:00:02.000Z']);
    const f2 = { ev: e.taskFail('t0', 2), worker: 'w-b', at: '2024-05-01T12:00:03.000Z' };
    const failed = views(runningWith(e, 1, { maxTaskAttempts: 2 }), [f1, f2])[0]!;
    assert.deepEqual([failed.state, failed.attempts, failed.error?.code, failed.worker], ['failed', 2, 'EIO', 'w-b']);
  });

  it("a final task shows its result's output (an exec instance's exit code); a task waiting for a retry shows none", () => {
    const out = { role: 'worker', index: 0, exitCode: 3 };
    const failed = views(runningWith(e, 1), [{ ev: e.taskFail('t0', 1, { retryable: false, result: { ...result(0), itemsFailed: 1, output: out } }), at: '2024-05-01T12:00:01.000Z' }])[0]!;
    assert.deepEqual([failed.state, failed.output], ['failed', out]);
    const ok = views(runningWith(e, 1), [{ ev: e.taskOk('t0', 1, { ...result(10), output: { exitCode: 0 } }), at: '2024-05-01T12:00:01.000Z' }])[0]!;
    assert.deepEqual(ok.output, { exitCode: 0 });
    const waiting = views(runningWith(e, 1, { maxTaskAttempts: 2 }), [{ ev: e.taskFail('t0', 1, { result: { ...result(0), output: out } }), at: '2024-05-01T12:00:01.000Z' }])[0]!;
    assert.deepEqual([waiting.state, waiting.output], ['running', null]);
  });

  it('a final task shows the outcome that made it final, not a duplicate run\'s late one', () => {
    const ok = { ev: e.taskOk('t0', 1), worker: 'w-a', at: '2024-05-01T12:00:01.000Z' };
    const late = { ev: e.taskFail('t0', 2, { retryable: false }), worker: 'w-b', at: '2024-05-01T12:00:09.000Z' };
    const v = views(runningWith(e, 1), [ok, late])[0]!;
    assert.deepEqual([v.state, v.worker, v.lastUpdated, v.error, v.attempts], ['succeeded', 'w-a', '2024-05-01T12:00:01.000Z', null, 2]);
  });

  it('not-final tasks are pending in a paused, requeued or finished job', () => {
    for (const more of [[e.paused(1)], [e.requeued(2)], [e.stopped(1)], [e.failed(1)]]) {
      assert.deepEqual(views([...runningWith(e, 2), ...more]).map((t) => t.state), ['pending', 'pending'], more[0]!.type);
    }
  });

  it('the worker comes from meta.actor, else the outcome\'s workerId', () => {
    const v = views(runningWith(e, 1), [{ ev: e.taskOk('t0'), at: '2024-05-01T12:00:01.000Z' }])[0]!;
    assert.equal(v.worker, 'w1');
  });

  it('a compacted job has none', () => {
    const s = foldJob([...runningWith(e, 1), e.taskOk('t0'), e.verifying(1), e.succeeded(1)]);
    const compacted = foldJob([e.compacted(1, { state: 'SUCCEEDED', context: { ...s.context, tasks: null, taskStatus: [], compacted: true } })]);
    assert.deepEqual(taskViews(compacted, new Map()), []);
    // even one whose context still held a plan
    assert.deepEqual(taskViews({ ...s, context: { ...s.context, compacted: true } } as typeof s, new Map()), []);
  });
});
