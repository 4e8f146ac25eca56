/**
 * The context of the job machine and the pure reducers that count task outcomes into it.
 * Kept apart from the machine so the counting rules (distinct task ids, attempt budgets, clamped
 * progress) read and test as plain functions.
 */
import type { CallbackFormat, JobSubmitted, TaskError, TaskFailed, TaskPlan, TaskResult, TaskSucceeded } from './events.ts';
import type { JobFailure } from './failureCodes.ts';

/** Virtual cluster of a job submitted without one (and of every job written before quotas existed). */
export const DEFAULT_VIRTUAL_CLUSTER = 'default';

/** Item-level failures kept per job (the rest is counted in `progress.itemsFailed` only). */
export const MAX_RECORDED_FAILURES = 1000;

/** Task statuses live in chunks of this size, so recording one outcome copies O(√n) refs, not O(n). */
export const STATUS_CHUNK_SIZE = 256;

export type TaskState = 'pending' | 'succeeded' | 'failed';

/** What the job knows about one planned task. */
export interface TaskStatus {
  state: TaskState;
  /** Distinct attempt numbers seen failing (a redelivered outcome counts once). */
  failedAttempts: number[];
  /** Highest attempt number seen in any outcome; 0 before the first. */
  maxAttemptSeen: number;
  result?: TaskResult;
  error?: TaskError;
  /**
   * Set when a recovery reset the task: outcomes of attempts below it happened before the
   * recovery and are ignored (the budget counts only attempts after it). Absent = 0.
   */
  attemptFloor?: number;
}

export interface JobProgress {
  tasksTotal: number;
  tasksSucceeded: number;
  tasksFailed: number;
  itemsTotal: number;
  itemsDone: number;
  itemsFailed: number;
  bytesTotal: number;
  bytesDone: number;
}

/** One failed item, as reported by a worker, with the task it belonged to. */
export interface ItemFailure {
  taskId: string;
  item: string;
  error: string;
}

/** Everything a job's events have established; JSON-safe. */
export interface JobContext {
  jobId: string;
  type: string;
  name: string;
  spec: Record<string, unknown>;
  priority: number;
  owner: string;
  maxTaskAttempts: number;
  maxFailedRatio: number;
  requestHash: string;
  idempotencyKey?: string;
  /** `meta.at` of JobSubmitted. */
  submittedAt: string;
  /** `meta.at` of the first JobClaimed. */
  startedAt?: string;
  /** `meta.at` of the terminal event. */
  finishedAt?: string;
  /** Claim epoch: raised by every JobClaimed and JobRequeued; 0 before the first claim. */
  epoch: number;
  coordinatorId: string | null;
  /** The user wants the job paused: a requeued PAUSED job is claimed back into PAUSED. */
  pauseRequested: boolean;
  /** The plan; null until TasksPlanned. Shared (never copied) between snapshots. */
  tasks: TaskPlan[] | null;
  /**
   * Status of `tasks[i]` at `taskStatus[⌊i / 256⌋][i % 256]`. Use `getTaskStatus(ctx, taskId)`.
   * Chunked copy-on-write because a flat map copied per outcome made replay O(tasks²)
   * (3.3 ms per outcome at 10k tasks, measured).
   */
  taskStatus: TaskStatus[][];
  progress: JobProgress;
  /** Item failures from task results, at most MAX_RECORDED_FAILURES. */
  failures: ItemFailure[];
  /** Why the job FAILED. */
  error?: JobFailure;
  /** What verification reported when the job SUCCEEDED. */
  summary?: unknown;
  /** How many times the job was requeued (JobRequeued count). */
  reclaims: number;
  /** `meta.reason` of the latest lifecycle event that had one. */
  lastReason?: string;
  /** Quota pool the job runs in. */
  virtualCluster: string;
  /** Teraslice-style flag of a finished job; inactive jobs are hidden from default lists. */
  active: boolean;
  /** A cooperative stop in progress: the owner stops dispatching and stops the job by `deadline`. */
  stopRequested: { graceMs: number; deadline: string } | null;
  /** Id of the job this one re-runs. */
  rerunOf?: string;
  /** Notified on every terminal state. */
  callbackUrl?: string;
  /** Body format of the callback; absent = `job`. */
  callbackFormat?: CallbackFormat;
  /** Labels given at submission (listings select by them). */
  labels?: Record<string, string>;
  /** Most tasks in flight at once (ParallelismSet changes it); absent: no limit of the job's own. */
  parallelism?: number;
  /** The API the job was submitted through (JobSubmitted.origin); absent when not recorded. */
  origin?: string;
  /** Set while the plan is open: where the job type's `extend` goes on. Absent: the plan is complete. */
  planCursor?: unknown;
  /** How many times the job was recovered (JobRecovered count). */
  recoveries: number;
  /** How many times the job's runs were retried as a whole (JobRetried count; JobType.jobRetries). */
  retries: number;
  /** True once retention compacted the history: no plan, no task statuses. */
  compacted: boolean;
}

