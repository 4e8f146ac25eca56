/**
 * Extending a job's open plan: the owner asks the job type for more tasks from the plan's cursor and
 * appends them (TasksExtended, fenced on the plan's length), one extension at a time per job. A type
 * that fails to extend fails the job, as a plan that fails does at the claim.
 */
import type { JobCommand } from '../../actors/decide.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';
import { isAppError } from '../errors.ts';
import type { PlanResult } from '../jobtypes/jobType.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { ctxOf, type CoordinatorContext } from './context.ts';
import type { FencedWriter } from './fencedWriter.ts';
import type { Owned } from './types.ts';

/**
 * Most tasks one job's plan holds. Every process keeps a job's plan and task statuses in memory and
 * an extension copies the plan, so an open plan that never closes (a persistent Teraslice
 * execution) is stopped here with PLAN_TOO_LONG rather than slowing every process down; it goes on
 * in a new job (a Teraslice `_recover` continues from where it stopped).
 */
export const MAX_PLAN_TASKS = 200_000;

class PlanTooLong extends Error {
  constructor() {
    super(`the job's plan reached ${MAX_PLAN_TASKS} tasks, the most one job holds; it goes on in a new job (a Teraslice execution: _recover)`);
  }
}

export async function extendPlan(cx: CoordinatorContext, writer: FencedWriter, e: JobEntry, o: Owned, want: number): Promise<void> {
  if (o.extending) return;
  o.extending = true;
  try {
    const ctx = ctxOf(e);
    const planned = ctx.tasks?.length ?? 0;
    const type = cx.registry.get(ctx.type);
    let cmd: JobCommand;
    try {
      if (planned >= MAX_PLAN_TASKS) throw new PlanTooLong();
      if (type?.extend === undefined) throw new Error(`job type ${ctx.type} has an open plan but cannot extend it`);
      const r: PlanResult = await type.extend(ctx.spec, ctx.planCursor, {
        jobId: e.id, roots: cx.roots, signal: o.abort.signal, planned, want: Math.min(want, MAX_PLAN_TASKS - planned),
        defaults: { batchSize: cx.config.defaultBatchSize, partitionSizeBytes: cx.config.defaultPartitionSizeBytes },
      });
      cmd = { kind: 'extend', after: planned, tasks: r.tasks, ...(r.cursor !== undefined ? { cursor: r.cursor } : {}) };
    } catch (err) {
      if (o.abort.signal.aborted) return;
      const code = err instanceof PlanTooLong ? ('PLAN_TOO_LONG' satisfies JobFailureCode) : isAppError(err) ? err.code : ('PLAN_FAILED' satisfies JobFailureCode);
      cmd = { kind: 'finish', outcome: 'failed', error: { code, message: err instanceof Error ? err.message : String(err) } };
    }
    const cur = cx.projection.get(e.id);
    // released, stopped, paused, stopping, or the plan changed meanwhile: this extension is moot; and
    // while another write on the job is in flight it waits (the job is driven again when that settles)
    if (!cur || cx.owned.get(e.id) !== o || o.abort.signal.aborted || cur.state !== 'RUNNING' || (ctxOf(cur).tasks?.length ?? 0) !== planned) return;
    if (ctxOf(cur).stopRequested !== null || writer.busy(e.id)) return;
    await writer.write(cur, [cmd]);
  } finally {
    o.extending = false;
    cx.wake.markDirty(e.id);
  }
}
