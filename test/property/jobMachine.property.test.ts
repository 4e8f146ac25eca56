/**
 * Random command sequences through decide + fold, for one job and for several interleaved jobs,
 * mixed with random task outcomes (duplicates, unknown ids, old epochs, redeliveries out of order).
 * Commands include the controls: cooperative and forced stop, recover, (de)activate, compact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JobEvent, TaskPlan } from '../../actors/events.ts';
import { decide, type CommandMeta, type JobCommand } from '../../actors/decide.ts';
import type { JobProgress } from '../../actors/jobContext.ts';
import { canApply, evolveJob, foldJob, isTerminal, jobState, taskStatus, toJobView, type JobSnapshot } from '../../actors/jobFold.ts';
import { jobEvents, result } from '../unit/actors/jobEvents.fixture.ts';

const COORDS = ['c0', 'c1', 'c2'];
const TERMINAL_EVENTS = new Set(['JobSucceeded', 'JobFailed', 'JobStopped']);
const TOTALS: (keyof JobProgress)[] = ['tasksTotal', 'itemsTotal', 'bytesTotal'];
const TASK_EVENTS = new Set(['TaskSucceeded', 'TaskFailed']);
const COUNTERS: (keyof JobProgress)[] = [
  'tasksTotal', 'tasksSucceeded', 'tasksFailed', 'itemsTotal', 'itemsDone', 'itemsFailed', 'bytesTotal', 'bytesDone',
];

const planArb: fc.Arbitrary<TaskPlan[]> = fc
  .array(fc.record({ items: fc.nat(8), bytes: fc.nat(100) }), { maxLength: 4 })
  .map((ts) => ts.map((t, i) => ({ taskId: `t${i}`, payload: null, ...t })));

type Action =
  | { t: 'cmd'; job: number; cmd: string; coord: number; fromOwner: boolean; plan: TaskPlan[] | null }
  | { t: 'outcome'; job: number; task: number; attempt: number; kind: 'ok' | 'retry' | 'fatal'; done: number; bad: number; back: number }
  | { t: 'redeliver'; job: number; pick: number };

// Weighted so that runs get deep: `stop` is always legal and would end most runs early.
const CMD_WEIGHTS: [string, number][] = [
  ['submit', 1], ['stop', 1], ['fail', 1], ['pause', 3], ['resume', 3], ['requeue', 2], ['claim', 6], ['verify', 6], ['succeed', 6],
  ['stopGrace', 2], ['forceStop', 1], ['recover', 3], ['recoverAll', 2], ['deactivate', 1], ['activate', 1], ['compact', 1],
];
const cmdArb = fc.oneof(...CMD_WEIGHTS.map(([c, weight]) => ({ weight, arbitrary: fc.constant(c) })));

const actionArb = (jobs: number): fc.Arbitrary<Action> => {
  const job = fc.nat(jobs - 1);
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({
      t: fc.constant('cmd' as const), job,
      cmd: cmdArb,
      coord: fc.nat(COORDS.length - 1), fromOwner: fc.nat(4).map((n) => n > 0),
      plan: fc.option(planArb, { freq: 4 }),
    }) },
    { weight: 6, arbitrary: fc.record({
      t: fc.constant('outcome' as const), job, task: fc.nat(5), attempt: fc.integer({ min: 1, max: 4 }),
      kind: fc.constantFrom('ok' as const, 'ok' as const, 'retry' as const, 'fatal' as const),
      done: fc.nat(10), bad: fc.nat(3), back: fc.nat(2),
    }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('redeliver' as const), job, pick: fc.nat() }) },
  );
};

interface Job {
  e: ReturnType<typeof jobEvents>;
  s: JobSnapshot;
  log: JobEvent[];
  /** Task outcomes that arrived while the job was planned and not finished (the ones that could count). */
  counting: JobEvent[];
}

