/** The projection's indexes: per virtual cluster waiting queues and counts, terminal jobs, removal, compaction. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope, JobEvent, JobSubmittedData } from '../../../../actors/events.ts';
import { decide } from '../../../../actors/decide.ts';
import { evolveJob, startJob } from '../../../../actors/jobFold.ts';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../../../engine/projections/jobProjection.ts';
import { jobEvSubject, jobHookSubject, jobTaskSubject, RETENTION_REMOVED_SUBJECT } from '../../../../engine/subjects.ts';
import { jobEvents, taskPlans } from '../../actors/jobEvents.fixture.ts';

/** Feeds records to a projection with increasing sequence numbers, as a stream would. */
function feed(p: JobProjection = createJobProjection({ logger: silentLogger })) {
  let seq = 0;
  const rec = (subject: string, events: JobEvent[] | Envelope[]): LogRecord => ({ seq: ++seq, subject, time: '2024-05-01T12:00:00.000Z', events });
  return {
    p,
    ev(id: string, ...events: JobEvent[]): LogRecord {
      const r = rec(jobEvSubject(id), events);
      p.apply(r);
      return r;
    },
    task(id: string, ...events: JobEvent[]): void {
      p.apply(rec(jobTaskSubject(id), events));
    },
    raw(r: Omit<LogRecord, 'seq'>): LogRecord {
      const full = { ...r, seq: ++seq };
      p.apply(full);
      return full;
    },
  };
}

const ids = (it: Iterable<{ id: string }>) => [...it].map((e) => e.id);
const counts = (p: JobProjection) => Object.fromEntries([...p.virtualClusterCounts()].map(([k, v]) => [k, { ...v }]));

function submit(f: ReturnType<typeof feed>, id: string, over: Partial<JobSubmittedData> = {}) {
  const e = jobEvents(id);
  f.ev(id, e.submitted(over));
  return e;
}

