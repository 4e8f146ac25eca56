/**
 * Where projection checkpoints are kept (decision 0013 §3.3): the newest checkpoint text, the
 * stream it must fit, and a lease so that one coordinator-role process writes at a time. The
 * JetStream implementation is engine/nats/jetStreamCheckpoints.ts (object store bucket
 * `checkpoints`, lease in the control KV); {@link createMemoryCheckpointStore} serves tests and
 * simulation.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { ProjectionState } from './jobProjection.ts';
import { readCheckpoint, splitCheckpoint, type CheckpointParts, type StreamNow } from './projectionCheckpoint.ts';

export interface CheckpointStore {
  /** The stream now (identity and last seq), to check a checkpoint against; undefined when there is no stream. */
  stream(): Promise<StreamNow | undefined>;
  /**
   * The newest checkpoint (its header line and body, and the body's digest if the store hashed it
   * while reading), or undefined when there is none.
   */
  load(): Promise<CheckpointParts | undefined>;
  /**
   * Takes or renews the writer's lease for `leaseMs`: true when `holder` holds it now. A lost race
   * or a lease another holder still has is false, never an error.
   */
  lease(holder: string, leaseMs: number): Promise<boolean>;
  /**
   * Replaces the checkpoint with `pieces` (its UTF-8 text in order, as writeCheckpointSliced makes
   * it), written one after the other and never joined; all or nothing: a reader sees the old
   * checkpoint or the new one.
   */
  save(pieces: readonly Uint8Array[]): Promise<void>;
}

/** Options of {@link createMemoryCheckpointStore}. */
export interface MemoryCheckpointStoreOptions {
  /** The stream as it is now (e.g. from a memory event log's lastSeq). */
  stream: () => Promise<StreamNow | undefined>;
  /** Lease expiry. */
  clock: Clock;
}

/** A CheckpointStore in memory, for tests and simulation. */
export interface MemoryCheckpointStore extends CheckpointStore {
  /** Saves so far. */
  readonly saves: number;
  /** Sets the stored text (a test plants a stale or broken checkpoint). */
  put(text: string | undefined): void;
}

export function createMemoryCheckpointStore(opts: MemoryCheckpointStoreOptions): MemoryCheckpointStore {
  let text: string | undefined;
  let saves = 0;
  let held: { holder: string; untilMs: number } | undefined;
  return {
    stream: opts.stream,
    load: () => Promise.resolve(text === undefined ? undefined : splitCheckpoint(text)),
    lease(holder, leaseMs) {
      const now = opts.clock.now();
      if (held !== undefined && held.holder !== holder && held.untilMs > now) return Promise.resolve(false);
      held = { holder, untilMs: now + leaseMs };
      return Promise.resolve(true);
    },
    save(pieces) {
      text = Buffer.concat(pieces).toString('utf8');
      saves++;
      return Promise.resolve();
    },
    put(t) {
      text = t;
    },
    get saves() {
      return saves;
    },
  };
}

/**
 * The newest checkpoint's state if it fits this build and the stream, else undefined (the caller
 * replays from seq 1); logs which, and why a checkpoint was refused. Never throws: a store that
 * cannot be read means a replay from seq 1, as without checkpoints.
 */
export async function loadCheckpoint(store: CheckpointStore, logger: Logger): Promise<ProjectionState | undefined> {
  try {
    const [loaded, stream] = await Promise.all([store.load(), store.stream()]);
    if (loaded === undefined || stream === undefined) {
      logger.info({ checkpoint: loaded === undefined ? 'none' : 'no stream' }, 'no projection checkpoint: replaying the stream from seq 1');
      return undefined;
    }
    const read = readCheckpoint(loaded, stream);
    if (!read.ok) {
      logger.warn({ reason: read.reason, detail: read.detail }, 'projection checkpoint refused: replaying the stream from seq 1');
      return undefined;
    }
    logger.info({ seq: read.header.seq, jobs: read.header.jobs, bodyChars: loaded.body?.length }, 'projection checkpoint loaded: following the stream from the next seq');
    return read.state;
  } catch (err) {
    logger.warn({ err }, 'projection checkpoint unreadable: replaying the stream from seq 1');
    return undefined;
  }
}
