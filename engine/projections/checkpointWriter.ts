/**
 * Writes the projection's checkpoint every `intervalMs`, or sooner once `everyRecords` records
 * came since the last one (decision 0013 §3.3), in a coordinator-role process that holds the
 * store's lease (one writer at a time; a lost lease only skips a write). The text is made a slice per
 * turn (writeCheckpointSliced) and handed to the store in those pieces, never joined, so a write does
 * not hold the event loop for the whole projection.
 */
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CheckpointStore } from './checkpointStore.ts';
import type { JobProjection } from './jobProjection.ts';
import { writeCheckpointSliced } from './projectionCheckpoint.ts';

/** Options of {@link createCheckpointWriter}. */
export interface CheckpointWriterOptions {
  store: CheckpointStore;
  projection: JobProjection;
  /** Who holds the lease (the coordinator's id). */
  holder: string;
  /** A checkpoint at most this long after the last (if records came since). */
  intervalMs: number;
  /** A checkpoint once this many records came since the last, before `intervalMs`. */
  everyRecords: number;
  /** The seq the projection started from (a loaded checkpoint's), so as not to write it again. @defaultValue 0 */
  startSeq?: number;
  clock: Clock;
  logger: Logger;
}

export interface CheckpointWriter {
  start(): void;
  /** Stops for good: a write under way puts nothing (the process is shutting down), and none starts after. */
  stop(): void;
  /** Writes a checkpoint now if this process holds (or takes) the lease; true when it wrote one. */
  writeOnce(): Promise<boolean>;
}

/** How often the writer looks at the record count (at most; `intervalMs` if shorter). */
const TICK_MS = 1_000;
/** The lease outlives a few intervals, so a writer keeps it between writes; never shorter than this. */
const MIN_LEASE_MS = 10_000;
/** After a checkpoint too large to store, the next is tried once the projection holds this fraction of the jobs it held then. */
const TOO_LARGE_FRACTION = 0.9;

/** Jobs the projection holds (every state). */
function heldJobs(projection: JobProjection): number {
  let n = 0;
  for (const c of projection.virtualClusterCounts().values()) n += c.total;
  return n;
}

export function createCheckpointWriter(opts: CheckpointWriterOptions): CheckpointWriter {
  const { store, projection, clock, logger } = opts;
  const leaseMs = Math.max(3 * opts.intervalMs, MIN_LEASE_MS);
  let writtenSeq = opts.startSeq ?? 0;
  let writtenAt = clock.monotonic();
  let timer: unknown;
  let running = false;
  let busy = false;
  let retryAt = 0;
  // jobs held when the store last refused a checkpoint as too large for a start to read: until the
  // projection holds clearly fewer, building one (seconds of CPU, its size again in memory) is waste
  let tooLargeAt: number | undefined;
  let stopped = false;

  async function writeOnce(): Promise<boolean> {
    if (stopped) return false;
    const jobs = heldJobs(projection);
    if (tooLargeAt !== undefined && jobs >= TOO_LARGE_FRACTION * tooLargeAt) return false;
    if (!(await store.lease(opts.holder, leaseMs))) return false;
    const stream = await store.stream();
    if (stream === undefined) return false;
    // the cut is taken in the call (the projection at one record boundary), then serialized a slice per turn
    const t0 = clock.monotonic();
    const { pieces, bytes, seq, longestSliceMs, slices } = await writeCheckpointSliced(projection, stream);
    const serializeMs = clock.monotonic() - t0;
    // stopped meanwhile (the process shuts down: its connection is closing): nothing to put
    if (stopped) return false;
    try {
      await store.save(pieces);
    } catch (err) {
      if (err instanceof AppError && err.code === 'BODY_TOO_LARGE') {
        tooLargeAt = jobs;
        logger.warn(
          { err, jobs, bytes },
          `projection checkpoint too large for a start to read: not written, and not tried again until fewer than ${Math.floor(TOO_LARGE_FRACTION * jobs)} jobs are held (starts replay from seq 1)`,
        );
        return false;
      }
      throw err;
    }
    if (tooLargeAt !== undefined) logger.info({ jobs, bytes }, 'projection checkpoint small enough again: written');
    tooLargeAt = undefined;
    writtenSeq = seq;
    writtenAt = clock.monotonic();
    logger.info(
      { seq, bytes, serializeMs: Math.round(serializeMs), longestSliceMs: Math.round(longestSliceMs), slices, saveMs: Math.round(writtenAt - t0 - serializeMs) },
      'projection checkpoint written',
    );
    return true;
  }

  function tick(): void {
    if (!running) return;
    const now = clock.monotonic();
    const fresh = projection.lastSeq() - writtenSeq;
    const due = fresh > 0 && (fresh >= opts.everyRecords || now - writtenAt >= opts.intervalMs) && now >= retryAt;
    if (due && !busy) {
      busy = true;
      // not written (another process holds the lease, or the store failed): wait a whole interval
      const later = () => void (retryAt = clock.monotonic() + opts.intervalMs);
      writeOnce()
        .then((wrote) => wrote || later())
        .catch((err: unknown) => {
          logger.warn({ err }, 'projection checkpoint not written; trying again after an interval');
          later();
        })
        .finally(() => void (busy = false));
    }
    timer = clock.setTimeout(tick, Math.min(opts.intervalMs, TICK_MS));
  }

  return {
    start() {
      if (running || opts.intervalMs <= 0) return;
      running = true;
      timer = clock.setTimeout(tick, Math.min(opts.intervalMs, TICK_MS));
    },
    stop() {
      stopped = true;
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
    writeOnce,
  };
}
