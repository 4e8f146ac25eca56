import type { JobState } from '../actors/events.ts';
import type { JobProgress } from '../actors/jobContext.ts';
import type { JobView } from '../actors/jobFold.ts';

/** What a client sends to create a job (validated by the API schema, then by the job type). */
export interface SubmitRequest {
  type: string;
  /** Human-readable name; not unique; ASCII letters, digits, `_ - . : /` and spaces only. */
  name?: string;
  spec: Record<string, unknown>;
  /** Higher runs first among waiting jobs (default 0). */
  priority?: number;
  /** Attempts per task before it counts as failed (default 3). */
  maxTaskAttempts?: number;
  /** Fraction of failed items above which the job fails (default 0). */
  maxFailedRatio?: number;
}

/** Job progress counters (tasks, items = files, bytes). */
export type Progress = JobProgress;

/** A job as the API returns it (defined beside the machine that produces it). */
export type { JobView };

export interface ProgressView extends Progress {
  jobId: string;
  state: JobState;
  /** Bytes per second since the job started (until it finished). */
  throughputBytesPerSec: number;
  elapsedMs: number;
  /** Item-level failures (capped). */
  failures: { taskId: string; item: string; error: string }[];
}

/** Everything that failed in a job: failed items (capped) and tasks that failed for good. */
export interface FailuresView {
  jobId: string;
  state: JobState;
  itemsFailed: number;
  tasksFailed: number;
  /** Item-level failures reported by workers (at most 1000 are kept). */
  items: { taskId: string; item: string; error: string }[];
  /** True when more items failed than `items` lists. */
  truncated: boolean;
  /** Tasks whose attempts are used up or whose error was not retryable. */
  tasks: { taskId: string; attempts: number[]; error: { code: string; message: string; retryable: boolean } | null }[];
}

export interface HistoryEntry {
  seq: number;
  time: string;
  subject: 'ev' | 'task';
  type: string;
  data: unknown;
  meta: Record<string, unknown>;
}

export interface WorkerView {
  id: string;
  pool: string;
  state: 'ACTIVE' | 'DRAINING' | 'LEFT';
  concurrency: number;
  host: string;
  pid: number;
  alive: boolean;
  registeredAt: string;
}

export interface ListQuery {
  state?: JobState[];
  type?: string;
  name?: string;
  /** 1..1000 */
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface ServiceInfo {
  name: string;
  version: string;
  roles: string[];
  nats: { url: string; embedded: boolean; syncInterval: string | null };
  dataDir: string;
  limits: { runningJobCapacity: number; waitingJobCapacity: number };
  jobTypes: string[];
}

export interface ActorRef {
  actor: string;
  reason?: string;
}

/**
 * The engine as the API sees it (api/ talks to the engine only through engine/index.ts).
 * Errors are AppErrors (JOB_NOT_FOUND, INVALID_TRANSITION, QUEUE_FULL, UNAVAILABLE, ...).
 */
export interface JobService {
  /** created=false when the idempotency key matched an earlier identical submission. */
  submit(req: SubmitRequest, opts: ActorRef & { idempotencyKey?: string }): Promise<{ job: JobView; created: boolean }>;
  get(id: string): Promise<JobView>;
  list(q: ListQuery): Promise<{ jobs: JobView[]; nextCursor: string | null }>;
  stop(id: string, by: ActorRef): Promise<JobView>;
  pause(id: string, by: ActorRef): Promise<JobView>;
  resume(id: string, by: ActorRef): Promise<JobView>;
  progress(id: string): Promise<ProgressView>;
  failures(id: string): Promise<FailuresView>;
  history(id: string): Promise<HistoryEntry[]>;
  workers(): Promise<WorkerView[]>;
  jobTypes(): { name: string; specSchema: Record<string, unknown> }[];
  info(): ServiceInfo;
  /** Ready = connected to NATS, streams present, projection caught up. */
  readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}
