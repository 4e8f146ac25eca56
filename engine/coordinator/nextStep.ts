/**
 * What the coordinator does next for one job (pure; drive.ts carries it out): given the job's entry
 * in the projection, our bookkeeping if we own it, and whether our write on it is in flight.
 */
import type { JobCommand } from '../../actors/decide.ts';
import type { TaskPlan } from '../../actors/events.ts';
import { allTasksFinal, failedRatio, pendingTasks, shouldFail } from '../../actors/jobFold.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { ctxOf } from './context.ts';
import { stopStep, type StopStep } from './cooperativeStop.ts';
import type { Owned } from './types.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';
import { getTaskStatus, type JobContext } from '../../actors/jobContext.ts';
import type { VerifyOutcome } from '../jobtypes/jobType.ts';
import { failOrRetry } from './jobRetry.ts';

/** A task ready to go, with the attempt it would be and the first attempt of its current run. */
export interface PendingTask {
  task: TaskPlan;
  nextAttempt: number;
  /** @defaultValue 1 */
  firstAttempt?: number;
}

/** What to do with a job we own, once its answered tasks are out of the window. */
export type OwnedAction =
  /** A stop was requested: carry out the cooperative stop's step. */
  | { kind: 'stop'; step: StopStep }
  /**
   * Too many items or tasks failed, or the type's settle failed the job: `finish` fails it, or
   * retries it as a whole while its type allows (jobRetry.ts).
   */
  | { kind: 'fail'; finish: JobCommand }
  /** Every task is final (`fromRunning`), or the job is VERIFYING: verify it. */
  | { kind: 'verify'; fromRunning: boolean }
  /** The job type settled the running job as succeeded before every task was final (JobType.settle). */
  | { kind: 'succeedEarly'; commands: JobCommand[] }
  /**
   * Dispatch the pending tasks (those not in flight nor waiting for a retry's backoff); with
   * `extend`, also ask the job type for about that many more tasks of its open plan.
   */
  | { kind: 'dispatch'; pending: PendingTask[]; extend?: number }
  /** PAUSED: nothing to do. */
  | { kind: 'none' };

export type NextStep =
  /** Unknown job, or our write on it is in flight (the job is driven again when it settles). */
  | { kind: 'wait' }
  /** Not ours: only a stop whose owner was lost concerns us (stopJob.ts stopIfOwnerLost). */
  | { kind: 'notOwned'; entry: JobEntry }
  /** Ours: drop the `answered` tasks (answered or re-attempted) from the window, then `action`. */
  | { kind: 'owned'; entry: JobEntry; answered: string[]; action: OwnedAction };

/** What of our bookkeeping the decision reads. */
export type OwnedView = Readonly<Pick<Owned, 'verifying' | 'stopTimer' | 'stopDue' | 'extending'>> & { dispatched: ReadonlyMap<string, number> };

/**
 * An open plan is extended by at least this many tasks at a time (more for a job whose parallelism
 * is high): each extension is an event every process folds, and copies the plan.
 */
export const EXTEND_BATCH = 64;
/** The most tasks one extension asks for. */
export const MAX_EXTEND_BATCH = 1000;

/**
 * How many more tasks to ask an open plan for (0: none now): when fewer than half a batch wait to be
 * dispatched. A batch is twice the job's parallelism, at least EXTEND_BATCH, so workers never starve
 * between two extensions and extensions stay few.
 */
export function extensionWanted(open: boolean, parallelism: number | undefined, waiting: number, extending: boolean): number {
  if (!open || extending) return 0;
  const batch = Math.min(MAX_EXTEND_BATCH, Math.max(2 * (parallelism ?? 0), EXTEND_BATCH));
  return waiting * 2 < batch ? batch - waiting : 0;
}

/** The job type's early decision for a running job (JobType.settle), if it has one. */
export type Settle = (entry: JobEntry) => VerifyOutcome | undefined;

