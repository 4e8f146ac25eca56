import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stopStep } from '../../../../engine/coordinator/cooperativeStop.ts';

const base = { verifying: false, inFlight: 2, deadlinePassed: false, timerArmed: false, deadline: '2026-01-01T00:00:10.000Z', nowMs: Date.parse('2026-01-01T00:00:04.000Z') };

describe('stopStep', () => {
  it('waits for tasks in flight until the persisted deadline, arming the timer once', () => {
    assert.deepEqual(stopStep(base), { kind: 'wait', delayMs: 6000 });
    assert.deepEqual(stopStep({ ...base, timerArmed: true }), { kind: 'wait', delayMs: undefined });
    // a new owner after the deadline (or a clock past it) stops without waiting
    assert.deepEqual(stopStep({ ...base, nowMs: Date.parse('2026-01-01T00:00:11.000Z') }), { kind: 'wait', delayMs: 0 });
  });

  it('stops when nothing is in flight, when the deadline passed (forced), and at once while verifying', () => {
    assert.deepEqual(stopStep({ ...base, inFlight: 0 }), { kind: 'stop', reason: 'stop: tasks in flight finished', abortVerification: false });
    assert.deepEqual(stopStep({ ...base, deadlinePassed: true }), { kind: 'stop', reason: 'stop: grace period over, 2 tasks abandoned', abortVerification: false });
    assert.equal(stopStep({ ...base, verifying: true }).kind, 'stop');
    assert.equal((stopStep({ ...base, verifying: true }) as { abortVerification: boolean }).abortVerification, true);
  });
});
