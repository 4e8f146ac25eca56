import type { TaskPlan, TaskResult } from '../../actors/events.ts';
import type { Caller } from '../serviceTypes.ts';

/** File roots a job type may touch; every path in a spec must resolve inside one of them. */
export interface FileRoots {
  /** Where `load`, `copy` and `move` read from and `copy`/`move` write to. */
  dataDir: string;
  /** The worker's cache; `load` writes here and `free` evicts from here. */
  cacheDir: string;
}

/** What a plan uses where the spec says nothing (the `defaultBatchSize`, `defaultPartitionSizeBytes` settings). */
export interface PlanDefaults {
  batchSize: number;
  partitionSizeBytes: number;
}

export interface PlanContext {
  jobId: string;
  roots: FileRoots;
  signal: AbortSignal;
  /** The planning coordinator's defaults. @defaultValue the built-in ones (fileBatches.ts) */
  defaults?: PlanDefaults;
}

/**
 * A plan that may be open: `cursor` set means more tasks are to come, made by the type's `extend`
 * from that cursor (a slicer that cuts work as it goes: Teraslice's readers, a stream that never
 * ends). A plain array is a complete plan.
 */
export interface PlanResult {
  tasks: TaskPlan[];
  /** JSON; where `extend` goes on. Absent: the plan is complete. */
  cursor?: unknown;
}

export interface ExtendContext extends PlanContext {
  /** Tasks planned so far (new task ids must differ from theirs). */
  planned: number;
  /** About how many tasks the owner would like now (a hint: fewer, even none, is fine). */
  want: number;
}

export interface RunContext {
  jobId: string;
  taskId: string;
  /** The attempt's number (unique per task: numbers continue across recoveries and job retries). */
  attempt: number;
  /**
   * The attempt within the task's current run, from 1: attempts count again from 1 after a recovery
   * or a job retry (JobType.jobRetries). What a type's own retry count compares against.
   * @defaultValue `attempt`
   */
  runAttempt?: number;
  roots: FileRoots;
  /** Aborted when the job is stopped or the worker is forced to exit. */
  signal: AbortSignal;
  /** Call while making progress so the queue does not redeliver the task. */
  heartbeat(): void;
}

export interface VerifyContext {
  jobId: string;
  roots: FileRoots;
  tasks: readonly TaskPlan[];
  results: readonly TaskResult[];
  /** Tasks that failed for good (a job with `maxFailedRatio` above 0 reaches verification with some). */
  tasksFailed: number;
  signal: AbortSignal;
}

/** What `settle` sees: the plan and, per task in plan order, its state and its result (a succeeded task's, or a failed one's when the failure carried one). */
export interface SettleView {
  tasks: readonly TaskPlan[];
  states: readonly ('pending' | 'succeeded' | 'failed')[];
  results: readonly (TaskResult | undefined)[];
}

export type VerifyOutcome = { ok: true; summary?: unknown } | { ok: false; code: string; message: string; details?: unknown };

/**
 * A pluggable job type. `plan` runs on a coordinator, `run` on a worker, `verify` on the
 * coordinator after every task is done. Errors thrown by `run` become TaskFailed outcomes:
 * throw a `TaskRunError` to say whether a retry may help.
 */
export interface JobType<Spec extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  /** JSON Schema of the spec (additionalProperties: false). */
  readonly specSchema: Record<string, unknown>;
  /**
   * Verification is instant (no I/O): the coordinator then records VerificationStarted and the
   * terminal event in one append, saving a durable write per job.
   */
  readonly instantVerify?: boolean;
  /** Extra checks the schema cannot express (e.g. paths inside roots); throw AppError. */
  checkSpec?(spec: Spec, roots: FileRoots): void;
  /**
   * What only some callers may name in a spec, checked at submission and re-run (an `exec` job's
   * sealed commands are its submitter's own); throw AppError.
   */
  admitSpec?(spec: Spec, caller: Caller): void;
  /** Retention removed a job of this type: drop what the type keeps for it outside the event log (best effort). */
  removed?(spec: Spec): Promise<void>;
  /** The complete plan (a type with `openPlan` plans through that instead). */
  plan(spec: Spec, ctx: PlanContext): Promise<TaskPlan[]>;
  /**
   * A type that slices as it goes: the first tasks and, while more are to come, a cursor (PlanResult);
   * the coordinator uses it instead of `plan`, and `extend` for the rest.
   */
  openPlan?(spec: Spec, ctx: PlanContext): Promise<PlanResult>;
  /** More tasks of an open plan, from its cursor. Required with `openPlan`. */
  extend?(spec: Spec, cursor: unknown, ctx: ExtendContext): Promise<PlanResult>;
  run(spec: Spec, payload: unknown, ctx: RunContext): Promise<TaskResult>;
  /**
   * The part of the spec `run` needs, sent with every task instead of the whole spec (an `exec`
   * spec's recorded `source` text stays out of the task queue). Pure and quick. @defaultValue the spec
   */
  taskSpec?(spec: Spec): Record<string, unknown>;
  /**
   * Decides the job before every task is final (OpenPAI's completion policies: a role reaching its
   * failure count fails the job at once; one reaching minSucceededInstances ends it). Called by the
   * owning coordinator while the job runs, when a task outcome arrived, with every planned task's
   * state and result so far; pure and quick. A decision ends the job: its running tasks are
   * dropped. undefined: go on. A type with `settle` owns its failure rule: the engine's
   * `maxFailedRatio` check does not apply, and `verify` runs with failed tasks too.
   */
  settle?(spec: Spec, view: SettleView): VerifyOutcome | undefined;
  /**
   * How many times a job of this spec runs again as a whole instead of failing (OpenPAI's
   * `jobRetryCount`, FrameworkController's framework attempts): where the owning coordinator would
   * fail the job (its `settle` or `verify` said so, or too many tasks failed), it appends JobRetried
   * while retries are left, and every task runs again as a new attempt. Pure. @defaultValue 0
   */
  jobRetries?(spec: Spec): number;
  verify(spec: Spec, ctx: VerifyContext): Promise<VerifyOutcome>;
}

/** Thrown by `run` when a task fails as a whole. */
export class TaskRunError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  /** What the attempt did before it failed (an `exec` instance's exit code): kept with a final failure. */
  readonly result: TaskResult | undefined;
  constructor(code: string, message: string, retryable: boolean, opts: { result?: TaskResult } = {}) {
    super(message);
    this.name = 'TaskRunError';
    this.code = code;
    this.retryable = retryable;
    this.result = opts.result;
  }
}
