import type { Clock, Random } from './clock.ts';
import type { Config } from './config.ts';
import { createCoordinator, type Coordinator } from './coordinator/coordinator.ts';
import type { EventLog, Follower } from './eventlog/eventLog.ts';
import type { FileRoots } from './jobtypes/jobType.ts';
import type { JobTypeRegistry } from './jobtypes/registry.ts';
import { createJobService } from './jobservice/createJobService.ts';
import type { Liveness } from './liveness/liveness.ts';
import type { Logger } from './log.ts';
import { loadCheckpoint, type CheckpointStore } from './projections/checkpointStore.ts';
import { createCheckpointWriter, type CheckpointWriter } from './projections/checkpointWriter.ts';
import { jobFactsOf, type JobFacts } from './projections/jobFacts.ts';
import { createJobProjection, type JobProjection, type ProjectionState } from './projections/jobProjection.ts';
import { restoreProjection } from './projections/projectionCheckpoint.ts';
import { createSlimJobView, SLIM_VIEW_SUBJECTS } from './projections/slimJobView.ts';
import type { JobService, ServiceInfo } from './serviceTypes.ts';
import type { TaskQueue } from './taskqueue/taskQueue.ts';
import { effectiveClusters, type VirtualClusterDef } from './quota/shares.ts';
import { createRetention, type RemovedJob, type Retention } from './retention/retention.ts';
import { createSlimViewRetention } from './retention/slimViewRetention.ts';
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
  /**
   * Projection checkpoints (decision 0013): a process with the coordinator or api role starts from
   * the newest valid one and replays only the records after it; a coordinator writes them every
   * `checkpointIntervalMs`. Without it (or with `checkpointIntervalMs` 0), replay from seq 1.
   */
  checkpoints?: CheckpointStore;
}

export interface Roles {
  /** The job service over `projection`; only an api role serves it (a worker-only process has no API). */
  service: JobService;
  /**
   * The fold of every job. **Empty in a worker-only process** (roles without coordinator and api):
   * that process keeps the slim view behind `jobFacts` instead (decision 0012 F2) and serves no job
   * reads, metrics or readiness (api/main.ts listens only with the api role).
   */
  projection: JobProjection;
  /** What the worker reads of each job: the projection's facts, or the slim view of a worker-only process. */
  jobFacts: JobFacts;
  /** Last stream sequence this process applied (the store guard compares it with the stream). */
  lastSeq(): number;
  coordinator?: Coordinator;
  worker?: Worker;
  /** ms from start until the projection had replayed the stream (after loading a checkpoint, if any). */
  replayMs: number;
  /** The seq of the checkpoint the projection started from; 0 when it replayed from seq 1. */
  checkpointSeq: number;
  /** Compacts and removes finished jobs (writes only in coordinator processes). */
  retention: Retention;
  stop(opts?: { handoff?: boolean }): Promise<void>;
}

/**
 * True for a process whose only role is worker: it needs three facts per job (terminal, epoch,
 * attempt floors), not the fold of every job (decision 0012 §4 F2).
 */
export const workerOnly = (roles: readonly string[]) => !roles.includes('coordinator') && !roles.includes('api');

/**
 * Replays the stream into a projection (a worker-only process: into the slim job view, following
 * only the subjects it reads), then starts the roles this process has.
 */
