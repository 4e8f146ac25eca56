/**
 * TaskLogs over stream LOGS (engine/nats/connection.ts logsStreamConfig), created on first use with
 * this store's bounds and the engine's replicas.
 *
 * Layout: `log.<jobId>.<taskId>.out` holds the task's chunks (every attempt, both streams), one
 * message per chunk: a one-line JSON header (`{"a":attempt,"s":"o"|"e","i":index,"t":ms,"d":dropped}`)
 * then the raw bytes. `log.<jobId>.<taskId>.end` holds one JSON end record per attempt, on its own
 * subject so that the per-task bound (max_msgs_per_subject) never drops an end. A chunk's `seq` is
 * its stream sequence.
 *
 * Bounds: max_msgs_per_subject caps the count; each writer purges its task's `.out` subject down to
 * maxBytesPerTask (below the first chunk to keep) once it has stored twice that, and again at its
 * end, so a running task holds ~2 × maxBytesPerTask at most and a finished one the bound; readers
 * apply the exact bound (engine/tasklogs/selectLog.ts). The stream's max_bytes and max_age
 * (discard old) bound the rest.
 *
 * Writes: the writer (engine/tasklogs/coalescingWriter.ts) publishes with up to 8 chunks in flight,
 * never waiting for an ack in the task's path; publishes are issued in write order on one connection,
 * so they are stored in that order. While disconnected it drops (and counts) instead of queueing.
 * Reads: an ordered consumer on `log.<jobId>.<taskId>.*` (num_pending says how many: no wait on an
 * empty task). Follow: one ordered consumer from the start, kept open (no polling), restarted from
 * its cursor after a reconnect or a failed pull.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, type Consumer, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import { systemClock, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { backoffDelay, createPause, type Backoff } from '../retry.ts';
import { checkLogIds, jobLogsFilter, STREAM_LOGS, taskLogSubjects } from '../subjects.ts';
import { createCoalescingWriter, type LogSink } from '../tasklogs/coalescingWriter.ts';
import { checkReadOptions, createFollowState, selectLog } from '../tasklogs/selectLog.ts';
import { checkAttempt, taskLogLimits, type StoredRecord } from '../tasklogs/taskLogRecords.ts';
import type { LogChunk, LogEnd, LogFollowOptions, TaskLogs } from '../tasklogs/taskLogs.ts';
import { ensureStream, logsStreamConfig, toAppError, type NatsLogger } from './connection.ts';
import { decodeLogRecord, encodeChunk, encodeEnd } from './taskLogFrames.ts';

/** Options of {@link createJetStreamTaskLogs}. */
export interface JetStreamTaskLogsOptions {
  /** A connection the caller owns. */
  nc: NatsConnection;
  /** Replicas of stream LOGS: the engine's `replicas`. @defaultValue 1 */
  replicas?: number;
  /** Text kept per task, all attempts and both streams. @defaultValue 1048576 (1 MiB) */
  maxBytesPerTask?: number;
  /** Stream LOGS max_bytes. @defaultValue 1073741824 (1 GiB) */
  maxBytes?: number;
  /** Stream LOGS max_age. @defaultValue 604800000 (7 days) */
  maxAgeMs?: number;
  /** Told about failed publishes (once per writer), purges and follows that restart. */
  logger: NatsLogger;
  /** Stamps chunks and end records; runs the writers' flush timers. @defaultValue systemClock */
  clock?: Clock;
  /** Timeout of reads, purges and the stream check. @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** A chunk not acknowledged within this is counted as dropped. @defaultValue 5000 */
  publishTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;
/** One pull of a read: short, so that a purge racing it costs little (see jetStreamReads.ts). */
const READ_PULL_MS = 1_000;
const READ_BATCH = 256;
const READ_INACTIVE_MS = 10_000;
const FOLLOW_BATCH = 256;
const FOLLOW_EXPIRES_MS = 5_000;
const FOLLOW_INACTIVE_MS = 60_000;
const FOLLOW_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 };
/** A follow that cannot read the task's stored output this many times in a row fails (UNAVAILABLE). */
const FOLLOW_START_TRIES = 3;
/** A writer purges its task's chunks once it has stored this many times the bound. */
const PURGE_FACTOR = 2;

