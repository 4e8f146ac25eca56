/**
 * The unit tests' engine: a process's roles (engine/startRoles.ts) over the in-memory event log,
 * task queue and liveness, on a temp state dir, with fast timings; and a wait for a job's end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, systemRandom } from '../../engine/clock.ts';
import { resolveConfig, type Config } from '../../engine/config.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../engine/eventlog/memoryEventLog.ts';
import type { JobType } from '../../engine/jobtypes/jobType.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../engine/jobtypes/registry.ts';
import { createMemoryLiveness } from '../../engine/liveness/memoryLiveness.ts';
import { silentLogger } from '../../engine/log.ts';
import type { CheckpointStore } from '../../engine/projections/checkpointStore.ts';
import type { VirtualClusterDef } from '../../engine/quota/shares.ts';
import { SYSTEM_CALLER, type Caller, type JobView } from '../../engine/serviceTypes.ts';
import { startRoles, type Roles } from '../../engine/startRoles.ts';
import { createMemoryTaskQueue } from '../../engine/taskqueue/memoryTaskQueue.ts';
import { waitFor } from './wait.ts';

/** Heartbeats, detection, retries and drains short enough for a unit test. */
export const FAST_SETTINGS = Object.freeze({ heartbeatMs: 50, failureDetectionTimeoutMs: 500, retryBackoffMs: 10, drainTimeoutMs: 500 });

export interface MemoryEngineOptions {
  /** Job types beside the built-in ones. */
  extraTypes?: JobType[];
  virtualClusters?: () => readonly VirtualClusterDef[];
  /** A whole configuration instead of the fast settings plus overrides (its own state dir). */
  config?: Readonly<Config>;
  /** Projection checkpoints for every process (restarts too). */
  checkpoints?: CheckpointStore;
}

export interface MemoryEngine {
  /** The running process; `restart()` replaces it with a new one replaying the same log. */
  core: Roles;
  log: MemoryEventLog;
  config: Readonly<Config>;
  restart(more?: Partial<Config>): Promise<Roles>;
}

/** Runs `body` against a fresh engine and stops it (and removes its dir) afterwards, even on failure. */
export async function withMemoryEngine(overrides: Partial<Config>, body: (e: MemoryEngine) => Promise<void>, opts: MemoryEngineOptions = {}): Promise<void> {
  const dir = opts.config ? undefined : await mkdtemp(join(tmpdir(), 'jetjobs-mem-'));
  const log = createMemoryEventLog();
  const queues: { close(): Promise<void> }[] = [];
  const registry = createJobTypeRegistry([...builtinJobTypes(), ...(opts.extraTypes ?? [])]);
  const configOf = (more: Partial<Config>) => opts.config ?? resolveConfig({ stateDir: dir, ...FAST_SETTINGS, ...overrides, ...more });
  const start = (config: Readonly<Config>) => {
    const taskQueue = createMemoryTaskQueue({ ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver });
    queues.push(taskQueue);
    return startRoles({
      config, eventLog: log, taskQueue, liveness: createMemoryLiveness({ clock: systemClock }), registry,
      clock: systemClock, random: systemRandom, logger: silentLogger, info: () => { throw new Error('unused'); },
      ...(opts.virtualClusters ? { virtualClusters: opts.virtualClusters } : {}),
      ...(opts.checkpoints ? { checkpoints: opts.checkpoints } : {}),
    });
  };
  const config = configOf({});
  const e: MemoryEngine = {
    log,
    config,
    core: await start(config),
    async restart(more = {}) {
      await e.core.stop({ handoff: false });
      e.core = await start(configOf(more));
      return e.core;
    },
  };
  try {
    await body(e);
  } finally {
    await e.core.stop({ handoff: false });
    for (const q of queues) await q.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

/** Waits until the job is SUCCEEDED, FAILED or STOPPED and answers its view. */
export function untilTerminal(core: Roles, id: string, caller: Caller = SYSTEM_CALLER, timeoutMs?: number): Promise<JobView> {
  return waitFor(async () => {
    const j = await core.service.get(id, caller);
    return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state) ? j : undefined;
  }, { what: `job ${id} terminal`, intervalMs: 5, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
}
