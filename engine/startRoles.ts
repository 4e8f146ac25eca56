import type { Clock, Random } from './clock.ts';
import type { Config } from './config.ts';
import { createCoordinator, type Coordinator } from './coordinator/coordinator.ts';
import type { EventLog, Follower } from './eventlog/eventLog.ts';
import type { FileRoots } from './jobtypes/jobType.ts';
import type { JobTypeRegistry } from './jobtypes/registry.ts';
import { createJobService } from './jobservice/createJobService.ts';
import type { Liveness } from './liveness/liveness.ts';
import type { Logger } from './log.ts';
import { jobFactsOf } from './projections/jobFacts.ts';
import { createJobProjection, type JobProjection } from './projections/jobProjection.ts';
import type { JobService, ServiceInfo } from './serviceTypes.ts';
import type { TaskQueue } from './taskqueue/taskQueue.ts';
import { effectiveClusters, type VirtualClusterDef } from './quota/shares.ts';
import { createRetention, type RemovedJob, type Retention } from './retention/retention.ts';
import { createWorker, type Worker } from './worker/worker.ts';

/** Everything the engine needs from outside; NATS-backed in production, in-memory in simulation. */
export interface RoleDeps {
  config: Readonly<Config>;
  eventLog: EventLog;
  taskQueue: TaskQueue;
  liveness: Liveness;
  registry: JobTypeRegistry;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Extra readiness checks (e.g. the NATS connection). */
  checks?: () => Record<string, boolean>;
  info: () => ServiceInfo;
  /** The effective virtual clusters (quota pools). @defaultValue only `default`, with the whole capacity */
  virtualClusters?: () => readonly VirtualClusterDef[];
  /** What else a job removed by retention leaves (its task output): cleaned up after its type's own `removed`. */
  afterRemove?: (job: RemovedJob) => Promise<void>;
}

export interface Roles {
  service: JobService;
  projection: JobProjection;
  coordinator?: Coordinator;
  worker?: Worker;
  /** ms from start until the projection had replayed the stream. */
  replayMs: number;
  /** Compacts and removes finished jobs (writes only in coordinator processes). */
  retention: Retention;
  stop(opts?: { handoff?: boolean }): Promise<void>;
}

/** Replays the stream into a projection, then starts the roles this process has. */
export async function startRoles(deps: RoleDeps): Promise<Roles> {
  const { config, eventLog, clock, random, logger, registry } = deps;
  const roots: FileRoots = { dataDir: config.filesDir, cacheDir: config.cacheDir };
  const projection = createJobProjection({ logger, clock });
  const t0 = clock.monotonic();
  let followerBroken = false;
  const follower: Follower = eventLog.follow(1, (r) => projection.apply(r), {
    onError: (err) => {
      followerBroken = true;
      logger.error({ err }, 'following the event stream failed');
    },
  });
  await follower.caughtUp;
  const replayMs = clock.monotonic() - t0;
  logger.info({ records: projection.lastSeq(), replayMs: Math.round(replayMs) }, 'projection caught up');

  const shortId = () => random.uuid().replace(/-/g, '').slice(0, 12);
  let coordinator: Coordinator | undefined;
  let worker: Worker | undefined;
  const defaultClusters = effectiveClusters([]);
  const virtualClusters = deps.virtualClusters ?? (() => defaultClusters);
  const base = { eventLog, taskQueue: deps.taskQueue, liveness: deps.liveness, projection, registry, roots, clock, logger };
  if (config.roles.includes('worker')) {
    worker = createWorker({ ...base, jobs: jobFactsOf(projection), id: `w-${shortId()}`, config });
    await worker.start();
  }
  if (config.roles.includes('coordinator')) {
    coordinator = createCoordinator({ ...base, id: `c-${shortId()}`, config, virtualClusters });
    await coordinator.start();
  }
  const service = createJobService({
    config, eventLog, projection, liveness: deps.liveness, registry, roots, clock, random, info: deps.info, virtualClusters,
    checks: () => ({ ...(deps.checks?.() ?? {}), projection: !followerBroken, eventsRejected: projection.rejected === 0 }),
  });
  // Every process drops removed jobs from its projection (flat memory); coordinators also write.
  const afterRemove = async (job: RemovedJob) => {
    await registry.get(job.type)?.removed?.(job.spec);
    await deps.afterRemove?.(job);
  };
  const retention = createRetention({ eventLog, projection, config, clock, logger, writer: coordinator !== undefined, afterRemove });
  retention.start();
  return {
    service,
    projection,
    retention,
    ...(coordinator ? { coordinator } : {}),
    ...(worker ? { worker } : {}),
    replayMs,
    async stop(opts) {
      retention.stop();
      await worker?.drain();
      await coordinator?.stop(opts);
      await follower.stop();
    },
  };
}
