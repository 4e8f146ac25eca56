/**
 * The engine's public face for api/ and the CLI: start a process with its roles against NATS
 * (an embedded nats-server by default, or NATS_URL).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { systemClock, systemRandom } from './clock.ts';
import type { Config } from './config.ts';
import { startEngineCore, type EngineCore } from './core.ts';
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
import type { ServiceInfo } from './service.ts';
import { createJetStreamTaskQueue } from './taskqueue/jetStreamTaskQueue.ts';

export type { JobService } from './service.ts';
export { AppError, ERROR_CODES, isAppError } from './errors.ts';
export { resolveConfig, readEnv, parseFlags, ConfigError, type Config } from './config.ts';
export { createLogger, silentLogger, type Logger } from './log.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Engine extends EngineCore {
  natsUrl: string;
  metrics: Metrics;
  embedded: EmbeddedNats | undefined;
  /** Stop roles (workers drain, coordinators hand their jobs off), close NATS, stop the embedded server. */
  shutdown(): Promise<void>;
}

export async function startEngine(config: Readonly<Config>, logger: Logger): Promise<Engine> {
  let embedded: EmbeddedNats | undefined;
  let natsUrl = config.natsUrl;
  if (natsUrl === null) {
    const storeDir = path.join(config.stateDir, 'nats');
    await mkdir(storeDir, { recursive: true });
    embedded = await startEmbeddedNats({
      bin: await findNatsServerBin(),
      port: config.natsPort,
      storeDir,
      syncInterval: config.syncInterval,
      logFile: path.join(config.stateDir, 'nats-server.log'),
      onUnexpectedExit: (code, signal) => {
        logger.error({ code, signal, log: path.join(config.stateDir, 'nats-server.log') }, 'embedded nats-server exited unexpectedly; restarting it');
        void restartEmbedded(1);
      },
    });
    const server = embedded;
    const restartEmbedded = async (attempt: number): Promise<void> => {
      try {
        await server.restart();
        logger.info({ pid: server.pid }, 'embedded nats-server restarted');
      } catch (err) {
        const delayMs = Math.min(10_000, 250 * 2 ** attempt);
        logger.error({ err, attempt, delayMs }, 'embedded nats-server did not restart; trying again');
        setTimeout(() => void restartEmbedded(attempt + 1), delayMs).unref();
      }
    };
    natsUrl = embedded.url;
    logger.info({ pid: embedded.pid, storeDir, syncInterval: config.syncInterval }, 'embedded nats-server started');
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
    const jsLog = createJetStreamEventLog({ nc });
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
    };
    const taskQueue = createJetStreamTaskQueue({ nc, ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver });
    const liveness = createKvLiveness({ nc, clock: systemClock });
    const registry = createJobTypeRegistry(builtinJobTypes());
    const info = (): ServiceInfo => ({
      name: 'jetjobs',
      version: VERSION,
      roles: [...config.roles],
      nats: { url: embedded ? natsUrl! : '(external)', embedded: embedded !== undefined, syncInterval: embedded ? config.syncInterval : null },
      dataDir: config.stateDir,
      limits: { runningJobCapacity: config.runningJobCapacity, waitingJobCapacity: config.waitingJobCapacity },
      jobTypes: registry.names(),
    });
    const core = await startEngineCore({
      config, eventLog, taskQueue, liveness, registry, clock: systemClock, random: systemRandom, logger, info,
      checks: () => ({ nats: connected && !nc.isClosed(), store: guard.resetReason() === null }),
    });
    applied = () => core.projection.lastSeq();
    guard.start();
    const metrics = createMetrics(core.projection, { roles: config.roles.join(',') });
    return {
      ...core,
      natsUrl,
      embedded,
      metrics,
      async shutdown() {
        guard.stop();
        metrics.stop();
        await core.stop();
        await taskQueue.close();
        await liveness.close();
        await eventLog.close();
        await nc.drain().catch(() => undefined);
        await embedded?.stop();
      },
    };
  } catch (err) {
    await ncToClose?.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
}
