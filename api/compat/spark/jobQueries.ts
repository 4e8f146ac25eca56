/** Reads of the engine's job list the Spark routes share. */
import type { Caller, JobService, JobView } from '../../../engine/index.ts';

/** States of a job that is not finished (Spark's non-final RUNNING/RESTARTING). */
export const UNFINISHED = ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING'] as const;
/** Most jobs one listing reads (pages of 1000). */
const MAX_LISTED = 100_000;

/** Every `script` job not finished, optionally only those with these labels, oldest first. */
export async function activeScriptJobs(service: JobService, caller: Caller, labels?: Record<string, string>): Promise<JobView[]> {
  const out: JobView[] = [];
  let cursor: string | undefined;
  do {
    const page = await service.list({ type: 'script', state: [...UNFINISHED], ...(labels ? { labels } : {}), limit: 1000, ...(cursor ? { cursor } : {}) }, caller);
    out.push(...page.jobs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && out.length < MAX_LISTED);
  return out.sort((a, b) => a.submitSeq - b.submitSeq);
}
