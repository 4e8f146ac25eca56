/**
 * A production process: its roles (startRoles.ts) over NATS — an embedded nats-server by default,
 * or NATS_URL — with the control store, identity, store guard, metrics and webhook delivery.
 * Reading order: connect (embedded or not) → streams, guarded by the store identity → control
 * plane (users, tokens, virtual clusters) → roles → webhook delivery; shutdown undoes it backwards.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, systemRandom } from './clock.ts';
import type { Config } from './config.ts';
import { startRoles, type Roles } from './startRoles.ts';
import { createJetStreamEventLog } from './eventlog/jetStreamEventLog.ts';
import { withGroupCommit } from './eventlog/groupCommit.ts';
import { guardedEventLog } from './eventlog/guardedEventLog.ts';
import { builtinJobTypes } from './jobtypes/builtin.ts';
import { createJobTypeRegistry } from './jobtypes/registry.ts';
import { createKvLiveness } from './liveness/kvLiveness.ts';
import type { Logger } from './log.ts';
import { connectNats, ensureStreams, type NatsConnection } from './nats/connection.ts';
import { readStoreIdentity } from './nats/storeIdentity.ts';
import { createStoreGuard, type StoreGuard } from './storeGuard.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { AppError, isAppError } from './errors.ts';
import type { EmbeddedNats } from './nats/embeddedServer.ts';
import { superviseEmbeddedNats, type SupervisedNats } from './nats/embeddedSupervisor.ts';
import type { ServiceInfo } from './serviceTypes.ts';
import { createJetStreamTaskQueue } from './taskqueue/jetStreamTaskQueue.ts';
import { createKvControlStore } from './nats/kvControlStore.ts';
import { createJetStreamCheckpoints } from './nats/jetStreamCheckpoints.ts';
import { createIdentity, type Identity } from './auth/identity.ts';
import { virtualClusterDefs } from './auth/virtualClusters.ts';
import { effectiveClusters, type VirtualClusterDef } from './quota/shares.ts';
import type { ControlStore } from './controlstore/controlStore.ts';
import { createDocumentStore, type DocumentStore } from './documents/documentStore.ts';
import { startHookDeliverer } from './hooks/deliverer.ts';
import { createJetStreamHookQueue } from './nats/jetStreamHookQueue.ts';
import { createWebhookService, type WebhookService } from './hooks/webhookService.ts';
import { retry, type Backoff } from './retry.ts';
import { VERSION } from './version.ts';
import type { BinaryStore } from './binaries/binaryStore.ts';
import { createObjBinaryStore } from './nats/objBinaryStore.ts';
import { createScriptJobType, findRuntimes, type RuntimeCommands } from './jobtypes/script/index.ts';
import { javaRunnerClasses } from './jobtypes/script/javaRunnerClasses.ts';
import { createExecJobType } from './jobtypes/exec/index.ts';
import { createUidPool, parseUidRange } from './sandbox/uidLease.ts';
import { createJetStreamTaskLogs } from './nats/jetStreamTaskLogs.ts';
import type { TaskLogs } from './tasklogs/taskLogs.ts';

export interface Engine extends Roles {
  natsUrl: string;
  /** Users, tokens, virtual clusters (the control KV bucket, mirrored in memory). */
  identity: Identity;
  controlStore: ControlStore;
  /** Global webhooks, the callback secret, delivery logs: what the API and the facades use. */
  webhooks: WebhookService;
  /** The facades' durable documents (a Teraslice job definition), in the control bucket. */
  documents: DocumentStore;
  /** Uploaded binaries (the object store bucket `binaries`) that `script` jobs run. */
  binaries: BinaryStore;
  /** The runtimes `script` jobs can use in this process, or why one is missing. */
  scriptRuntimes: RuntimeCommands;
  /** stdout/stderr of `script` (and `exec`) tasks, per task (the stream LOGS). */
  taskLogs: TaskLogs;
  /** Set when this start created the first admin with a generated password: print it once, never log it. */
  generatedAdminPassword: string | undefined;
  metrics: Metrics;
  embedded: EmbeddedNats | undefined;
  /**
   * Stop roles (workers drain, then coordinators hand their jobs off), close NATS, then stop the
   * embedded server. Resolves with what it stopped, in order (e.g. `embedded nats-server (pid 42)`).
   */
  shutdown(): Promise<string[]>;
}

/**
 * Start-up steps that a cluster still electing leaders (or several processes creating the same R3
 * streams at once) answers with a timeout or "jetstream not enabled": 11 tries, 200 ms doubling to
 * 3 s between them, ~15 s in all.
 */
const STARTUP_TRIES = 11;
const STARTUP_BACKOFF: Backoff = { baseMs: 200, maxMs: 3000 };
/** How often expired tokens are deleted from the control store. */
const TOKEN_SWEEP_MS = 10 * 60_000;

