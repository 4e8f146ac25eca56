/**
 * The job lifecycle as an XState v5 machine whose events are exactly the JobEvent envelopes.
 * State of a job = fold of its events with the pure `transition()` (see `jobFold.ts`); a stored event
 * the machine rejects (`!snapshot.can(event)`) is a bug.
 *
 * Terminal states (SUCCEEDED, FAILED, STOPPED) are deliberately NOT `type: 'final'`: a final state
 * marks the snapshot `done`, after which xstate drops every event, yet late task outcomes (a worker
 * finishing after a stop) must stay legal facts. So terminal states accept TaskSucceeded/TaskFailed
 * with an explicit no-op action (`can()` is true, nothing changes) and reject everything else.
 */
import { and, assign, setup } from 'xstate';
import type { EventMeta, JobEvent, JobSubmitted } from './events.ts';
import {
  applyTaskFailed,
  applyTaskSucceeded,
  canExtendPlan,
  extendTasks,
  hasDistinctTaskIds,
  initialJobContext,
  noteLateAttempt,
  planTasks,
  tasksAllFinal,
  type JobContext,
} from './jobContext.ts';
import { recoverTasks } from './jobRecovery.ts';

export type { ItemFailure, JobContext, JobProgress, TaskState, TaskStatus } from './jobContext.ts';

/** `lastReason` update for an event that carries a reason. */
function reasonOf(meta: EventMeta): Partial<JobContext> {
  return meta.reason !== undefined ? { lastReason: meta.reason } : {};
}

/** Fencing: a claim or requeue must raise the epoch by exactly one, and say so in its meta. */
function nextEpochOk(ctx: JobContext, data: { epoch: number }, meta: EventMeta): boolean {
  return data.epoch === ctx.epoch + 1 && meta.epoch === data.epoch;
}

/** Late task outcomes in a terminal state: accepted as facts, changing nothing. */
const ignoreTaskOutcomes = {
  TaskSucceeded: { actions: 'ignoreLateTaskOutcome' },
  TaskFailed: { actions: 'ignoreLateTaskOutcome' },
} as const;

/** Events every terminal state accepts. */
const terminalEvents = { ...ignoreTaskOutcomes, JobActiveSet: { actions: 'setActive' } } as const;

/** A job that ended badly: recovery takes it back to WAITING. */
const recoverableTerminal = {
  ...terminalEvents,
  JobRecovered: { guard: 'recoverable', target: 'WAITING', actions: 'recover' },
} as const;

/** The job's own limit of tasks in flight can change until it finishes. */
const parallelismChange = { ParallelismSet: { actions: 'setParallelism' } } as const;

/** A cooperative stop, once per owned run (a forced stop is JobStopped). */
const stopRequest = { StopRequested: { guard: 'noStopRequested', actions: 'requestStop' } } as const;

