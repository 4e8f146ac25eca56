/**
 * Job retries (JobType.jobRetries; `exec`'s `jobRetryCount`): where the owning coordinator would fail
 * a job it asks the job's type how many retries its spec allows, and while some are left it retries
 * the job (JobRetried: every task runs again) instead of failing it.
 */
import type { JobCommand } from '../../actors/decide.ts';
import type { JobFailure } from '../../actors/failureCodes.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import { whyNoRetry } from '../../actors/jobRecovery.ts';
import type { JobType } from '../jobtypes/jobType.ts';
import type { Logger } from '../log.ts';

/** How many retries the type allows the job (0 without the hook; a hook that throws or answers nonsense allows none). */
export function jobRetriesOf(type: JobType | undefined, ctx: JobContext, log: Logger): number {
  if (type?.jobRetries === undefined) return 0;
  try {
    const n = type.jobRetries(ctx.spec);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch (err) {
    log.warn({ err, jobId: ctx.jobId }, 'a job type\'s jobRetries threw; the job is not retried');
    return 0;
  }
}

/** The command for a run that failed with `error`: a retry while `jobRetries` allows one, else the failure. */
export function failOrRetry(ctx: JobContext, error: JobFailure, jobRetries: number): JobCommand {
  return whyNoRetry(ctx, jobRetries) === undefined ? { kind: 'retry', error, maxRetries: jobRetries } : { kind: 'finish', outcome: 'failed', error };
}
