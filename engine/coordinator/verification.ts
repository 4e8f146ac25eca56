/** A job's verification: its type's `verify()` over the task results, as the command that finishes the job. */
import type { JobCommand } from '../../actors/decide.ts';
import type { TaskResult } from '../../actors/events.ts';
import { getTaskStatus, type JobContext } from '../../actors/jobContext.ts';
import type { FileRoots, JobType, VerifyOutcome } from '../jobtypes/jobType.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { ctxOf, type CoordinatorContext } from './context.ts';
import type { FencedWriter } from './fencedWriter.ts';
import { failOrRetry, jobRetriesOf } from './jobRetry.ts';
import type { Owned } from './types.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';

/**
 * Verifies a job we own and finishes it, or retries it when it failed and its type allows
 * (jobRetry.ts). From RUNNING, a type without `instantVerify` first moves the job to VERIFYING (and
 * is verified when that write is in the projection). A verification whose job was released or
 * stopped meanwhile writes nothing.
 */
export async function verify(cx: CoordinatorContext, writer: FencedWriter, e: JobEntry, o: Owned, fromRunning: boolean): Promise<void> {
  if (o.verifying) return;
  const ctx = ctxOf(e);
  const type = cx.registry.get(ctx.type);
  if (fromRunning && !type?.instantVerify) {
    await writer.write(e, [{ kind: 'startVerification' }]);
    return;
  }
  o.verifying = true;
  try {
    const finish = await verifyJob(type, ctx, { jobId: e.id, roots: cx.roots, signal: o.abort.signal });
    const cur = cx.projection.get(e.id);
    if (!cur || cx.owned.get(e.id) !== o || o.abort.signal.aborted) return;
    // a failure retries the job while its type allows (from RUNNING without verifying first)
    const cmd = finish.kind === 'finish' && finish.outcome === 'failed' ? failOrRetry(ctxOf(cur), finish.error, jobRetriesOf(type, ctxOf(cur), cx.log)) : finish;
    await writer.write(cur, cur.state === 'RUNNING' && cmd.kind !== 'retry' ? [{ kind: 'startVerification' }, cmd] : [cmd]);
  } finally {
    o.verifying = false;
  }
}

/** Runs the type's verification (an unknown type or a throw fails the job) and returns the `finish` command. */
export async function verifyJob(
  type: JobType | undefined,
  ctx: JobContext,
  opts: { jobId: string; roots: FileRoots; signal: AbortSignal },
): Promise<JobCommand> {
  const results: TaskResult[] = [];
  for (const t of ctx.tasks ?? []) {
    const r = getTaskStatus(ctx, t.taskId)?.result;
    if (r) results.push(r);
  }
  let outcome: VerifyOutcome;
  try {
    outcome = type
      ? await type.verify(ctx.spec, { jobId: opts.jobId, roots: opts.roots, tasks: ctx.tasks ?? [], results, tasksFailed: ctx.progress.tasksFailed, signal: opts.signal })
      : { ok: false, code: 'UNKNOWN_JOB_TYPE' satisfies JobFailureCode, message: `no job type ${ctx.type}` };
  } catch (err) {
    outcome = { ok: false, code: 'VERIFY_ERROR' satisfies JobFailureCode, message: err instanceof Error ? err.message : String(err) };
  }
  return outcome.ok
    ? { kind: 'finish', outcome: 'succeeded', ...(outcome.summary !== undefined ? { summary: outcome.summary } : {}) }
    : { kind: 'finish', outcome: 'failed', error: { code: outcome.code, message: outcome.message, ...(outcome.details !== undefined ? { details: outcome.details } : {}) } };
}
