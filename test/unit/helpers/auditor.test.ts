/** The auditor is the oracle of the simulation and fault tests: it must catch what it claims to. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../../actors/events.ts';
import type { LogRecord } from '../../../engine/eventlog/eventLog.ts';
import { audit } from '../../helpers/auditor.ts';
import { jobEvents, taskPlans } from '../actors/jobEvents.fixture.ts';

function records(jobId: string, batches: { task?: boolean; events: JobEvent[] }[]): LogRecord[] {
  return batches.map((b, i) => ({ seq: i + 1, subject: `job.${jobId}.${b.task ? 'task' : 'ev'}`, time: '', events: b.events }));
}

describe('auditor', () => {
  const e = jobEvents('j1');
  const good = [
    { events: [e.submitted()] },
    { events: [e.claimed(1), e.planned(taskPlans(2), 1)] },
    { task: true, events: [e.taskOk('t0')] },
    { task: true, events: [e.taskOk('t0')] }, // a duplicate: counted once, not a violation
    { task: true, events: [e.taskOk('t1')] },
    { events: [e.verifying(1), e.succeeded(1)] },
  ];

  it('passes a clean history, duplicates included', () => {
    const r = audit(records('j1', good), { accepted: ['j1'], requireTerminal: true });
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.states, { SUCCEEDED: 1 });
  });

  it('flags a second terminal event, an illegal event, a lost job and a non-terminal job', () => {
    const twice = audit(records('j1', [...good, { events: [e.stopped(1)] }]));
    assert.ok(twice.violations.some((v) => v.includes('2 terminal events')));
    assert.ok(twice.violations.some((v) => v.includes('illegal JobStopped')));
    const lost = audit(records('j1', good), { accepted: ['j1', 'j2'] });
    assert.ok(lost.violations.some((v) => v.startsWith('j2: accepted but not in the log')));
    const open = audit(records('j1', good.slice(0, 3)), { requireTerminal: true });
    assert.ok(open.violations.some((v) => v.includes('not terminal (RUNNING)')));
  });

  it('flags an epoch that does not increase', () => {
    const r = audit(records('j1', [{ events: [e.submitted()] }, { events: [e.claimed(1)] }, { events: [e.requeued(2)] }, { events: [e.claimed(2, 'c2')] }]));
    assert.ok(r.violations.some((v) => v.includes('epoch 2 after 2')));
  });
});
