/**
 * The slim job view of a worker-only process (engine/projections/slimJobView.ts) against the full
 * projection (the job machine's fold), over random valid histories of a few interleaved jobs: the
 * commands through `decide` (claims with open and closed plans, extensions, requeues, pauses, stops,
 * failures, recoveries, job retries, (de)activation, compaction as a rollup), random task outcomes
 * (old epochs, any attempt, redeliveries) and removals. Each record is applied to both as a live
 * follower would, and the stored log (rolled up and purged) is replayed into both at the end and at
 * a random point. After every record, for task messages the job's owner could have dispatched at
 * any point of the history and random ones, the worker's decisions (engine/worker/terminalJobs.ts)
 * must agree:
 *
 * - `finishedFor` exactly, for every message;
 * - whatever the projection drops (finished or obsolete), the slim view drops;
 * - the slim view drops more only where running the attempt would change nothing: its outcome,
 *   either way, folded into the projection's job changes neither the job nor the task (a kept task
 *   that a recovery did not reset; see the module comment of slimJobView.ts);
 * - the tasks the worker's listener aborts: the same rule, through each view's `onChange`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RETENTION_REMOVED_SUBJECT } from '../../engine/subjects.ts';
import type { JobEvent, JobsRemoved, TaskPlan } from '../../actors/events.ts';
import { decide, type CommandMeta, type JobCommand } from '../../actors/decide.ts';
import { evolveJob, foldJob, isTerminal, pendingTasks, taskStatus, toJobView, tryApply, type JobSnapshot } from '../../actors/jobFold.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { silentLogger } from '../../engine/log.ts';
import { jobFactsOf, type JobFacts } from '../../engine/projections/jobFacts.ts';
import { createJobProjection, type JobProjection } from '../../engine/projections/jobProjection.ts';
import { createSlimJobView, type SlimJobView } from '../../engine/projections/slimJobView.ts';
import type { TaskMessage } from '../../engine/taskqueue/taskQueue.ts';
import { createRunningTasks, type RunningTasks } from '../../engine/worker/runningTasks.ts';
import { abortEndedTasks, finishedFor, obsoleteFor } from '../../engine/worker/terminalJobs.ts';
import { jobEvents, result } from '../unit/actors/jobEvents.fixture.ts';

const COORDS = ['c0', 'c1'];
const META: CommandMeta = { actor: 'prop', at: '2024-05-01T12:00:00.000Z' };
const planArb: fc.Arbitrary<TaskPlan[]> = fc
  .array(fc.record({ items: fc.nat(6), bytes: fc.nat(60) }), { minLength: 1, maxLength: 4 })
  .map((ts) => ts.map((t, i) => ({ taskId: `t${i}`, payload: null, ...t })));

type Action =
  | { t: 'cmd'; job: number; cmd: string; coord: number; fromOwner: boolean; plan: TaskPlan[]; open: boolean }
  | { t: 'outcome'; job: number; task: number; attempt: number; kind: 'ok' | 'retry' | 'fatal'; bad: number; back: number }
  /** An outcome of a task the owner dispatched (`pick` among them): what workers actually report. */
  | { t: 'report'; job: number; pick: number; kind: 'ok' | 'retry' | 'fatal'; bad: number }
  | { t: 'redeliver'; job: number; pick: number }
  | { t: 'remove'; job: number };

// Weighted toward deep runs: claims, verification and the resets this view is about.
const CMD_WEIGHTS: [string, number][] = [
  ['claim', 6], ['verify', 4], ['succeed', 3], ['fail', 2], ['retry', 5], ['recover', 4], ['recoverAll', 3], ['requeue', 2],
  ['pause', 2], ['resume', 2], ['stop', 1], ['stopGrace', 1], ['forceStop', 1], ['extend', 2], ['close', 2],
  ['deactivate', 1], ['activate', 1], ['compact', 1],
];
const cmdArb = fc.oneof(...CMD_WEIGHTS.map(([c, weight]) => ({ weight, arbitrary: fc.constant(c) })));

