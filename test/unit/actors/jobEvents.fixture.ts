/** Builders of job event envelopes for actor tests (not a test file itself). */
import type {
  EventMeta,
  JobActiveSet,
  JobClaimed,
  JobCompacted,
  JobRecovered,
  JobRetried,
  RecoverMode,
  StopRequested,
  JobEvent,
  JobFailed,
  JobPaused,
  JobRequeued,
  JobResumed,
  JobStopped,
  JobSubmitted,
  JobSubmittedData,
  JobSucceeded,
  TaskFailed,
  TaskPlan,
  TaskResult,
  TaskSucceeded,
  TasksPlanned,
  VerificationStarted,
} from '../../../actors/events.ts';

export const AT = '2024-05-01T12:00:00.000Z';

/** `n` tasks `t0..t{n-1}`, each with `items` items of `bytesPerItem` bytes. */
export function taskPlans(n: number, items = 10, bytesPerItem = 10): TaskPlan[] {
  return Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, payload: { i }, items, bytes: items * bytesPerItem }));
}

/** A task result: `itemsDone` done, `itemsFailed` failed (each with a failure entry). */
export function result(itemsDone: number, itemsFailed = 0, bytesPerItem = 10): TaskResult {
  return {
    itemsDone,
    itemsFailed,
    bytesDone: itemsDone * bytesPerItem,
    failures: Array.from({ length: itemsFailed }, (_, i) => ({ item: `f${i}`, error: 'EIO' })),
  };
}

/** Event builders bound to one job id; `epoch` is the writer's `meta.epoch`. */
export function jobEvents(jobId = 'job-1') {
  const meta = (epoch: number, reason?: string): EventMeta => ({
    jobId,
    epoch,
    actor: 'test',
    at: AT,
    v: 1,
    ...(reason === undefined ? {} : { reason }),
  });
  return {
    jobId,
    meta,
    submitted: (over: Partial<JobSubmittedData> = {}): JobSubmitted => ({
      type: 'JobSubmitted',
      data: {
        jobId,
        type: 'load',
        name: 'load photos',
        spec: { src: '/data' },
        priority: 0,
        maxTaskAttempts: 3,
        maxFailedRatio: 0.2,
        requestHash: 'h1',
        owner: 'alice',
        ...over,
      },
      meta: meta(0),
    }),
    claimed: (epoch: number, coordinatorId = 'c1', metaEpoch = epoch): JobClaimed => ({
      type: 'JobClaimed',
      data: { coordinatorId, epoch },
      meta: meta(metaEpoch),
    }),
    planned: (tasks: TaskPlan[], epoch: number): TasksPlanned => ({ type: 'TasksPlanned', data: { tasks }, meta: meta(epoch) }),
    paused: (epoch: number): JobPaused => ({ type: 'JobPaused', data: {}, meta: meta(epoch) }),
    resumed: (epoch: number): JobResumed => ({ type: 'JobResumed', data: {}, meta: meta(epoch) }),
    requeued: (epoch: number, fromCoordinator = 'c1', metaEpoch = epoch): JobRequeued => ({
      type: 'JobRequeued',
      data: { fromCoordinator, epoch },
      meta: meta(metaEpoch, 'owner stale'),
    }),
    verifying: (epoch: number): VerificationStarted => ({ type: 'VerificationStarted', data: {}, meta: meta(epoch) }),
    succeeded: (epoch: number, summary?: unknown): JobSucceeded => ({
      type: 'JobSucceeded',
      data: summary === undefined ? {} : { summary },
      meta: meta(epoch),
    }),
    failed: (epoch: number, code = 'TOO_MANY_FAILURES'): JobFailed => ({
      type: 'JobFailed',
      data: { error: { code, message: 'failed ratio crossed' } },
      meta: meta(epoch),
    }),
    stopped: (epoch: number, reason?: string): JobStopped => ({ type: 'JobStopped', data: {}, meta: meta(epoch, reason) }),
    stopRequested: (epoch: number, graceMs = 1000): StopRequested => ({
      type: 'StopRequested',
      data: { graceMs, deadline: new Date(Date.parse(AT) + graceMs).toISOString() },
      meta: meta(epoch),
    }),
    recovered: (epoch: number, mode: RecoverMode = 'failed', tasksReset = 0): JobRecovered => ({
      type: 'JobRecovered',
      data: { mode, tasksReset },
      meta: meta(epoch),
    }),
    retried: (epoch: number, attempt: number, code = 'EXEC_FAILED'): JobRetried => ({
      type: 'JobRetried',
      data: { attempt, error: { code, message: 'a role failed' } },
      meta: meta(epoch),
    }),
    activeSet: (epoch: number, active: boolean): JobActiveSet => ({ type: 'JobActiveSet', data: { active }, meta: meta(epoch) }),
    compacted: (epoch: number, data: JobCompacted['data']): JobCompacted => ({ type: 'JobCompacted', data, meta: meta(epoch) }),
    taskOk: (taskId: string, attempt = 1, r: TaskResult = result(10), epoch = 1): TaskSucceeded => ({
      type: 'TaskSucceeded',
      data: { taskId, attempt, workerId: 'w1', result: r },
      meta: meta(epoch),
    }),
    taskFail: (
      taskId: string,
      attempt = 1,
      opts: { retryable?: boolean; result?: TaskResult; epoch?: number } = {},
    ): TaskFailed => ({
      type: 'TaskFailed',
      data: {
        taskId,
        attempt,
        workerId: 'w1',
        error: { code: 'EIO', message: 'disk error', retryable: opts.retryable ?? true },
        ...(opts.result === undefined ? {} : { result: opts.result }),
      },
      meta: meta(opts.epoch ?? 1),
    }),
  };
}

export type JobEventBuilders = ReturnType<typeof jobEvents>;

/** Events that take a fresh job to RUNNING at epoch 1 with `n` planned tasks. */
export function runningWith(e: JobEventBuilders, n: number, over: Partial<JobSubmittedData> = {}): JobEvent[] {
  return [e.submitted(over), e.claimed(1), e.planned(taskPlans(n), 1)];
}
