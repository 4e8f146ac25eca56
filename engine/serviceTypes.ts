import type { CallbackFormat, JobState, RecoverMode } from '../actors/events.ts';
import type { JobProgress } from '../actors/jobContext.ts';
import type { JobView } from '../actors/jobFold.ts';
import type { ActivityView } from './activity/activityRecorder.ts';
import type { AppError } from './errors.ts';
import type { JobExplanation } from './explain/explainJob.ts';
import type { AsOf, AsOfInfo } from './jobservice/asOf.ts';

export type { JobExplanation, AsOf, AsOfInfo, ActivityView };

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
  /** Virtual cluster to run in (default `default`); the caller needs access to it. */
  virtualCluster?: string;
  /** Notified (signed POST) on every terminal state; http(s), no credentials, no fragment. */
  callbackUrl?: string;
  /** The callback's body: `job` (default) the engine's `{deliveryId, event, seq, job}`, `spark` Spark Jobserver's `{jobId, result}` / `{jobId, status, result}`. */
  callbackFormat?: CallbackFormat;
  /** Labels to select the job by in listings (`ListQuery.labels`); see `engine/jobservice/labels.ts`. */
  labels?: Record<string, string>;
  /** Most tasks of the job in flight at once (1..10,000); absent: only the dispatch window limits it. */
  parallelism?: number;
}

/** One submission of `JobService.submitMany`: a SubmitRequest and its own optional idempotency key. */
export interface SubmitManyItem {
  req: SubmitRequest;
  /** As `submit`'s: derives the job id, so the same request again answers the job it made. */
  idempotencyKey?: string;
}

/** The outcome of one SubmitManyItem: what `submit` would have returned for it alone, or the AppError it would have thrown. */
export type SubmitManyResult = { ok: true; job: JobView; created: boolean } | { ok: false; error: AppError };

export const ROLES = ['admin', 'operator', 'viewer'] as const;
/** admin: everything, every job; operator: submit and control own jobs; viewer: read own jobs. */
export type UserRole = (typeof ROLES)[number];

/** The authenticated user behind a request (facades and the CLI act as one too). */
export interface Caller {
  user: string;
  role: UserRole;
  /** Virtual clusters this user may submit to (admins may use all). */
  virtualClusters: readonly string[];
  /**
   * What kind of bearer token the request presented (set by `Identity.authenticate`; the static
   * admin token is a session): an application token acts as its user on jobs and reads, but not on
   * user or token administration. Absent for callers that presented no token.
   */
  tokenKind?: 'session' | 'application';
}

/** The engine itself acting (retention, recovery) or a trusted in-process caller: sees everything. */
export const SYSTEM_CALLER: Caller = Object.freeze({ user: 'system', role: 'admin', virtualClusters: Object.freeze([]) as readonly string[] });

