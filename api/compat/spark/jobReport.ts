/**
 * Spark Jobserver's JobInfo report (JsonProtocols.getJobReport, clients.md §3.2) of one of our
 * `script` jobs: `jobId`, `startTime` (`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, here in UTC), `classPath`,
 * `context` (`<<ad-hoc>>` without one), `contextId`, `duration` (`"Job not done yet"` or
 * `"<ms/1000.0> secs"` as Java prints a double), `status`, and `result` when finished (the value,
 * or for ERROR/KILLED `{message, errorClass, stack}`).
 */
import { createHash } from 'node:crypto';
import { jacksonDouble } from '../../../cli/javaFormat.ts';
import { sparkOutcome, type JobView } from '../../../engine/index.ts';
import { CONTEXT_ID_LABEL } from './contexts.ts';

export type SparkJobStatus = 'STARTED' | 'RUNNING' | 'FINISHED' | 'ERROR' | 'KILLED' | 'RESTARTING';
export const SPARK_JOB_STATUSES: readonly SparkJobStatus[] = ['STARTED', 'RUNNING', 'FINISHED', 'ERROR', 'KILLED', 'RESTARTING'];
export const AD_HOC = '<<ad-hoc>>';

/** Our state as Spark's: a job queued again after it had started (a worker or coordinator died) is RESTARTING. */
export function sparkStatus(job: JobView): SparkJobStatus {
  switch (job.state) {
    case 'SUCCEEDED':
      return 'FINISHED';
    case 'FAILED':
      return 'ERROR';
    case 'STOPPED':
      return 'KILLED';
    case 'WAITING':
      return job.startedAt !== null ? 'RESTARTING' : 'RUNNING';
    default:
      return 'RUNNING';
  }
}

export function sparkDuration(job: JobView): string {
  if (job.finishedAt === null) return 'Job not done yet';
  const start = Date.parse(job.startedAt ?? job.submittedAt);
  const ms = Math.max(0, Date.parse(job.finishedAt) - start);
  return `${jacksonDouble(ms / 1000)} secs`;
}

/** A context id for an ad-hoc job: Spark makes a context per such job; ours is derived from the job id. */
export function adHocContextId(jobId: string): string {
  const h = createHash('sha256').update(`spark-adhoc:${jobId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function jobReport(job: JobView, opts: { started?: boolean; withResult?: boolean } = {}): Record<string, unknown> {
  const spec = job.spec as { classPath?: string; context?: string };
  const report: Record<string, unknown> = {
    duration: sparkDuration(job),
    classPath: spec.classPath ?? '',
    startTime: new Date(job.startedAt ?? job.submittedAt).toISOString(),
    context: spec.context ?? AD_HOC,
    contextId: job.labels[CONTEXT_ID_LABEL] ?? adHocContextId(job.id),
    status: opts.started === true ? 'STARTED' : sparkStatus(job),
    jobId: job.id,
  };
  const outcome = sparkOutcome(job);
  if (outcome !== undefined && opts.started !== true) {
    if (outcome.status === 'FINISHED') {
      if (opts.withResult !== false) report.result = outcome.result;
    } else report.result = outcome.error;
  }
  return report;
}
