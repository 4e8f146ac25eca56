/** Driving one job: carries out what nextStep.ts decides for it. */
import type { ClaimPass } from './claimPass.ts';
import type { CoordinatorContext } from './context.ts';
import { dispatch } from './dispatcher.ts';
import type { FencedWriter } from './fencedWriter.ts';
import { nextStep, type Settle } from './nextStep.ts';
import { extendPlan } from './planExtension.ts';
import { stopCooperatively, stopIfOwnerLost } from './stopJob.ts';
import { verify } from './verification.ts';
import { ctxOf } from './context.ts';
import type { Owned } from './types.ts';
import { getTaskStatus, type JobContext } from '../../actors/jobContext.ts';
import { jobRetriesOf } from './jobRetry.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import type { VerifyOutcome } from '../jobtypes/jobType.ts';

/** Drives the job (called from the wake-ups, after it was marked dirty). */
export function drive(cx: CoordinatorContext, writer: FencedWriter, claims: ClaimPass, jobId: string): void {
  if (!cx.running) return;
  const o = cx.owned.get(jobId);
  const entry = cx.projection.get(jobId);
  let settle: Settle | undefined;
  let jobRetries = 0;
  if (entry !== undefined && o !== undefined) {
    const ctx = ctxOf(entry);
    const type = cx.registry.get(ctx.type);
    noteJobRetry(cx, ctx, o);
    if (type?.settle !== undefined) settle = (e) => settleOf(cx, e, o);
    jobRetries = jobRetriesOf(type, ctx, cx.log);
  }
  const step = nextStep(entry, o, writer.busy(jobId), settle, jobRetries);
  if (step.kind === 'notOwned') stopIfOwnerLost(writer, claims, step.entry);
  if (step.kind !== 'owned' || !o) return;
  const e = step.entry;
  for (const taskId of step.answered) {
    o.dispatched.delete(taskId);
    cx.tasks.count(o.vc, -1);
  }
  if (step.answered.length > 0) for (const sid of cx.starved) if (sid !== jobId) cx.wake.markDirty(sid);

  const a = step.action;
  switch (a.kind) {
    case 'stop':
      stopCooperatively(cx, writer, e, o, a.step);
      break;
    case 'fail':
      void writer.write(e, [a.finish]);
      break;
    case 'verify':
      void verify(cx, writer, e, o, a.fromRunning);
      break;
    case 'succeedEarly':
      void writer.write(e, a.commands);
      break;
    case 'dispatch':
      dispatch(cx, e, o, a.pending);
      if (a.extend !== undefined) void extendPlan(cx, writer, e, o, a.extend);
      break;
    case 'none':
      break;
  }
}

/**
 * After a job retry (JobRetried) the tasks' retry backoffs of the run before are moot: every task's
 * first attempt of the new run goes at once (the old attempts in flight are answered by nextStep).
 */
function noteJobRetry(cx: CoordinatorContext, ctx: JobContext, o: Owned): void {
  if (o.jobRetriesSeen === ctx.retries) return;
  if (o.jobRetriesSeen !== undefined) {
    for (const r of o.retries.values()) cx.clock.clearTimeout(r.timer);
    o.retries.clear();
  }
  o.jobRetriesSeen = ctx.retries;
}

/**
 * The job type's `settle` over the job's task states so far. It scans every task, so it runs only
 * when an outcome arrived since its last "go on" (the finished-task count moved), not on every drive.
 */
function settleOf(cx: CoordinatorContext, e: JobEntry, o: Owned): VerifyOutcome | undefined {
  const ctx = ctxOf(e);
  const type = cx.registry.get(ctx.type);
  if (type?.settle === undefined || ctx.tasks == null) return undefined;
  const key = `${ctx.epoch}:${ctx.retries}:${ctx.progress.tasksSucceeded}:${ctx.progress.tasksFailed}`;
  if (o.settledAt === key) return undefined;
  const tasks = ctx.tasks;
  const statuses = tasks.map((t) => getTaskStatus(ctx, t.taskId));
  let decision: VerifyOutcome | undefined;
  try {
    decision = type.settle(ctx.spec, { tasks, states: statuses.map((st) => st?.state ?? 'pending'), results: statuses.map((st) => st?.result) });
  } catch (err) {
    cx.log.warn({ err, jobId: ctx.jobId }, 'a job type\'s settle threw; the job goes on to its normal end');
  }
  // a decision is written next; remember only "go on" (a refused write is decided again)
  if (decision === undefined) o.settledAt = key;
  return decision;
}
