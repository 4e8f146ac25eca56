/**
 * Open plans (a job type that slices as it goes: TasksPlanned with a cursor, then TasksExtended) and a
 * job's own parallelism (ParallelismSet), on the job machine and the decider.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, type CommandMeta } from '../../../actors/decide.ts';
import type { JobEvent, TaskPlan, TasksExtended, TasksPlanned } from '../../../actors/events.ts';
import { getTaskStatus, type JobContext } from '../../../actors/jobContext.ts';
import { canApply, evolveJob, foldJob, jobState, toJobView, type JobSnapshot } from '../../../actors/jobFold.ts';
import { AT, jobEvents, result, taskPlans } from './jobEvents.fixture.ts';

const e = jobEvents();
const cm: CommandMeta = { actor: 'coordinator:c1', at: AT };
const ctxOf = (s: JobSnapshot) => s.context as JobContext;
const tasks = (from: number, n: number): TaskPlan[] => Array.from({ length: n }, (_, k) => ({ taskId: `s${from + k}`, payload: { k: from + k }, items: 1, bytes: 0 }));
const openPlanned = (ts: TaskPlan[], cursor: unknown, epoch = 1): TasksPlanned => ({ type: 'TasksPlanned', data: { tasks: ts, cursor }, meta: e.meta(epoch) });
const extended = (after: number, ts: TaskPlan[], cursor?: unknown, epoch = 1): TasksExtended => ({
  type: 'TasksExtended', data: { after, tasks: ts, ...(cursor !== undefined ? { cursor } : {}) }, meta: e.meta(epoch),
});
const open = (n: number): JobEvent[] => [e.submitted(), e.claimed(1), openPlanned(tasks(0, n), { next: n })];
const decided = (history: JobEvent[], cmd: Parameters<typeof decide>[0]) => decide(cmd, foldJob(history), cm);

describe('open plans', () => {
  it('a job with an open plan does not verify when its tasks are done; extensions add tasks; closing lets it finish', () => {
    let h = [...open(2), e.taskOk('s0'), e.taskOk('s1')];
    let s = foldJob(h);
    assert.equal(toJobView(s).planOpen, true);
    assert.deepEqual(decided(h, { kind: 'startVerification' }).ok, false, 'tasks done but the plan is open');
    const d = decided(h, { kind: 'extend', after: 2, tasks: tasks(2, 3), cursor: { next: 5 } });
    assert.ok(d.ok);
    h = [...h, ...d.events];
    s = foldJob(h);
    assert.deepEqual([ctxOf(s).tasks?.length, ctxOf(s).progress.tasksTotal, ctxOf(s).planCursor], [5, 5, { next: 5 }]);
    assert.equal(getTaskStatus(ctxOf(s), 's4')?.state, 'pending');
    h = [...h, e.taskOk('s2'), e.taskOk('s3'), e.taskOk('s4'), extended(5, [])];
    s = foldJob(h);
    assert.equal(toJobView(s).planOpen, false);
    const v = decided(h, { kind: 'startVerification' });
    assert.ok(v.ok && v.events.length === 1);
  });

  it('refuses a stale, duplicate or late extension: wrong `after`, known or repeated ids, a closed plan, a paused or finished job', () => {
    const h = open(2);
    for (const cmd of [
      { kind: 'extend' as const, after: 1, tasks: tasks(2, 1) },
      { kind: 'extend' as const, after: 2, tasks: tasks(1, 2) },
      { kind: 'extend' as const, after: 2, tasks: [...tasks(2, 1), ...tasks(2, 1)] },
    ]) assert.equal(decided(h, cmd).ok, false, JSON.stringify(cmd));
    assert.equal(decided([...h, extended(2, [])], { kind: 'extend', after: 2, tasks: tasks(2, 1) }).ok, false, 'closed');
    assert.equal(decided([...h, e.paused(1)], { kind: 'extend', after: 2, tasks: tasks(2, 1) }).ok, false, 'paused: no slicing');
    assert.equal(decided([...h, e.stopRequested(1)], { kind: 'extend', after: 2, tasks: tasks(2, 1) }).ok, false, 'stopping: no slicing');
    assert.equal(decided([...h, e.stopped(1)], { kind: 'extend', after: 2, tasks: tasks(2, 1) }).ok, false);
    // and the machine alone, for events that reach it from the log
    assert.equal(canApply(foldJob(h), extended(1, tasks(2, 1))), false);
    assert.equal(canApply(foldJob(h), extended(2, tasks(2, 1), undefined, 0)), false, 'an older epoch');
    assert.equal(canApply(foldJob([...h, e.paused(1)]), extended(2, tasks(2, 1))), false);
  });

  it('a complete plan cannot be extended; a recovered job keeps its open plan and slices on', () => {
    const closed = [e.submitted(), e.claimed(1), e.planned(taskPlans(1), 1)];
    assert.equal(decided(closed, { kind: 'extend', after: 1, tasks: tasks(9, 1) }).ok, false);
    const h = [...open(1), e.taskFail('s0', 1, { retryable: false }), e.failed(1)];
    const r = decided(h, { kind: 'recover', mode: 'failed' });
    assert.ok(r.ok);
    const s = foldJob([...h, ...r.events]);
    assert.deepEqual([jobState(s), ctxOf(s).planCursor], ['WAITING', { next: 1 }]);
  });

  it('an abandoned extension (folded, never stored) does not disturb the stored one: lookups by id stay right', () => {
    const base = foldJob(open(2));
    const abandoned = evolveJob(base, extended(2, [tasks(7, 1)[0]!, tasks(2, 1)[0]!], { next: 9 }));
    const real = evolveJob(base, extended(2, [tasks(2, 1)[0]!, tasks(3, 1)[0]!], { next: 4 }));
    const done = evolveJob(real, e.taskOk('s3', 1, result(1)));
    assert.equal(getTaskStatus(ctxOf(done), 's3')?.state, 'succeeded');
    assert.equal(getTaskStatus(ctxOf(done), 's2')?.state, 'pending');
    assert.equal(getTaskStatus(ctxOf(done), 's7'), undefined, 'an id only the abandoned extension had');
    assert.equal(getTaskStatus(ctxOf(abandoned), 's3'), undefined);
    assert.equal(getTaskStatus(ctxOf(base), 's2'), undefined, 'the older plan does not see later tasks');
  });

  it('any sequence of extensions counts every task once and finds each by id (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 8 }), (sizes) => {
      let s = foldJob(open(3));
      let n = 3;
      for (const k of sizes) {
        s = evolveJob(s, extended(n, tasks(n, k), { next: n + k }));
        n += k;
      }
      const c = ctxOf(s);
      assert.deepEqual([c.tasks?.length, c.progress.tasksTotal, c.progress.itemsTotal], [n, n, n]);
      for (const i of [0, n - 1, Math.floor(n / 2)]) assert.equal(getTaskStatus(c, `s${i}`)?.state, 'pending');
      const last = evolveJob(s, e.taskOk(`s${n - 1}`, 1, result(1)));
      assert.equal(ctxOf(last).progress.tasksSucceeded, 1);
    }), { numRuns: 50 });
  });
});

describe('parallelism', () => {
  it('is set at submission, changed while the job lives (the same value writes nothing), not after it finished', () => {
    const h = [e.submitted({ parallelism: 4 }), e.claimed(1), e.planned(taskPlans(2), 1)];
    assert.equal(toJobView(foldJob(h)).parallelism, 4);
    assert.deepEqual(decided(h, { kind: 'setParallelism', parallelism: 4 }), { ok: true, events: [] });
    const d = decided(h, { kind: 'setParallelism', parallelism: 1 });
    assert.ok(d.ok && d.events[0]?.type === 'ParallelismSet');
    const lifted = decided([...h, ...d.events], { kind: 'setParallelism', parallelism: null });
    assert.ok(lifted.ok);
    assert.equal(toJobView(foldJob([...h, ...d.events, ...lifted.events])).parallelism, null);
    for (const state of [[e.paused(1)], [e.stopped(1)]]) {
      const r = decided([...h, ...state], { kind: 'setParallelism', parallelism: 2 });
      assert.equal(r.ok, state[0]!.type === 'JobPaused', state[0]!.type);
    }
    assert.equal(decided([e.submitted()], { kind: 'setParallelism', parallelism: 2 }).ok, true, 'a waiting job too');
  });
});
