/**
 * A production process: its roles (startRoles.ts) over NATS — an embedded nats-server by default,
 * or NATS_URL — with the control store, identity, store guard, metrics and webhook delivery.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, systemRandom } from './clock.ts';
import type { Config } from './config.ts';
import { startRoles, type Roles } from './startRoles.ts';
import { createJetStreamEventLog } from './eventlog/jetStreamEventLog.ts';
import { builtinJobTypes } from './jobtypes/builtin.ts';
import { createJobTypeRegistry } from './jobtypes/registry.ts';
import { createKvLiveness } from './liveness/kvLiveness.ts';
import type { Logger } from './log.ts';
import { connectNats, ensureStreams } from './nats/connection.ts';
import { readStoreIdentity } from './nats/storeIdentity.ts';
import { createStoreGuard } from './storeGuard.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { AppError, isAppError } from './errors.ts';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from './nats/embeddedServer.ts';
import type { ServiceInfo } from './serviceTypes.ts';
import { createJetStreamTaskQueue } from './taskqueue/jetStreamTaskQueue.ts';
import { createKvControlStore } from './nats/kvControlStore.ts';
import { createIdentity, type Identity } from './auth/identity.ts';
import { virtualClusterDefs } from './auth/virtualClusters.ts';
import { effectiveClusters } from './quota/shares.ts';
import type { ControlStore } from './controlstore/controlStore.ts';
import { startHookDeliverer } from './hooks/deliverer.ts';

import { VERSION } from './version.ts';

export interface Engine extends Roles {
  natsUrl: string;
  /** Users, tokens, virtual clusters (the control KV bucket, mirrored in memory). */
  identity: Identity;
  controlStore: ControlStore;
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

/** How long an exit of the embedded server we did not ask for waits for a shutdown to claim it. */
const UNEXPECTED_EXIT_SETTLE_MS = 250;

/** Runs `fn`, retrying UNAVAILABLE with backoff (10 attempts, ~15 s in all); other errors pass through. */
async function retryUnavailable<T>(fn: () => Promise<T>, logger: Logger, what: string): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!isAppError(err, 'UNAVAILABLE') || i >= 10) throw err;
      logger.warn({ err, attempt: i + 1 }, what);
      await new Promise((r) => setTimeout(r, Math.min(3000, 200 * 2 ** i)));
    }
  }
}

