import os from 'node:os';
import type { TaskError, TaskFailed, TaskResult, TaskSucceeded, WorkerInfo } from '../../actors/events.ts';
import { EVENT_SCHEMA_VERSION, TERMINAL_STATES } from '../../actors/events.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import { TaskRunError, type FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { Logger } from '../log.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { retry, type Backoff } from '../retry.ts';
import { jobTaskSubject, workerEvSubject } from '../subjects.ts';
import type { Delivery, TaskConsumer, TaskMessage, TaskQueue } from '../taskqueue/taskQueue.ts';
import type { TaskErrorCode } from '../../actors/failureCodes.ts';

/** Tries to record a task's outcome while the store is unavailable (the first and 20 retries). */
const PUBLISH_ATTEMPTS = 21;
/** Cap of the wait between them (from `retryBackoffMs`, doubling). */
const PUBLISH_BACKOFF_MAX_MS = 5_000;
/** Tries to register at start: a stream just created on a cluster may have no leader yet. */
const REGISTER_ATTEMPTS = 31;
const REGISTER_BACKOFF: Backoff = { baseMs: 100, maxMs: 2_000 };

export type WorkerConfig = Pick<Config, 'pool' | 'workerConcurrency' | 'heartbeatMs' | 'taskAckWaitMs' | 'taskMaxDeliver' | 'drainTimeoutMs' | 'retryBackoffMs'>;

export interface WorkerDeps {
  id: string;
  config: WorkerConfig;
  eventLog: EventLog;
  taskQueue: TaskQueue;
  liveness: Liveness;
  /** Used to drop tasks of finished jobs and abort tasks of stopped ones. */
  projection: JobProjection;
  registry: JobTypeRegistry;
  roots: FileRoots;
  clock: Clock;
  logger: Logger;
}

export interface Worker {
  readonly id: string;
  start(): Promise<void>;
  /** Stop pulling, let running tasks finish (up to drainTimeoutMs), return the rest, leave. */
  drain(): Promise<void>;
  /** Tasks running now. */
  running(): number;
  stats(): WorkerStats;
}

/** Counters for metrics. */
export interface WorkerStats {
  /** Tasks running now. */
  running: number;
  /** Task outcomes this worker recorded as TaskSucceeded since start. */
  completed: number;
  /** Task outcomes this worker recorded as TaskFailed since start (exhausted deliveries included). */
  failed: number;
}

interface Running {
  jobId: string;
  /** Claim epoch of the run that dispatched it. */
  epoch: number;
  abort: AbortController;
}