function toCommand(a: Extract<Action, { t: 'cmd' }>, j: Job): JobCommand {
  const coordinatorId = COORDS[a.coord]!;
  switch (a.cmd) {
    case 'submit': return { kind: 'submit', data: j.e.submitted().data };
    case 'claim': return a.plan === null ? { kind: 'claim', coordinatorId } : { kind: 'claim', coordinatorId, tasks: a.plan };
    case 'requeue': return { kind: 'requeue', fromCoordinator: a.fromOwner ? (j.s.context.coordinatorId ?? coordinatorId) : coordinatorId };
    case 'verify': return { kind: 'startVerification' };
    case 'succeed': return { kind: 'finish', outcome: 'succeeded', summary: { ok: true } };
    case 'fail': return { kind: 'finish', outcome: 'failed', error: { code: 'TOO_MANY_FAILURES', message: 'x' } };
    case 'stopGrace': return { kind: 'stop', graceMs: 1000 };
    case 'forceStop': return { kind: 'stop', graceMs: 1000, force: true };
    case 'recover': return { kind: 'recover', mode: 'failed' };
    case 'recoverAll': return { kind: 'recover', mode: 'notSucceeded' };
    case 'deactivate': return { kind: 'setActive', active: false };
    case 'activate': return { kind: 'setActive', active: true };
    case 'compact': return { kind: 'compact' };
    default: return { kind: a.cmd as 'stop' | 'pause' | 'resume' };
  }
}

/** The events an action appends to its job (after asserting decide's verdicts are sane). */
function eventsOf(a: Action, j: Job, meta: CommandMeta): JobEvent[] {
  if (a.t === 'cmd') {
    const d = decide(toCommand(a, j), j.s, meta);
    if (!d.ok) {
      assert.doesNotMatch(d.message, /^internal:/, 'decide produced an event its machine rejects');
      return [];
    }
    return d.events;
  }
  if (a.t === 'redeliver') {
    const outcomes = j.log.filter((ev) => TASK_EVENTS.has(ev.type));
    return outcomes.length === 0 ? [] : [outcomes[a.pick % outcomes.length]!];
  }
  const epoch = Math.max(0, j.s.context.epoch - a.back);
  const taskId = `t${a.task}`;
  if (a.kind === 'ok') return [j.e.taskOk(taskId, a.attempt, result(a.done, a.bad), epoch)];
  return [j.e.taskFail(taskId, a.attempt, { retryable: a.kind === 'retry', result: result(a.done), epoch })];
}

function checkInvariants(before: JobSnapshot, after: JobSnapshot, j: Job, ev: JobEvent): void {
  const p = after.context.progress;
  const q = before.context.progress;
  assert.ok(after.context.epoch >= before.context.epoch, 'epoch never decreases');
  assert.ok(p.tasksSucceeded + p.tasksFailed <= p.tasksTotal, 'tasks counted at most once');
  assert.ok(p.itemsDone + p.itemsFailed <= p.itemsTotal, 'items counted at most once');
  assert.ok(p.bytesDone <= p.bytesTotal, 'bytes within plan');
  // Only a recovery takes counters back (it un-counts the tasks it resets); the plan's totals stay.
  if (ev.type === 'JobRecovered') for (const k of TOTALS) assert.equal(p[k], q[k], `${k} kept by a recovery`);
  else for (const k of COUNTERS) assert.ok(p[k] >= q[k], `${k} never decreases`);
  if (isTerminal(before) && ev.type !== 'JobRecovered') {
    assert.equal(jobState(after), jobState(before), 'terminal states are absorbing but for a recovery');
    assert.deepEqual(p, q, 'a finished job\'s progress is frozen');
  }
  // Counters agree with the per-task statuses (a compacted job has none left).
  if (!after.context.compacted) {
    const states = (after.context.tasks ?? []).map((t) => taskStatus(after, t.taskId)?.state);
    assert.equal(states.filter((x) => x === 'succeeded').length, p.tasksSucceeded);
    assert.equal(states.filter((x) => x === 'failed').length, p.tasksFailed);
  }
  const terminalEvents = j.log.filter((e) => TERMINAL_EVENTS.has(e.type)).length;
  assert.ok(terminalEvents <= after.context.recoveries + 1, 'at most one terminal event per run (a recovery starts a new one)');
  const lifecycleEpochs = j.log.filter((e) => !TASK_EVENTS.has(e.type)).map((e) => e.meta.epoch);
  assert.deepEqual(lifecycleEpochs, [...lifecycleEpochs].sort((x, y) => x - y), 'lifecycle epochs never decrease');
  if (ev.type === 'JobRecovered' && before.context.recoveries === 0) checkFirstRecovery(after, j);
}