export async function startRoles(deps: RoleDeps): Promise<Roles> {
  const { config, eventLog, clock, random, logger, registry } = deps;
  const roots: FileRoots = { dataDir: config.filesDir, cacheDir: config.cacheDir };
  const slim = workerOnly(config.roles) ? createSlimJobView() : undefined;
  const t0 = clock.monotonic();
  // the slim view of a worker-only process replays from seq 1 (it keeps far less per job)
  const checkpoints = slim === undefined && config.checkpointIntervalMs > 0 ? deps.checkpoints : undefined;
  const from = checkpoints === undefined ? undefined : await loadCheckpoint(checkpoints, logger);
  const restored = from === undefined ? undefined : restoredOrNothing(from, { logger, clock });
  const projection = restored ?? createJobProjection({ logger, clock });
  const checkpointSeq = restored?.lastSeq() ?? 0;
  const jobFacts = slim ?? jobFactsOf(projection);
  const lastSeq = slim ? slim.lastSeq : () => projection.lastSeq();
  let followerBroken = false;
  const follower: Follower = eventLog.follow(checkpointSeq + 1, slim ? (r) => slim.apply(r) : (r) => projection.apply(r), {
    ...(slim ? { filterSubjects: SLIM_VIEW_SUBJECTS } : {}),
    onError: (err) => {
      followerBroken = true;
      logger.error({ err }, 'following the event stream failed');
    },
  });
  await follower.caughtUp;
  const replayMs = clock.monotonic() - t0;
  logger.info({ records: lastSeq(), replayMs: Math.round(replayMs), ...(checkpoints ? { fromCheckpointSeq: checkpointSeq } : {}), ...(slim ? { view: 'slim', ...slim.counts() } : {}) }, 'projection caught up');

  const shortId = () => random.uuid().replace(/-/g, '').slice(0, 12);
  let coordinator: Coordinator | undefined;
  let worker: Worker | undefined;
  const defaultClusters = effectiveClusters([]);
  const virtualClusters = deps.virtualClusters ?? (() => defaultClusters);
  const base = { eventLog, taskQueue: deps.taskQueue, liveness: deps.liveness, projection, registry, roots, clock, logger };
  if (config.roles.includes('worker')) {
    worker = createWorker({ ...base, jobs: jobFacts, id: `w-${shortId()}`, config });
    await worker.start();
  }
  if (config.roles.includes('coordinator')) {
    coordinator = createCoordinator({ ...base, id: `c-${shortId()}`, config, virtualClusters });
    await coordinator.start();
  }
  let checkpointWriter: CheckpointWriter | undefined;
  if (checkpoints !== undefined && coordinator !== undefined) {
    checkpointWriter = createCheckpointWriter({
      store: checkpoints, projection, holder: coordinator.id, intervalMs: config.checkpointIntervalMs, everyRecords: config.checkpointEveryRecords,
      startSeq: checkpointSeq, clock, logger,
    });
    checkpointWriter.start();
  }
  const service = createJobService({
    config, eventLog, projection, liveness: deps.liveness, registry, roots, clock, random, info: deps.info, virtualClusters,
    checks: () => ({ ...(deps.checks?.() ?? {}), projection: !followerBroken, eventsRejected: projection.rejected === 0 }),
  });
  // Every process drops removed jobs from its projection (flat memory); coordinators also write. The
  // slim view drops them on the removal notices it reads itself; its passes only make up for the
  // notices it missed (rolled up before it read them: slimViewRetention.ts).
  const afterRemove = async (job: RemovedJob) => {
    await registry.get(job.type)?.removed?.(job.spec);
    await deps.afterRemove?.(job);
  };
  const retention = slim
    ? createSlimViewRetention({ view: slim, eventLog, clock, logger, intervalMs: config.retentionIntervalMs })
    : createRetention({ eventLog, projection, config, clock, logger, writer: coordinator !== undefined, afterRemove });
  retention.start();
  return {
    service,
    projection,
    jobFacts,
    lastSeq,
    retention,
    ...(coordinator ? { coordinator } : {}),
    ...(worker ? { worker } : {}),
    replayMs,
    checkpointSeq,
    async stop(opts) {
      checkpointWriter?.stop();
      retention.stop();
      await worker?.drain();
      await coordinator?.stop(opts);
      await follower.stop();
    },
  };
}

/** The projection restored from a checkpoint's state, or undefined (logged) when the state does not hold together. */
function restoredOrNothing(from: ProjectionState, opts: { logger: Logger; clock: Clock }): JobProjection | undefined {
  try {
    return restoreProjection(from, opts);
  } catch (err) {
    opts.logger.warn({ err }, 'projection checkpoint refused: replaying the stream from seq 1');
    return undefined;
  }
}
