/**
 * The job decider: `decide(command, state, meta) → events | error`. Pure; the engine appends the
 * events with CAS against the sequence the state was read at, and re-decides on a CAS loss.
 */
import {
  EVENT_SCHEMA_VERSION,
  type EventMeta,
  type JobEvent,
  type JobState,
  type JobSubmitted,
  type JobSubmittedData,
  type RecoverMode,
  type TaskPlan,
} from './events.ts';
import type { JobFailure } from './failureCodes.ts';
import { canExtendPlan, hasDistinctTaskIds } from './jobContext.ts';
import { allTasksFinal, compactedContext, isTerminal, jobState, startJob, tryApply, type JobSnapshot } from './jobFold.ts';
import { countTasksToReset, whyNoRetry } from './jobRecovery.ts';

/** What the caller knows about a command besides its payload. */
export interface CommandMeta {
  /** `api`, `coordinator:<id>`, … (written to `meta.actor`). */
  actor: string;
  /** ISO-8601 time from the caller's clock. */
  at: string;
  reason?: string;
  causationId?: string;
}

/** A request to change a job; `decide` turns it into events or refuses it. */
export type JobCommand =
  | { kind: 'submit'; data: JobSubmittedData }
  /**
   * A WAITING job, `graceMs` 0 (or absent) or `force` → JobStopped; an owned job otherwise →
   * StopRequested (deadline = meta.at + graceMs); a stop already requested and not forced → nothing.
   */
  | { kind: 'stop'; graceMs?: number; force?: boolean }
  | { kind: 'pause' }
  | { kind: 'resume' }
  /** WAITING → JobClaimed, and TasksPlanned (an open plan with `cursor`) for a job not yet planned. */
  | { kind: 'claim'; coordinatorId: string; tasks?: TaskPlan[]; cursor?: unknown }
  /** RUNNING with an open plan of `after` tasks → TasksExtended (no `cursor`: the plan is closed). */
  | { kind: 'extend'; after: number; tasks: TaskPlan[]; cursor?: unknown }
  /** Not finished → ParallelismSet (`null`: no limit of the job's own); the same value again → nothing. */
  | { kind: 'setParallelism'; parallelism: number | null }
  | { kind: 'requeue'; fromCoordinator: string }
  /** `early`: the job type settled the job before every task was final (its running tasks are dropped). */
  | { kind: 'startVerification'; early?: true }
  | { kind: 'finish'; outcome: 'succeeded'; summary?: unknown }
  | { kind: 'finish'; outcome: 'failed'; error: JobFailure }
  /** FAILED/STOPPED, active, not compacted → JobRecovered (→ WAITING). */
  | { kind: 'recover'; mode: RecoverMode }
  /**
   * Instead of failing a RUNNING or VERIFYING job with `error`: JobRetried, every task run again
   * (JobType.jobRetries). Refused once `maxRetries` retries were made, while a stop is requested,
   * and for a job without a plan or with an open one (no whole run to repeat).
   */
  | { kind: 'retry'; error: JobFailure; maxRetries: number }
  /** Terminal jobs only; the same value again → nothing. */
  | { kind: 'setActive'; active: boolean }
  /**
   * Terminal and not compacted → one JobCompacted; already compacted → nothing. Give `submitSeq`
   * (JobEntry.submitSeq) so the job keeps its place in submission order after a replay.
   */
  | { kind: 'compact'; submitSeq?: number };

export type DecisionErrorCode = 'JOB_NOT_FOUND' | 'INVALID_TRANSITION' | 'ALREADY_EXISTS' | 'JOB_COMPACTED';

type Refusal = { ok: false; code: DecisionErrorCode; message: string };

/** Events to append (possibly none: an idempotent repeat), or why not. */
export type Decision = { ok: true; events: JobEvent[] } | Refusal;

/** A decision with the job's state once its events are applied (for callers chaining commands). */
export type FoldedDecision = { ok: true; events: JobEvent[]; state: JobSnapshot } | Refusal;

/** What a command handler returns before the bug guard folds it. */
type Draft = { ok: true; events: JobEvent[] } | Refusal;

/** Prefix of the message returned when decide produced an event its own machine rejects (a bug). */
const DECIDE_BUG_PREFIX = 'internal: decide produced an illegal event';

const ACTIVE: ReadonlySet<JobState> = new Set(['RUNNING', 'PAUSED', 'VERIFYING']);

/**
 * Decides a command against a job's current state (`undefined` when the job does not exist).
 * Every returned event is checked against the machine before it is returned.
 */
export function decide(cmd: JobCommand, s: JobSnapshot | undefined, meta: CommandMeta): Decision {
  const d = decideFolded(cmd, s, meta);
  return d.ok ? { ok: true, events: d.events } : d;
}

