import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { transition } from 'xstate';
import type { JobEvent } from '../../../actors/events.ts';
import { jobMachine } from '../../../actors/job.machine.ts';
import {
  allTasksFinal,
  canApply,
  evolveJob,
  failedRatio,
  foldJob,
  IllegalEventError,
  isTerminal,
  jobState,
  pendingTasks,
  shouldFail,
  startJob,
  taskStatus,
  toJobView,
  type JobSnapshot,
} from '../../../actors/jobFold.ts';
import { AT, jobEvents, result, runningWith, taskPlans } from './jobEvents.fixture.ts';

const e = jobEvents();

/** Asserts the event is rejected by `s` (can() false, evolve throws IllegalEventError). */
function assertRejects(s: JobSnapshot, ev: JobEvent): void {
  assert.equal(canApply(s, ev), false, `${ev.type} should be rejected in ${jobState(s)}`);
  assert.throws(() => evolveJob(s, ev), IllegalEventError);
}

const running = () => foldJob(runningWith(e, 2));
const paused = () => evolveJob(running(), e.paused(1));
const allDone = () => foldJob([...runningWith(e, 2), e.taskOk('t0'), e.taskOk('t1')]);
const verifying = () => evolveJob(allDone(), e.verifying(1));

describe('job machine: lifecycle', () => {
  it('starts WAITING at epoch 0 with the submission in context', () => {
    const s = startJob(e.submitted({ idempotencyKey: 'k1' }));
    assert.equal(jobState(s), 'WAITING');
    const c = s.context;
    assert.deepEqual(
      [c.epoch, c.coordinatorId, c.tasks, c.pauseRequested, c.submittedAt, c.idempotencyKey, c.owner],
      [0, null, null, false, AT, 'k1', 'alice'],
    );
  });

  it('claims WAITING → RUNNING, setting epoch, owner and startedAt', () => {
    const s = evolveJob(startJob(e.submitted()), e.claimed(1, 'c7'));
    assert.equal(jobState(s), 'RUNNING');
    assert.deepEqual([s.context.epoch, s.context.coordinatorId, s.context.startedAt], [1, 'c7', AT]);
  });

  it('rejects claims with a stale, skipped or mismatched epoch, and claims outside WAITING', () => {
    const w = startJob(e.submitted());
    assertRejects(w, e.claimed(0));
    assertRejects(w, e.claimed(2));
    assertRejects(w, e.claimed(1, 'c1', 2));
    assertRejects(running(), e.claimed(2));
    assertRejects(verifying(), e.claimed(2));
  });

  it('plans tasks once, in the current epoch, with distinct ids', () => {
    const s = running();
    assert.deepEqual(s.context.progress, {
      tasksTotal: 2, tasksSucceeded: 0, tasksFailed: 0, itemsTotal: 20, itemsDone: 0, itemsFailed: 0, bytesTotal: 200, bytesDone: 0,
    });
    assertRejects(s, e.planned(taskPlans(3), 1));
    const claimed = foldJob([e.submitted(), e.claimed(1)]);
    assertRejects(claimed, e.planned(taskPlans(1), 0));
    assertRejects(claimed, e.planned([...taskPlans(1), ...taskPlans(1)], 1));
    assertRejects(startJob(e.submitted()), e.planned(taskPlans(1), 0));
    assert.equal(jobState(evolveJob(evolveJob(claimed, e.paused(1)), e.planned(taskPlans(1), 1))), 'PAUSED');
  });

  it('pauses RUNNING → PAUSED and resumes PAUSED → RUNNING; rejects the repeats', () => {
    const p = paused();
    assert.equal(jobState(p), 'PAUSED');
    assert.equal(p.context.pauseRequested, true);
    assertRejects(p, e.paused(1));
    const r = evolveJob(p, e.resumed(1));
    assert.equal(jobState(r), 'RUNNING');
    assert.equal(r.context.pauseRequested, false);
    assertRejects(r, e.resumed(1));
    assertRejects(startJob(e.submitted()), e.paused(0));
    assertRejects(startJob(e.submitted()), e.resumed(0));
    assertRejects(verifying(), e.paused(1));
  });

  it('requeues RUNNING/PAUSED/VERIFYING → WAITING with the next epoch, from the current owner', () => {
    for (const [from, s] of [['RUNNING', running()], ['PAUSED', paused()], ['VERIFYING', verifying()]] as const) {
      const w = evolveJob(s, e.requeued(2));
      assert.equal(jobState(w), 'WAITING', from);
      assert.deepEqual(
        [w.context.epoch, w.context.coordinatorId, w.context.reclaims, w.context.pauseRequested, w.context.lastReason],
        [2, null, 1, from === 'PAUSED', 'owner stale'],
      );
      assertRejects(s, e.requeued(3));
      assertRejects(s, e.requeued(1));
      assertRejects(s, e.requeued(2, 'c1', 1));
      assertRejects(s, e.requeued(2, 'c9'));
    }
    assertRejects(startJob(e.submitted()), e.requeued(1, 'c1'));
  });

  it('claims a requeued paused job back into PAUSED, keeping startedAt; resume in WAITING clears the request', () => {
    const w = evolveJob(paused(), e.requeued(2));
    const p = evolveJob(w, { ...e.claimed(3, 'c2'), meta: { ...e.meta(3), at: 'later' } });
    assert.equal(jobState(p), 'PAUSED');
    assert.deepEqual([p.context.coordinatorId, p.context.startedAt], ['c2', AT]);
    const w2 = evolveJob(w, e.resumed(2));
    assert.equal(jobState(w2), 'WAITING');
    assert.equal(w2.context.pauseRequested, false);
    assertRejects(w2, e.resumed(2));
    assert.equal(jobState(evolveJob(w2, e.claimed(3, 'c2'))), 'RUNNING');
  });

  it('requeued from VERIFYING, the next owner re-verifies at once', () => {
    const s = foldJob([...runningWith(e, 2), e.taskOk('t0'), e.taskOk('t1'), e.verifying(1), e.requeued(2), e.claimed(3, 'c2')]);
    assert.equal(jobState(s), 'RUNNING');
    assert.equal(jobState(evolveJob(s, e.verifying(3))), 'VERIFYING');
  });

  it('starts verification only when every task is final, in the current epoch', () => {
    assertRejects(running(), e.verifying(1));
    assertRejects(foldJob([e.submitted(), e.claimed(1)]), e.verifying(1));
    assertRejects(allDone(), e.verifying(0));
    assertRejects(evolveJob(allDone(), e.paused(1)), e.verifying(1));
    const empty = foldJob([e.submitted(), e.claimed(1), e.planned([], 1)]);
    assert.equal(jobState(evolveJob(empty, e.verifying(1))), 'VERIFYING');
  });

  it('succeeds only from VERIFYING in the current epoch, keeping the summary', () => {
    const s = evolveJob(verifying(), e.succeeded(1, { files: 20 }));
    assert.equal(jobState(s), 'SUCCEEDED');
    assert.deepEqual([s.context.summary, s.context.finishedAt, isTerminal(s)], [{ files: 20 }, AT, true]);
    assertRejects(verifying(), e.succeeded(0));
    assertRejects(allDone(), e.succeeded(1));
    assertRejects(paused(), e.succeeded(1));
  });

  it('fails from RUNNING, PAUSED and VERIFYING in the current epoch', () => {
    for (const s of [running(), paused(), verifying()]) {
      const f = evolveJob(s, e.failed(1));
      assert.equal(jobState(f), 'FAILED');
      assert.deepEqual(f.context.error, { code: 'TOO_MANY_FAILURES', message: 'failed ratio crossed' });
      assertRejects(s, e.failed(0));
    }
    assertRejects(startJob(e.submitted()), e.failed(0));
  });

  it('stops from every non-terminal state, whatever the epoch', () => {
    for (const s of [startJob(e.submitted()), running(), paused(), verifying()]) {
      const st = evolveJob(s, e.stopped(0, 'user asked'));
      assert.deepEqual([jobState(st), st.context.finishedAt, st.context.lastReason], ['STOPPED', AT, 'user asked']);
    }
  });

  it('rejects every lifecycle event in a terminal state, and a second JobSubmitted anywhere', () => {
    const terminals = [
      evolveJob(verifying(), e.succeeded(1)),
      evolveJob(running(), e.failed(1)),
      evolveJob(running(), e.stopped(1)),
    ];
    for (const s of terminals) {
      for (const ev of [
        e.stopped(1), e.succeeded(1), e.failed(1), e.paused(1), e.resumed(1), e.claimed(2), e.requeued(2),
        e.verifying(1), e.planned(taskPlans(1), 1), e.submitted(),
      ]) assertRejects(s, ev);
    }
    assertRejects(running(), e.submitted());
  });

  it('rejects events of another job', () => {
    assertRejects(running(), jobEvents('job-2').paused(1));
  });

  it('foldJob requires JobSubmitted first', () => {
    assert.throws(() => foldJob([]), RangeError);
    assert.throws(() => foldJob([e.claimed(1)]), IllegalEventError);
  });

  it('evolves exactly like xstate transition()', () => {
    const evs = [e.claimed(1), e.planned(taskPlans(3), 1), e.taskOk('t0'), e.taskFail('t1', 1), e.paused(1), e.requeued(2),
      e.claimed(3, 'c2'), e.resumed(3), e.taskFail('t1', 2), e.taskOk('t1', 3), e.taskOk('t2'), e.verifying(3), e.succeeded(3, 'ok'),
      e.taskOk('t0', 2)];
    let mine = startJob(e.submitted());
    let ref = startJob(e.submitted());
    for (const ev of evs) {
      mine = evolveJob(mine, ev);
      ref = transition(jobMachine, ref, ev)[0];
      assert.deepEqual([mine.value, mine.context], [ref.value, ref.context]);
    }
    assert.equal(jobState(mine), 'SUCCEEDED');
  });
});

