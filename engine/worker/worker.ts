import type { TaskConsumer } from '../taskqueue/taskQueue.ts';
import { createWorkerContext } from './context.ts';
import { createMembership } from './membership.ts';
import { createOutcomeReporter } from './outcomeReporter.ts';
import { createTaskExecution } from './taskExecution.ts';
import { abortEndedTasks } from './terminalJobs.ts';
import type { Worker, WorkerDeps } from './types.ts';

export type { Worker, WorkerConfig, WorkerDeps, WorkerStats } from './types.ts';

/**
 * Pulls tasks from `task.<pool>`, runs them with the job type's `run`, publishes the outcome to
 * `job.<id>.task` (deduplicated by job, task and attempt) and only then acks. A crash between the
 * two re-runs the task; the outcome is counted once because the job counts distinct task ids.
 *
 * The parts: membership.ts (register, heartbeat, draining, leaving), taskExecution.ts (running one
 * task: runningTasks.ts, terminalJobs.ts), outcomeReporter.ts (recording the outcome).
 */
export function createWorker(deps: WorkerDeps): Worker {
  const cx = createWorkerContext(deps);
  const { id, config, taskQueue, jobs, clock, log, running, counts } = cx;
  const membership = createMembership(cx);
  const reporter = createOutcomeReporter(cx);
  const handle = createTaskExecution(cx, reporter);
  let consumer: TaskConsumer | undefined;
  let unsubscribe: (() => void) | undefined;

  return {
    id,
    async start() {
      cx.active = true;
      unsubscribe = jobs.onChange((jobId, job) => abortEndedTasks(running, jobId, job));
      await membership.register();
      await membership.beat();
      consumer = taskQueue.consume(
        config.pool,
        config.workerConcurrency,
        (d) =>
          handle(d).catch((err: unknown) => {
            log.error({ err }, 'task handler failed');
            d.nak(config.retryBackoffMs);
          }),
        { onExhausted: reporter.reportExhausted },
      );
      log.info({ pool: config.pool, concurrency: config.workerConcurrency }, 'worker started');
    },
    async drain() {
      if (!cx.active) return;
      cx.active = false;
      membership.stopBeating();
      await membership.recordDraining();
      const forced = clock.setTimeout(() => running.abortAll('drain'), config.drainTimeoutMs);
      await consumer?.drain();
      clock.clearTimeout(forced);
      unsubscribe?.();
      await membership.recordLeft();
      await membership.leaveLiveness();
      log.info('worker drained and left');
    },
    running: () => running.size,
    stats: () => ({ running: running.size, completed: counts.completed, failed: counts.failed }),
  };
}