export function createJetStreamTaskLogs(opts: JetStreamTaskLogsOptions): TaskLogs {
  const { nc, logger } = opts;
  const limits = taskLogLimits(opts.maxBytesPerTask);
  const clock = opts.clock ?? systemClock;
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const publishTimeout = opts.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  const spec = logsStreamConfig({
    ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
    maxBytesPerTask: limits.maxBytesPerTask,
    ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
    ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
  });
  const js = jetstream(nc, { timeout });
  let closed = false;

  let jsmP: Promise<JetStreamManager> | undefined;
  const jsm = () => (jsmP ??= js.jetstreamManager(false));
  let readyP: Promise<void> | undefined;
  /** The stream exists with our config. One promise for every caller: publishes chained on it stay in order. */
  const ready = (): Promise<void> =>
    (readyP ??= (async () => ensureStream(await jsm(), spec))().catch((err: unknown) => {
      readyP = undefined; // try again next time
      throw toAppError(err, `stream ${STREAM_LOGS}`);
    }));

  // While disconnected a publish would wait for its timeout in the client's buffer: drop at once instead.
  let disconnected = false;
  /** Followers' restarts after a reconnect; aborts of every follow on close(). */
  const onReconnect = new Set<() => void>();
  const follows = new Set<AbortController>();
  const status = nc.status();
  void (async () => {
    for await (const s of status) {
      if (s.type === 'disconnect') disconnected = true;
      else if (s.type === 'reconnect') {
        disconnected = false;
        for (const restart of onReconnect) restart();
      }
    }
  })().catch(() => undefined);

  const check = (what: string) => {
    if (closed) throw new AppError('UNAVAILABLE', `${what}: task logs are closed`);
    if (disconnected || nc.isClosed()) throw new AppError('UNAVAILABLE', `${what}: not connected to NATS`);
  };

  /** Every record of a task, in stream order, and the last stream seq read. */
  async function readRecords(both: string): Promise<{ records: StoredRecord[]; lastSeq: number }> {
    let consumer: Consumer | undefined;
    try {
      await ready();
      consumer = await js.consumers.get(STREAM_LOGS, { filter_subjects: [both], deliver_policy: DeliverPolicy.All, inactive_threshold: READ_INACTIVE_MS });
      let remaining = (await consumer.info(true)).num_pending;
      const records: StoredRecord[] = [];
      let lastSeq = 0;
      const deadline = Date.now() + timeout;
      while (remaining > 0) {
        let got = 0;
        const iter = await consumer.fetch({ max_messages: Math.min(remaining, READ_BATCH), expires: READ_PULL_MS });
        for await (const m of iter) {
          got++;
          lastSeq = m.seq;
          const r = decodeLogRecord(m.subject, m.seq, m.data);
          if (r !== null) records.push(r);
          remaining = m.info.pending === 0 ? 0 : remaining - 1;
          if (remaining === 0) break;
        }
        if (got === 0) {
          // a writer's purge may have removed what was counted: ask again how many are left
          remaining = (await consumer.info(true)).num_pending;
          if (remaining > 0 && Date.now() > deadline) throw new AppError('UNAVAILABLE', `read ${both}: ${remaining} messages not delivered within ${timeout} ms`);
        }
      }
      return { records, lastSeq };
    } catch (err) {
      throw toAppError(err, `read ${both}`);
    } finally {
      consumer?.delete().catch(() => undefined);
    }
  }

  /** A writer's sink: publishes issued in order, a purge of its task's chunks past the bound. */
  function sink(jobId: string, taskId: string): LogSink {
    const { out, end } = taskLogSubjects(jobId, taskId);
    const stored: { seq: number; bytes: number }[] = [];
    let storedBytes = 0;
    let warned = false;
    const warn = (err: unknown, what: string) => {
      if (warned) return;
      warned = true;
      logger.warn({ err, jobId, taskId }, `task output not stored (${what}); its writer drops and counts what it cannot store`);
    };

    let purging: Promise<void> | undefined;
    /** Purges the task's chunks below the newest ones a reader keeps (selectLog), if it holds more than `factor` × the bound. */
    function purgeOver(factor: number): Promise<void> | undefined {
      if (purging !== undefined || (storedBytes <= factor * limits.maxBytesPerTask && stored.length <= factor * limits.maxChunksPerTask)) return purging;
      let keepFrom = stored.length;
      let kept = 0;
      while (keepFrom > 0 && stored.length - keepFrom < limits.maxChunksPerTask && kept + stored[keepFrom - 1]!.bytes <= limits.maxBytesPerTask) {
        kept += stored[--keepFrom]!.bytes;
      }
      const below = stored[keepFrom]?.seq;
      stored.splice(0, keepFrom);
      storedBytes = kept;
      if (below === undefined) return undefined;
      purging = (async () => {
        try {
          await (await jsm()).streams.purge(STREAM_LOGS, { filter: out, seq: below });
        } catch (err) {
          logger.warn({ err, jobId, taskId }, 'could not purge old task output');
        } finally {
          purging = undefined;
        }
      })();
      return purging;
    }

    function noteStored(seq: number, bytes: number): void {
      stored.push({ seq, bytes });
      storedBytes += bytes;
      if (stored.length > 1 && stored[stored.length - 2]!.seq > seq) stored.sort((a, b) => a.seq - b.seq);
      void purgeOver(PURGE_FACTOR);
    }

    const publish = (subject: string, data: Uint8Array): Promise<number | null> => {
      if (closed || disconnected || nc.isClosed()) return Promise.resolve(null);
      // every publish waits on the same promise, so they are issued (and stored) in call order
      return ready()
        .then(() => js.publish(subject, data, { timeout: publishTimeout }))
        .then(
          (ack) => ack.seq,
          (err: unknown) => {
            warn(err, subject.endsWith('.end') ? 'end record' : 'chunk');
            return null;
          },
        );
    };

    return {
      sendChunk: async (frame) => {
        const seq = await publish(out, encodeChunk(frame));
        if (seq !== null) noteStored(seq, frame.bytes.byteLength);
        return seq;
      },
      sendEnd: async (frame) => {
        const ok = (await publish(end, encodeEnd(frame))) !== null;
        // the attempt is over: leave no more than the bound behind (after a purge still running; not awaited)
        void (async () => {
          await purging;
          await purgeOver(1);
        })();
        return ok;
      },
    };
  }

  async function* followTask(jobId: string, taskId: string, o: LogFollowOptions): AsyncGenerator<LogChunk | LogEnd> {
    const { both } = taskLogSubjects(jobId, taskId);
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    o.signal.addEventListener('abort', onAbort, { once: true });
    if (o.signal.aborted) ac.abort();
    follows.add(ac);
    const pause = createPause(clock);
    let current: ConsumerMessages | undefined;
    const restart = () => {
      void current?.close();
      pause.wake();
    };
    const stop = () => restart();
    ac.signal.addEventListener('abort', stop, { once: true });
    onReconnect.add(restart);
    const state = createFollowState(o, limits);
    /** Records before the follow caught up with what was stored when it began. */
    let backlog: StoredRecord[] | undefined = [];
    let cursor = 0;
    let failures = 0;
    try {
      while (!ac.signal.aborted && !state.done) {
        let consumer: Consumer | undefined;
        try {
          check(`follow ${both}`);
          await ready();
          consumer = await js.consumers.get(STREAM_LOGS, {
            filter_subjects: [both],
            ...(cursor === 0 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: cursor + 1 }),
            inactive_threshold: FOLLOW_INACTIVE_MS,
          });
          let pending = backlog === undefined ? 0 : (await consumer.info(true)).num_pending;
          if (backlog !== undefined && pending === 0) {
            yield* state.start(backlog);
            backlog = undefined;
            if (state.done) return;
          }
          if (ac.signal.aborted) return;
          current = await consumer.consume({ max_messages: FOLLOW_BATCH, expires: FOLLOW_EXPIRES_MS });
          if (ac.signal.aborted) return;
          for await (const m of current) {
            cursor = m.seq;
            failures = 0;
            const r = decodeLogRecord(m.subject, m.seq, m.data);
            if (backlog !== undefined) {
              if (r !== null) backlog.push(r);
              if (--pending > 0 && m.info.pending > 0) continue;
              yield* state.start(backlog);
              backlog = undefined;
            } else if (r !== null) {
              yield* state.next(r);
            }
            if (state.done || ac.signal.aborted) return;
          }
        } catch (err) {
          if (err instanceof AppError && err.code === 'VALIDATION_FAILED') throw err;
          failures++;
          // not caught up yet: the task's output cannot be read; say so rather than hang
          if (backlog !== undefined && failures >= FOLLOW_START_TRIES) throw toAppError(err, `follow ${both}`);
          if (nc.isClosed()) throw new AppError('UNAVAILABLE', `follow ${both}: the NATS connection is closed`);
          if (failures === 1) logger.warn({ err, jobId, taskId }, 'task output follow restarts');
        } finally {
          void current?.close();
          current = undefined;
          consumer?.delete().catch(() => undefined);
        }
        if (!ac.signal.aborted && !state.done) await pause(backoffDelay(FOLLOW_BACKOFF, failures));
      }
    } finally {
      onReconnect.delete(restart);
      o.signal.removeEventListener('abort', onAbort);
      follows.delete(ac);
    }
  }

  return {
    writer(jobId, taskId, attempt) {
      checkLogIds(jobId, taskId);
      checkAttempt(attempt);
      return createCoalescingWriter({ attempt, clock, sink: sink(jobId, taskId) });
    },

    async read(jobId, taskId, o = {}) {
      const { both } = taskLogSubjects(jobId, taskId);
      checkReadOptions(o);
      check(`read ${both}`);
      return selectLog((await readRecords(both)).records, o, limits);
    },

    follow(jobId, taskId, o) {
      checkLogIds(jobId, taskId);
      checkReadOptions(o);
      return { [Symbol.asyncIterator]: () => followTask(jobId, taskId, o) };
    },

    async purgeJob(jobId) {
      const filter = jobLogsFilter(jobId);
      check(`purge ${filter}`);
      try {
        await ready();
        await (await jsm()).streams.purge(STREAM_LOGS, { filter });
      } catch (err) {
        throw toAppError(err, `purge ${filter}`);
      }
    },

    async close() {
      closed = true;
      for (const ac of follows) ac.abort();
      (status as { stop?: () => void }).stop?.();
    },
  };
}
