/**
 * Retention's compaction: a terminal job's whole history becomes one JobCompacted event carrying
 * its final context without the plan and task statuses. Restoring builds the snapshot directly
 * (`jobMachine.resolveState`), never through a transition.
 */
import { TERMINAL_STATES, type JobCompacted } from './events.ts';
import { createStateResolver } from './flatMachineSteps.ts';
import { IllegalEventError } from './illegalEventError.ts';
import { jobMachine } from './job.machine.ts';
import { DEFAULT_VIRTUAL_CLUSTER, type JobContext } from './jobContext.ts';
import type { SnapshotFrom } from 'xstate';

/** Item failures a compacted job keeps (the count stays in `progress.itemsFailed`). */
export const COMPACTED_FAILURES_KEPT = 100;

/**
 * The context a JobCompacted event carries: the final context with `tasks: null`,
 * `taskStatus: []`, `compacted: true` and at most COMPACTED_FAILURES_KEPT item failures.
 * Plain JSON (undefined fields dropped).
 */
export function compactedContext(ctx: JobContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const compact: JobContext = {
    ...ctx,
    tasks: null,
    taskStatus: [],
    compacted: true,
    failures: ctx.failures.slice(0, COMPACTED_FAILURES_KEPT),
  };
  for (const [k, v] of Object.entries(compact)) if (v !== undefined) out[k] = v;
  return out;
}

/** `jobMachine.resolveState`, on the short path (flatMachineSteps.ts). */
const resolveState = createStateResolver<SnapshotFrom<typeof jobMachine>>(jobMachine);

/** The snapshot a JobCompacted event stands for; fills fields older writers did not know. */
export function restoreJob(ev: JobCompacted): SnapshotFrom<typeof jobMachine> {
  const { state } = ev.data;
  if (!TERMINAL_STATES.has(state)) throw new IllegalEventError(ev, state, 'only a terminal job is compacted');
  const c = ev.data.context as Partial<JobContext>;
  const context: JobContext = {
    ...(c as JobContext),
    jobId: c.jobId ?? ev.meta.jobId,
    virtualCluster: c.virtualCluster ?? DEFAULT_VIRTUAL_CLUSTER,
    active: c.active ?? true,
    stopRequested: c.stopRequested ?? null,
    recoveries: c.recoveries ?? 0,
    retries: c.retries ?? 0,
    reclaims: c.reclaims ?? 0,
    failures: c.failures ?? [],
    coordinatorId: c.coordinatorId ?? null,
    pauseRequested: false,
    tasks: null,
    taskStatus: [],
    compacted: true,
  };
  return resolveState(state, context);
}
