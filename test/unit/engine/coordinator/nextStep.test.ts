import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../../../actors/events.ts';
import { foldJob, jobState } from '../../../../actors/jobFold.ts';
import { nextStep, type OwnedView } from '../../../../engine/coordinator/nextStep.ts';
import type { JobEntry } from '../../../../engine/projections/jobProjection.ts';
import { jobEvents, result, runningWith } from '../../actors/jobEvents.fixture.ts';

const ev = jobEvents('job-1');

function entry(events: JobEvent[]): JobEntry {
  const snapshot = foldJob(events);
  return { id: 'job-1', snapshot, state: jobState(snapshot), submitSeq: 1, lastEvSeq: events.length };
}

/** Our bookkeeping for the job: `dispatched` taskId → attempt. */
function owned(dispatched: Record<string, number> = {}, over: Partial<OwnedView> = {}): OwnedView {
  return { dispatched: new Map(Object.entries(dispatched)), verifying: false, ...over };
}

/** RUNNING at epoch 1 with tasks t0..t{n-1}. */
const running = (n = 3, ...more: JobEvent[]) => entry([...runningWith(ev, n), ...more]);

function ownedStep(e: JobEntry, o: OwnedView) {
  const step = nextStep(e, o, false);
  assert.equal(step.kind, 'owned');
  return step as Extract<typeof step, { kind: 'owned' }>;
}

describe('nextStep', () => {
  it('waits on an unknown job, and on one of ours while our write on it is in flight', () => {
    assert.deepEqual(nextStep(undefined, owned(), false), { kind: 'wait' });
    assert.deepEqual(nextStep(undefined, undefined, false), { kind: 'wait' });
    assert.deepEqual(nextStep(running(), owned(), true), { kind: 'wait' });
  });

  it('leaves a job that is not ours to the owner-lost stop check, even while writing', () => {
    const e = running();
    assert.deepEqual(nextStep(e, undefined, false), { kind: 'notOwned', entry: e });
    assert.deepEqual(nextStep(e, undefined, true), { kind: 'notOwned', entry: e });
  });

  it('takes answered tasks (final, or re-attempted since) out of the window, and keeps those still out', () => {
    // t0 succeeded, t1 failed at attempt 1 and is pending attempt 2, t2 is still out at attempt 1.
    const e = running(3, ev.taskOk('t0'), ev.taskFail('t1', 1));
    const step = ownedStep(e, owned({ t0: 1, t1: 1, t2: 1 }));
    assert.deepEqual(step.answered, ['t0', 't1']);
    // A task dispatched again at its new attempt is in flight.
    assert.deepEqual(ownedStep(e, owned({ t1: 2, t2: 1 })).answered, []);
  });

  it('dispatches the pending tasks of a RUNNING job, in plan order, with their next attempt', () => {
    const e = running(3, ev.taskOk('t0'), ev.taskFail('t1', 1));
    const step = ownedStep(e, owned({ t2: 1 }));
    assert.equal(step.action.kind, 'dispatch');
    const pending = step.action.kind === 'dispatch' ? step.action.pending : [];
    assert.deepEqual(
      pending.map((p) => [p.task.taskId, p.nextAttempt]),
      [['t1', 2], ['t2', 1]],
    );
  });

  it('fails a RUNNING job whose failed items cross its maxFailedRatio', () => {
    const e = running(3, ev.taskOk('t0', 1, result(0, 10)));
    const step = ownedStep(e, owned());
    assert.deepEqual(step.action, {
      kind: 'fail',
      finish: {
        kind: 'finish',
        outcome: 'failed',
        error: { code: 'TOO_MANY_FAILURES', message: '10 of 30 items and 0 of 3 tasks failed (item ratio 0.333, allowed 0.2)' },
      },
    });
  });

  it('fails a RUNNING job whose failed tasks cross the ratio, though no item failed (a split file part)', () => {
    const e = running(3, ev.taskFail('t0', 1, { retryable: false }));
    const step = ownedStep(e, owned());
    assert.equal(step.action.kind, 'fail');
    const finish = step.action.kind === 'fail' ? step.action.finish : undefined;
    assert.match(JSON.stringify(finish), /0 of 30 items and 1 of 3 tasks failed/);
  });

  it('verifies a RUNNING job whose tasks are all final, and a VERIFYING one', () => {
    const done = running(2, ev.taskOk('t0'), ev.taskOk('t1'));
    assert.deepEqual(ownedStep(done, owned()).action, { kind: 'verify', fromRunning: true });
    const verifying = entry([...runningWith(ev, 2), ev.taskOk('t0'), ev.taskOk('t1'), ev.verifying(1)]);
    assert.equal(verifying.state, 'VERIFYING');
    assert.deepEqual(ownedStep(verifying, owned()).action, { kind: 'verify', fromRunning: false });
  });

  it('does nothing more for a PAUSED job, but still frees its answered tasks', () => {
    const e = entry([...runningWith(ev, 2), ev.paused(1), ev.taskOk('t0')]);
    assert.equal(e.state, 'PAUSED');
    const step = ownedStep(e, owned({ t0: 1 }));
    assert.deepEqual(step.answered, ['t0']);
    assert.deepEqual(step.action, { kind: 'none' });
  });

  describe('a stop was requested', () => {
    const stopping = (...more: JobEvent[]) => running(3, ev.taskOk('t0'), ...more, ev.stopRequested(1, 6000));

    it('waits for the tasks still in flight (answered ones do not count), arming the grace timer once', () => {
      const step = ownedStep(stopping(), owned({ t0: 1, t1: 1 }));
      assert.deepEqual(step.answered, ['t0']);
      assert.deepEqual(step.action, { kind: 'stop', step: { kind: 'wait', delayMs: 6000 } });
      const armed = ownedStep(stopping(), owned({ t1: 1 }, { stopTimer: 1 }));
      assert.deepEqual(armed.action, { kind: 'stop', step: { kind: 'wait', delayMs: undefined } });
    });

    it('stops once nothing is in flight, or when the grace passed (forced)', () => {
      assert.deepEqual(ownedStep(stopping(), owned({ t0: 1 })).action, {
        kind: 'stop',
        step: { kind: 'stop', reason: 'stop: tasks in flight finished', abortVerification: false },
      });
      assert.deepEqual(ownedStep(stopping(), owned({ t1: 1, t2: 1 }, { stopTimer: 1, stopDue: true })).action, {
        kind: 'stop',
        step: { kind: 'stop', reason: 'stop: grace period over, 2 tasks abandoned', abortVerification: false },
      });
    });

    it('stops at once, aborting the verification, while verifying (locally or in the projection)', () => {
      const abort = { kind: 'stop', step: { kind: 'stop', reason: 'stop: verification aborted', abortVerification: true } };
      assert.deepEqual(ownedStep(stopping(), owned({ t1: 1 }, { verifying: true })).action, abort);
      const verifying = entry([...runningWith(ev, 1), ev.taskOk('t0'), ev.verifying(1), ev.stopRequested(1)]);
      assert.equal(verifying.state, 'VERIFYING');
      assert.deepEqual(ownedStep(verifying, owned()).action, abort);
    });

    it('stops rather than fails or verifies, whatever the tasks say', () => {
      const failedAndDone = running(1, ev.taskOk('t0', 1, result(0, 10)), ev.stopRequested(1));
      assert.equal(ownedStep(failedAndDone, owned()).action.kind, 'stop');
    });
  });
});
