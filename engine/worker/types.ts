/** The worker's options, dependencies, and the face it shows to `startRoles.ts` and metrics. */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { Logger } from '../log.ts';
import type { JobFacts } from '../projections/jobFacts.ts';
import type { TaskQueue } from '../taskqueue/taskQueue.ts';

export type WorkerConfig = Pick<Config, 'pool' | 'workerConcurrency' | 'heartbeatMs' | 'taskAckWaitMs' | 'taskMaxDeliver' | 'drainTimeoutMs' | 'retryBackoffMs'>;

export interface WorkerDeps {
  id: string;
  config: WorkerConfig;
  eventLog: EventLog;
  taskQueue: TaskQueue;
  liveness: Liveness;
  /**
   * What the worker knows of each job: drops tasks of finished jobs and obsolete attempts, aborts
   * tasks of stopped ones (the full projection's facts, or a worker-only process's slim view).
   */
  jobs: JobFacts;
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