/** Runs `fn`, retrying UNAVAILABLE as STARTUP_* say; other errors pass through. */
function retryUnavailable<T>(fn: () => Promise<T>, logger: Logger, what: string): Promise<T> {
  return retry(fn, {
    retryOn: ['UNAVAILABLE'],
    attempts: STARTUP_TRIES,
    backoff: STARTUP_BACKOFF,
    onRetry: (err, attempt) => logger.warn({ err, attempt }, what),
  });
}

export async function startEngine(config: Readonly<Config>, logger: Logger): Promise<Engine> {
  let embedded: SupervisedNats | undefined;
  let nc: NatsConnection | undefined;
  try {
    if (config.natsUrl === null) {
      embedded = await superviseEmbeddedNats({ stateDir: config.stateDir, port: config.natsPort, syncInterval: config.syncInterval, logger });
    }
    const natsUrl = embedded?.server.url ?? config.natsUrl!;
    await mkdir(config.filesDir, { recursive: true });
    await mkdir(config.cacheDir, { recursive: true });
    nc = await connectNats(natsUrl, { name: `jetjobs:${config.roles.join('+')}`, logger });
    return await startOnNats(config, logger, nc, natsUrl, embedded);
  } catch (err) {
    embedded?.stopping();
    await nc?.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
}

/** Whether the connection is up now (not closed, not between a disconnect and its reconnect). */
function connectionState(nc: NatsConnection): () => boolean {
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      else if (s.type === 'reconnect') connected = true;
    }
  })();
  return () => connected && !nc.isClosed();
}

/** Creates the streams, refusing a store that replaced the one this installation used. */
async function ensureGuardedStreams(nc: NatsConnection, config: Readonly<Config>, logger: Logger, appliedSeq: () => number): Promise<StoreGuard> {
  const guard = createStoreGuard({
    probe: () => readStoreIdentity(nc),
    appliedSeq,
    identityFile: path.join(config.stateDir, 'store-identity.json'),
    acceptNewStore: config.acceptNewStore,
    clock: systemClock,
    intervalMs: config.heartbeatMs,
    logger,
  });
  await retryUnavailable(async () => {
    await guard.beforeEnsure();
    await ensureStreams(nc, { replicas: config.replicas });
    await guard.afterEnsure();
  }, logger, 'streams not ready yet; retrying');
  return guard;
}

/** The effective virtual clusters, cached until a definition changes (read on every claim pass). */
function cachedVirtualClusters(controlStore: ControlStore): () => readonly VirtualClusterDef[] {
  let clusters: ReturnType<typeof effectiveClusters> | undefined;
  controlStore.onChange((key) => {
    if (key.startsWith('vc.')) clusters = undefined;
  });
  return () => (clusters ??= effectiveClusters(virtualClusterDefs(controlStore)));
}