const actionArb = (jobs: number): fc.Arbitrary<Action> => {
  const job = fc.nat(jobs - 1);
  const kind = fc.constantFrom('ok' as const, 'ok' as const, 'retry' as const, 'retry' as const, 'fatal' as const);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('cmd' as const), job, cmd: cmdArb, coord: fc.nat(COORDS.length - 1), fromOwner: fc.nat(4).map((n) => n > 0), plan: planArb, open: fc.nat(3).map((n) => n === 0) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('outcome' as const), job, task: fc.nat(4), attempt: fc.integer({ min: 1, max: 6 }), kind, bad: fc.nat(2), back: fc.nat(2) }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('report' as const), job, pick: fc.nat(), kind, bad: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('redeliver' as const), job, pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('remove' as const), job }) },
  );
};

interface Job {
  e: ReturnType<typeof jobEvents>;
  s: JobSnapshot;
  submitSeq: number;
  removed: boolean;
  outcomes: JobEvent[];
  /** Every task message the owner could have dispatched so far (pending tasks while RUNNING). */
  dispatched: Map<string, TaskMessage>;
  maxEpoch: number;
  extended: number;
}

const key = (m: TaskMessage) => `${m.jobId}:${m.taskId}:${m.attempt}:${m.epoch}`;

function toCommand(a: Extract<Action, { t: 'cmd' }>, j: Job): JobCommand | undefined {
  const coordinatorId = COORDS[a.coord]!;
  const ctx = j.s.context;
  switch (a.cmd) {
    case 'claim': return { kind: 'claim', coordinatorId, tasks: a.plan, ...(a.open ? { cursor: 'more' } : {}) };
    case 'requeue': return { kind: 'requeue', fromCoordinator: a.fromOwner ? (ctx.coordinatorId ?? coordinatorId) : coordinatorId };
    case 'verify': return { kind: 'startVerification' };
    case 'succeed': return { kind: 'finish', outcome: 'succeeded' };
    case 'fail': return { kind: 'finish', outcome: 'failed', error: { code: 'TOO_MANY_FAILURES', message: 'x' } };
    case 'retry': return { kind: 'retry', error: { code: 'EXEC_FAILED', message: 'x' }, maxRetries: 3 };
    case 'recover': return { kind: 'recover', mode: 'failed' };
    case 'recoverAll': return { kind: 'recover', mode: 'notSucceeded' };
    case 'stopGrace': return { kind: 'stop', graceMs: 1000 };
    case 'forceStop': return { kind: 'stop', graceMs: 1000, force: true };
    case 'deactivate': return { kind: 'setActive', active: false };
    case 'activate': return { kind: 'setActive', active: true };
    case 'compact': return { kind: 'compact', submitSeq: j.submitSeq };
    case 'extend':
    case 'close': {
      if (ctx.tasks === null) return undefined;
      const added = [0, 1].map((k) => ({ taskId: `x${j.extended + k}`, payload: null, items: 1, bytes: 1 }));
      j.extended += added.length;
      return { kind: 'extend', after: ctx.tasks.length, tasks: added, ...(a.cmd === 'extend' ? { cursor: 'more' } : {}) };
    }
    default: return { kind: a.cmd as 'stop' | 'pause' | 'resume' };
  }
}

/** The whole history: every record as appended, and the store as rollups and purges leave it. */
class History {
  readonly appended: LogRecord[] = [];
  /** Deleted record seq → the seq of the record whose append deleted it (a rollup, or a removal's notice). */
  readonly deletedAt = new Map<number, number>();
  readonly jobs: Job[];

  constructor(jobCount: number) {
    this.jobs = Array.from({ length: jobCount }, (_, k) => {
      const e = jobEvents(`job-${k}`);
      const d = decide({ kind: 'submit', data: e.submitted({ maxTaskAttempts: 1 + (k % 3), maxFailedRatio: 0.5 }).data }, undefined, META);
      assert.ok(d.ok);
      const submitSeq = this.append(`job.${e.jobId}.ev`, d.events);
      return { e, s: foldJob(d.events), submitSeq, removed: false, outcomes: [], dispatched: new Map(), maxEpoch: 0, extended: 0 };
    });
  }

