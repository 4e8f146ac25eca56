/**
 * Sending a job's pending tasks to the workers' queue, within the dispatch window and the VC's share
 * of it (taskWindow.ts); a task's retry after a failure first waits out an exponential backoff.
 */
import type { TaskPlan } from '../../actors/events.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { backoffDelay } from '../retry.ts';
import { ctxOf, type CoordinatorContext } from './context.ts';
import type { PendingTask } from './nextStep.ts';
import type { Owned } from './types.ts';

/** A task's retries double their delay from `retryBackoffMs` at most this many times. */
export const TASK_RETRY_MAX_DOUBLINGS = 10;

/** The delay before dispatching attempt `nextAttempt` (≥ 2: the first attempt goes at once) of a task. */
export function taskRetryDelayMs(retryBackoffMs: number, nextAttempt: number): number {
  const backoff = { baseMs: retryBackoffMs, maxMs: retryBackoffMs * 2 ** TASK_RETRY_MAX_DOUBLINGS, factor: 2 };
  return backoffDelay(backoff, nextAttempt - 2);
}

/** VCs of our jobs that have tasks ready but no slot (besides `except`). */
function* wantingVcs(cx: CoordinatorContext, except: string): Generator<string> {
  for (const id of cx.starved) {
    const o = id === except ? undefined : cx.owned.get(id);
    if (o) yield o.vc;
  }
}

/** Dispatches the job's pending tasks that fit the window; a job left without a slot is `starved`. */
export function dispatch(cx: CoordinatorContext, e: JobEntry, o: Owned, pending: readonly PendingTask[]): void {
  const ctx = ctxOf(e);
  const mayDispatch = cx.tasks.pass();
  for (const { task, nextAttempt, firstAttempt = 1 } of pending) {
    if (o.dispatched.has(task.taskId)) continue;
    // the job's own limit: the rest waits for its tasks in flight, not for the window (not starved)
    if (ctx.parallelism !== undefined && o.dispatched.size >= ctx.parallelism) break;
    const retry = o.retries.get(task.taskId);
    if (retry && !retry.due) continue;
    if (!mayDispatch(o.vc, () => wantingVcs(cx, e.id))) {
      cx.starved.add(e.id);
      return;
    }
    if (nextAttempt > firstAttempt && !retry) {
      // A retry after a failure: back off exponentially, off the window until it is due. The first
      // attempt of a run (after a recovery or a job retry too) goes at once.
      const delay = taskRetryDelayMs(cx.config.retryBackoffMs, nextAttempt - firstAttempt + 1);
      const r = { due: false, timer: undefined as unknown, dueAtMs: cx.clock.now() + delay };
      r.timer = cx.clock.setTimeout(() => {
        r.due = true;
        cx.wake.markDirty(e.id);
      }, delay);
      o.retries.set(task.taskId, r);
      continue;
    }
    o.retries.delete(task.taskId);
    send(cx, e, o, ctx, task, nextAttempt, firstAttempt);
  }
  cx.starved.delete(e.id);
}

/** What a task carries of its job's spec (JobType.taskSpec). */
function taskSpecOf(cx: CoordinatorContext, ctx: JobContext): Record<string, unknown> {
  const type = cx.registry.get(ctx.type);
  return type?.taskSpec ? type.taskSpec(ctx.spec) : ctx.spec;
}

function send(cx: CoordinatorContext, e: JobEntry, o: Owned, ctx: JobContext, task: TaskPlan, attempt: number, firstAttempt: number) {
  const { config, clock, log } = cx;
  o.dispatched.set(task.taskId, attempt);
  cx.tasks.count(o.vc, 1);
  cx.taskQueue
    .dispatch(config.pool, {
      jobId: e.id, taskId: task.taskId, attempt, ...(firstAttempt > 1 ? { firstAttempt } : {}), epoch: o.epoch, type: ctx.type, payload: task.payload, spec: taskSpecOf(cx, ctx),
    })
    .catch((err: unknown) => {
      log.warn({ jobId: e.id, taskId: task.taskId, err }, 'dispatch failed; will retry');
      if (cx.owned.get(e.id) === o && o.dispatched.get(task.taskId) === attempt) {
        o.dispatched.delete(task.taskId);
        cx.tasks.count(o.vc, -1);
      }
      clock.setTimeout(() => cx.wake.markDirty(e.id), config.retryBackoffMs);
    });
}
