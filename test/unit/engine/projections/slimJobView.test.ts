/**
 * The slim job view of a worker-only process: what it keeps of each job, when it forgets one, and
 * which records it reads. Its decisions against the full projection over random histories are in
 * test/property/slimJobView.property.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope, JobEvent, JobsRemoved } from '../../../../actors/events.ts';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';
import { createSlimJobView, SLIM_VIEW_SUBJECTS } from '../../../../engine/projections/slimJobView.ts';
import { subjectMatches } from '../../../../engine/eventlog/memoryEventLog.ts';
import { RETENTION_REMOVED_SUBJECT } from '../../../../engine/subjects.ts';
import { AT, jobEvents, result, taskPlans } from '../../actors/jobEvents.fixture.ts';

/** A log of records for the view, numbered as appended. */
function recorder() {
  const view = createSlimJobView();
  let seq = 0;
  const changes: string[] = [];
  view.onChange((jobId, job) => changes.push(`${jobId}:${job.terminal ? 'T' : 'L'}${job.epoch}`));
  const put = (subject: string, ...events: Envelope[]): number => {
    const r: LogRecord = { seq: ++seq, subject, time: AT, events };
    view.apply(r);
    return r.seq;
  };
  const removal = (jobs: { jobId: string; submitSeq: number }[], pending?: boolean, sinceSeq?: number): JobsRemoved => ({
    type: 'JobsRemoved', data: { jobs, ...(pending ? { pending } : {}), ...(sinceSeq !== undefined ? { sinceSeq } : {}) },
    meta: { jobId: '', epoch: 0, actor: 'retention', at: AT, v: 1 },
  });
  return { view, changes, put, removal, skip: (n: number) => void (seq += n) };
}

const ev = (id: string) => `job.${id}.ev`;
const task = (id: string) => `job.${id}.task`;