/** The context of a freshly submitted job (state WAITING, epoch 0). */
export function initialJobContext(ev: JobSubmitted): JobContext {
  const d = ev.data;
  const ctx: JobContext = {
    jobId: d.jobId,
    type: d.type,
    name: d.name,
    spec: d.spec,
    priority: d.priority,
    owner: d.owner,
    maxTaskAttempts: d.maxTaskAttempts,
    maxFailedRatio: d.maxFailedRatio,
    requestHash: d.requestHash,
    submittedAt: ev.meta.at,
    epoch: 0,
    coordinatorId: null,
    pauseRequested: false,
    tasks: null,
    taskStatus: [],
    progress: {
      tasksTotal: 0,
      tasksSucceeded: 0,
      tasksFailed: 0,
      itemsTotal: 0,
      itemsDone: 0,
      itemsFailed: 0,
      bytesTotal: 0,
      bytesDone: 0,
    },
    failures: [],
    reclaims: 0,
    virtualCluster: d.virtualCluster ?? DEFAULT_VIRTUAL_CLUSTER,
    active: true,
    stopRequested: null,
    recoveries: 0,
    retries: 0,
    compacted: false,
  };
  if (d.idempotencyKey !== undefined) ctx.idempotencyKey = d.idempotencyKey;
  if (d.rerunOf !== undefined) ctx.rerunOf = d.rerunOf;
  if (d.callbackUrl !== undefined) ctx.callbackUrl = d.callbackUrl;
  if (d.callbackFormat !== undefined) ctx.callbackFormat = d.callbackFormat;
  if (d.labels !== undefined) ctx.labels = d.labels;
  if (d.parallelism !== undefined) ctx.parallelism = d.parallelism;
  if (d.origin !== undefined) ctx.origin = d.origin;
  return ctx;
}

/** True when no two tasks share an id (counting by distinct id depends on it). */
export function hasDistinctTaskIds(tasks: readonly TaskPlan[]): boolean {
  return new Set(tasks.map((t) => t.taskId)).size === tasks.length;
}

/**
 * taskId → index into the plan, memoized per plan array. Every snapshot of a job shares its plan
 * array, so the index is built once per process (and rebuilt once after a snapshot is restored
 * from JSON) instead of being stored in, and copied with, the context.
 */
const indexCache = new WeakMap<readonly TaskPlan[], ReadonlyMap<string, number>>();

/** How long a plan an index (possibly shared by a plan and its extensions) covers: the longest it was extended to. */
const indexCoverage = new WeakMap<ReadonlyMap<string, number>, number>();

function taskIndex(tasks: readonly TaskPlan[]): ReadonlyMap<string, number> {
  let idx = indexCache.get(tasks);
  if (idx === undefined) {
    idx = new Map(tasks.map((t, i) => [t.taskId, i]));
    indexCache.set(tasks, idx);
  }
  return idx;
}

/**
 * `chunks` with a pending status appended for each of `added` (copy-on-write: the outer array and
 * the last chunk are copied, full chunks shared), and the totals raised by their items and bytes.
 */