/** The job machine. Create snapshots from a JobSubmitted event as input (state WAITING). */
export const jobMachine = setup({
  types: {
    context: {} as JobContext,
    events: {} as JobEvent,
    input: {} as JobSubmitted,
  },
  guards: {
    claimFenced: ({ context, event }) =>
      event.type === 'JobClaimed' && nextEpochOk(context, event.data, event.meta),
    // A requeue names the owner it takes the job from: a decision based on an older owner is stale.
    requeueFenced: ({ context, event }) =>
      event.type === 'JobRequeued' &&
      nextEpochOk(context, event.data, event.meta) &&
      event.data.fromCoordinator === context.coordinatorId,
    pauseRequested: ({ context }) => context.pauseRequested,
    currentEpoch: ({ context, event }) => event.meta.epoch === context.epoch,
    canPlan: ({ context, event }) =>
      event.type === 'TasksPlanned' &&
      context.tasks === null &&
      event.meta.epoch === context.epoch &&
      hasDistinctTaskIds(event.data.tasks),
    canExtend: ({ context, event }) =>
      event.type === 'TasksExtended' && event.meta.epoch === context.epoch && canExtendPlan(context, event.data.after, event.data.tasks),
    allTasksFinal: ({ context }) => tasksAllFinal(context),
    // every task final, or the job type settled the job early (its running tasks are dropped)
    canVerify: ({ context, event }) =>
      tasksAllFinal(context) || (event.type === 'VerificationStarted' && event.data.early === true && context.tasks !== null),
    noStopRequested: ({ context }) => context.stopRequested === null,
    // a job retry names which one it is (fencing, like an epoch) and needs a plan to reset
    retryFenced: ({ context, event }) =>
      event.type === 'JobRetried' && event.meta.epoch === context.epoch && event.data.attempt === context.retries + 1 && context.tasks !== null,
    // Inactive jobs are archived and compacted ones have no plan left: neither can run again.
    recoverable: ({ context }) => context.active && !context.compacted,
  },
  actions: {
    claim: assign(({ context, event }) => {
      if (event.type !== 'JobClaimed') return {};
      return {
        epoch: event.data.epoch,
        coordinatorId: event.data.coordinatorId,
        startedAt: context.startedAt ?? event.meta.at,
        ...reasonOf(event.meta),
      };
    }),
    plan: assign(({ context, event }) => (event.type === 'TasksPlanned' ? planTasks(context, event.data.tasks, event.data.cursor) : {})),
    extend: assign(({ context, event }) => (event.type === 'TasksExtended' ? extendTasks(context, event.data.tasks, event.data.cursor) : {})),
    // assign merges: no limit means the field set undefined (dropped by JSON)
    setParallelism: assign(({ event }) =>
      event.type === 'ParallelismSet' ? { parallelism: event.data.parallelism ?? undefined, ...reasonOf(event.meta) } : {},
    ),
    pause: assign(({ event }) => ({ pauseRequested: true, ...reasonOf(event.meta) })),
    resume: assign(({ event }) => ({ pauseRequested: false, ...reasonOf(event.meta) })),
    requeue: assign(({ context, event }, params: { paused: boolean }) => {
      if (event.type !== 'JobRequeued') return {};
      return {
        epoch: event.data.epoch,
        coordinatorId: null,
        reclaims: context.reclaims + 1,
        pauseRequested: params.paused,
        ...reasonOf(event.meta),
      };
    }),
    noteReason: assign(({ event }) => reasonOf(event.meta)),
    requestStop: assign(({ event }) =>
      event.type === 'StopRequested'
        ? { stopRequested: { graceMs: event.data.graceMs, deadline: event.data.deadline }, ...reasonOf(event.meta) }
        : {},
    ),
    recover: assign(({ context, event }) => {
      if (event.type !== 'JobRecovered') return {};
      // assign merges: clearing optional fields means setting them undefined (dropped by JSON).
      return {
        ...recoverTasks(context, event.data.mode),
        error: undefined,
        finishedAt: undefined,
        summary: undefined,
        stopRequested: null,
        pauseRequested: false,
        coordinatorId: null,
        recoveries: context.recoveries + 1,
        ...reasonOf(event.meta),
      };
    }),
    // every task runs again as a new attempt; the owner keeps the job (nothing to clear: it never ended)
    retry: assign(({ context, event }) => {
      if (event.type !== 'JobRetried') return {};
      return { ...recoverTasks(context, 'all'), retries: event.data.attempt, ...reasonOf(event.meta) };
    }),
    setActive: assign(({ event }) => (event.type === 'JobActiveSet' ? { active: event.data.active, ...reasonOf(event.meta) } : {})),
    finish: assign(({ event }) => {
      const base: Partial<JobContext> = { finishedAt: event.meta.at, ...reasonOf(event.meta) };
      if (event.type === 'JobFailed') base.error = event.data.error;
      if (event.type === 'JobSucceeded' && event.data.summary !== undefined) base.summary = event.data.summary;
      return base;
    }),
    countTaskSucceeded: assign(({ context, event }) =>
      event.type === 'TaskSucceeded' ? applyTaskSucceeded(context, event.data) : {},
    ),
    countTaskFailed: assign(({ context, event }) =>
      event.type === 'TaskFailed' ? applyTaskFailed(context, event.data) : {},
    ),
    // Counts nothing, but the attempt number is taken: a recovered run must not reuse it.
    ignoreLateTaskOutcome: assign(({ context, event }) =>
      event.type === 'TaskSucceeded' || event.type === 'TaskFailed' ? noteLateAttempt(context, event.data) : {},
    ),
  },
}).createMachine({
  id: 'job',
  context: ({ input }) => initialJobContext(input),
  initial: 'WAITING',
  // Task outcomes count in every non-terminal state, WAITING included: an earlier epoch's work is real.
  on: {
    TaskSucceeded: { actions: 'countTaskSucceeded' },
    TaskFailed: { actions: 'countTaskFailed' },
  },
  states: {
    WAITING: {
      on: {
        JobClaimed: [
          { guard: and(['claimFenced', 'pauseRequested']), target: 'PAUSED', actions: 'claim' },
          { guard: 'claimFenced', target: 'RUNNING', actions: 'claim' },
        ],
        // A requeued PAUSED job can be resumed before anyone claims it.
        JobResumed: { guard: 'pauseRequested', actions: 'resume' },
        ...parallelismChange,
        // Also a requeued job whose stop was requested: its next owner (or the API) stops it at once.
        JobStopped: { target: 'STOPPED', actions: 'finish' },
      },
    },
    RUNNING: {
      on: {
        TasksPlanned: { guard: 'canPlan', actions: 'plan' },
        // Only a running job slices further: a pause stops the allocation of new work.
        TasksExtended: { guard: 'canExtend', actions: 'extend' },
        JobPaused: { target: 'PAUSED', actions: 'pause' },
        JobRequeued: { guard: 'requeueFenced', target: 'WAITING', actions: { type: 'requeue', params: { paused: false } } },
        VerificationStarted: {
          guard: and(['currentEpoch', 'canVerify']),
          target: 'VERIFYING',
          actions: 'noteReason',
        },
        JobFailed: { guard: 'currentEpoch', target: 'FAILED', actions: 'finish' },
        JobRetried: { guard: 'retryFenced', actions: 'retry' },
        JobStopped: { target: 'STOPPED', actions: 'finish' },
        ...stopRequest,
        ...parallelismChange,
      },
    },
    PAUSED: {
      on: {
        TasksPlanned: { guard: 'canPlan', actions: 'plan' },
        JobResumed: { target: 'RUNNING', actions: 'resume' },
        JobRequeued: { guard: 'requeueFenced', target: 'WAITING', actions: { type: 'requeue', params: { paused: true } } },
        JobFailed: { guard: 'currentEpoch', target: 'FAILED', actions: 'finish' },
        JobStopped: { target: 'STOPPED', actions: 'finish' },
        ...stopRequest,
        ...parallelismChange,
      },
    },
    VERIFYING: {
      on: {
        // The next owner re-verifies: all tasks are final, so VerificationStarted is legal at once.
        JobRequeued: { guard: 'requeueFenced', target: 'WAITING', actions: { type: 'requeue', params: { paused: false } } },
        JobSucceeded: { guard: 'currentEpoch', target: 'SUCCEEDED', actions: 'finish' },
        JobFailed: { guard: 'currentEpoch', target: 'FAILED', actions: 'finish' },
        JobRetried: { guard: 'retryFenced', target: 'RUNNING', actions: 'retry' },
        JobStopped: { target: 'STOPPED', actions: 'finish' },
        ...stopRequest,
        ...parallelismChange,
      },
    },
    SUCCEEDED: { tags: ['terminal'], on: terminalEvents },
    FAILED: { tags: ['terminal'], on: recoverableTerminal },
    STOPPED: { tags: ['terminal'], on: recoverableTerminal },
  },
});
