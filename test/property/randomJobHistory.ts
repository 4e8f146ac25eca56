/**
 * Random valid histories of a few interleaved jobs, as records of the JOBS stream: the commands
 * through `decide` (claims with open and closed plans, extensions, requeues, pauses, stops,
 * failures, recoveries, job retries, (de)activation, compaction as a rollup), random task outcomes
 * (old epochs, any attempt, redeliveries) and removals, and the store as rollups and purges leave
 * it. Shared by the property tests of the slim view and of projection checkpoints.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RETENTION_REMOVED_SUBJECT } from '../../engine/subjects.ts';
import type { Envelope, JobEvent, JobsRemoved, JobSubmittedData, TaskPlan } from '../../actors/events.ts';
import { decide, type CommandMeta, type JobCommand } from '../../actors/decide.ts';
import { foldJob, isTerminal, pendingTasks, tryApply, type JobSnapshot } from '../../actors/jobFold.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import type { TaskMessage } from '../../engine/taskqueue/taskQueue.ts';
import { jobEvents, result } from '../unit/actors/jobEvents.fixture.ts';

export const COORDS = ['c0', 'c1'];
export const META: CommandMeta = { actor: 'prop', at: '2024-05-01T12:00:00.000Z' };
const planArb: fc.Arbitrary<TaskPlan[]> = fc
  .array(fc.record({ items: fc.nat(6), bytes: fc.nat(60) }), { minLength: 1, maxLength: 4 })
  .map((ts) => ts.map((t, i) => ({ taskId: `t${i}`, payload: null, ...t })));

export type Action =
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

export const actionArb = (jobs: number): fc.Arbitrary<Action> => {
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

export interface Job {
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

export const key = (m: TaskMessage) => `${m.jobId}:${m.taskId}:${m.attempt}:${m.epoch}`;

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
export class History {
  readonly appended: LogRecord[] = [];
  /** Deleted record seq → the seq of the record whose append deleted it (a rollup, or a removal's notice). */
  readonly deletedAt = new Map<number, number>();
  readonly jobs: Job[];

  /** `submitOver`: what job k's submission sets besides its defaults (owner, priority, labels, …). */
  constructor(jobCount: number, submitOver: (k: number) => Partial<JobSubmittedData> = () => ({})) {
    this.jobs = Array.from({ length: jobCount }, (_, k) => {
      const e = jobEvents(`job-${k}`);
      const d = decide({ kind: 'submit', data: e.submitted({ maxTaskAttempts: 1 + (k % 3), maxFailedRatio: 0.5, ...submitOver(k) }).data }, undefined, META);
      assert.ok(d.ok);
      const submitSeq = this.append(`job.${e.jobId}.ev`, d.events);
      return { e, s: foldJob(d.events), submitSeq, removed: false, outcomes: [], dispatched: new Map(), maxEpoch: 0, extended: 0 };
    });
  }

  append(subject: string, events: readonly Envelope[]): number {
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