function withPending(chunks: readonly TaskStatus[][], added: readonly TaskPlan[], itemsTotal: number, bytesTotal: number) {
  const taskStatus = chunks.slice();
  let last = taskStatus.length > 0 ? taskStatus[taskStatus.length - 1]!.slice() : undefined;
  if (last !== undefined) taskStatus[taskStatus.length - 1] = last;
  for (const t of added) {
    if (last === undefined || last.length === STATUS_CHUNK_SIZE) taskStatus.push((last = []));
    last.push({ state: 'pending', failedAttempts: [], maxAttemptSeen: 0 });
    itemsTotal += t.items;
    bytesTotal += t.bytes;
  }
  return { taskStatus, itemsTotal, bytesTotal };
}

/** The context changes of TasksPlanned: plan, all-pending statuses, totals, and the cursor of an open plan. */
export function planTasks(ctx: JobContext, tasks: TaskPlan[], cursor: unknown): Partial<JobContext> {
  const { taskStatus, itemsTotal, bytesTotal } = withPending([], tasks, 0, 0);
  return {
    tasks,
    taskStatus,
    progress: { ...ctx.progress, tasksTotal: tasks.length, itemsTotal, bytesTotal },
    ...(cursor !== undefined ? { planCursor: cursor } : {}),
  };
}

/**
 * True when `added` may extend the plan: the job has an open plan of exactly `after` tasks and the
 * new ids are distinct among themselves and from the planned ones.
 */
export function canExtendPlan(ctx: JobContext, after: number, added: readonly TaskPlan[]): boolean {
  if (ctx.tasks === null || ctx.planCursor === undefined || ctx.tasks.length !== after) return false;
  const fresh = new Set<string>();
  for (const t of added) {
    if (indexOf(ctx, t.taskId) >= 0 || fresh.has(t.taskId)) return false;
    fresh.add(t.taskId);
  }
  return true;
}

/**
 * The context changes of TasksExtended: the new tasks appended (pending), totals raised, the cursor
 * moved (or the plan closed). The plan array is copied; its id index is carried over and extended
 * in place when this plan is the longest it serves (a plan's history is one line: no copy), else
 * copied (a second extension of the same plan, e.g. a decision folded and then abandoned). Older
 * snapshots' lookups stay correct: they ignore indexes past their own plan.
 */
export function extendTasks(ctx: JobContext, added: readonly TaskPlan[], cursor: unknown): Partial<JobContext> {
  const old = ctx.tasks ?? [];
  const tasks = old.concat(added);
  const shared = taskIndex(old) as Map<string, number>;
  let idx = shared;
  if ((indexCoverage.get(shared) ?? old.length) !== old.length) {
    idx = new Map();
    for (const [id, i] of shared) if (i < old.length) idx.set(id, i);
  }
  added.forEach((t, k) => idx.set(t.taskId, old.length + k));
  indexCache.set(tasks, idx);
  indexCoverage.set(idx, tasks.length);
  const { taskStatus, itemsTotal, bytesTotal } = withPending(ctx.taskStatus, added, ctx.progress.itemsTotal, ctx.progress.bytesTotal);
  return {
    tasks,
    taskStatus,
    progress: { ...ctx.progress, tasksTotal: tasks.length, itemsTotal, bytesTotal },
    planCursor: cursor,
  };
}

/**
 * Plans up to this long are searched instead of indexed: most jobs have a task or a few, and a Map per
 * plan (held, through the WeakMap, as long as the job is) cost ~300 bytes per finished job in memory.
 */
const SCAN_MAX_TASKS = 16;

/** Index of a planned task, or -1 when the job has no plan or no such task. */
function indexOf(ctx: JobContext, taskId: string): number {
  const tasks = ctx.tasks;
  if (tasks === null) return -1;
  if (tasks.length <= SCAN_MAX_TASKS) {
    for (let k = 0; k < tasks.length; k++) if (tasks[k]!.taskId === taskId) return k;
    return -1;
  }
  const i = taskIndex(tasks).get(taskId) ?? -1;
  // an index shared with a longer (extended) plan may know ids this plan does not have yet
  return i < tasks.length ? i : -1;
}

/** The status of a planned task, or undefined when the job has no plan or no such task. */
export function getTaskStatus(ctx: JobContext, taskId: string): TaskStatus | undefined {
  const i = indexOf(ctx, taskId);
  return i < 0 ? undefined : statusAt(ctx, i);
}