/**
 * After a job's first recovery its progress equals that of a job that only ever received the
 * outcomes of the tasks the recovery kept: a recovery un-counts exactly the reset tasks.
 */
function checkFirstRecovery(after: JobSnapshot, j: Job): void {
  const c = after.context;
  if (c.tasks === null) return;
  const kept = new Set(c.tasks.filter((t) => taskStatus(after, t.taskId)?.state !== 'pending').map((t) => t.taskId));
  const fresh = foldJob([
    j.log[0]!,
    j.e.claimed(1),
    j.e.planned(c.tasks, 1),
    ...j.counting.filter((o) => o.type !== 'JobCompacted' && kept.has((o.data as { taskId: string }).taskId)).map((o) => ({ ...o, meta: { ...o.meta, epoch: 1 } }) as JobEvent),
  ]);
  assert.deepEqual(c.progress, fresh.context.progress, 'progress after a recovery is the fold of the kept tasks');
  assert.deepEqual(c.failures, fresh.context.failures, 'item failures of reset tasks are dropped');
}

function run(jobCount: number, actions: Action[]): Job[] {
  const meta: CommandMeta = { actor: 'prop', at: '2024-05-01T12:00:00.000Z' };
  const jobs: Job[] = Array.from({ length: jobCount }, (_, k) => {
    const e = jobEvents(`job-${k}`);
    const d = decide({ kind: 'submit', data: e.submitted({ maxTaskAttempts: 1 + (k % 3), maxFailedRatio: 0.3 }).data }, undefined, meta);
    assert.ok(d.ok);
    return { e, s: foldJob(d.events), log: [...d.events], counting: [] };
  });
  for (const a of actions) {
    const j = jobs[a.job]!;
    for (const ev of eventsOf(a, j, meta)) {
      assert.ok(canApply(j.s, ev), `${ev.type} must be accepted in ${jobState(j.s)}`);
      const before = j.s;
      j.s = evolveJob(j.s, ev);
      j.log.push(ev);
      if (TASK_EVENTS.has(ev.type) && before.context.tasks !== null && !isTerminal(before)) j.counting.push(ev);
      checkInvariants(before, j.s, j, ev);
      for (const other of jobs) if (other !== j) assert.equal(canApply(other.s, ev), false, 'events stay with their job');
    }
  }
  for (const j of jobs) {
    const replayed = foldJob(j.log);
    assert.deepEqual(toJobView(replayed), toJobView(j.s), 'replay from scratch equals the incremental state');
    assert.deepEqual(replayed.context, j.s.context);
  }
  return jobs;
}

describe('job machine properties (decide + fold)', () => {
  it('one job: only legal transitions, monotone counters, replay equals incremental', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(actionArb(1), { maxLength: 80, size: 'max' }), (actions) => {
        for (const j of run(1, actions)) {
          for (const ev of j.log) {
            seen.set(ev.type, (seen.get(ev.type) ?? 0) + 1);
            if (ev.type === 'JobRecovered' && ev.data.tasksReset > 0) seen.set('recovered tasks', (seen.get('recovered tasks') ?? 0) + 1);
          }
          seen.set(jobState(j.s), (seen.get(jobState(j.s)) ?? 0) + 1);
        }
      }),
      { numRuns: 400 },
    );
    // The generator must reach every event and final state, or the properties prove little.
    const wanted = ['JobClaimed', 'TasksPlanned', 'JobPaused', 'JobResumed', 'JobRequeued', 'VerificationStarted', 'JobSucceeded',
      'JobFailed', 'JobStopped', 'TaskSucceeded', 'TaskFailed', 'RUNNING', 'PAUSED', 'WAITING', 'SUCCEEDED', 'FAILED', 'STOPPED',
      'StopRequested', 'JobRecovered', 'JobActiveSet', 'JobCompacted', 'recovered tasks'];
    for (const k of wanted) assert.ok((seen.get(k) ?? 0) > 0, `never produced ${k}`);
  });

  it('several interleaved jobs stay independent', () => {
    fc.assert(
      fc.property(fc.array(actionArb(3), { maxLength: 160, size: 'max' }), (actions) => {
        run(3, actions);
      }),
      { numRuns: 200 },
    );
  });
});