describe('job projection', () => {
  it('queues waiting jobs per virtual cluster, highest priority first, FIFO within', () => {
    const f = feed();
    submit(f, 'a', { virtualCluster: 'gpu' });
    submit(f, 'b');
    submit(f, 'c', { virtualCluster: 'gpu', priority: 5 });
    submit(f, 'd', { priority: 5 });
    submit(f, 'e', { virtualCluster: 'gpu' });
    assert.deepEqual(ids(f.p.waiting('gpu')), ['c', 'a', 'e']);
    assert.deepEqual(ids(f.p.waiting('default')), ['d', 'b']);
    assert.deepEqual(ids(f.p.waiting()), ['c', 'd', 'a', 'b', 'e']);
    assert.deepEqual(ids(f.p.waiting('nope')), []);
  });

  it('counts waiting, active and all jobs per virtual cluster as they move', () => {
    const f = feed();
    const a = submit(f, 'a', { virtualCluster: 'gpu' });
    submit(f, 'b', { virtualCluster: 'gpu' });
    const c = submit(f, 'c');
    assert.deepEqual(counts(f.p), { gpu: { waiting: 2, active: 0, total: 2 }, default: { waiting: 1, active: 0, total: 1 } });
    f.ev('a', a.claimed(1), a.planned(taskPlans(1), 1));
    f.ev('a', a.paused(1));
    f.ev('c', c.stopped(0));
    assert.deepEqual(counts(f.p), { gpu: { waiting: 1, active: 1, total: 2 }, default: { waiting: 0, active: 0, total: 1 } });
    assert.deepEqual(ids(f.p.waiting('gpu')), ['b']);
    assert.deepEqual(ids(f.p.active()), ['a']);
  });

  it('lists terminal jobs in submission order', () => {
    const f = feed();
    const a = submit(f, 'a');
    const b = submit(f, 'b');
    submit(f, 'c');
    f.ev('b', b.stopped(0));
    f.ev('a', a.stopped(0));
    assert.deepEqual(ids(f.p.terminal()), ['a', 'b']);
  });

  it('removes a job from every index; later outcomes of it are ignored', () => {
    const f = feed();
    const a = submit(f, 'a', { virtualCluster: 'gpu' });
    submit(f, 'b');
    f.ev('a', a.stopped(0));
    assert.equal(f.p.remove('a'), true);
    assert.equal(f.p.remove('a'), false);
    assert.equal(f.p.get('a'), undefined);
    f.task('a', a.taskOk('t0'));
    assert.equal(f.p.get('a'), undefined);
    assert.deepEqual([ids(f.p.terminal()), ids(f.p.all()), ids(f.p.newestFirst())], [[], ['b'], ['b']]);
    assert.equal(f.p.countByState('STOPPED'), 0);
    assert.deepEqual(counts(f.p), { default: { waiting: 1, active: 0, total: 1 } });
    assert.equal(f.p.rejected, 0);
  });

  it('lists one owner\'s jobs newest first from its own index, with the cursor and across removals', () => {
    const f = feed();
    for (let i = 0; i < 3000; i++) submit(f, `j${i}`, { owner: i % 3 === 0 ? 'ann' : 'bob' });
    const anns = ids(f.p.newestFirst(undefined, { owner: 'ann' }));
    assert.equal(anns.length, 1000);
    assert.deepEqual(anns.slice(0, 3), ['j2997', 'j2994', 'j2991']);
    assert.deepEqual(ids(f.p.newestFirst(f.p.get('j2994')!.submitSeq, { owner: 'ann' })).slice(0, 2), ['j2991', 'j2988']);
    assert.deepEqual(ids(f.p.newestFirst(undefined, { owner: 'nobody' })), []);
    for (let i = 0; i < 2990; i++) f.p.remove(`j${i}`); // enough to sweep
    assert.deepEqual(ids(f.p.newestFirst(undefined, { owner: 'ann' })), ['j2997', 'j2994', 'j2991']);
    assert.deepEqual(ids(f.p.newestFirst(undefined, { owner: 'bob' })), ['j2999', 'j2998', 'j2996', 'j2995', 'j2993', 'j2992', 'j2990']);
  });

  it('keeps listing right after many removals (the order is swept)', () => {
    const f = feed();
    for (let i = 0; i < 3000; i++) submit(f, `j${i}`);
    for (let i = 0; i < 2990; i++) f.p.remove(`j${i}`);
    assert.deepEqual(ids(f.p.newestFirst()), Array.from({ length: 10 }, (_, k) => `j${2999 - k}`));
    assert.equal(f.p.countByState('WAITING'), 10);
  });

  it('a JobCompacted record replaces the snapshot, keeping counts and the job in place', () => {
    const f = feed();
    const a = submit(f, 'a', { virtualCluster: 'gpu' });
    submit(f, 'b', { virtualCluster: 'gpu' });
    f.ev('a', a.stopped(0));
    const entry = f.p.get('a')!;
    const d = decide({ kind: 'compact', submitSeq: entry.submitSeq }, entry.snapshot, { actor: 'system', at: '2024-05-02T00:00:00.000Z' });
    assert.ok(d.ok);
    const r = f.ev('a', ...d.events);
    const after = f.p.get('a')!;
    assert.equal(after.snapshot.context.compacted, true);
    assert.deepEqual([after.state, after.lastEvSeq, after.submitSeq], ['STOPPED', r.seq, 1]);
    assert.deepEqual(counts(f.p), { gpu: { waiting: 1, active: 0, total: 2 } });
    assert.deepEqual(ids(f.p.newestFirst()), ['b', 'a']);
    assert.equal(f.p.rejected, 0);
  });

  it('on replay, a job known only by its JobCompacted record takes its place in submission order', () => {
    const live = feed();
    const a = submit(live, 'a');
    submit(live, 'b');
    live.ev('a', a.stopped(0));
    const d = decide({ kind: 'compact', submitSeq: live.p.get('a')!.submitSeq }, live.p.get('a')!.snapshot, { actor: 'system', at: '2024-05-02T00:00:00.000Z' });
    assert.ok(d.ok);
    // What the stream holds after the rollup: b's submission, then a's snapshot.
    const replay = feed();
    replay.raw({ subject: jobEvSubject('x'), time: '', events: [] }); // seq 1: a's purged history
    submit(replay, 'b');
    replay.ev('a', ...d.events);
    assert.deepEqual(ids(replay.p.all()), ['a', 'b']);
    assert.deepEqual(ids(replay.p.newestFirst()), ['b', 'a']);
    assert.deepEqual(ids(replay.p.newestFirst(replay.p.get('b')!.submitSeq)), ['a']);
    assert.deepEqual(ids(replay.p.terminal()), ['a']);
    assert.equal(replay.p.get('a')!.state, 'STOPPED');
  });

  it('finds a job by its submit sequence: only a JobSubmitted record\'s seq, until the job is removed', () => {
    const f = feed();
    const a = submit(f, 'a'); // seq 1
    submit(f, 'b'); // seq 2
    f.ev('a', a.claimed(1), a.planned(taskPlans(1), 1)); // seq 3
    f.task('a', a.taskOk('t0')); // seq 4
    assert.equal(f.p.getBySubmitSeq(1), f.p.get('a'));
    assert.equal(f.p.getBySubmitSeq(2), f.p.get('b'));
    for (const seq of [0, 3, 4, 5, -1, 1.5]) assert.equal(f.p.getBySubmitSeq(seq), undefined, `seq ${seq}`);
    // removed by retention's JobsRemoved: gone from the index too
    f.raw({ subject: RETENTION_REMOVED_SUBJECT, time: '', events: [{ type: 'JobsRemoved', data: { jobs: [{ jobId: 'b', submitSeq: 2 }] }, meta: a.meta(0) }] });
    assert.equal(f.p.getBySubmitSeq(2), undefined);
    assert.equal(f.p.remove('a'), true);
    assert.equal(f.p.getBySubmitSeq(1), undefined);
    // the same id submitted again: a new sequence, the old one stays unknown
    const r = f.ev('a', jobEvents('a').submitted());
    assert.deepEqual([f.p.getBySubmitSeq(r.seq)?.id, f.p.getBySubmitSeq(1)], ['a', undefined]);
  });

  it('on replay, a job known only by its JobCompacted record is found by the submit sequence it carries', () => {
    const live = feed();
    const a = submit(live, 'a');
    live.ev('a', a.stopped(0));
    const entry = live.p.get('a')!;
    const d = decide({ kind: 'compact', submitSeq: entry.submitSeq }, entry.snapshot, { actor: 'system', at: '2024-05-02T00:00:00.000Z' });
    assert.ok(d.ok);
    const r = live.ev('a', ...d.events);
    assert.equal(live.p.getBySubmitSeq(1), live.p.get('a'), 'compaction keeps the entry where it was');
    assert.equal(live.p.getBySubmitSeq(r.seq), undefined);
    const replay = feed();
    replay.raw({ subject: jobEvSubject('x'), time: '', events: [] }); // seq 1: a's purged history
    replay.raw({ subject: jobEvSubject('x'), time: '', events: [] });
    replay.ev('a', ...d.events); // seq 3
    assert.equal(replay.p.getBySubmitSeq(1)?.id, 'a');
    assert.equal(replay.p.getBySubmitSeq(3), undefined);
  });

  it('ignores webhook log records and counts a rejected event without changing the job', () => {
    const f = feed();
    const a = submit(f, 'a');
    f.raw({ subject: jobHookSubject('a'), time: '', events: [{ type: 'WebhookRedeliveryRequested', data: {}, meta: a.meta(0) }] });
    f.ev('a', a.succeeded(0));
    assert.equal(f.p.rejected, 1);
    assert.equal(f.p.get('a')!.state, 'WAITING');
  });

  it('takes a writer\'s prefolded state only while the job is still where the writer folded from', () => {
    const f = feed();
    const plain = feed(); // the same records without hints: what folding gives
    const a = jobEvents('a');
    const sub = a.submitted();
    const submittedState = startJob(sub);
    f.p.prefolded(1, 'a', undefined, submittedState);
    f.ev('a', sub);
    plain.ev('a', sub);
    assert.equal(f.p.get('a')!.snapshot, submittedState, 'the hinted snapshot is used as is');
    assert.equal(f.p.prefoldedHits, 1);

    // A claim folded from the current state: taken, and equal to what folding gives.
    const claimEvents = [a.claimed(1), a.planned(taskPlans(2), 1)];
    const claimed = claimEvents.reduce(evolveJob, f.p.get('a')!.snapshot);
    f.p.prefolded(2, 'a', f.p.get('a')!.snapshot, claimed);
    f.ev('a', ...claimEvents);
    plain.ev('a', ...claimEvents);
    assert.equal(f.p.prefoldedHits, 2);
    assert.equal(f.p.get('a')!.state, 'RUNNING');
    assert.deepEqual(f.p.get('a')!.snapshot.context, plain.p.get('a')!.snapshot.context);
    assert.deepEqual(f.p.countByState('RUNNING'), 1);

    // Folded from a state the job has left (a record came in between): dropped, the record is folded.
    const stale = evolveJob(submittedState, a.stopped(0));
    f.p.prefolded(3, 'a', submittedState, stale);
    const paused = a.paused(1);
    f.ev('a', paused);
    plain.ev('a', paused);
    assert.equal(f.p.prefoldedHits, 2);
    assert.equal(f.p.get('a')!.state, 'PAUSED');

    // A hint that comes after its record was applied changes nothing.
    f.p.prefolded(3, 'a', f.p.get('a')!.snapshot, stale);
    assert.equal(f.p.get('a')!.state, 'PAUSED');
    assert.deepEqual(f.p.get('a')!.snapshot.context, plain.p.get('a')!.snapshot.context);

    // A hint for another job's record at that seq is not taken.
    f.p.prefolded(4, 'b', f.p.get('a')!.snapshot, stale);
    f.ev('a', a.resumed(1));
    assert.equal(f.p.prefoldedHits, 2);
    assert.equal(f.p.get('a')!.state, 'RUNNING');
  });
});
