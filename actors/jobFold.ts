/**
 * Job state as a fold of its events with the machine's pure transition function (no actor is started).
 * Plus the read helpers a coordinator and the API need on top of a snapshot.
 */
import { createActor, type ActorScope, type SnapshotFrom } from 'xstate';
import { TERMINAL_STATES, type CallbackFormat, type JobCompacted, type JobEvent, type JobState, type JobSubmitted, type TaskPlan } from './events.ts';
import type { JobFailure } from './failureCodes.ts';
import { IllegalEventError } from './illegalEventError.ts';
import { createMachineSteps, type MachineSteps } from './flatMachineSteps.ts';
import { jobMachine } from './job.machine.ts';
import { restoreJob } from './jobCompaction.ts';
import { getTaskStatus, nextAttemptOf, statusAt, tasksAllFinal, type JobProgress, type TaskStatus } from './jobContext.ts';

export { IllegalEventError } from './illegalEventError.ts';
export { compactedContext, restoreJob } from './jobCompaction.ts';

/** A job's state: an xstate machine snapshot (`.value` is the JobState, `.context` the JobContext). */
export type JobSnapshot = SnapshotFrom<typeof jobMachine>;

/**
 * One inert scope, reused by every fold. xstate's `transition()`/`initialTransition()` build a
 * throwaway actor per call, which was ~20 of its ~30 µs per event (measured); the job machine has
 * no children, delays or side effects, so a shared scope that discards actions is equivalent.
 */
const foldScope: ActorScope<JobSnapshot, JobEvent> = (() => {
  const self = createActor(jobMachine, {
    input: {
      type: 'JobSubmitted',
      data: { jobId: '', type: '', name: '', spec: {}, priority: 0, maxTaskAttempts: 1, maxFailedRatio: 0, requestHash: '', owner: '' },
      meta: { jobId: '', epoch: 0, actor: '', at: '', v: 1 },
    },
  });
  return {
    self,
    id: '',
    sessionId: '',
    system: self.system,
    logger: () => {},
    defer: () => {},
    emit: () => {},
    stopChild: () => {},
    actionExecutor: () => {},
  };
})();

/**
 * The job machine's transition and initial snapshot: xstate's, on the short path for flat machines
 * (flatMachineSteps.ts: the machine's own guards and assigns without the generic statechart work,
 * ~2.5× faster per event; the result is xstate's).
 */
const steps: MachineSteps<JobSnapshot, JobEvent, JobSubmitted> = createMachineSteps(jobMachine, foldScope);

/** Same as xstate's pure `transition(jobMachine, s, ev)[0]`, without the per-call actor. */
function step(s: JobSnapshot, ev: JobEvent): JobSnapshot {
  const next = steps.transition(s, ev);
  if (next.status === 'error') throw next.error;
  return next;
}

/** The state of a job that was just submitted (WAITING, epoch 0). */
export function startJob(ev: JobSubmitted): JobSnapshot {
  return steps.initial(ev);
}

/** A JobCompacted is legal once, on a terminal job, naming the state the job is in. */
function canCompact(s: JobSnapshot, ev: JobCompacted): boolean {
  return isTerminal(s) && !s.context.compacted && ev.data.state === s.value;
}

/** True when `ev` is a legal next fact for this job (and belongs to it). */
export function canApply(s: JobSnapshot, ev: JobEvent): boolean {
  if (ev.meta.jobId !== s.context.jobId) return false;
  return ev.type === 'JobCompacted' ? canCompact(s, ev) : s.can(ev);
}

/**
 * Applies one event. Throws IllegalEventError when the machine rejects it: a stored event the
 * machine rejects is a bug, never something to skip silently. A JobCompacted replaces the snapshot.
 */
export function evolveJob(s: JobSnapshot, ev: JobEvent): JobSnapshot {
  if (ev.meta.jobId !== s.context.jobId) throw new IllegalEventError(ev, jobState(s), `belongs to job ${ev.meta.jobId}`);
  const next = tryApply(s, ev);
  if (next === undefined) throw new IllegalEventError(ev, jobState(s));
  return next;
}

/**
 * Applies one event if the machine accepts it; undefined exactly when {@link canApply} is false.
 * One transition instead of a `can` and a transition (each evaluates the guards and costs about the
 * same): xstate's macrostep returns the very snapshot it was given when no transition is enabled,
 * and a new one when one is, because every transition of the job machine has actions or a target
 * (test/unit/actors/flatMachineSteps.test.ts checks both).
 */
export function tryApply(s: JobSnapshot, ev: JobEvent): JobSnapshot | undefined {
  if (ev.meta.jobId !== s.context.jobId) return undefined;
  if (ev.type === 'JobCompacted') return canCompact(s, ev) ? restoreJob(ev) : undefined;
  const next = step(s, ev);
  return next === s ? undefined : next;
}

/**
 * Folds a job's event list. It starts at the job's JobSubmitted, or at its (last) JobCompacted,
 * which supersedes everything before it: a reader may see task outcomes that sort before the
 * rollup record until retention purges them.
 */
export function foldJob(events: readonly JobEvent[]): JobSnapshot {
  if (events.length === 0) throw new RangeError('foldJob needs at least the JobSubmitted event');
  let from = events.length - 1;
  while (from >= 0 && events[from]!.type !== 'JobCompacted') from--;
  let s: JobSnapshot;
  if (from >= 0) s = restoreJob(events[from] as JobCompacted);
  else {
    const first = events[0]!;
    if (first.type !== 'JobSubmitted') throw new IllegalEventError(first, 'NONE', 'the first event must be JobSubmitted or JobCompacted');
    s = startJob(first);
    from = 0;
  }
  for (let i = from + 1; i < events.length; i++) s = evolveJob(s, events[i]!);
  return s;
}