/**
 * `settle`: the job type's early decision (types with JobType.settle); `jobRetries`: the retries its
 * type allows the job (JobType.jobRetries), so that a failure retries it while some are left.
 */
export function nextStep(entry: JobEntry | undefined, owned: OwnedView | undefined, writing: boolean, settle?: Settle, jobRetries = 0): NextStep {
  if (!entry) return { kind: 'wait' };
  if (!owned) return { kind: 'notOwned', entry };
  if (writing) return { kind: 'wait' };
  const s = entry.snapshot;
  const pending = new Map<string, PendingTask>();
  for (const p of pendingTasks(s)) pending.set(p.task.taskId, p);
  const answered: string[] = [];
  for (const [taskId, attempt] of owned.dispatched) {
    const p = pending.get(taskId);
    if (!p || p.nextAttempt > attempt) answered.push(taskId);
  }
  return { kind: 'owned', entry, answered, action: ownedAction(entry, owned, owned.dispatched.size - answered.length, pending, settle, jobRetries) };
}

function ownedAction(e: JobEntry, o: OwnedView, inFlight: number, pending: Map<string, PendingTask>, settle: Settle | undefined, jobRetries: number): OwnedAction {
  const s = e.snapshot;
  const ctx = ctxOf(e);
  if (ctx.stopRequested) {
    const step = stopStep({
      verifying: e.state === 'VERIFYING' || o.verifying, inFlight, deadlinePassed: o.stopDue === true,
      timerArmed: o.stopTimer !== undefined, graceMs: ctx.stopRequested.graceMs,
    });
    return { kind: 'stop', step };
  }
  if (e.state === 'RUNNING') {
    const p = ctx.progress;
    // Items decide, but a failed task also counts: a failed part of a split file carries no item.
    // a type that settles its jobs owns the failure rule (JobType.settle)
    if (settle === undefined && (shouldFail(s) || (p.tasksTotal > 0 && p.tasksFailed / p.tasksTotal > ctx.maxFailedRatio))) {
      const message = `${p.itemsFailed} of ${p.itemsTotal} items and ${p.tasksFailed} of ${p.tasksTotal} tasks failed (item ratio ${failedRatio(s).toFixed(3)}, allowed ${ctx.maxFailedRatio})`;
      const task = firstTaskFailure(ctx);
      const error = { code: 'TOO_MANY_FAILURES' satisfies JobFailureCode, message, ...(task !== undefined ? { details: { task } } : {}) };
      return { kind: 'fail', finish: failOrRetry(ctx, error, jobRetries) };
    }
    if (allTasksFinal(s)) return { kind: 'verify', fromRunning: true };
    const early = settle?.(e);
    if (early !== undefined) {
      if (!early.ok) return { kind: 'fail', finish: failOrRetry(ctx, { code: early.code, message: early.message, ...(early.details !== undefined ? { details: early.details } : {}) }, jobRetries) };
      return { kind: 'succeedEarly', commands: [{ kind: 'startVerification', early: true }, { kind: 'finish', outcome: 'succeeded', ...(early.summary !== undefined ? { summary: early.summary } : {}) }] };
    }
    const want = extensionWanted(ctx.planCursor !== undefined, ctx.parallelism, pending.size - inFlight, o.extending === true);
    return { kind: 'dispatch', pending: [...pending.values()], ...(want > 0 ? { extend: want } : {}) };
  }
  if (e.state === 'VERIFYING') return { kind: 'verify', fromRunning: false };
  return { kind: 'none' };
}

/**
 * The first task in plan order that failed for good, with its error: the likely cause a user wants
 * beside the counts (a `script` job's one task: the runtime missing, the binary gone). One scan, when
 * the job fails.
 */
function firstTaskFailure(ctx: JobContext): { taskId: string; code: string; message: string } | undefined {
  for (const t of ctx.tasks ?? []) {
    const st = getTaskStatus(ctx, t.taskId);
    if (st?.state === 'failed' && st.error !== undefined) return { taskId: t.taskId, code: st.error.code, message: st.error.message };
  }
  return undefined;
}