  append(subject: string, events: readonly JobEvent[] | readonly JobsRemoved[]): number {
    const seq = this.appended.length + 1;
    this.appended.push({ seq, subject, time: META.at, events: structuredClone([...events]) });
    return seq;
  }

  /** Deletes the records of `subject` so far (a rollup keeps the newest, a purge none). */
  drop(subject: string, keepLast: boolean): void {
    const on = this.appended.filter((r) => r.subject === subject && !this.deletedAt.has(r.seq));
    for (const r of keepLast ? on.slice(0, -1) : on) this.deletedAt.set(r.seq, this.appended.length);
  }

  /** The store as it stood once record `upTo` was appended: what a follower starting then replays. */
  storedUpTo(upTo: number): LogRecord[] {
    return this.appended.slice(0, upTo).filter((r) => (this.deletedAt.get(r.seq) ?? Infinity) > upTo);
  }

  apply(a: Action): void {
    const j = this.jobs[a.job]!;
    if (j.removed) return;
    const ev = `job.${j.e.jobId}.ev`;
    const task = `job.${j.e.jobId}.task`;
    if (a.t === 'remove') {
      if (!isTerminal(j.s)) return;
      if (!j.s.context.compacted) this.apply({ t: 'cmd', job: a.job, cmd: 'compact', coord: 0, fromOwner: true, plan: [], open: false });
      const notice: JobsRemoved = { type: 'JobsRemoved', data: { jobs: [{ jobId: j.e.jobId, submitSeq: j.submitSeq }] }, meta: { jobId: '', epoch: 0, actor: 'prop', at: META.at, v: 1 } };
      this.append(RETENTION_REMOVED_SUBJECT, [notice]);
      this.drop(ev, false);
      this.drop(task, false);
      j.removed = true;
      return;
    }
    let events: JobEvent[] = [];
    let subject = task;
    if (a.t === 'cmd') {
      const cmd = toCommand(a, j);
      const d = cmd === undefined ? undefined : decide(cmd, j.s, META);
      if (d === undefined || !d.ok || d.events.length === 0) return;
      events = d.events;
      subject = ev;
    } else if (a.t === 'redeliver') {
      if (j.outcomes.length === 0) return;
      events = [j.outcomes[a.pick % j.outcomes.length]!];
    } else {
      let taskId: string;
      let attempt: number;
      let epoch: number;
      if (a.t === 'report') {
        const sent = [...j.dispatched.values()];
        if (sent.length === 0) return;
        ({ taskId, attempt, epoch } = sent[a.pick % sent.length]!);
      } else {
        taskId = `t${a.task}`;
        attempt = a.attempt;
        epoch = Math.max(0, j.s.context.epoch - a.back);
      }
      const r = result(1, a.bad);
      events = [a.kind === 'ok' ? j.e.taskOk(taskId, attempt, r, epoch) : j.e.taskFail(taskId, attempt, { retryable: a.kind === 'retry', result: r, epoch })];
      j.outcomes.push(events[0]!);
    }
    for (const x of events) {
      const next = tryApply(j.s, x);
      assert.ok(next !== undefined, `${x.type} must be accepted in ${j.s.value}`);
      j.s = next;
    }
    this.append(subject, events);
    if (events.some((x) => x.type === 'JobCompacted')) {
      this.drop(ev, true);
      this.drop(task, false);
    }
    j.maxEpoch = Math.max(j.maxEpoch, j.s.context.epoch);
    // the owner dispatches the pending tasks of a running job (a stop request stops dispatch)
    if (j.s.value === 'RUNNING' && j.s.context.stopRequested === null) {
      for (const p of pendingTasks(j.s)) {
        const m: TaskMessage = { jobId: j.e.jobId, taskId: p.task.taskId, attempt: p.nextAttempt, firstAttempt: p.firstAttempt, epoch: j.s.context.epoch, type: 'noop', payload: null, spec: {} };
        j.dispatched.set(key(m), m);
      }
    }
  }
}