/** The lifecycle state. */
export function jobState(s: JobSnapshot): JobState {
  return s.value;
}

/** True in SUCCEEDED, FAILED and STOPPED. */
export function isTerminal(s: JobSnapshot): boolean {
  return TERMINAL_STATES.has(s.value);
}

/** The status of one planned task, or undefined when not planned. */
export function taskStatus(s: JobSnapshot, taskId: string): TaskStatus | undefined {
  return getTaskStatus(s.context, taskId);
}

/**
 * Planned tasks that are not final yet, in plan order, with the attempt number to dispatch next and
 * the first attempt of the task's current run (1, or the floor a recovery or job retry set): a
 * job type's own retry count counts from there (RunContext.runAttempt).
 */
export function pendingTasks(s: JobSnapshot): { task: TaskPlan; nextAttempt: number; firstAttempt: number }[] {
  const ctx = s.context;
  const out: { task: TaskPlan; nextAttempt: number; firstAttempt: number }[] = [];
  ctx.tasks?.forEach((task, i) => {
    const st = statusAt(ctx, i);
    if (st.state === 'pending') out.push({ task, nextAttempt: nextAttemptOf(st), firstAttempt: st.attemptFloor ?? 1 });
  });
  return out;
}

/** True when the job is planned and every task is final (succeeded or failed). */
export function allTasksFinal(s: JobSnapshot): boolean {
  return tasksAllFinal(s.context);
}

/** itemsFailed / itemsTotal; 0 when the plan has no items. */
export function failedRatio(s: JobSnapshot): number {
  const p = s.context.progress;
  return p.itemsTotal > 0 ? p.itemsFailed / p.itemsTotal : 0;
}

/** True when the failed-item ratio crossed the job's `maxFailedRatio`: the job should FAIL. */
export function shouldFail(s: JobSnapshot): boolean {
  return failedRatio(s) > s.context.maxFailedRatio;
}

/** The API's view of a job: plain, JSON-safe, absent values as null. */
export interface JobView {
  id: string;
  /**
   * The stream sequence of the job's JobSubmitted: unique, never reused; the job's number where a
   * facade needs one (Alluxio's int64 job ids). The log knows it, not the snapshot: the engine adds
   * it to {@link toJobView}'s result.
   */
  submitSeq: number;
  type: string;
  name: string;
  state: JobState;
  priority: number;
  owner: string;
  spec: Record<string, unknown>;
  epoch: number;
  coordinatorId: string | null;
  submittedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress;
  error: JobFailure | null;
  summary: unknown;
  reclaims: number;
  virtualCluster: string;
  /** False once a finished job was archived (hidden from default lists; no recover or re-run). */
  active: boolean;
  /** A cooperative stop in progress (or the one that stopped the job). */
  stopRequested: { graceMs: number; deadline: string } | null;
  rerunOf: string | null;
  callbackUrl: string | null;
  /** Body format of the callback (`job`: the engine's; `spark`: Spark Jobserver's `{jobId, result}`). */
  callbackFormat: CallbackFormat;
  /** Labels given at submission ({} when none). */
  labels: Record<string, string>;
  /** Most tasks of the job in flight at once; null: only the dispatch window limits it. */
  parallelism: number | null;
  /** The plan is open: the job type makes more tasks as they are needed (a job with an open plan does not finish by itself). */
  planOpen: boolean;
  recoveries: number;
  /** Times the job ran again as a whole because its type allows retries (JobRetried; `exec`'s `jobRetryCount`). */
  retries: number;
  /** Retention compacted the history: no task detail is left. */
  compacted: boolean;
  /** The API the job was submitted through (`native`, `alluxio`, `teraslice`, `spark`, `openpai`); null when not recorded (older jobs, the engine's own). */
  origin: string | null;
  /**
   * A WAITING job that keeps a pause (a paused job requeued after its owner was lost): it is PAUSED
   * once claimed, and a resume clears it. False in every other state.
   */
  pauseRequested: boolean;
}

/** What a snapshot alone tells of a job: every JobView field but `submitSeq`. */
export type SnapshotJobView = Omit<JobView, 'submitSeq'>;

/** Projects a snapshot onto the API's JobView, but for the `submitSeq` the engine adds. */
export function toJobView(s: JobSnapshot): SnapshotJobView {
  const c = s.context;
  return {
    id: c.jobId,
    type: c.type,
    name: c.name,
    state: s.value,
    priority: c.priority,
    owner: c.owner,
    spec: c.spec,
    epoch: c.epoch,
    coordinatorId: c.coordinatorId,
    submittedAt: c.submittedAt,
    startedAt: c.startedAt ?? null,
    finishedAt: c.finishedAt ?? null,
    progress: { ...c.progress },
    error: c.error ?? null,
    summary: c.summary ?? null,
    reclaims: c.reclaims,
    virtualCluster: c.virtualCluster,
    active: c.active,
    stopRequested: c.stopRequested === null ? null : { ...c.stopRequested },
    rerunOf: c.rerunOf ?? null,
    callbackUrl: c.callbackUrl ?? null,
    callbackFormat: c.callbackFormat ?? 'job',
    labels: { ...c.labels },
    parallelism: c.parallelism ?? null,
    planOpen: c.planCursor !== undefined,
    recoveries: c.recoveries,
    retries: c.retries,
    compacted: c.compacted,
    origin: c.origin ?? null,
    // only a WAITING job's says anything (a finished job may keep one its compaction drops)
    pauseRequested: s.value === 'WAITING' && c.pauseRequested,
  };
}