/** Status of `tasks[i]`; `i` must be in range. */
export function statusAt(ctx: JobContext, i: number): TaskStatus {
  return ctx.taskStatus[Math.floor(i / STATUS_CHUNK_SIZE)]![i % STATUS_CHUNK_SIZE]!;
}

/** Copy-on-write update of one status: copies the outer array and one chunk. */
function withStatus(chunks: TaskStatus[][], i: number, status: TaskStatus): TaskStatus[][] {
  const c = Math.floor(i / STATUS_CHUNK_SIZE);
  const next = chunks.slice();
  const chunk = chunks[c]!.slice();
  chunk[i % STATUS_CHUNK_SIZE] = status;
  next[c] = chunk;
  return next;
}

/** True when the job is planned, its plan is complete (not open) and every task is final (succeeded or failed). */
export function tasksAllFinal(ctx: JobContext): boolean {
  const p = ctx.progress;
  return ctx.tasks !== null && ctx.planCursor === undefined && p.tasksSucceeded + p.tasksFailed === p.tasksTotal;
}

/** Appends item failures up to the cap, copying the list only when something is added. */
function appendFailures(ctx: JobContext, taskId: string, result: TaskResult | undefined): ItemFailure[] {
  const room = MAX_RECORDED_FAILURES - ctx.failures.length;
  if (result === undefined || room <= 0 || result.failures.length === 0) return ctx.failures;
  const added = result.failures.slice(0, room).map((f) => ({ taskId, item: f.item, error: f.error }));
  return ctx.failures.concat(added);
}

/** Non-negative, finite, and at most `max`: a worker's numbers never push progress past the plan. */
function clamp(n: number, max: number): number {
  return Number.isFinite(n) ? Math.min(Math.max(n, 0), Math.max(max, 0)) : 0;
}

/** What one final task adds to the job's progress counters. */
export interface TaskContribution {
  itemsDone: number;
  itemsFailed: number;
  bytesDone: number;
}

/**
 * The contribution of a final task, from its state and recorded result: a succeeded task counts
 * its (clamped) result; a failed one its partial items done and the rest of its items as failed.
 * The single rule both the outcome reducers and a recovery's recount use.
 */
export function contributionOf(task: TaskPlan, state: 'succeeded' | 'failed', r: TaskResult | undefined): TaskContribution {
  if (state === 'succeeded') {
    const itemsDone = clamp(r?.itemsDone ?? 0, task.items);
    return { itemsDone, itemsFailed: clamp(r?.itemsFailed ?? 0, task.items - itemsDone), bytesDone: clamp(r?.bytesDone ?? 0, task.bytes) };
  }
  const partialItems = clamp(r?.itemsDone ?? 0, task.items);
  return { itemsDone: partialItems, itemsFailed: Math.max(task.items, 0) - partialItems, bytesDone: clamp(r?.bytesDone ?? 0, task.bytes) };
}

/** Adds a final task's contribution to the counters. */
function counted(p: JobProgress, state: 'succeeded' | 'failed', c: TaskContribution): JobProgress {
  return {
    ...p,
    tasksSucceeded: p.tasksSucceeded + (state === 'succeeded' ? 1 : 0),
    tasksFailed: p.tasksFailed + (state === 'failed' ? 1 : 0),
    itemsDone: p.itemsDone + c.itemsDone,
    itemsFailed: p.itemsFailed + c.itemsFailed,
    bytesDone: p.bytesDone + c.bytesDone,
  };
}

/**
 * Progress as the fold of the plan's final tasks (totals from the plan). Equal to what the
 * outcome reducers accumulate; a recovery uses it after resetting tasks.
 */
export function recountProgress(tasks: readonly TaskPlan[], statusOf: (i: number) => TaskStatus): JobProgress {
  let p: JobProgress = { tasksTotal: tasks.length, tasksSucceeded: 0, tasksFailed: 0, itemsTotal: 0, itemsDone: 0, itemsFailed: 0, bytesTotal: 0, bytesDone: 0 };
  tasks.forEach((t, i) => {
    p.itemsTotal += t.items;
    p.bytesTotal += t.bytes;
    const st = statusOf(i);
    if (st.state !== 'pending') p = counted(p, st.state, contributionOf(t, st.state, st.result));
  });
  return p;
}