export async function startEngine(config: Readonly<Config>, logger: Logger): Promise<Engine> {
  let embedded: EmbeddedNats | undefined;
  let natsUrl = config.natsUrl;
  /** Set once shutdown begins: from then on the embedded server is stopped, never restarted. */
  let stopping = false;
  if (natsUrl === null) {
    const storeDir = path.join(config.stateDir, 'nats');
    const logFile = path.join(config.stateDir, 'nats-server.log');
    await mkdir(storeDir, { recursive: true });
    embedded = await startEmbeddedNats({
      bin: await findNatsServerBin(),
      port: config.natsPort,
      storeDir,
      syncInterval: config.syncInterval,
      logFile,
      // a terminal's Ctrl-C reaches only this process, which stops the server last, in order
      ownProcessGroup: true,
      onUnexpectedExit: (code, signal) => {
        // A signal sent to several processes at once (systemd's whole cgroup) may end the server just
        // before our own handler starts the shutdown: decide after the handler has had its turn.
        setTimeout(() => {
          if (stopping) {
            logger.info({ code, signal }, 'embedded nats-server exited during shutdown');
            return;
          }
          logger.error({ code, signal, log: logFile }, 'embedded nats-server exited unexpectedly; restarting it');
          void restartEmbedded(1);
        }, UNEXPECTED_EXIT_SETTLE_MS).unref();
      },
    });
    const server = embedded;
    const restartEmbedded = async (attempt: number): Promise<void> => {
      if (stopping) return;
      try {
        await server.restart();
        logger.info({ serverPid: server.pid }, 'embedded nats-server restarted');
      } catch (err) {
        if (stopping) return;
        const delayMs = Math.min(10_000, 250 * 2 ** attempt);
        logger.error({ err, attempt, delayMs }, 'embedded nats-server did not restart; trying again');
        setTimeout(() => void restartEmbedded(attempt + 1), delayMs).unref();
      }
    };
    natsUrl = embedded.url;
    // `serverPid`, not `pid`: every line already carries this process's pid
    logger.info({ serverPid: embedded.pid, storeDir, syncInterval: config.syncInterval }, 'embedded nats-server started');
  }
  let ncToClose: { close(): Promise<void> } | undefined;
  try {
    await mkdir(config.filesDir, { recursive: true });
    await mkdir(config.cacheDir, { recursive: true });
    const nc = await connectNats(natsUrl, { name: `jetjobs:${config.roles.join('+')}`, logger });
    ncToClose = nc;
    let connected = true;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') connected = false;
        else if (s.type === 'reconnect') connected = true;
      }
    })();
    let applied = () => 0;
    const guard = createStoreGuard({
      probe: () => readStoreIdentity(nc),
      appliedSeq: () => applied(),
      identityFile: path.join(config.stateDir, 'store-identity.json'),
      acceptNewStore: config.acceptNewStore,
      clock: systemClock,
      intervalMs: config.heartbeatMs,
      logger,
    });
    // On a cluster that is still electing leaders (or several processes creating the same R3
    // streams at once) this times out or says "jetstream not enabled": retry, bounded.
    for (let i = 0; ; i++) {
      try {
        await guard.beforeEnsure();
        await ensureStreams(nc, { replicas: config.replicas });
        await guard.afterEnsure();
        break;
      } catch (err) {
        if (!isAppError(err, 'UNAVAILABLE') || i >= 10) throw err;
        logger.warn({ err, attempt: i + 1 }, 'streams not ready yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(3000, 200 * 2 ** i)));
      }
    }
    const metrics = createMetrics({ labels: { roles: config.roles.join(',') } });
    const jsLog = metrics.wrapEventLog(createJetStreamEventLog({ nc }));
    const refuseAfterReset = () => {
      const why = guard.resetReason();
      if (why) throw new AppError('STATE_STORE_RESET', why);
    };
    // Once the store is known to be lost, no write may start the history over.
    const eventLog: typeof jsLog = {
      ...jsLog,
      append: (subject, events, opts) => {
        refuseAfterReset();
        return jsLog.append(subject, events, opts);
      },
      purge: (subject) => {
        refuseAfterReset();
        return jsLog.purge(subject);
      },
      // a reset store holds none of our jobs: retention must not conclude they were all removed
      listSubjects: (filter) => {
        refuseAfterReset();
        return jsLog.listSubjects(filter);
      },
    };
    const taskQueue = createJetStreamTaskQueue({ nc, ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver, logger });
    const liveness = createKvLiveness({ nc, clock: systemClock });
    const registry = createJobTypeRegistry(builtinJobTypes());
    const controlStore = createKvControlStore({ nc, logger });
    await controlStore.ready;
    // The projection exists only once the core runs; VC deletion asks it (and is refused until then).
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
    // Read on every claim pass: cache, and drop the cache when a definition changes.
    let clusters: ReturnType<typeof effectiveClusters> | undefined;
    controlStore.onChange((key) => {
      if (key.startsWith('vc.')) clusters = undefined;
    });
    const virtualClusters = () => (clusters ??= effectiveClusters(virtualClusterDefs(controlStore)));
    const info = (): ServiceInfo => ({
      name: 'jetjobs',
      version: VERSION,
      roles: [...config.roles],
      nats: { url: embedded ? natsUrl! : '(external)', embedded: embedded !== undefined, syncInterval: embedded ? config.syncInterval : null },
      dataDir: config.stateDir,
      limits: { runningJobCapacity: config.runningJobCapacity, waitingJobCapacity: config.waitingJobCapacity },
      jobTypes: registry.names(),
    });
    const core = await startRoles({
      config, eventLog, taskQueue, liveness, registry, clock: systemClock, random: systemRandom, logger, info, virtualClusters,
      checks: () => ({ nats: connected && !nc.isClosed(), store: guard.resetReason() === null }),
    });
    applied = () => core.projection.lastSeq();
    started.projection = core.projection;
    guard.start();
    metrics.attach({
      projection: core.projection,
      replayMs: core.replayMs,
      ...(core.coordinator ? { coordinator: core.coordinator } : {}),
      ...(core.worker ? { worker: core.worker } : {}),
      retention: core.retention,
    });
    const sweep = setInterval(() => {
      identity.sweepExpiredTokens().catch((err: unknown) => logger.warn({ err }, 'expired-token sweep failed'));
    }, 10 * 60_000);
    sweep.unref();
    const hooks = config.roles.includes('coordinator')
      ? await retryUnavailable(
          () => startHookDeliverer({ nc, eventLog, projection: core.projection, store: controlStore, config, clock: systemClock, logger, onAttempt: metrics.webhookAttempt }).catch((err: unknown) => {
            throw isAppError(err) ? err : new AppError('UNAVAILABLE', 'could not create the webhook consumer', { cause: err });
          }),
          logger,
          'webhook consumer not ready yet; retrying',
        )
      : undefined;
    return {
      ...core,
      natsUrl,
      embedded,
      metrics,
      identity,
      controlStore,
      generatedAdminPassword: boot.generatedPassword,
      async shutdown() {
        stopping = true;
        guard.stop();
        metrics.stop();
        clearInterval(sweep);
        await hooks?.stop();
        await core.stop();
        await controlStore.close();
        await taskQueue.close();
        await liveness.close();
        await eventLog.close();
        await nc.drain().catch(() => undefined);
        const stopped: string[] = (['worker', 'coordinator'] as const).filter((r) => config.roles.includes(r));
        if (embedded) {
          const serverPid = embedded.pid;
          await embedded.stop();
          stopped.push(`embedded nats-server (pid ${serverPid})`);
        }
        return stopped;
      },
    };
  } catch (err) {
    stopping = true;
    await ncToClose?.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
}
