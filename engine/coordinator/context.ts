/**
 * What the coordinator's parts share: its dependencies, its identity, the jobs it owns, the tasks it
 * has in flight, and the wake-ups that make it drive a job or claim again. Built once per coordinator
 * by {@link createCoordinatorContext} and passed to each part explicitly.
 */
import type { CommandMeta } from '../../actors/decide.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { Logger } from '../log.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { effectiveClusters, type VirtualClusterDef } from '../quota/shares.ts';
import { createTaskWindow, type TaskWindow } from './taskWindow.ts';
import type { CoordinatorDeps, Owned } from './types.ts';
import { createWakeups, type WakeHandlers, type Wakeups } from './wakeups.ts';

export interface CoordinatorContext extends Omit<CoordinatorDeps, 'logger' | 'virtualClusters'> {
  log: Logger;
  /** `coordinator:<id>`: the actor of every command we decide. */
  actor: string;
  /** The effective virtual clusters (`default` included). */
  virtualClusters: () => readonly VirtualClusterDef[];
  /** Jobs we own (the projection shows them as ours, in our epoch) → their local bookkeeping. */
  owned: Map<string, Owned>;
  /** Our jobs that have tasks ready but no slot in the dispatch window. */
  starved: Set<string>;
  /** Tasks in flight, in total and per VC, and whether one more fits. */
  tasks: TaskWindow;
  /** Aborted on stop: cancels planning and verification in progress. */
  lifetime: AbortController;
  running: boolean;
  /** Coordinators alive in our liveness view (us included), refreshed every heartbeat and claim pass: a change wakes a claim pass (the slots count only proven peers: claimPass.ts). */
  liveCoordinators: number;
  wake: Wakeups;
  /** The metadata of a command decided now. */
  meta(reason?: string): CommandMeta;
}

/** The job's context, typed. */
export const ctxOf = (e: JobEntry) => e.snapshot.context as JobContext;

export const isActiveState = (s: string) => s === 'RUNNING' || s === 'PAUSED' || s === 'VERIFYING';

export function createCoordinatorContext(deps: CoordinatorDeps, handlers: WakeHandlers): CoordinatorContext {
  const { logger, virtualClusters: vcs, ...rest } = deps;
  const { id, config, liveness, clock } = deps;
  const defaultClusters = effectiveClusters([]);
  const virtualClusters = vcs ?? (() => defaultClusters);
  const actor = `coordinator:${id}`;
  const cx: CoordinatorContext = {
    ...rest,
    log: logger.child({ coordinator: id }),
    actor,
    virtualClusters,
    owned: new Map(),
    starved: new Set(),
    tasks: createTaskWindow({
      maxTasksPerWorker: config.maxTasksPerWorker,
      liveWorkers: () => liveness.alive('worker', config.failureDetectionTimeoutMs).length,
      virtualClusters,
    }),
    lifetime: new AbortController(),
    running: false,
    liveCoordinators: 1,
    wake: createWakeups({ clock, retryBackoffMs: config.retryBackoffMs, isRunning: () => cx.running }, handlers),
    meta: (reason) => ({ actor, at: new Date(clock.now()).toISOString(), ...(reason ? { reason } : {}) }),
  };
  return cx;
}