/**
 * The attempt number a pending task is dispatched as next: above every attempt seen, and at least
 * its floor (a job retry's floor skips a number: jobRecovery.ts). Every attempt of the task ever
 * dispatched is at most this.
 */
export function nextAttemptOf(st: TaskStatus): number {
  return Math.max(st.maxAttemptSeen + 1, st.attemptFloor ?? 1);
}

/** Outcome of an attempt a recovery made obsolete (it ran before the task was reset). */
function beforeFloor(st: TaskStatus, attempt: number): boolean {
  return st.attemptFloor !== undefined && attempt < st.attemptFloor;
}

/**
 * A task outcome that arrives after the job finished changes no count, but its attempt number is
 * taken (the worker's outcome msgId `<job>:<task>:<attempt>` is deduplicated): raise
 * `maxAttemptSeen` so a recovered run dispatches a higher attempt (found by test/sim).
 */
export function noteLateAttempt(ctx: JobContext, data: { taskId: string; attempt: number }): JobContext {
  const i = indexOf(ctx, data.taskId);
  if (i < 0) return ctx;
  const st = statusAt(ctx, i);
  if (data.attempt <= st.maxAttemptSeen) return ctx;
  return { ...ctx, taskStatus: withStatus(ctx.taskStatus, i, { ...st, maxAttemptSeen: data.attempt }) };
}

/**
 * Counts a TaskSucceeded: once per distinct task id. Outcomes for unknown or already final tasks
 * (redeliveries, an earlier epoch's duplicate) leave the context unchanged.
 */
export function applyTaskSucceeded(ctx: JobContext, data: TaskSucceeded['data']): JobContext {
  const i = indexOf(ctx, data.taskId);
  if (i < 0) return ctx;
  const st = statusAt(ctx, i);
  // Not counted; a final task's extra attempt (a duplicate run) still takes its number.
  if (st.state !== 'pending') return noteLateAttempt(ctx, data);
  if (beforeFloor(st, data.attempt)) return ctx;
  const task = ctx.tasks![i]!;
  const r = data.result;
  return {
    ...ctx,
    taskStatus: withStatus(ctx.taskStatus, i, {
      ...st,
      state: 'succeeded',
      maxAttemptSeen: Math.max(st.maxAttemptSeen, data.attempt),
      result: r,
    }),
    progress: counted(ctx.progress, 'succeeded', contributionOf(task, 'succeeded', r)),
    failures: appendFailures(ctx, data.taskId, r),
  };
}

/**
 * Records a TaskFailed. The task becomes final (failed) when the error is not retryable or its
 * distinct failed attempts reach `maxTaskAttempts`; then its items not done by a partial result
 * count as failed. Otherwise it stays pending for a retry. Ignored for unknown or final tasks.
 */
export function applyTaskFailed(ctx: JobContext, data: TaskFailed['data']): JobContext {
  const i = indexOf(ctx, data.taskId);
  if (i < 0) return ctx;
  const st = statusAt(ctx, i);
  // Not counted; a final task's extra attempt (a duplicate run) still takes its number.
  if (st.state !== 'pending') return noteLateAttempt(ctx, data);
  if (beforeFloor(st, data.attempt)) return ctx;
  const failedAttempts = st.failedAttempts.includes(data.attempt)
    ? st.failedAttempts
    : [...st.failedAttempts, data.attempt];
  const final = !data.error.retryable || failedAttempts.length >= ctx.maxTaskAttempts;
  const status: TaskStatus = {
    ...st,
    state: final ? 'failed' : 'pending',
    failedAttempts,
    maxAttemptSeen: Math.max(st.maxAttemptSeen, data.attempt),
    error: data.error,
  };
  if (!final) return { ...ctx, taskStatus: withStatus(ctx.taskStatus, i, status) };
  if (data.result !== undefined) status.result = data.result;
  const task = ctx.tasks![i]!;
  return {
    ...ctx,
    taskStatus: withStatus(ctx.taskStatus, i, status),
    progress: counted(ctx.progress, 'failed', contributionOf(task, 'failed', data.result)),
    failures: appendFailures(ctx, data.taskId, data.result),
  };
}
