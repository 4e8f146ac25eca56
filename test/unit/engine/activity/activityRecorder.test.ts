/** The overview's series: counters by the events' own times, gauges carried between records, waits, the window. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobState } from '../../../../actors/events.ts';
import { createActivityRecorder, waitStats } from '../../../../engine/activity/activityRecorder.ts';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';
import type { JobEntry } from '../../../../engine/projections/jobEntry.ts';
import type { ChangeListener, JobProjection } from '../../../../engine/projections/jobProjection.ts';

const T0 = Date.parse('2026-12-05T10:00:00.000Z');

/** The part of a projection the recorder reads, with counts a test sets. */
function fakeProjection() {
  const counts: Partial<Record<JobState, number>> = {};
  const waiting: JobEntry[] = [];
  let listener: ChangeListener | undefined;
  const projection = {
    countByState: (s: JobState) => counts[s] ?? 0,
    waiting: function* () { yield* waiting; },
    onChange(l: ChangeListener) { listener = l; return () => { listener = undefined; }; },
  } as unknown as JobProjection;
  const entry = (submittedAt: string) => ({ snapshot: { context: { submittedAt } } }) as unknown as JobEntry;
  return {
    projection, counts, waiting, entry,
    apply(events: { type: string; at: number; data?: unknown }[], submittedAt = new Date(T0).toISOString()) {
      const record = { seq: 1, subject: 'job.x.ev', events: events.map((e) => ({ type: e.type, data: e.data ?? {}, meta: { at: new Date(e.at).toISOString() } })) } as unknown as LogRecord;
      listener?.(entry(submittedAt), undefined, record);
    },
    get listening() { return listener !== undefined; },
  };
}

describe('activity recorder', () => {
  it('puts finished jobs and task outcomes in the interval of their own time, ignores what is older than the window', () => {
    let now = T0 + 60_000;
    const p = fakeProjection();
    const r = createActivityRecorder({ projection: p.projection, clock: { now: () => now }, bucketMs: 10_000, windowMs: 60_000 });
    p.apply([{ type: 'TaskSucceeded', at: T0 + 15_000 }, { type: 'TaskFailed', at: T0 + 16_000 }, { type: 'JobSucceeded', at: T0 + 17_000 }]);
    p.apply([{ type: 'JobFailed', at: T0 + 55_000 }, { type: 'JobStopped', at: T0 - 1 }]); // the stop is out of the window
    const v = r.view();
    assert.equal(v.series.length, 6);
    assert.deepEqual(v.series.map((s) => s.at.slice(11, 19)), ['10:00:10', '10:00:20', '10:00:30', '10:00:40', '10:00:50', '10:01:00']);
    assert.deepEqual(v.series.map((s) => [s.succeeded, s.failed, s.stopped, s.tasksSucceeded, s.tasksFailed]), [
      [1, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0],
    ]);
    now += 30_000; // the first interval leaves the window
    assert.deepEqual(r.view().series.map((s) => s.succeeded + s.failed), [0, 1, 0, 0, 0, 0]); // 10:00:40 … 10:01:30
  });

  it('knows the gauges only from its first record on, carries them through quiet intervals, and reads them live now', () => {
    let now = T0 + 60_000;
    const p = fakeProjection();
    const r = createActivityRecorder({ projection: p.projection, clock: { now: () => now }, bucketMs: 10_000, windowMs: 60_000 });
    assert.deepEqual(r.view().series.map((s) => s.waiting), [null, null, null, null, null, null]);
    p.counts.WAITING = 4;
    p.counts.RUNNING = 2;
    p.counts.PAUSED = 1;
    p.apply([{ type: 'JobSubmitted', at: now }]);
    now += 25_000;
    p.counts.WAITING = 3; // changed with no record applied yet: the current interval reads it live
    const s = r.view().series;
    assert.deepEqual(s.map((x) => x.waiting), [null, null, null, 4, 4, 3]);
    assert.deepEqual(s.map((x) => x.active), [null, null, null, 3, 3, 3]);
  });

  it('takes the queue wait of first claims only, and the oldest wait of the jobs waiting now', () => {
    const now = T0 + 60_000;
    const p = fakeProjection();
    const r = createActivityRecorder({ projection: p.projection, clock: { now: () => now } });
    p.apply([{ type: 'JobClaimed', at: T0 + 2_000, data: { epoch: 1 } }]);
    p.apply([{ type: 'JobClaimed', at: T0 + 9_000, data: { epoch: 2 } }]); // a requeued job's claim: not a queue wait
    p.apply([{ type: 'JobClaimed', at: T0 + 6_000, data: { epoch: 1 } }]);
    p.waiting.push(p.entry(new Date(T0 + 30_000).toISOString()), p.entry(new Date(T0 + 20_000).toISOString()));
    const v = r.view();
    assert.deepEqual(v.waits, { count: 2, meanMs: 4000, p50Ms: 2000, p95Ms: 6000, maxMs: 6000 });
    assert.equal(v.oldestWaitingMs, 40_000);
    r.close();
    assert.equal(p.listening, false);
  });

  it('waitStats: nearest-rank percentiles; null for none', () => {
    assert.equal(waitStats([]), null);
    assert.deepEqual(waitStats([5, 1, 3, 2, 4, 10, 7, 8, 9, 6]), { count: 10, meanMs: 6, p50Ms: 5, p95Ms: 10, maxMs: 10 });
  });
});
