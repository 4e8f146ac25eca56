/** The coordinator's public shape: its options, its handle and its counters; and the per-job bookkeeping it keeps. */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { Logger } from '../log.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import type { VirtualClusterDef } from '../quota/shares.ts';
import type { TaskQueue } from '../taskqueue/taskQueue.ts';

export type CoordinatorConfig = Pick<
  Config,
  | 'runningJobCapacity' | 'maxTasksPerWorker' | 'pool' | 'heartbeatMs' | 'failureDetectionTimeoutMs' | 'retryBackoffMs'
  | 'defaultBatchSize' | 'defaultPartitionSizeBytes'
>;

export interface CoordinatorDeps {
  id: string;
  config: CoordinatorConfig;
  eventLog: EventLog;
  taskQueue: TaskQueue;
  liveness: Liveness;
  projection: JobProjection;
  registry: JobTypeRegistry;
  roots: FileRoots;
  clock: Clock;
  logger: Logger;
  /** The effective virtual clusters (quota pools; `default` included). @defaultValue only `default` */
  virtualClusters?: () => readonly VirtualClusterDef[];
}

/** Counters for metrics. */
export interface CoordinatorStats {
  /** Jobs this coordinator owns now. */
  owned: number;
  /** Tasks dispatched and not yet answered, over all owned jobs. */
  inflightTasks: number;
  /** The same per virtual cluster (as the jobs name it); VCs with none are absent. */
  inflightTasksPerVc: ReadonlyMap<string, number>;
  /** Claim passes run since start (each may claim several jobs, or none). */
  claimPasses: number;
}

export interface Coordinator {
  readonly id: string;
  /** Start heartbeating, claiming and driving jobs. The projection must already be caught up. */
  start(): Promise<void>;
  /** Stop; with `handoff` (default) requeue owned jobs so a peer or restart resumes them at once. */
  stop(opts?: { handoff?: boolean }): Promise<void>;
  /** Jobs this coordinator currently owns. */
  owned(): string[];
  stats(): CoordinatorStats;
}

/** Local, non-durable bookkeeping for a job this coordinator owns. */
export interface Owned {
  epoch: number;
  /** The job's virtual cluster: its tasks in flight count against that VC's share of the workers. */
  vc: string;
  /** taskId → attempt dispatched and not yet answered. */
  dispatched: Map<string, number>;
  /** taskId → pending retry: its backoff timer, when it is due (Clock.now() ms), and whether it is. */
  retries: Map<string, { timer: unknown; due: boolean; dueAtMs: number }>;
  verifying: boolean;
  /** Asking the job type for more tasks of the job's open plan (one extension at a time). */
  extending?: boolean;
  abort: AbortController;
  /** Timer of a cooperative stop's deadline (armed from the persisted deadline), and whether it passed. */
  stopTimer?: unknown;
  stopDue?: boolean;
  /** The finished-task count (`epoch:retries:succeeded:failed`) at which the job type's settle last said "go on". */
  settledAt?: string;
  /** The job's retry count (JobRetried) when we last drove it: a new retry drops the retry backoffs of the run before. */
  jobRetriesSeen?: number;
}