async function startOnNats(config: Readonly<Config>, logger: Logger, nc: NatsConnection, natsUrl: string, embedded: SupervisedNats | undefined): Promise<Engine> {
  const connected = connectionState(nc);
  let applied = () => 0;
  const guard = await ensureGuardedStreams(nc, config, logger, () => applied());
  const metrics = createMetrics({ labels: { roles: config.roles.join(',') }, alluxioMetricNames: config.alluxioMetricNames });
  const eventLog = guardedEventLog(metrics.wrapEventLog(withGroupCommit(createJetStreamEventLog({ nc }), config.appendsInFlight)), () => guard.resetReason());
  const taskQueue = createJetStreamTaskQueue({ nc, ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver, logger });
  const liveness = createKvLiveness({ nc, clock: systemClock });
  const binaries = createObjBinaryStore({ nc, replicas: config.replicas });
  const scriptRuntimes = findRuntimes(config);
  const taskLogs = createJetStreamTaskLogs({ nc, replicas: config.replicas, logger });
  const controlStore = createKvControlStore({ nc, logger });
  await controlStore.ready;
  // exec's sealed commands (commands holding secrets) are documents: the worker reads them at run time
  const documents = createDocumentStore(controlStore);
  const uidRange = parseUidRange(config.scriptUids, process.getuid?.() === 0);
  if (uidRange === null && config.roles.includes('worker')) {
    logger.warn({ scriptUids: config.scriptUids, scriptNetwork: config.scriptNetwork }, 'script and exec tasks run as this worker\'s own user, with its network: no isolation between jobs (run the worker as root for sandbox uids and no network; docs/operations.md, Sandbox)');
  }
  // one pool for script and exec tasks: its leases are host-wide anyway
  const scriptUids = uidRange === null ? null : createUidPool({ ...uidRange, logger });
  const scriptType = createScriptJobType({
    binaries,
    runtimes: scriptRuntimes,
    workRoot: path.resolve(config.scriptWorkDir),
    uids: scriptUids,
    network: config.scriptNetwork,
    taskLogs,
    javaClassDir: javaRunnerClasses(path.resolve(config.stateDir, 'runners'), () => ('path' in scriptRuntimes.java ? scriptRuntimes.java.path : undefined), logger),
    limits: { timeLimitMs: config.scriptTimeLimitMs, memoryLimitMb: config.scriptMemoryLimitMb, resultMaxBytes: config.scriptResultMaxBytes },
    logger,
  });
  const execType = createExecJobType({
    workRoot: path.resolve(config.scriptWorkDir),
    uids: scriptUids,
    network: config.scriptNetwork,
    taskLogs,
    limits: { timeLimitMs: config.scriptTimeLimitMs, memoryLimitMb: config.scriptMemoryLimitMb },
    documents,
    logger,
  });
  const registry = createJobTypeRegistry([...builtinJobTypes(), scriptType, execType]);
  // The projection exists only once the roles run; VC deletion asks it (and is refused until then).
  const started: { projection?: Roles['projection'] } = {};
  const identity = createIdentity({
    store: controlStore, config, clock: systemClock, logger,
    hasUnfinishedJobs: (vc) => {
      if (started.projection === undefined) return true;
      const c = started.projection.virtualClusterCounts().get(vc);
      return c !== undefined && c.waiting + c.active > 0;
    },
  });
  // Right after a fresh R3 cluster created the bucket its leader may not be elected yet: retry, bounded.
  // bootstrap() logs the creation of the first admin itself
  const boot = await retryUnavailable(() => identity.bootstrap(), logger, 'control store not ready yet; retrying');
  const virtualClusters = cachedVirtualClusters(controlStore);
  const info = (): ServiceInfo => ({
    name: 'jetjobs',
    version: VERSION,
    roles: [...config.roles],
    nats: { url: embedded ? natsUrl : '(external)', embedded: embedded !== undefined, syncInterval: embedded ? config.syncInterval : null },
    dataDir: config.stateDir,
    limits: { runningJobCapacity: config.runningJobCapacity, waitingJobCapacity: config.waitingJobCapacity },
    jobTypes: registry.names(),
  });
  const roles = await startRoles({
    config, eventLog, taskQueue, liveness, registry, clock: systemClock, random: systemRandom, logger, info, virtualClusters,
    checks: () => ({ nats: connected(), store: guard.resetReason() === null }),
    // a removed job's output goes with it (the LOGS stream's own max age is the backstop)
    afterRemove: (job) => taskLogs.purgeJob(job.id),
    checkpoints: createJetStreamCheckpoints({ nc, controlStore, replicas: config.replicas }),
  });
  applied = () => roles.lastSeq();
  started.projection = roles.projection;
  guard.start();
  metrics.attach({
    projection: roles.projection,
    replayMs: roles.replayMs,
    ...(roles.coordinator ? { coordinator: roles.coordinator } : {}),
    ...(roles.worker ? { worker: roles.worker } : {}),
    retention: roles.retention,
  });
  const sweep = setInterval(() => {
    identity.sweepExpiredTokens().catch((err: unknown) => logger.warn({ err }, 'expired-token sweep failed'));
  }, TOKEN_SWEEP_MS);
  sweep.unref();
  const hooks = config.roles.includes('coordinator')
    ? await retryUnavailable(
        () => startHookDeliverer({ queue: createJetStreamHookQueue({ nc }), eventLog, projection: roles.projection, store: controlStore, config, clock: systemClock, logger, onAttempt: metrics.webhookAttempt, ...(roles.coordinator ? { coordinatorId: roles.coordinator.id } : {}) }).catch((err: unknown) => {
          throw isAppError(err) ? err : new AppError('UNAVAILABLE', 'could not create the webhook consumer', { cause: err });
        }),
        logger,
        'webhook consumer not ready yet; retrying',
      )
    : undefined;
  return {
    ...roles,
    natsUrl,
    embedded: embedded?.server,
    metrics,
    identity,
    controlStore,
    webhooks: createWebhookService({ store: controlStore, jobs: roles.service, config, clock: systemClock }),
    documents,
    binaries,
    scriptRuntimes,
    taskLogs,
    generatedAdminPassword: boot.generatedPassword,
    async shutdown() {
      embedded?.stopping();
      guard.stop();
      metrics.stop();
      clearInterval(sweep);
      await hooks?.stop();
      await roles.stop();
      await taskLogs.close();
      await controlStore.close();
      await taskQueue.close();
      await liveness.close();
      await eventLog.close();
      await nc.drain().catch(() => undefined);
      const stopped: string[] = (['worker', 'coordinator'] as const).filter((r) => config.roles.includes(r));
      if (embedded) {
        const serverPid = embedded.server.pid;
        await embedded.stop();
        stopped.push(`embedded nats-server (pid ${serverPid})`);
      }
      return stopped;
    },
  };
}
