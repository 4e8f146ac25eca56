import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stopStep } from '../../../../engine/coordinator/cooperativeStop.ts';

const base = { verifying: false, inFlight: 2, deadlinePassed: false, timerArmed: false, graceMs: 6000 };

describe('stopStep', () => {
  it('waits for tasks in flight for the whole grace, timed from now whatever the clocks say, arming the timer once', () => {
    assert.deepEqual(stopStep(base), { kind: 'wait', delayMs: 6000 });
    assert.deepEqual(stopStep({ ...base, timerArmed: true }), { kind: 'wait', delayMs: undefined });
  });

  it('stops when nothing is in flight, when the grace passed (forced), and at once while verifying', () => {
    assert.deepEqual(stopStep({ ...base, inFlight: 0 }), { kind: 'stop', reason: 'stop: tasks in flight finished', abortVerification: false });
    assert.deepEqual(stopStep({ ...base, deadlinePassed: true }), { kind: 'stop', reason: 'stop: grace period over, 2 tasks abandoned', abortVerification: false });
    assert.equal(stopStep({ ...base, verifying: true }).kind, 'stop');
    assert.equal((stopStep({ ...base, verifying: true }) as { abortVerification: boolean }).abortVerification, true);
  });
});