/**
 * Pulls tasks from `task.<pool>`, runs them with the job type's `run`, publishes the outcome to
 * `job.<id>.task` (deduplicated by job, task and attempt) and only then acks. A crash between the
 * two re-runs the task; the outcome is counted once because the job counts distinct task ids.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { id, config, eventLog, taskQueue, liveness, projection, registry, roots, clock } = deps;
  const log = deps.logger.child({ worker: id });
  const running = new Map<string, Running>();
  /** jobId → keys of its tasks in `running`: a finished job aborts its own tasks without a scan. */
  const runningByJob = new Map<string, Set<string>>();
  let completed = 0;
  let failed = 0;
  let consumer: TaskConsumer | undefined;
  let heartbeatTimer: unknown;
  let active = false;
  let unsubscribe: (() => void) | undefined;
  const info: WorkerInfo = { workerId: id, pool: config.pool, concurrency: config.workerConcurrency, host: os.hostname(), pid: process.pid };

  const meta = (jobId: string, epoch: number) => ({ jobId, epoch, actor: `worker:${id}`, at: new Date(clock.now()).toISOString(), v: EVENT_SCHEMA_VERSION });

  async function workerEvent(type: 'WorkerRegistered' | 'WorkerDraining' | 'WorkerLeft') {
    const data = type === 'WorkerRegistered' ? info : {};
    await eventLog.append(workerEvSubject(id), [{ type, data, meta: meta(id, 0) }], { msgId: `${type}:${id}` });
  }

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
    if (ev.type === 'TaskSucceeded') completed++;
    else failed++;
    return true;
  }

  async function handle(d: Delivery): Promise<void> {
    const t = d.task;
    if (finishedFor(t)) {
      await d.ack(); // finished or stopped: nothing to do
      return;
    }
    const type = registry.get(t.type);
    const key = `${t.jobId}:${t.taskId}:${t.attempt}:${t.epoch}`;
    let outcome: TaskSucceeded | TaskFailed;
    if (d.deliveryCount >= config.taskMaxDeliver || !type) {
      const error: TaskError = type
        ? { code: 'DELIVERY_EXHAUSTED' satisfies TaskErrorCode, message: `delivered ${d.deliveryCount} times without an outcome`, retryable: true }
        : { code: 'UNKNOWN_JOB_TYPE' satisfies TaskErrorCode, message: `worker ${id} has no job type ${t.type}`, retryable: false };
      outcome = { type: 'TaskFailed', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, error }, meta: meta(t.jobId, t.epoch) };
    } else {
      const abort = new AbortController();
      running.set(key, { jobId: t.jobId, epoch: t.epoch, abort });
      let keys = runningByJob.get(t.jobId);
      if (!keys) runningByJob.set(t.jobId, (keys = new Set()));
      keys.add(key);
      // An interval made of clock timers, so a simulated clock drives it too.
      const keepAliveMs = Math.max(1000, Math.floor(config.taskAckWaitMs / 3));
      let keepAlive: unknown;
      const keepWorking = () => {
        d.working();
        keepAlive = clock.setTimeout(keepWorking, keepAliveMs);
      };
      keepAlive = clock.setTimeout(keepWorking, keepAliveMs);
      try {
        const result: TaskResult = await type.run(t.spec, t.payload, {
          jobId: t.jobId, taskId: t.taskId, attempt: t.attempt, roots, signal: abort.signal, heartbeat: () => d.working(),
        });
        outcome = { type: 'TaskSucceeded', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, result }, meta: meta(t.jobId, t.epoch) };
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
        outcome = { type: 'TaskFailed', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, error }, meta: meta(t.jobId, t.epoch) };
      } finally {
        clock.clearTimeout(keepAlive);
        running.delete(key);
        keys.delete(key);
        if (keys.size === 0) runningByJob.delete(t.jobId);
      }
    }
    if (await publish(d, outcome)) await d.ack().catch((err: unknown) => log.warn({ err }, 'ack failed; the task may run again (counted once)'));
    else d.nak(config.retryBackoffMs);
  }

  /**
   * The queue gave up on a task whose deliveries all ended without an ack (workers died): record
   * a retryable failure so the owner re-dispatches it as a new attempt (bounded by maxTaskAttempts)
   * instead of waiting forever. Same msgId as a worker's outcome: counted once.
   */
  async function reportExhausted(t: TaskMessage): Promise<void> {
    if (finishedFor(t)) return;
    const error: TaskError = { code: 'DELIVERY_EXHAUSTED' satisfies TaskErrorCode, message: `task ${t.taskId} attempt ${t.attempt} used up its deliveries without an outcome`, retryable: true };
    const ev: TaskFailed = { type: 'TaskFailed', data: { taskId: t.taskId, attempt: t.attempt, workerId: id, error }, meta: meta(t.jobId, t.epoch) };
    await eventLog
      .append(jobTaskSubject(t.jobId), [ev], { msgId: `${t.jobId}:${t.taskId}:${t.attempt}` })
      .then(() => void failed++)
      .catch((err: unknown) => log.warn({ jobId: t.jobId, taskId: t.taskId, err }, 'could not record an exhausted task'));
  }

  /**
   * A job that became terminal (stopped after its grace period, failed, or finished elsewhere)
   * aborts its tasks still running here; their handler sees the signal and no outcome is recorded.
   * A task that completes anyway is recorded as usual: a terminal job ignores late outcomes.
   */
  function onJobChange(e: JobEntry) {
    if (!TERMINAL_STATES.has(e.state)) return;
    const keys = runningByJob.get(e.id);
    if (!keys) return;
    const epoch = (e.snapshot.context as { epoch: number }).epoch;
    for (const key of keys) {
      const r = running.get(key);
      // a task of a later run (a recovery claimed it again) is not this terminal state's to abort
      if (r && r.epoch <= epoch) r.abort.abort('job-finished');
    }
  }

  /**
   * True when the task's job is terminal in our projection at the task's epoch or later. A task
   * from a higher epoch belongs to a recovered run our projection has not caught up with yet: run
   * it (dropping it would lose the task: found by test/sim).
   */
  function finishedFor(t: TaskMessage): boolean {
    const job = projection.get(t.jobId);
    return job !== undefined && TERMINAL_STATES.has(job.state) && (job.snapshot.context as { epoch: number }).epoch >= t.epoch;
  }

  async function beat() {
    try {
      await liveness.beat('worker', id, { ...info, running: running.size });
    } catch (err) {
      log.warn({ err }, 'heartbeat failed');
    }
    if (active) heartbeatTimer = clock.setTimeout(() => void beat(), config.heartbeatMs);
  }

  return {
    id,
    async start() {
      active = true;
      unsubscribe = projection.onChange(onJobChange);
      // A stream just created on a cluster may have no leader yet ("jetstream not enabled"): retry.
      await retry(() => workerEvent('WorkerRegistered'), {
        retryOn: ['UNAVAILABLE'],
        attempts: REGISTER_ATTEMPTS,
        backoff: REGISTER_BACKOFF,
        clock,
        onRetry: (err, attempt) => log.warn({ err, attempt }, 'could not register yet; retrying'),
      });
      await beat();
      consumer = taskQueue.consume(
        config.pool,
        config.workerConcurrency,
        (d) =>
          handle(d).catch((err: unknown) => {
            log.error({ err }, 'task handler failed');
            d.nak(config.retryBackoffMs);
          }),
        { onExhausted: reportExhausted },
      );
      log.info({ pool: config.pool, concurrency: config.workerConcurrency }, 'worker started');
    },
    async drain() {
      if (!active) return;
      active = false;
      clock.clearTimeout(heartbeatTimer);
      await workerEvent('WorkerDraining').catch((err: unknown) => log.warn({ err }, 'could not record draining'));
      const forced = clock.setTimeout(() => {
        for (const r of running.values()) r.abort.abort('drain');
      }, config.drainTimeoutMs);
      await consumer?.drain();
      clock.clearTimeout(forced);
      unsubscribe?.();
      await workerEvent('WorkerLeft').catch((err: unknown) => log.warn({ err }, 'could not record leaving'));
      await liveness.leave('worker', id).catch(() => undefined);
      log.info('worker drained and left');
    },
    running: () => running.size,
    stats: () => ({ running: running.size, completed, failed }),
  };
}
