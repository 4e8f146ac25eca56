/** The auditor is the oracle of the simulation and fault tests: it must catch what it claims to. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../../actors/events.ts';
import type { LogRecord } from '../../../engine/eventlog/eventLog.ts';
import { audit } from '../../helpers/auditor.ts';
import { compactedContext, jobState, type JobSnapshot } from '../../../actors/jobFold.ts';
import { AT, jobEvents, taskPlans } from '../actors/jobEvents.fixture.ts';

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

describe('auditor: stop, recovery and compaction (issue 5)', () => {
  const e = jobEvents('j1');
  const start = [{ events: [e.submitted()] }, { events: [e.claimed(1), e.planned(taskPlans(2), 1)] }];
  /** Ran t0 ok and t1 failed for good, then FAILED. */
  const failedRun = [
    ...start,
    { task: true, events: [e.taskOk('t0')] },
    { task: true, events: [e.taskFail('t1', 1, { retryable: false })] },
    { events: [e.failed(1)] },
  ];
  const recoveredAndDone = [
    ...failedRun,
    { events: [e.recovered(1, 'failed', 1)] },
    { events: [e.claimed(2), e.stopRequested(2, 500)] },
    { task: true, events: [e.taskOk('t1', 2, undefined, 2)] },
    { events: [e.stopped(2)] },
  ];
  const compactionOf = (s: JobSnapshot, epoch: number) => e.compacted(epoch, { state: jobState(s), context: compactedContext(s.context), submitSeq: 1 });

  it('passes a cooperative stop and a recovered job with a second terminal event in its new run', () => {
    const r = audit(records('j1', recoveredAndDone), { accepted: ['j1'], requireTerminal: true });
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.states, { STOPPED: 1 });
    assert.equal(r.snapshots.get('j1')!.context.progress.tasksSucceeded, 2);
  });

  it('flags two terminal events in one run even around a recovery, and a recovery that is not legal', () => {
    // A recovery never makes a second terminal event in the same run legal.
    const twice = audit(records('j1', [...failedRun, { events: [e.stopped(1)] }]));
    assert.ok(twice.violations.some((v) => v.includes('2 terminal events in one run')));
    // JobRecovered of a job that has not finished is illegal.
    const early = audit(records('j1', [...start, { events: [e.recovered(1)] }]));
    assert.ok(early.violations.some((v) => v.includes('illegal JobRecovered in RUNNING')));
  });

  it('allows progress to go down at a JobRecovered, and only there', () => {
    const ok = audit(records('j1', [...failedRun, { events: [e.recovered(1, 'failed', 1)] }]));
    assert.deepEqual(ok.violations, []);
    // A JobRecovered must account for the drop: one whose tasksReset disagrees with it is flagged.
    const lying = audit(records('j1', [...failedRun, { events: [e.recovered(1, 'failed', 0)] }]));
    assert.ok(lying.violations.some((v) => v.includes('JobRecovered reset 0 tasks')));
  });

  it('ignores a late outcome after the recovered run finished: progress stays where the stop left it', () => {
    const r = audit(records('j1', [
      ...failedRun,
      { events: [e.recovered(1, 'failed', 1)] },
      { events: [e.claimed(2)] },
      { events: [e.stopped(2)] },
      // a legal, ignored late outcome: nothing changes
      { task: true, events: [e.taskOk('t1', 2, undefined, 2)] },
    ]));
    assert.deepEqual(r.violations, []);
    assert.equal(r.snapshots.get('j1')!.context.progress.tasksSucceeded, 1);
  });

  it('accepts a StopRequested whose deadline is meta.at + graceMs, and flags a forged one', () => {
    const good = audit(records('j1', [...start, { events: [e.stopRequested(1, 300)] }, { events: [e.stopped(1)] }]));
    assert.deepEqual(good.violations, []);
    const forged = { ...e.stopRequested(1, 300), data: { graceMs: 300, deadline: '2030-01-01T00:00:00.000Z' } };
    const bad = audit(records('j1', [...start, { events: [forged] }]));
    assert.ok(bad.violations.some((v) => v.includes('is not meta.at + 300 ms')));
    const zero = audit(records('j1', [...start, { events: [{ ...e.stopRequested(1, 300), data: { graceMs: 0, deadline: AT } }] }]));
    assert.ok(zero.violations.some((v) => v.includes('graceMs 0')));
    // Not on a waiting job (nobody owns it): the machine refuses it.
    const waiting = audit(records('j1', [{ events: [e.submitted()] }, { events: [e.stopRequested(0, 300)] }]));
    assert.ok(waiting.violations.some((v) => v.includes('illegal StopRequested in WAITING')));
  });

  it('passes a JobCompacted after the terminal event, and a store whose history the rollup replaced', () => {
    const full = audit(records('j1', recoveredAndDone));
    const final = full.snapshots.get('j1')!;
    const compacted = compactionOf(final, 2);
    const journal = audit(records('j1', [...recoveredAndDone, { events: [compacted] }, { task: true, events: [e.taskOk('t0', 9, undefined, 2)] }]));
    assert.deepEqual(journal.violations, []);
    assert.equal(journal.snapshots.get('j1')!.context.compacted, true);
    // After the rollup the store holds only the JobCompacted (plus outcomes not purged yet, before it).
    const store: LogRecord[] = [
      { seq: 5, subject: 'job.j1.task', time: '', events: [e.taskOk('t0')] },
      { seq: 9, subject: 'job.j1.ev', time: '', events: [compacted] },
      { seq: 10, subject: 'job.j1.ev', time: '', events: [e.activeSet(2, false)] },
    ];
    const r = audit(store, { accepted: ['j1'], requireTerminal: true });
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.states, { STOPPED: 1 });
    assert.deepEqual(r.snapshots.get('j1')!.context.progress, final.context.progress);
  });

  it('flags a JobCompacted that changes what the user sees, or comes before the job finished', () => {
    const full = audit(records('j1', failedRun)).snapshots.get('j1')!;
    const wrongProgress = e.compacted(1, { state: 'FAILED', context: { ...compactedContext(full.context), progress: { ...full.context.progress, tasksSucceeded: 0 } } });
    const a = audit(records('j1', [...failedRun, { events: [wrongProgress] }]));
    assert.ok(a.violations.some((v) => v.includes('progress changed after FAILED')));
    const wrongError = e.compacted(1, { state: 'FAILED', context: { ...compactedContext(full.context), error: { code: 'X', message: 'x' } } });
    const b = audit(records('j1', [...failedRun, { events: [wrongError] }]));
    assert.ok(b.violations.some((v) => v.includes('JobCompacted changed the error')));
    const running = audit(records('j1', [...start, { events: [e.compacted(1, { state: 'FAILED', context: compactedContext(full.context) })] }]));
    assert.ok(running.violations.some((v) => v.includes('illegal JobCompacted in RUNNING')));
    const twice = compactionOf(full, 1);
    const again = audit(records('j1', [...failedRun, { events: [twice] }, { events: [twice] }]));
    assert.ok(again.violations.some((v) => v.includes('illegal JobCompacted in FAILED (compacted)')));
    // A compacted job cannot be recovered (no plan left).
    const rec = audit(records('j1', [...failedRun, { events: [twice] }, { events: [e.recovered(1)] }]));
    assert.ok(rec.violations.some((v) => v.includes('illegal JobRecovered in FAILED (compacted)')));
    // The rollup of a job that is not terminal cannot even be restored.
    const store: LogRecord[] = [{ seq: 3, subject: 'job.j1.ev', time: '', events: [e.compacted(1, { state: 'RUNNING', context: compactedContext(full.context) })] }];
    assert.ok(audit(store).violations.some((v) => v.includes('unusable JobCompacted')));
  });
});

