/**
 * Records task outcomes on `job.<id>.task`, deduplicated by job, task and attempt (the msgId), so
 * a task run twice is counted once.
 */
import type { TaskError, TaskFailed, TaskSucceeded } from '../../actors/events.ts';
import type { TaskErrorCode } from '../../actors/failureCodes.ts';
import { retry } from '../retry.ts';
import { jobTaskSubject } from '../subjects.ts';
import type { Delivery, TaskMessage } from '../taskqueue/taskQueue.ts';
import type { WorkerContext } from './context.ts';
import { finishedFor } from './terminalJobs.ts';

/** Tries to record a task's outcome while the store is unavailable (the first and 20 retries). */
const PUBLISH_ATTEMPTS = 21;
/** Cap of the wait between them (from `retryBackoffMs`, doubling). */
const PUBLISH_BACKOFF_MAX_MS = 5_000;

export interface OutcomeReporter {
  /** True once the outcome is recorded; false when the store stayed unavailable (the caller returns the task). */
  publish(d: Delivery, ev: TaskSucceeded | TaskFailed): Promise<boolean>;
  /** Records a task whose deliveries all ended without an ack as a retryable failure (best effort). */
  reportExhausted(t: TaskMessage): Promise<void>;
}

export function createOutcomeReporter(cx: WorkerContext): OutcomeReporter {
  const { id, config, eventLog, jobs, clock, log, counts } = cx;

  /** Publish an outcome, retrying while the store is unavailable (the message is held with working()). */
  async function publish(d: Delivery, ev: TaskSucceeded | TaskFailed): Promise<boolean> {
    const t = d.task;
    try {
      await retry(() => eventLog.append(jobTaskSubject(t.jobId), [ev], { msgId: `${t.jobId}:${t.taskId}:${t.attempt}` }), {
        retryOn: ['UNAVAILABLE'],
        attempts: PUBLISH_ATTEMPTS,
        backoff: { baseMs: config.retryBackoffMs, maxMs: PUBLISH_BACKOFF_MAX_MS },
        clock,
        onRetry: () => d.working(),
      });
    } catch (err) {
      log.error({ jobId: t.jobId, taskId: t.taskId, err }, 'could not publish task outcome; returning the task');
      return false;
    }
    if (ev.type === 'TaskSucceeded') counts.completed++;
    else counts.failed++;
    return true;
  }

  /**
   * The queue gave up on a task whose deliveries all ended without an ack (workers died): record
   * a retryable failure so the owner re-dispatches it as a new attempt (bounded by maxTaskAttempts)
   * instead of waiting forever. Same msgId as a worker's outcome: counted once.
   */
  async function reportExhausted(t: TaskMessage): Promise<void> {
    if (finishedFor(jobs, t)) return;
    const error: TaskError = { code: 'DELIVERY_EXHAUSTED' satisfies TaskErrorCode, message: `task ${t.taskId} attempt ${t.attempt} used up its deliveries without an outcome`, retryable: true };
    const ev: TaskFailed = { type: 'TaskFailed', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, error }, meta: cx.meta(t.jobId, t.epoch) };
    await eventLog
      .append(jobTaskSubject(t.jobId), [ev], { msgId: `${t.jobId}:${t.taskId}:${t.attempt}` })
      .then(() => void counts.failed++)
      .catch((err: unknown) => log.warn({ jobId: t.jobId, taskId: t.taskId, err }, 'could not record an exhausted task'));
  }

  return { publish, reportExhausted };
}