/** Who asks, and why (written to the event's meta: actor `user:<name>`, reason). */
export interface By {
  caller: Caller;
  reason?: string;
  /** The API a submission (or re-run) came through: `native` or a facade's name; recorded as the new job's `origin`. */
  origin?: string;
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

/**
 * One planned task of a job, as the job's events tell it (`JobService.tasks`). Dispatches are not
 * events: a task that is not final counts as `running` while its job is RUNNING (dispatched, queued
 * for a slot in the dispatch window, or waiting for a retry) and `pending` otherwise (the job
 * WAITING, PAUSED or finished).
 */
export interface TaskView {
  taskId: string;
  /** Position in the plan, from 0. */
  index: number;
  state: 'pending' | 'running' | 'succeeded' | 'failed';
  /** Attempts that reported an outcome (the highest attempt number seen; numbers continue across recoveries). */
  attempts: number;
  /** The first attempt number of the task's current run: 1, or after a recovery or a job retry the number it starts again from. */
  firstAttempt: number;
  /** `meta.at` (the reporting worker's clock) of the task's last outcome; null before the first. */
  lastUpdated: string | null;
  /** Id of the worker that reported the last outcome (`meta.actor` `worker:<id>`); null before the first. */
  worker: string | null;
  /** Why the task failed, or why its last attempt failed while it waits for a retry; null once it succeeded. */
  error: { code: string; message: string; retryable: boolean } | null;
  /** Items (files) the plan gave the task, and their bytes. */
  items: number;
  bytes: number;
  /** The job type's own account of the task's final attempt (`TaskResult.output`: an `exec` instance's exit code); null while not final or when it gave none. */
  output: unknown;
}

export interface PlanOptions {
  /** Only tasks in these states (the filter runs before any view is built). */
  states?: readonly TaskView['state'][];
  /**
   * Read the job's task outcomes for `lastUpdated` and `worker` (the whole `.task` subject);
   * without them (false) the plan comes from the projection alone, with those fields null.
   * @defaultValue true
   */
  outcomes?: boolean;
}

export interface PlanView {
  /** More tasks are to come (TasksPlanned/TasksExtended with a cursor). */
  open: boolean;
  cursor: unknown;
  tasks: (TaskView & { payload: unknown })[];
}

/** A dry run of a submission (`JobService.planSubmission`): what `submit` would record and the tasks its type would plan now. */
export interface SubmissionPlan {
  /** The request as it would be recorded: defaults filled in, with its virtual cluster and owner. */
  request: Record<string, unknown>;
  /** The type slices as it goes: these are its first tasks only, more are made while it runs. */
  planOpen: boolean;
  tasksTotal: number;
  itemsTotal: number;
  bytesTotal: number;
  /** The first tasks in plan order (at most 1000). */
  tasks: { taskId: string; items: number; bytes: number }[];
  /** More tasks were planned than `tasks` lists. */
  truncated: boolean;
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
  /** Tasks it ran at its last heartbeat (at most 256; only of jobs the caller may see), while it is alive. */
  tasks: { jobId: string; taskId: string }[];
}

/** `JobService.overview()`: the activity recorder's view and the processes' liveness. */
export interface OverviewView extends ActivityView {
  /** Every coordinator in the liveness bucket: alive as the coordinators judge it, and ms since its heartbeat last changed (this process's clock). */
  coordinators: { id: string; alive: boolean; lastSeenMs: number }[];
  /** Workers registered (not LEFT) and those alive. */
  workers: { registered: number; alive: number };
}

export interface ListQuery {
  state?: JobState[];
  /** Only jobs of this owner (admins; others always see only their own). */
  owner?: string;
  virtualCluster?: string;
  /** Active flag filter; default `true` (inactive jobs hidden). */
  active?: boolean | 'all';
  type?: string;
  name?: string;
  /** Only jobs whose id, name, type or owner contains this text (case-insensitive). */
  search?: string;
  /** Only jobs that carry every one of these labels (`key` → `value`). */
  labels?: Record<string, string>;
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

/** Status of a virtual cluster (OpenPAI's shape, percentages of the cluster's running-job capacity). */
export interface VirtualClusterStatus {
  name: string;
  /** Guaranteed share, percent. */
  capacity: number;
  /** Share it may borrow up to when others are idle, percent. */
  maxCapacity: number;
  /** Running slots in use, percent of total capacity. */
  usedCapacity: number;
  numJobs: number;
  numActiveJobs: number;
  numPendingJobs: number;
  /** Running-job slots this cluster may use now (guaranteed, max). */
  slots: { guaranteed: number; max: number; used: number; total: number };
}

/** One line of a job's webhook delivery log. */
export interface DeliveryEntry {
  seq: number;
  time: string;
  type: 'WebhookDelivered' | 'WebhookFailed' | 'WebhookRedeliveryRequested';
  data: unknown;
  meta: Record<string, unknown>;
}

/** What a live stream yields: one snapshot first (unless resuming), then every event in stream order. */
export type LiveMessage =
  | { kind: 'snapshot'; seq: number; jobs: JobView[]; truncated: boolean }
  /** Retention removed the job (a stream of that one job then ends). Not a stored record: no seq of its own. */
  | { kind: 'removed'; jobId: string }
  | {
      kind: 'event';
      seq: number;
      jobId: string;
      subject: 'ev' | 'task' | 'hook';
      type: string;
      data: unknown;
      meta: Record<string, unknown>;
      job: JobView | null;
      /** False on all but the last event of one stored record (they share `seq`): resume only after a record's last event. */
      lastInRecord: boolean;
    };

/**
 * The engine as the API sees it (api/ talks to the engine only through engine/index.ts).
 * Every user-facing call names its Caller: a job the caller may not see is JOB_NOT_FOUND (404, never 403).
 * Errors are AppErrors (JOB_NOT_FOUND, INVALID_TRANSITION, QUEUE_FULL, UNAVAILABLE, ...).
 */
export interface JobService {
  /** created=false when the idempotency key matched an earlier identical submission. */
  submit(req: SubmitRequest, opts: By & { idempotencyKey?: string }): Promise<{ job: JobView; created: boolean }>;
  /**
   * Many submissions in one group commit, each one answered as `submit` would answer it alone (in item
   * order): an invalid item fails alone, items past the waiting queue's room are QUEUE_FULL, and an
   * item whose idempotency key an earlier item of the same call used is answered as that item's replay
   * (or IDEMPOTENCY_KEY_REUSED for another body). Rejects only for a bug; store errors are items' results.
   */
  submitMany(items: readonly SubmitManyItem[], by: By): Promise<SubmitManyResult[]>;
  /**
   * Checks a submission as `submit` would (job type and spec, virtual cluster, callback, labels,
   * parallelism) and writes nothing; throws the AppError `submit` would. For callers that make several
   * submissions of one request and must refuse all of them when one is invalid.
   */
  checkSubmission(req: SubmitRequest, caller: Caller): void;
  /**
   * A dry run: validates `req` as `submit` would (the same AppErrors), plans it with its job type as a
   * coordinator would on claim, and writes nothing. A plan the type cannot make is INVALID_SPEC (or the
   * type's own code): the error the job would have failed with.
   */
  planSubmission(req: SubmitRequest, caller: Caller): Promise<SubmissionPlan>;
  get(id: string, caller: Caller): Promise<JobView>;
  /**
   * The job submitted at stream sequence `seq` (its `submitSeq`: a facade's number for it). JOB_NOT_FOUND
   * when no job was submitted there, it was removed, or the caller may not see it; NOT_READY when the
   * stream has the record but this process's projection has not caught up to it in time.
   */
  getBySubmitSeq(seq: number, caller: Caller): Promise<JobView>;
  list(q: ListQuery, caller: Caller): Promise<{ jobs: JobView[]; nextCursor: string | null }>;
  /** Cooperative stop: no new dispatch, tasks in flight get `graceMs` (default config.stopGraceMs), then forced. `force` stops at once. */
  stop(id: string, by: By & { graceMs?: number; force?: boolean }): Promise<JobView>;
  pause(id: string, by: By): Promise<JobView>;
  resume(id: string, by: By): Promise<JobView>;
  /** FAILED/STOPPED → WAITING, re-running failed (or not fully succeeded) tasks only. */
  recover(id: string, by: By & { mode?: RecoverMode }): Promise<JobView>;
  /** A new job with the same request (`rerunOf` = id) and the same owner. */
  rerun(id: string, by: By): Promise<JobView>;
  setActive(id: string, active: boolean, by: By): Promise<JobView>;
  /** The most tasks of the job in flight at once, from now on (`null`: no limit of its own); a finished job is INVALID_TRANSITION. */
  setParallelism(id: string, parallelism: number | null, by: By): Promise<JobView>;
  progress(id: string, caller: Caller): Promise<ProgressView>;
  failures(id: string, caller: Caller): Promise<FailuresView>;
  /**
   * The job's planned tasks in plan order (TaskView). Empty before the plan, and for a compacted job
   * (`JobView.compacted`: retention rolled the history up, no task detail is left).
   */
  tasks(id: string, caller: Caller): Promise<TaskView[]>;
  /**
   * The job's plan as its type made it: each task's view with its payload, and for an open plan
   * its cursor (`null` for a complete one). For a facade that maps its own notion of work units
   * (Teraslice slices) onto tasks. Empty before the plan and for a compacted job.
   */
  plan(id: string, caller: Caller, opts?: PlanOptions): Promise<PlanView>;
  history(id: string, caller: Caller): Promise<HistoryEntry[]>;
  /**
   * The job as it was at `asOf` (a stream sequence or a time: `parseAsOf`), folded from its records up
   * to then; `asOf` says what it holds to, and for a job compacted since that the answer is its
   * compacted snapshot (`exact: false`). JOB_NOT_FOUND when the job was not submitted yet then (or the
   * caller may not see it now); VALIDATION_FAILED for a sequence past the stream's end or a time to come.
   */
  getAsOf(id: string, caller: Caller, asOf: AsOf): Promise<JobView & { asOf: AsOfInfo }>;
  /** The job's history up to `asOf` (as `getAsOf`); empty before a compaction that removed it (`asOf.exact` false). */
  historyAsOf(id: string, caller: Caller, asOf: AsOf): Promise<{ events: HistoryEntry[]; asOf: AsOfInfo }>;
  /** Why the job is where it is: from the facts the claim pass and the owner act on (engine/explain/). */
  explain(id: string, caller: Caller): Promise<JobExplanation>;
  /** The job's webhook delivery log (attempts, failures, redelivery requests), oldest first. */
  deliveries(id: string, caller: Caller): Promise<DeliveryEntry[]>;
  /** Asks the webhook deliverer to send the terminal notification again (job must be terminal). */
  redeliver(id: string, by: By & { target?: string }): Promise<void>;
  /**
   * Live events the caller may see, for one job or all: a snapshot (unless `afterSeq` is given),
   * then every event with seq > snapshot seq (or > afterSeq). Ends when `signal` aborts.
   */
  live(opts: { caller: Caller; jobId?: string; afterSeq?: number; signal: AbortSignal }): AsyncIterable<LiveMessage>;
  virtualClusters(caller: Caller): Promise<VirtualClusterStatus[]>;
  /** The workers; `caller` (default: everything) limits the tasks shown to the jobs it may see. */
  workers(caller?: Caller): Promise<WorkerView[]>;
  /**
   * Service-wide figures for a dashboard: jobs by state, a short series of what happened (per process,
   * in memory: engine/activity/activityRecorder.ts), queue waits, and the coordinators' liveness.
   * Aggregates only: no job's id, name or owner.
   */
  overview(): Promise<OverviewView>;
  jobTypes(): { name: string; specSchema: Record<string, unknown> }[];
  info(): ServiceInfo;
  /** Ready = connected to NATS, streams present, projection caught up. */
  readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}
