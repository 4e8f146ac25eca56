/**
 * The embedded nats-server of a process started without NATS_URL: started in our own process
 * group under the state dir, restarted (with backoff) when it exits while we are not stopping.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { backoffDelay } from '../retry.ts';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from './embeddedServer.ts';

/** How long an exit of the embedded server we did not ask for waits for a shutdown to claim it. */
const UNEXPECTED_EXIT_SETTLE_MS = 250;
/** Between restart attempts of a server that will not come back: 500 ms (attempt 1), doubling, at most 10 s. */
const RESTART_BACKOFF = { baseMs: 250, maxMs: 10_000 } as const;

export interface SupervisedNats {
  server: EmbeddedNats;
  /** From now on an exit is expected: never restart again. Idempotent. */
  stopping(): void;
  /** stopping(), then stop the server. */
  stop(): Promise<void>;
}

export async function superviseEmbeddedNats(opts: { stateDir: string; port: number; syncInterval: string; logger: Logger }): Promise<SupervisedNats> {
  const { logger } = opts;
  /** Set once shutdown begins: from then on the embedded server is stopped, never restarted. */
  let stopping = false;
  const storeDir = path.join(opts.stateDir, 'nats');
  const logFile = path.join(opts.stateDir, 'nats-server.log');
  await mkdir(storeDir, { recursive: true });
  const restart = async (attempt: number): Promise<void> => {
    if (stopping) return;
    try {
      await server.restart();
      logger.info({ serverPid: server.pid }, 'embedded nats-server restarted');
    } catch (err) {
      if (stopping) return;
      const delayMs = backoffDelay(RESTART_BACKOFF, attempt);
      logger.error({ err, attempt, delayMs }, 'embedded nats-server did not restart; trying again');
      setTimeout(() => void restart(attempt + 1), delayMs).unref();
    }
  };
  const server: EmbeddedNats = await startEmbeddedNats({
    bin: await findNatsServerBin(),
    port: opts.port,
    storeDir,
    syncInterval: opts.syncInterval,
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
        void restart(1);
      }, UNEXPECTED_EXIT_SETTLE_MS).unref();
    },
  });
  // `serverPid`, not `pid`: every line already carries this process's pid
  logger.info({ serverPid: server.pid, storeDir, syncInterval: opts.syncInterval }, 'embedded nats-server started');
  return {
    server,
    stopping: () => {
      stopping = true;
    },
    async stop() {
      stopping = true;
      await server.stop();
    },
  };
}
