/** A job's verification: its type's `verify()` over the task results, as the command that finishes the job. */
import type { JobCommand } from '../../actors/decide.ts';
import type { TaskResult } from '../../actors/events.ts';
import { getTaskStatus, type JobContext } from '../../actors/jobContext.ts';
import type { FileRoots, JobType } from '../jobtypes/jobType.ts';

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
  let outcome: { ok: true; summary?: unknown } | { ok: false; code: string; message: string };
  try {
    outcome = type
      ? await type.verify(ctx.spec, { jobId: opts.jobId, roots: opts.roots, tasks: ctx.tasks ?? [], results, signal: opts.signal })
      : { ok: false, code: 'UNKNOWN_JOB_TYPE', message: `no job type ${ctx.type}` };
  } catch (err) {
    outcome = { ok: false, code: 'VERIFY_ERROR', message: err instanceof Error ? err.message : String(err) };
  }
  return outcome.ok
    ? { kind: 'finish', outcome: 'succeeded', ...(outcome.summary !== undefined ? { summary: outcome.summary } : {}) }
    : { kind: 'finish', outcome: 'failed', error: { code: outcome.code, message: outcome.message } };
}