describe('slim job view', () => {
  it('a job\'s life: epoch from claims and requeues, terminal from its end, nothing kept but epoch and submit sequence once it succeeded', () => {
    const { view, put, changes } = recorder();
    const e = jobEvents('a');
    const submitSeq = put(ev('a'), e.submitted());
    assert.deepEqual([view.get('a')?.terminal, view.get('a')?.epoch], [false, 0]);
    put(ev('a'), e.claimed(1), e.planned(taskPlans(2), 1));
    put(task('a'), e.taskOk('t0', 1, result(10), 1));
    put(ev('a'), e.requeued(2, 'c1'));
    put(ev('a'), e.claimed(3, 'c2'));
    assert.deepEqual([view.get('a')?.terminal, view.get('a')?.epoch], [false, 3]);
    put(task('a'), e.taskOk('t1', 1, result(10), 3));
    put(ev('a'), e.verifying(3), e.succeeded(3));
    const done = view.get('a')!;
    assert.deepEqual([done.terminal, done.epoch, done.floor('t0')], [true, 3, undefined]);
    assert.deepEqual(view.counts(), { live: 0, ended: 1 });
    // one call per record that changed the facts (the submit, the claim record, the requeue, the claim, the end)
    assert.deepEqual(changes, ['a:L0', 'a:L1', 'a:L2', 'a:L3', 'a:T3']);
    // late outcomes change nothing
    put(task('a'), e.taskOk('t1', 2, result(10), 3));
    assert.equal(view.get('a'), done);
    assert.equal(submitSeq, 1);
  });

  it('a job retry sets every task\'s floor above every attempt seen or in flight', () => {
    const { view, put } = recorder();
    const e = jobEvents('r');
    put(ev('r'), e.submitted());
    put(ev('r'), e.claimed(1), e.planned(taskPlans(3), 1));
    put(task('r'), e.taskFail('t0', 1, { retryable: true, epoch: 1 }));
    put(task('r'), e.taskFail('t0', 2, { retryable: false, epoch: 1 }));
    put(task('r'), e.taskOk('t1', 1, result(10), 1));
    put(ev('r'), e.retried(1, 1));
    // t0: seen 2, next 3, floor 4; t1: seen 1, floor 3; t2 (no outcome): next 1, floor 2
    assert.deepEqual(['t0', 't1', 't2'].map((t) => view.get('r')!.floor(t)), [4, 3, 2]);
    put(ev('r'), e.retried(1, 2));
    assert.deepEqual(['t0', 't1', 't2'].map((t) => view.get('r')!.floor(t)), [5, 4, 3]);
  });

  it('a recovery gives every task its next attempt as floor; outcomes before the plan take no number', () => {
    const { view, put } = recorder();
    const e = jobEvents('v');
    put(ev('v'), e.submitted());
    put(task('v'), e.taskOk('t0', 7, result(10), 0)); // before any plan: the machine ignores it
    put(ev('v'), e.claimed(1), e.planned(taskPlans(2), 1));
    put(task('v'), e.taskFail('t0', 1, { retryable: false, epoch: 1 }));
    put(ev('v'), e.failed(1));
    assert.equal(view.get('v')?.terminal, true);
    put(task('v'), e.taskOk('t1', 2, result(10), 1)); // late: its attempt number is taken all the same
    assert.deepEqual(view.counts(), { live: 1, ended: 0 }, 'a failed job keeps its floors: it may be recovered');
    put(ev('v'), e.recovered(1, 'failed', 1));
    assert.deepEqual([view.get('v')?.terminal, view.get('v')?.floor('t0'), view.get('v')?.floor('t1')], [false, 2, 3]);
  });

  it('a rollup stands for the whole job, known or not, at the epoch its context carries', () => {
    const { view, put, skip } = recorder();
    const e = jobEvents('c');
    put(ev('c'), e.submitted());
    put(ev('c'), e.claimed(1), e.planned(taskPlans(1), 1));
    // a lagging follower: the terminal records were rolled up before it read them
    put(ev('c'), e.compacted(2, { state: 'STOPPED', context: { jobId: 'c', epoch: 2 } }));
    assert.deepEqual([view.get('c')?.terminal, view.get('c')?.epoch], [true, 2]);
    assert.deepEqual(view.counts(), { live: 0, ended: 1 });
    // replay of a compacted job: the rollup first; its submit sequence names the run for removal
    const d = jobEvents('d');
    skip(10);
    put(ev('d'), d.compacted(3, { state: 'SUCCEEDED', context: { jobId: 'd', epoch: 3 }, submitSeq: 2 }));
    assert.deepEqual([view.get('d')?.terminal, view.get('d')?.epoch], [true, 3]);
    put(RETENTION_REMOVED_SUBJECT, recorder().removal([{ jobId: 'd', submitSeq: 2 }, { jobId: 'c', submitSeq: 1 }]));
    assert.equal(view.get('d'), undefined);
    assert.equal(view.get('c'), undefined, 'a job compacted while known keeps the submit sequence of its JobSubmitted');
  });

  it('a removal notice forgets only the run it names; a job submitted again starts over', () => {
    const { view, put, removal } = recorder();
    const e = jobEvents('x');
    const first = put(ev('x'), e.submitted());
    put(ev('x'), e.claimed(1), e.stopped(1));
    put(RETENTION_REMOVED_SUBJECT, removal([{ jobId: 'x', submitSeq: first + 100 }], true));
    assert.ok(view.get('x'), 'another run of the id: kept');
    put(RETENTION_REMOVED_SUBJECT, removal([{ jobId: 'x', submitSeq: first }], true));
    assert.equal(view.get('x'), undefined);
    // submitted again (an idempotency key reused after the purge)
    const second = put(ev('x'), e.submitted());
    assert.deepEqual([view.get('x')?.terminal, view.get('x')?.epoch], [false, 0]);
    put(RETENTION_REMOVED_SUBJECT, removal([{ jobId: 'x', submitSeq: first }]));
    assert.ok(view.get('x'), 'a late notice of the old run leaves the new one');
    // a view that missed the old run's removal: the new JobSubmitted (stored only on an empty subject) starts over
    const y = jobEvents('y');
    put(ev('y'), y.submitted());
    put(ev('y'), y.claimed(1), y.stopped(1));
    put(ev('y'), y.submitted());
    assert.deepEqual([view.get('y')?.terminal, view.get('y')?.epoch], [false, 0]);
    assert.ok(second > first);
  });

  it('counts a removal notice it may have missed: rolled up unread, and not made up for by the notice it read (sinceSeq)', () => {
    const { view, put, removal, skip } = recorder();
    const stoppedJob = (id: string) => {
      const e = jobEvents(id);
      const submitSeq = put(ev(id), e.submitted());
      put(ev(id), e.claimed(1), e.stopped(1));
      return { jobId: id, submitSeq };
    };
    const [a, b, c, d] = [stoppedJob('a'), stoppedJob('b'), stoppedJob('c'), stoppedJob('d')];
    // a's removal, read whole: the first notice covers every one before it (none), so does its closing one
    put(RETENTION_REMOVED_SUBJECT, removal([a], true, 0));
    const closedA = put(RETENTION_REMOVED_SUBJECT, removal([a], false, 0));
    assert.equal(view.get('a'), undefined);
    // b's removal: its two notices rolled up by c's before this view read them; c's pending notice
    // does not carry a closed notice's runs, so it covers only what came after b's closing notice
    skip(2);
    const closedB = closedA + 2;
    put(RETENTION_REMOVED_SUBJECT, removal([c], true, closedB));
    assert.deepEqual(view.missedRemovals(), { notices: 1, belowSeq: closedB });
    assert.equal(view.get('c'), undefined);
    assert.ok(view.get('b'), 'the missed notice\'s job is still held: the reconcile (slimViewRetention.ts) forgets it');
    assert.deepEqual(view.held().map(([id, job]) => [id, job.submitSeq]), [['b', b.submitSeq], ['d', d.submitSeq]]);
    const closedC = put(RETENTION_REMOVED_SUBJECT, removal([c], false, closedB));
    // d's pending notice rolled up by its closing one, which names the same runs: nothing missed
    skip(1);
    put(RETENTION_REMOVED_SUBJECT, removal([d], false, closedC));
    assert.deepEqual(view.missedRemovals(), { notices: 1, belowSeq: closedB });
    assert.equal(view.get('d'), undefined);
    // a notice of a writer older than sinceSeq may cover nothing: a possible miss
    const old = put(RETENTION_REMOVED_SUBJECT, removal([]));
    assert.deepEqual(view.missedRemovals(), { notices: 2, belowSeq: old });
    // forget() takes only the run the reconcile looked at
    const held = view.held()[0]![1];
    put(ev('b'), jobEvents('b').submitted()); // submitted again meanwhile (stored only after the purge)
    assert.equal(view.forget('b', held), false, 'a newer run read since is kept');
    const again = view.held()[0]![1];
    assert.equal(view.forget('b', again), true);
    assert.equal(view.get('b'), undefined);
  });

  it('reads only job records and removal notices, each once, in order', () => {
    const { view, put } = recorder();
    const e = jobEvents('h');
    put(ev('h'), e.submitted());
    put(`job.h.hook`, { type: 'WebhookDelivered', data: {}, meta: e.meta(0) });
    put('worker.w1.ev', { type: 'WorkerRegistered', data: {}, meta: { ...e.meta(0), jobId: 'w1' } });
    assert.equal(view.lastSeq(), 3);
    // a record applied again (a follower restart) changes nothing
    view.apply({ seq: 1, subject: ev('h'), time: AT, events: [e.claimed(1)] as JobEvent[] });
    assert.equal(view.get('h')?.epoch, 0);
    // events of another job on this subject are not this job's (the machine refuses them)
    put(ev('h'), { ...e.claimed(1), meta: { ...e.meta(1), jobId: 'other' } });
    assert.equal(view.get('h')?.epoch, 0);
    // what a worker-only process follows: no hook or worker records
    const follows = (s: string) => SLIM_VIEW_SUBJECTS.some((f) => subjectMatches(f, s));
    assert.deepEqual(['job.h.ev', 'job.h.task', 'job.h.hook', 'worker.w1.ev', RETENTION_REMOVED_SUBJECT].map(follows), [true, true, false, false, true]);
  });
});