describe('job machine: task outcomes', () => {
  it('counts a task once by distinct id (duplicate success)', () => {
    const s = foldJob([...runningWith(e, 2), e.taskOk('t0'), e.taskOk('t0', 2), e.taskOk('t0')]);
    assert.deepEqual([s.context.progress.tasksSucceeded, s.context.progress.itemsDone, s.context.progress.bytesDone], [1, 10, 100]);
    assert.equal(taskStatus(s, 't0')?.state, 'succeeded');
    assert.deepEqual(pendingTasks(s).map((p) => p.task.taskId), ['t1']);
  });

  it('ignores outcomes of unknown tasks and outcomes before the plan', () => {
    const s = foldJob([...runningWith(e, 1), e.taskOk('nope'), e.taskFail('nope', 1, { retryable: false })]);
    assert.equal(s.context.progress.tasksSucceeded + s.context.progress.tasksFailed, 0);
    const w = evolveJob(startJob(e.submitted()), e.taskOk('t0'));
    assert.deepEqual(w.context, startJob(e.submitted()).context);
  });

  it('keeps a retryable failure pending, then counts the success', () => {
    let s = foldJob([...runningWith(e, 1), e.taskFail('t0', 1, { result: result(4) })]);
    assert.deepEqual(taskStatus(s, 't0'), {
      state: 'pending', failedAttempts: [1], maxAttemptSeen: 1, error: { code: 'EIO', message: 'disk error', retryable: true },
    });
    assert.deepEqual(pendingTasks(s), [{ task: taskPlans(1)[0], nextAttempt: 2, firstAttempt: 1 }]);
    assert.equal(s.context.progress.itemsDone, 0, 'a partial result of a retried attempt is not counted');
    s = evolveJob(s, e.taskOk('t0', 2, result(8, 2)));
    const p = s.context.progress;
    assert.deepEqual([p.tasksSucceeded, p.tasksFailed, p.itemsDone, p.itemsFailed], [1, 0, 8, 2]);
    assert.deepEqual(s.context.failures, [{ taskId: 't0', item: 'f0', error: 'EIO' }, { taskId: 't0', item: 'f1', error: 'EIO' }]);
    assert.equal(allTasksFinal(s), true);
    assert.equal(failedRatio(s), 0.2);
    assert.equal(shouldFail(s), false);
  });

  it('fails a task once its distinct failed attempts reach the budget, counting partial work', () => {
    let s = foldJob([...runningWith(e, 2), e.taskFail('t0', 1), e.taskFail('t0', 1), e.taskFail('t0', 2)]);
    assert.equal(taskStatus(s, 't0')?.state, 'pending', 'a redelivered attempt 1 counts once');
    s = evolveJob(s, e.taskFail('t0', 3, { result: result(3, 1) }));
    assert.deepEqual(taskStatus(s, 't0')?.failedAttempts, [1, 2, 3]);
    const p = s.context.progress;
    assert.deepEqual([p.tasksFailed, p.itemsDone, p.itemsFailed, p.bytesDone], [1, 3, 7, 30]);
    assert.equal(failedRatio(s), 7 / 20);
    assert.equal(shouldFail(s), true);
    const after = evolveJob(s, e.taskOk('t0', 4));
    assert.deepEqual(after.context.progress, p, 'a final task ignores later outcomes');
  });

  it('fails a task at once on a non-retryable error', () => {
    const s = foldJob([...runningWith(e, 1), e.taskFail('t0', 1, { retryable: false })]);
    assert.equal(taskStatus(s, 't0')?.state, 'failed');
    assert.deepEqual([s.context.progress.tasksFailed, s.context.progress.itemsFailed], [1, 10]);
    assert.equal(allTasksFinal(s), true);
  });

  it('clamps worker numbers to the plan', () => {
    const s = foldJob([...runningWith(e, 1), e.taskOk('t0', 1, { itemsDone: 50, itemsFailed: 9, bytesDone: 1e9, failures: [] })]);
    const p = s.context.progress;
    assert.deepEqual([p.itemsDone, p.itemsFailed, p.bytesDone], [10, 0, 100]);
  });

  it('counts outcomes of an earlier epoch in WAITING and after a re-claim', () => {
    const s = foldJob([...runningWith(e, 2), e.requeued(2), e.taskOk('t0', 1), e.claimed(3, 'c2'), e.taskOk('t1', 1)]);
    assert.equal(s.context.progress.tasksSucceeded, 2);
  });

  it('accepts late outcomes in terminal states: nothing counts, but the attempt number is taken', () => {
    const stopped = foldJob([...runningWith(e, 2), e.stopped(1)]);
    for (const ev of [e.taskOk('t0', 2), e.taskFail('t1', 3, { retryable: false })]) {
      assert.equal(canApply(stopped, ev), true);
      const after = evolveJob(stopped, ev);
      assert.equal(jobState(after), 'STOPPED');
      assert.deepEqual(toJobView(after), toJobView(stopped));
      assert.equal(taskStatus(after, ev.data.taskId)?.state, 'pending');
      // a recovered run must dispatch a higher attempt: this one's outcome msgId is taken
      assert.equal(taskStatus(after, ev.data.taskId)?.maxAttemptSeen, ev.data.attempt);
    }
  });

  it('caps recorded item failures at 1000', () => {
    const evs = [...runningWith(e, 3, { maxFailedRatio: 1 }).slice(0, 2), e.planned(taskPlans(3, 600), 1)];
    const s = foldJob([...evs, e.taskOk('t0', 1, result(0, 600)), e.taskOk('t1', 1, result(0, 600)), e.taskOk('t2', 1, result(0, 600))]);
    assert.equal(s.context.failures.length, 1000);
    assert.equal(s.context.progress.itemsFailed, 1800);
  });

  it('handles plans larger than one status chunk', () => {
    let s = foldJob([e.submitted(), e.claimed(1), e.planned(taskPlans(600, 1), 1)]);
    for (let i = 599; i >= 0; i -= 7) s = evolveJob(s, e.taskOk(`t${i}`, 1, result(1)));
    assert.equal(s.context.progress.tasksSucceeded, 86);
    assert.equal(taskStatus(s, 't599')?.state, 'succeeded');
    assert.equal(taskStatus(s, 't598')?.state, 'pending');
    assert.equal(pendingTasks(s).length, 600 - 86);
  });

  it('keeps a JSON-safe context', () => {
    const s = foldJob([...runningWith(e, 2), e.taskFail('t0', 1), e.taskOk('t1', 1, result(9, 1))]);
    assert.deepEqual(JSON.parse(JSON.stringify(s.context)), s.context);
  });

  it('toJobView is plain JSON with nulls for absent values', () => {
    const v = toJobView(running());
    assert.deepEqual(JSON.parse(JSON.stringify(v)), v);
    assert.deepEqual([v.state, v.finishedAt, v.error, v.summary, v.epoch, v.coordinatorId], ['RUNNING', null, null, null, 1, 'c1']);
  });
});