/**
 * `decide`, also returning the state after the events: the bug guard folds them anyway, so a
 * caller that decides several commands in a row (claim then fail) need not fold them again.
 */
export function decideFolded(cmd: JobCommand, s: JobSnapshot | undefined, meta: CommandMeta): FoldedDecision {
  if (s === undefined) {
    if (cmd.kind !== 'submit') return { ok: false, code: 'JOB_NOT_FOUND', message: 'no such job' };
    // Nothing precedes JobSubmitted, so there is nothing for the machine to reject.
    const submitted: JobSubmitted = { type: 'JobSubmitted', data: cmd.data, meta: metaOf(cmd.data.jobId, 0, meta) };
    return { ok: true, events: [submitted], state: startJob(submitted) };
  }
  const draft = decideExisting(cmd, s, meta);
  return draft.ok ? checked(s, draft.events) : draft;
}

function decideExisting(cmd: JobCommand, s: JobSnapshot, meta: CommandMeta): Draft {
  const state = jobState(s);
  const ctx = s.context;
  const m = (epoch = ctx.epoch): EventMeta => metaOf(ctx.jobId, epoch, meta);
  const refuse = (why: string): Refusal => ({
    ok: false,
    code: 'INVALID_TRANSITION',
    message: `cannot ${cmd.kind} a job in state ${state}${why === '' ? '' : `: ${why}`}`,
  });
  const emit = (...events: JobEvent[]): Draft => ({ ok: true, events });
  const terminal = isTerminal(s);

  switch (cmd.kind) {
    case 'submit':
      return { ok: false, code: 'ALREADY_EXISTS', message: `job ${ctx.jobId} already exists` };
    case 'stop': {
      if (state === 'STOPPED') return emit();
      if (terminal) return refuse('it already finished');
      const graceMs = cmd.graceMs ?? 0;
      if (state === 'WAITING' || graceMs <= 0 || cmd.force === true) return emit({ type: 'JobStopped', data: {}, meta: m() });
      if (ctx.stopRequested !== null) return emit(); // already stopping; its deadline stands
      const deadline = new Date(Date.parse(meta.at) + graceMs).toISOString();
      return emit({ type: 'StopRequested', data: { graceMs, deadline }, meta: m() });
    }
    case 'pause':
      // A requeued paused job stays paused when claimed again: pausing it again changes nothing.
      if (state === 'PAUSED' || (state === 'WAITING' && ctx.pauseRequested)) return emit();
      return state === 'RUNNING' ? emit({ type: 'JobPaused', data: {}, meta: m() }) : refuse('only a running job pauses');
    case 'resume':
      if (state === 'PAUSED' || (state === 'WAITING' && ctx.pauseRequested)) {
        return emit({ type: 'JobResumed', data: {}, meta: m() });
      }
      return terminal ? refuse('it already finished') : emit(); // not paused: nothing to do
    case 'claim': {
      if (state !== 'WAITING') return refuse('only a waiting job can be claimed');
      const epoch = ctx.epoch + 1;
      const events: JobEvent[] = [
        { type: 'JobClaimed', data: { coordinatorId: cmd.coordinatorId, epoch }, meta: m(epoch) },
      ];
      if (cmd.tasks !== undefined && ctx.tasks === null) {
        if (!hasDistinctTaskIds(cmd.tasks)) return refuse('planned task ids must be distinct');
        events.push({ type: 'TasksPlanned', data: { tasks: cmd.tasks, ...(cmd.cursor !== undefined ? { cursor: cmd.cursor } : {}) }, meta: m(epoch) });
      }
      return emit(...events);
    }
    case 'extend':
      if (state !== 'RUNNING') return refuse('only a running job plans more tasks');
      if (ctx.stopRequested !== null) return refuse('it is stopping');
      if (ctx.tasks === null || ctx.planCursor === undefined) return refuse('its plan is complete');
      if (ctx.tasks.length !== cmd.after) return refuse(`the plan has ${ctx.tasks.length} tasks, not ${cmd.after}: the extension is stale`);
      if (!canExtendPlan(ctx, cmd.after, cmd.tasks)) return refuse('extended task ids must be new and distinct');
      return emit({
        type: 'TasksExtended',
        data: { after: cmd.after, tasks: cmd.tasks, ...(cmd.cursor !== undefined ? { cursor: cmd.cursor } : {}) },
        meta: m(),
      });
    case 'setParallelism':
      if (terminal) return refuse('it already finished');
      if ((ctx.parallelism ?? null) === cmd.parallelism) return emit();
      return emit({ type: 'ParallelismSet', data: { parallelism: cmd.parallelism }, meta: m() });
    case 'requeue':
      if (!ACTIVE.has(state)) return refuse('only a running, paused or verifying job can be requeued');
      if (ctx.coordinatorId !== cmd.fromCoordinator) {
        return refuse(`owner is ${ctx.coordinatorId ?? 'none'}, not ${cmd.fromCoordinator}`);
      }
      return emit({
        type: 'JobRequeued',
        data: { fromCoordinator: cmd.fromCoordinator, epoch: ctx.epoch + 1 },
        meta: m(ctx.epoch + 1),
      });
    case 'startVerification':
      if (state !== 'RUNNING') return refuse('only a running job starts verification');
      if (cmd.early === true) {
        if (ctx.tasks === null) return refuse('it has no plan yet');
        return emit({ type: 'VerificationStarted', data: { early: true }, meta: m() });
      }
      if (!allTasksFinal(s)) return refuse('tasks are still pending');
      return emit({ type: 'VerificationStarted', data: {}, meta: m() });
    case 'finish':
      if (cmd.outcome === 'succeeded') {
        if (state !== 'VERIFYING') return refuse('only a verifying job succeeds');
        return emit({ type: 'JobSucceeded', data: cmd.summary === undefined ? {} : { summary: cmd.summary }, meta: m() });
      }
      if (!ACTIVE.has(state)) return refuse('only a running, paused or verifying job fails');
      return emit({ type: 'JobFailed', data: { error: cmd.error }, meta: m() });
    case 'recover':
      if (state !== 'FAILED' && state !== 'STOPPED') return refuse('only a failed or stopped job can be recovered');
      if (ctx.compacted) return { ok: false, code: 'JOB_COMPACTED', message: `job ${ctx.jobId} was compacted by retention; re-run it instead` };
      if (!ctx.active) return refuse('the job is inactive; activate it first');
      {
        const tasksReset = countTasksToReset(ctx, cmd.mode);
        const p = ctx.progress;
        const pending = p.tasksTotal - p.tasksSucceeded - p.tasksFailed;
        const over = (n: number, total: number) => total > 0 && n / total > ctx.maxFailedRatio;
        // Nothing would run again and the failures that failed it stay: it would fail again at once.
        if (ctx.tasks !== null && ctx.planCursor === undefined && tasksReset === 0 && pending === 0 && (over(p.itemsFailed, p.itemsTotal) || over(p.tasksFailed, p.tasksTotal))) {
          return refuse(
            cmd.mode === 'failed'
              ? 'no task failed, so nothing would run again; items failed inside tasks that succeeded: use mode notSucceeded'
              : 'nothing would run again',
          );
        }
        return emit({ type: 'JobRecovered', data: { mode: cmd.mode, tasksReset }, meta: m() });
      }
    case 'retry': {
      if (state !== 'RUNNING' && state !== 'VERIFYING') return refuse('only a running or verifying job is retried');
      const why = whyNoRetry(ctx, cmd.maxRetries);
      if (why !== undefined) return refuse(why);
      return emit({ type: 'JobRetried', data: { attempt: ctx.retries + 1, error: cmd.error }, meta: m() });
    }
    case 'setActive':
      if (!terminal) return refuse('only a finished job can be (de)activated');
      return ctx.active === cmd.active ? emit() : emit({ type: 'JobActiveSet', data: { active: cmd.active }, meta: m() });
    case 'compact':
      if (!terminal) return refuse('only a finished job can be compacted');
      if (ctx.compacted) return emit();
      return emit({
        type: 'JobCompacted',
        data: { state, context: compactedContext(ctx), ...(cmd.submitSeq !== undefined ? { submitSeq: cmd.submitSeq } : {}) },
        meta: m(),
      });
  }
}

/** The envelope meta of a decided event; optional fields only when given (clean JSON). */
function metaOf(jobId: string, epoch: number, cm: CommandMeta): EventMeta {
  const meta: EventMeta = { jobId, epoch, actor: cm.actor, at: cm.at, v: EVENT_SCHEMA_VERSION };
  if (cm.reason !== undefined) meta.reason = cm.reason;
  if (cm.causationId !== undefined) meta.causationId = cm.causationId;
  return meta;
}

/** Bug guard: folds the events onto `s` and refuses the decision if the machine rejects any. */
function checked(s: JobSnapshot, events: JobEvent[]): FoldedDecision {
  let cur = s;
  for (const ev of events) {
    const next = tryApply(cur, ev);
    if (next === undefined) {
      return { ok: false, code: 'INVALID_TRANSITION', message: `${DECIDE_BUG_PREFIX}: ${ev.type} in ${jobState(cur)}` };
    }
    cur = next;
  }
  return { ok: true, events, state: cur };
}
