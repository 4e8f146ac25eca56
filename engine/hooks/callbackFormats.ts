/**
 * Callback bodies other than the engine's own: a job submitted with `callbackFormat: 'spark'` (the
 * Spark Jobserver facade's jobs, or a native client that wants that shape) gets what Spark
 * Jobserver's StandaloneCallbackHandler posts: `{jobId, result}` on success, `{jobId, status:
 * "ERROR", result: {message, errorClass, stack}}` on failure. Spark posts nothing for a cancelled
 * job; we post `{jobId, status: "KILLED", result: {…}}` so a receiver learns the job is over.
 * The facade reuses `sparkOutcome` for its sync answers and job reports: one mapping.
 */
import type { JobView } from '../../actors/jobFold.ts';

/** Spark's `{message, errorClass, stack}` for an exception. */
export interface SparkErrorData {
  message: string;
  errorClass: string;
  stack: string;
}

/** The class name Spark Jobserver reports for a killed job (JobManagerActor.JobKilledException). */
export const SPARK_KILLED_CLASS = 'spark.jobserver.JobManagerActor$JobKilledException';

/** A job's outcome the way Spark Jobserver tells it; undefined while the job is not finished. */
export function sparkOutcome(job: JobView): { status: 'FINISHED'; result: unknown } | { status: 'ERROR' | 'KILLED'; error: SparkErrorData } | undefined {
  if (job.state === 'SUCCEEDED') {
    const s = job.summary as { result?: unknown } | null;
    return { status: 'FINISHED', result: s !== null && typeof s === 'object' && 'result' in s ? s.result : (s ?? null) };
  }
  if (job.state === 'STOPPED') return { status: 'KILLED', error: { message: `Job ${job.id} killed`, errorClass: SPARK_KILLED_CLASS, stack: '' } };
  if (job.state === 'FAILED') return { status: 'ERROR', error: sparkErrorData(job) };
  return undefined;
}

/** The `{message, errorClass, stack}` of a failed job: a script's own detail, else the engine's code and message. */
export function sparkErrorData(job: JobView): SparkErrorData {
  const e = job.error;
  const d = e?.details as Partial<SparkErrorData> | undefined;
  if (d !== undefined && d !== null && typeof d === 'object' && typeof d.message === 'string') {
    return { message: d.message, errorClass: typeof d.errorClass === 'string' ? d.errorClass : (e?.code ?? 'Error'), stack: typeof d.stack === 'string' ? d.stack : '' };
  }
  // a job failed by its tasks: the first task's own error says why (a runtime missing, the binary gone)
  const task = (d as { task?: { taskId?: unknown; code?: unknown; message?: unknown } } | undefined)?.task;
  if (task !== undefined && task !== null && typeof task.message === 'string' && typeof task.code === 'string') {
    return { message: task.message, errorClass: task.code, stack: `${e?.code ?? 'FAILED'}: ${e?.message ?? ''}` };
  }
  return { message: e?.message ?? 'the job failed', errorClass: e?.code ?? 'Error', stack: '' };
}

/** The body of a `spark` callback for a finished job. */
export function sparkCallbackBody(job: JobView): Record<string, unknown> {
  const o = sparkOutcome(job);
  if (o === undefined) return { jobId: job.id, status: 'RUNNING' };
  if (o.status === 'FINISHED') return { jobId: job.id, result: o.result };
  return { jobId: job.id, status: o.status, result: o.error };
}