/** The messages to judge for a job: every dispatch, and random ones at epochs the job reaches. */
function messagesOf(j: Job, extra: { task: number; attempt: number; epoch: number }[]): TaskMessage[] {
  const random = extra.map((x) => ({
    jobId: j.e.jobId, taskId: x.task === 5 ? 'unplanned' : `t${x.task}`, attempt: x.attempt, epoch: x.epoch % (j.maxEpoch + 1), type: 'noop', payload: null, spec: {},
  }));
  return [...j.dispatched.values(), ...random];
}

const drops = (facts: JobFacts, m: TaskMessage) => finishedFor(facts, m) || obsoleteFor(facts, m);

/** Running the attempt changes nothing in the job as the machine folds it, whatever it reports. */
function changesNothing(s: JobSnapshot, m: TaskMessage, e: Job['e']): boolean {
  const outcomes: JobEvent[] = [e.taskOk(m.taskId, m.attempt, result(1), m.epoch), e.taskFail(m.taskId, m.attempt, { retryable: true, epoch: m.epoch }), e.taskFail(m.taskId, m.attempt, { retryable: false, epoch: m.epoch })];
  return outcomes.every((o) => {
    const after = evolveJob(s, o);
    return JSON.stringify(toJobView(after)) === JSON.stringify(toJobView(s)) && JSON.stringify(taskStatus(after, m.taskId)) === JSON.stringify(taskStatus(s, m.taskId));
  });
}

interface Counts { agree: number; slimMore: number; obsoleteBoth: number; finishedBoth: number; abortedBoth: number; abortedSlimMore: number }

/** Both views' decisions for every job and message, with `full`'s snapshots as the judge. */
function compare(h: History, full: JobProjection, slim: SlimJobView, extra: { task: number; attempt: number; epoch: number }[], n: Counts, where: string): void {
  const fullFacts = jobFactsOf(full);
  for (const j of h.jobs) {
    const f = fullFacts.get(j.e.jobId);
    const s = slim.get(j.e.jobId);
    assert.equal(s === undefined, f === undefined, `${where}: both views hold ${j.e.jobId} or neither`);
    if (f === undefined || s === undefined) continue;
    assert.equal(s.terminal, f.terminal, `${where}: terminal`);
    assert.equal(s.epoch, f.epoch, `${where}: epoch`);
    for (const m of messagesOf(j, extra)) {
      assert.equal(finishedFor(slim, m), finishedFor(fullFacts, m), `${where}: finishedFor ${key(m)}`);
      const byFull = drops(fullFacts, m);
      const bySlim = drops(slim, m);
      if (byFull) assert.ok(bySlim, `${where}: the projection drops ${key(m)} (floor ${f.floor(m.taskId)}), the slim view runs it (floor ${s.floor(m.taskId)})`);
      if (bySlim && !byFull) {
        assert.ok(changesNothing(full.get(j.e.jobId)!.snapshot, m, j.e), `${where}: the slim view drops ${key(m)}, whose outcome would count`);
        n.slimMore++;
      } else n.agree++;
      if (byFull && obsoleteFor(fullFacts, m) && !finishedFor(fullFacts, m)) n.obsoleteBoth++;
      if (byFull && finishedFor(fullFacts, m)) n.finishedBoth++;
    }
  }
}

/** A fresh projection and slim view fed `records`. */
function replayed(records: readonly LogRecord[]): { full: JobProjection; slim: SlimJobView } {
  const full = createJobProjection({ logger: silentLogger });
  const slim = createSlimJobView();
  for (const r of records) {
    full.apply(structuredClone(r));
    slim.apply(structuredClone(r));
  }
  return { full, slim };
}

