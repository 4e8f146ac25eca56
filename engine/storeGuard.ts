import { readFile, writeFile, rename } from 'node:fs/promises';
import type { Clock } from './clock.ts';
import { AppError, isAppError } from './errors.ts';
import type { Logger } from './log.ts';
import type { StoreIdentity } from './nats/storeIdentity.ts';

export interface StoreGuardOptions {
  /** Reads the live store's identity (null: the stream is gone). */
  probe: () => Promise<StoreIdentity | null>;
  /** Highest stream sequence this process has applied. */
  appliedSeq: () => number;
  /** Where the identity of the store this installation uses is remembered across restarts. */
  identityFile: string;
  /** Accept a store whose identity differs from the remembered one (operator re-bootstrap). */
  acceptNewStore: boolean;
  clock: Clock;
  intervalMs: number;
  logger: Logger;
}

export interface StoreGuard {
  /** Before streams are created: refuse to start on a store that replaced the remembered one. */
  beforeEnsure(): Promise<void>;
  /** After streams exist: remember this store's identity. */
  afterEnsure(): Promise<void>;
  /** Why writes are refused, or null while the store is the one we started on. */
  resetReason(): string | null;
  start(): void;
  stop(): void;
}

/**
 * Detects a NATS restart whose store was deleted (research S4): the stream vanished, was
 * recreated (new creation time) or holds fewer records than we already applied. Once detected,
 * writes fail with STATE_STORE_RESET and readiness fails, instead of silently starting empty.
 */
export function createStoreGuard(o: StoreGuardOptions): StoreGuard {
  let known: StoreIdentity | null = null;
  let reason: string | null = null;
  let timer: unknown;
  let running = false;

  async function remembered(): Promise<{ created: string } | null> {
    try {
      return JSON.parse(await readFile(o.identityFile, 'utf8')) as { created: string };
    } catch {
      return null;
    }
  }

  function flag(why: string) {
    if (reason) return;
    reason = why;
    o.logger.error({ reason: why }, 'event store reset detected: refusing writes; restart with --accept-new-store to re-bootstrap on the new store');
  }

  async function check() {
    if (!known) return;
    // Read what we applied before asking the stream: everything applied was stored before the probe,
    // so a healthy stream can never report less (the other order races with new appends).
    const applied = o.appliedSeq();
    let now: StoreIdentity | null;
    try {
      now = await o.probe();
    } catch (err) {
      if (isAppError(err, 'UNAVAILABLE')) return; // down is not reset
      throw err;
    }
    if (now === null) flag(`stream ${known.stream} no longer exists`);
    else if (now.created !== known.created) flag(`stream ${known.stream} was recreated at ${now.created} (was ${known.created})`);
    else if (now.lastSeq < applied) flag(`stream ${known.stream} ends at ${now.lastSeq}, below the ${applied} records already applied`);
  }

  return {
    async beforeEnsure() {
      const prev = await remembered();
      if (!prev || o.acceptNewStore) return;
      const now = await o.probe();
      if (now === null || now.created !== prev.created) {
        throw new AppError('STATE_STORE_RESET', `the event store was replaced or lost (remembered stream created ${prev.created}, found ${now ? `one created ${now.created}` : 'none'}); ` +
          `start with --accept-new-store to begin on the new store, or restore the old one`);
      }
    },
    async afterEnsure() {
      known = await o.probe();
      if (!known) throw new AppError('STATE_STORE_RESET', 'stream missing right after it was created');
      const tmp = `${o.identityFile}.tmp`;
      await writeFile(tmp, JSON.stringify({ stream: known.stream, created: known.created }) + '\n');
      await rename(tmp, o.identityFile);
    },
    resetReason: () => reason,
    start() {
      running = true;
      const tick = () => {
        if (!running) return;
        void check()
          .catch((err: unknown) => o.logger.warn({ err }, 'store check failed'))
          .finally(() => {
            if (running && !reason) timer = o.clock.setTimeout(tick, o.intervalMs);
          });
      };
      timer = o.clock.setTimeout(tick, o.intervalMs);
    },
    stop() {
      running = false;
      o.clock.clearTimeout(timer);
    },
  };
}
