/**
 * Job retries (issue 14, E2): the `retry` command and the JobRetried event. A RUNNING or VERIFYING
 * job that would fail runs again as a whole: every task back to pending as a new attempt above every
 * attempt so far (one number skipped: an attempt in flight may hold the next), progress and item
 * failures start over, `retries` + 1, the owner and epoch kept; late outcomes of older attempts are
 * ignored. Decided, folded, replayed from stored (JSON) events, and compacted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type CommandMeta, type JobCommand } from '../../../actors/decide.ts';
import type { JobEvent } from '../../../actors/events.ts';
import { canApply, compactedContext, evolveJob, foldJob, jobState, pendingTasks, restoreJob, taskStatus, toJobView } from '../../../actors/jobFold.ts';
import { AT, jobEvents, result, runningWith, taskPlans } from './jobEvents.fixture.ts';

const e = jobEvents();
const cm: CommandMeta = { actor: 'coordinator:c1', at: AT, reason: 'a role failed' };
const error = { code: 'EXEC_FAILED', message: 'task role worker: 1 of 3 instances failed', details: { exitCode: 3 } };
const retry = (maxRetries = 1): JobCommand => ({ kind: 'retry', error, maxRetries });

/** Three tasks: t0 succeeded (attempt 1), t1 failed for good (attempts 1, 2: not retryable at 2), t2 pending with attempt 1 in flight. */
const midRun = [
  ...runningWith(e, 3),
  e.taskOk('t0', 1, result(10)),
  e.taskFail('t1', 1, { result: result(2, 8) }),
  e.taskFail('t1', 2, { retryable: false, result: result(4, 6) }),
];

function decided(history: JobEvent[], cmd: JobCommand): JobEvent[] {
  const d = decide(cmd, foldJob(history), cm);
  assert.ok(d.ok, JSON.stringify(d));
  return d.events;
}

function refused(history: JobEvent[], cmd: JobCommand, why: RegExp): void {
  const d = decide(cmd, foldJob(history), cm);
  assert.equal(d.ok, false, JSON.stringify(d));
  if (!d.ok) {
    assert.equal(d.code, 'INVALID_TRANSITION');
    assert.match(d.message, why);
    assert.doesNotMatch(d.message, /^internal:/);
  }
}

describe('job retries: decide', () => {
  it('a RUNNING job → JobRetried {attempt 1, error}, in the current epoch, with the command meta', () => {
    assert.deepEqual(decided(midRun, retry()), [{ type: 'JobRetried', data: { attempt: 1, error }, meta: { ...e.meta(1), actor: 'coordinator:c1', reason: 'a role failed' } }]);
  });

  it('a VERIFYING job → JobRetried too (back to RUNNING)', () => {
    const verifying = [...runningWith(e, 1), e.taskOk('t0'), e.verifying(1)];
    const [ev] = decided(verifying, retry());
    assert.equal(jobState(evolveJob(foldJob(verifying), ev!)), 'RUNNING');
  });

  it('the attempt counts on: the second retry is attempt 2, and none once maxRetries are used', () => {
    const once = [...midRun, e.retried(1, 1)];
    assert.deepEqual(decided(once, retry(2)).map((ev) => ev.type === 'JobRetried' && ev.data.attempt), [2]);
    refused(once, retry(1), /cannot retry a job in state RUNNING: its 1 retries are used up/);
    refused(midRun, retry(0), /its type allows no retries/);
  });

  it('refuses other states, a job being stopped, one without a plan and one with an open plan', () => {
    for (const [h, state] of [
      [[e.submitted()], 'WAITING'],
      [[...midRun, e.paused(1)], 'PAUSED'],
      [[...midRun, e.failed(1)], 'FAILED'],
      [[...midRun, e.stopped(1)], 'STOPPED'],
      [[...runningWith(e, 1), e.taskOk('t0'), e.verifying(1), e.succeeded(1)], 'SUCCEEDED'],
    ] as const) refused([...h], retry(), new RegExp(`in state ${state}: only a running or verifying job is retried`));
    refused([...midRun, e.stopRequested(1)], retry(), /it is stopping/);
    refused([e.submitted(), e.claimed(1)], retry(), /it has no plan yet/);
    const open: JobEvent = { type: 'TasksPlanned', data: { tasks: taskPlans(2), cursor: { next: 2 } }, meta: e.meta(1) };
    refused([e.submitted(), e.claimed(1), open], retry(), /its plan is open/);
  });
});