/** Starts every message as a running task, on a RunningTasks aborted by each view's listener. */
function runningOn(facts: JobFacts, h: History): { running: RunningTasks; aborted: Set<string> } {
  const running = createRunningTasks();
  const aborted = new Set<string>();
  for (const j of h.jobs) {
    for (const m of j.dispatched.values()) {
      const t = running.start(key(m), m.jobId, m.epoch);
      t.abort.signal.addEventListener('abort', () => aborted.add(key(m)));
    }
  }
  facts.onChange((jobId, job) => abortEndedTasks(running, jobId, job));
  return { running, aborted };
}

function check(jobCount: number, actions: Action[], extra: { task: number; attempt: number; epoch: number }[], cut: number, n: Counts): void {
  const h = new History(jobCount);
  for (const a of actions) h.apply(a);
  const full = createJobProjection({ logger: silentLogger });
  const slim = createSlimJobView();
  const fullRunning = runningOn(jobFactsOf(full), h);
  const slimRunning = runningOn(slim, h);
  const cutAt = 1 + (cut % h.appended.length);
  for (const r of h.appended) {
    full.apply(structuredClone(r));
    slim.apply(structuredClone(r));
    compare(h, full, slim, extra, n, `live after record ${r.seq} (${r.subject} ${r.events.map((e) => e.type).join('+')})`);
    for (const k of fullRunning.aborted) {
      assert.ok(slimRunning.aborted.has(k), `after record ${r.seq}: the projection's listener aborted ${k}, the slim view's did not`);
      n.abortedBoth++;
    }
    for (const k of slimRunning.aborted) {
      if (fullRunning.aborted.has(k)) continue;
      const [jobId, taskId, attempt, epoch] = [k.slice(0, k.indexOf(':')), ...k.slice(k.indexOf(':') + 1).split(':')] as [string, string, string, string];
      const j = h.jobs.find((x) => x.e.jobId === jobId)!;
      const m: TaskMessage = { jobId, taskId, attempt: Number(attempt), epoch: Number(epoch), type: 'noop', payload: null, spec: {} };
      const entry = full.get(jobId);
      assert.ok(entry !== undefined && changesNothing(entry.snapshot, m, j.e), `after record ${r.seq}: the slim view's listener aborted ${k}, whose outcome would count`);
      n.abortedSlimMore++;
    }
    if (r.seq === cutAt) {
      const later = replayed(h.storedUpTo(cutAt));
      compare(h, later.full, later.slim, extra, n, `replay of the store after record ${cutAt}`);
    }
  }
  const end = replayed(h.storedUpTo(h.appended.length));
  compare(h, end.full, end.slim, extra, n, 'replay of the store at the end');
  assert.equal(end.full.rejected, 0);
}

describe('slim job view (worker-only processes) against the full projection', () => {
  it('random histories: the worker drops, runs and aborts the same tasks, but for kept tasks whose runs change nothing', () => {
    const n: Counts = { agree: 0, slimMore: 0, obsoleteBoth: 0, finishedBoth: 0, abortedBoth: 0, abortedSlimMore: 0 };
    const extraArb = fc.array(fc.record({ task: fc.nat(5), attempt: fc.integer({ min: 1, max: 8 }), epoch: fc.nat(8) }), { maxLength: 12 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(actionArb(3), { maxLength: 90, size: 'max' }), extraArb, fc.nat(), (jobs, actions, extra, cut) => {
        check(jobs, actions.map((a) => ({ ...a, job: a.job % jobs })), extra, cut, n);
      }),
      { numRuns: 300 },
    );
    console.log(`slim view: ${JSON.stringify(n)}`);
    // the generator must reach the cases that matter, or the property proves little
    assert.ok(n.obsoleteBoth > 0, 'never an attempt obsolete in both views');
    assert.ok(n.finishedBoth > 0, 'never a task of a finished job');
    assert.ok(n.abortedBoth > 0, 'never an abort');
    assert.ok(n.slimMore < n.agree / 20, `the slim view drops more than rarely: ${n.slimMore} of ${n.agree + n.slimMore}`);
  });
});
