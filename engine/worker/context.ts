/**
 * What the worker's parts share: its dependencies, its identity, the tasks it runs, its counters
 * and whether it is active. Built once per worker by {@link createWorkerContext} and passed to each
 * part explicitly.
 */
import os from 'node:os';
import type { EventMeta, WorkerInfo } from '../../actors/events.ts';
import { EVENT_SCHEMA_VERSION } from '../../actors/events.ts';
import type { Logger } from '../log.ts';
import { createRunningTasks, type RunningTasks } from './runningTasks.ts';
import type { WorkerDeps } from './types.ts';

export interface WorkerContext extends Omit<WorkerDeps, 'logger'> {
  log: Logger;
  /** What the worker announces when it registers and with every heartbeat. */
  info: WorkerInfo;
  running: RunningTasks;
  /** Task outcomes recorded since start (see `WorkerStats`). */
  counts: { completed: number; failed: number };
  /** Set by start, cleared by drain: the heartbeat goes on while it is set. */
  active: boolean;
  /** The metadata of an event this worker writes now (`worker:<id>`). */
  meta(jobId: string, epoch: number): EventMeta;
}

export function createWorkerContext(deps: WorkerDeps): WorkerContext {
  const { logger, ...rest } = deps;
  const { id, config, clock } = deps;
  return {
    ...rest,
    log: logger.child({ worker: id }),
    info: { workerId: id, pool: config.pool, concurrency: config.workerConcurrency, host: os.hostname(), pid: process.pid },
    running: createRunningTasks(),
    counts: { completed: 0, failed: 0 },
    active: false,
    meta: (jobId, epoch) => ({ jobId, epoch, actor: `worker:${id}`, at: new Date(clock.now()).toISOString(), v: EVENT_SCHEMA_VERSION }),
  };
}