describe('auditor: job retries (issue 14)', () => {
  const e = jobEvents('j1');
  it('passes a run retried as a whole (progress starts over at JobRetried) that then succeeds', () => {
    const r = audit(records('j1', [
      { events: [e.submitted()] },
      { events: [e.claimed(1), e.planned(taskPlans(2), 1)] },
      { task: true, events: [e.taskOk('t0')] },
      { task: true, events: [e.taskFail('t1', 1, { retryable: false })] },
      { events: [e.retried(1, 1)] },
      { task: true, events: [e.taskOk('t1', 1)] }, // the old run's, late: ignored
      { task: true, events: [e.taskOk('t0', 3)] },
      { task: true, events: [e.taskOk('t1', 3)] },
      { events: [e.verifying(1), e.succeeded(1)] },
    ]), { accepted: ['j1'], requireTerminal: true });
    assert.deepEqual(r.violations, []);
    assert.equal(r.snapshots.get('j1')!.context.retries, 1);
  });

  it('flags a JobRetried out of turn', () => {
    const r = audit(records('j1', [{ events: [e.submitted()] }, { events: [e.claimed(1), e.planned(taskPlans(1), 1)] }, { events: [e.retried(1, 2)] }]));
    assert.ok(r.violations.some((v) => v.includes('illegal JobRetried in RUNNING')));
  });
});
