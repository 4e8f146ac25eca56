/**
 * Runs one delivered task: drops it when its job is already terminal or has reset the task since
 * (a job retry), fails it when the queue has delivered it too often or no job type runs it, else
 * runs the job type with an AbortSignal while keeping the message alive, then reports the outcome
 * and only then acks.
 */
import type { TaskError, TaskFailed, TaskResult, TaskSucceeded } from '../../actors/events.ts';
import type { TaskErrorCode } from '../../actors/failureCodes.ts';
import { TaskRunError } from '../jobtypes/jobType.ts';
import type { Delivery } from '../taskqueue/taskQueue.ts';
import type { RunningTask } from './runningTasks.ts';
import type { WorkerContext } from './context.ts';
import type { OutcomeReporter } from './outcomeReporter.ts';
import { finishedFor, obsoleteFor } from './terminalJobs.ts';

/** Handles one delivery of `task.<pool>`; resolves once it is acked or given back. */
export function createTaskExecution(cx: WorkerContext, reporter: OutcomeReporter): (d: Delivery) => Promise<void> {
  const { id, config, jobs, registry, roots, clock, log, running } = cx;

  return async function handle(d: Delivery): Promise<void> {
    const t = d.task;
    if (finishedFor(jobs, t) || obsoleteFor(jobs, t)) {
      await d.ack(); // finished, stopped, or an attempt the job reset since: nothing to do
      return;
    }
    const type = registry.get(t.type);
    const key = `${t.jobId}:${t.taskId}:${t.attempt}:${t.epoch}`;
    let outcome: TaskSucceeded | TaskFailed;
    /** The task counts as running (heartbeats, drain) until its outcome is recorded and acked, or it is given back. */
    let held: RunningTask | undefined;
    try {
      if (d.deliveryCount >= config.taskMaxDeliver || !type) {
        const error: TaskError = type
          ? { code: 'DELIVERY_EXHAUSTED' satisfies TaskErrorCode, message: `delivered ${d.deliveryCount} times without an outcome`, retryable: true }
          : { code: 'UNKNOWN_JOB_TYPE' satisfies TaskErrorCode, message: `worker ${id} has no job type ${t.type}`, retryable: false };
        outcome = { type: 'TaskFailed', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, error }, meta: cx.meta(t.jobId, t.epoch) };
      } else {
        const task = (held = running.start(key, t.jobId, t.epoch));
        const { abort } = task;
        // An interval made of clock timers, so a simulated clock drives it too.
        const keepAliveMs = Math.max(1000, Math.floor(config.taskAckWaitMs / 3));
        let keepAlive: unknown;
        const keepWorking = () => {
          d.working();
          keepAlive = clock.setTimeout(keepWorking, keepAliveMs);
        };
        keepAlive = clock.setTimeout(keepWorking, keepAliveMs);
        // A job type may call heartbeat() per item (file jobs: per file); each working() is a publish,
        // so at most one goes out per tenth of the ack wait.
        const beatEveryMs = Math.max(1, Math.floor(config.taskAckWaitMs / 10));
        let lastBeat = Number.NEGATIVE_INFINITY;
        const heartbeat = () => {
          const now = clock.monotonic();
          if (now - lastBeat < beatEveryMs) return;
          lastBeat = now;
          d.working();
        };
        try {
          const result: TaskResult = await type.run(t.spec, t.payload, {
            jobId: t.jobId, taskId: t.taskId, attempt: t.attempt, runAttempt: t.attempt - (t.firstAttempt ?? 1) + 1, roots, signal: abort.signal, heartbeat,
          });
          outcome = { type: 'TaskSucceeded', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, result }, meta: cx.meta(t.jobId, t.epoch) };
        } catch (err) {
          if (abort.signal.aborted) {
            const reason = abort.signal.reason as string | undefined;
            if (reason === 'drain') d.nak(); // give it back for another worker
            else await d.ack(); // the job was stopped: drop the task
            return;
          }
          const error: TaskError = err instanceof TaskRunError
            ? { code: err.code, message: err.message, retryable: err.retryable }
            : { code: 'TASK_ERROR' satisfies TaskErrorCode, message: err instanceof Error ? err.message : String(err), retryable: true };
          const result = err instanceof TaskRunError ? err.result : undefined;
          outcome = { type: 'TaskFailed', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, error, ...(result !== undefined ? { result } : {}) }, meta: cx.meta(t.jobId, t.epoch) };
        } finally {
          clock.clearTimeout(keepAlive);
        }
      }
      if (await reporter.publish(d, outcome)) await d.ack().catch((err: unknown) => log.warn({ err }, 'ack failed; the task may run again (counted once)'));
      else d.nak(config.retryBackoffMs);
    } finally {
      held?.done();
    }
  };
}