describe('job retries: the machine', () => {
  it('resets every task (succeeded and failed ones too) to pending above every attempt so far, progress and item failures start over', () => {
    const before = foldJob(midRun);
    assert.equal(before.context.failures.length, 6);
    const s = evolveJob(before, e.retried(1, 1));
    assert.equal(jobState(s), 'RUNNING');
    const c = s.context;
    assert.deepEqual([c.retries, c.epoch, c.coordinatorId, c.failures], [1, 1, 'c1', []]);
    assert.deepEqual(c.progress, { ...before.context.progress, tasksSucceeded: 0, tasksFailed: 0, itemsDone: 0, itemsFailed: 0, bytesDone: 0 });
    assert.deepEqual(['t0', 't1', 't2'].map((t) => taskStatus(s, t)), [
      { state: 'pending', failedAttempts: [], maxAttemptSeen: 1, attemptFloor: 3 },
      { state: 'pending', failedAttempts: [], maxAttemptSeen: 2, attemptFloor: 4 },
      { state: 'pending', failedAttempts: [], maxAttemptSeen: 0, attemptFloor: 2 },
    ]);
    // t2's attempt 1 may be in flight: the new run starts at 2, so its outcome cannot pass for the new attempt
    assert.deepEqual(pendingTasks(s).map((p) => [p.task.taskId, p.nextAttempt, p.firstAttempt]), [['t0', 3, 3], ['t1', 4, 4], ['t2', 2, 2]]);
    assert.equal(toJobView(s).retries, 1);
  });

  it('ignores outcomes of attempts before the retry; counts the new run\'s, with a fresh attempt budget', () => {
    let s = foldJob([...midRun, e.retried(1, 1)]);
    s = evolveJob(s, e.taskOk('t2', 1)); // the old run's instance, late
    s = evolveJob(s, e.taskFail('t1', 3, { retryable: false })); // skipped number: never dispatched, still below the floor
    assert.deepEqual([s.context.progress.tasksSucceeded, s.context.progress.tasksFailed], [0, 0]);
    assert.equal(taskStatus(s, 't2')!.maxAttemptSeen, 0, 'an outcome below the floor changes nothing');
    s = evolveJob(s, e.taskFail('t0', 3)); // retryable, first of the new run: pending
    s = evolveJob(s, e.taskFail('t0', 4)); // maxTaskAttempts 3 counts this run's failures only
    assert.deepEqual(taskStatus(s, 't0')!.failedAttempts, [3, 4]);
    assert.equal(taskStatus(s, 't0')!.state, 'pending');
    for (const ev of [e.taskOk('t0', 5), e.taskOk('t1', 4), e.taskOk('t2', 2)]) s = evolveJob(s, ev);
    assert.deepEqual([s.context.progress.tasksSucceeded, s.context.progress.itemsDone], [3, 30]);
    s = evolveJob(evolveJob(s, e.verifying(1)), e.succeeded(1));
    assert.deepEqual([jobState(s), toJobView(s).retries], ['SUCCEEDED', 1]);
  });

  it('a second retry while the first retry\'s attempt is in flight skips past that attempt too', () => {
    const s = foldJob([...runningWith(e, 1), e.retried(1, 1), e.retried(1, 2)]);
    // attempt 1 of the first run, then attempt 2 (the first retry's, maybe in flight): the next is 3
    assert.deepEqual(taskStatus(s, 't0'), { state: 'pending', failedAttempts: [], maxAttemptSeen: 0, attemptFloor: 3 });
    assert.equal(s.context.retries, 2);
    assert.equal(evolveJob(s, e.taskOk('t0', 2)).context.progress.tasksSucceeded, 0);
    assert.equal(evolveJob(s, e.taskOk('t0', 3)).context.progress.tasksSucceeded, 1);
  });

  it('refuses a JobRetried with the wrong attempt number, from another epoch, before the plan, or in other states', () => {
    const s = foldJob(midRun);
    assert.equal(canApply(s, e.retried(1, 2)), false, 'attempt must be retries + 1');
    assert.equal(canApply(s, e.retried(1, 0)), false);
    assert.equal(canApply(s, e.retried(2, 1)), false, 'a stale or future epoch');
    assert.equal(canApply(foldJob([e.submitted(), e.claimed(1)]), e.retried(1, 1)), false);
    for (const h of [[e.submitted()], [...midRun, e.paused(1)], [...midRun, e.failed(1)], [...midRun, e.stopped(1)]]) {
      assert.equal(canApply(foldJob(h), e.retried(1, 1)), false, jobState(foldJob(h)));
    }
    assert.throws(() => evolveJob(s, e.retried(1, 2)), /JobRetried/);
  });

  it('a job that fails after its retries ends FAILED with retries counted', () => {
    const s = foldJob([...midRun, e.retried(1, 1), e.taskFail('t0', 3, { retryable: false }), e.failed(1, 'EXEC_FAILED')]);
    assert.deepEqual([jobState(s), toJobView(s).retries, toJobView(s).error?.code], ['FAILED', 1, 'EXEC_FAILED']);
  });
});

describe('job retries: replay and compaction', () => {
  it('stored events (JSON) replay to the decided state', () => {
    const d = decide(retry(), foldJob(midRun), cm);
    assert.ok(d.ok);
    const stored = JSON.parse(JSON.stringify([...midRun, ...d.events, e.taskOk('t2', 1), e.taskOk('t2', 2)])) as JobEvent[];
    const replayed = foldJob(stored);
    assert.deepEqual(replayed.context, foldJob([...midRun, ...d.events, e.taskOk('t2', 2)]).context);
    assert.deepEqual([replayed.context.retries, replayed.context.progress.tasksSucceeded], [1, 1]);
  });

  it('old streams (no JobRetried, contexts without retries) replay with retries 0; a compaction keeps the count', () => {
    assert.equal(toJobView(foldJob(midRun)).retries, 0);
    const finished = foldJob([...runningWith(e, 1), e.retried(1, 1), e.taskOk('t0', 2), e.verifying(1), e.succeeded(1)]);
    const kept = restoreJob(e.compacted(1, { state: 'SUCCEEDED', context: compactedContext(finished.context) }));
    assert.equal(toJobView(kept).retries, 1);
    const old = restoreJob(e.compacted(1, { state: 'SUCCEEDED', context: { ...compactedContext(finished.context), retries: undefined } }));
    assert.equal(toJobView(old).retries, 0);
  });
});
