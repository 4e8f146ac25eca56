/**
 * The in-memory TaskLogs: what the LOGS stream keeps, kept in a Map (the same writer, bounds and
 * selection code as engine/nats/jetStreamTaskLogs.ts), for unit tests and the simulation. Held to
 * test/contract/taskLogs.contract.ts with the JetStream one.
 */
import { systemClock, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { checkLogIds } from '../subjects.ts';
import { createCoalescingWriter } from './coalescingWriter.ts';
import { checkReadOptions, createFollowState, selectLog } from './selectLog.ts';
import {
  checkAttempt,
  DEFAULT_LOGS_MAX_AGE_MS,
  DEFAULT_LOGS_MAX_BYTES,
  taskLogLimits,
  type StoredRecord,
} from './taskLogRecords.ts';
import type { LogChunk, LogEnd, TaskLogs } from './taskLogs.ts';

/** Options of {@link createMemoryTaskLogs}. */
export interface MemoryTaskLogsOptions {
  /** Text kept per task, all attempts and both streams. @defaultValue 1048576 (1 MiB) */
  maxBytesPerTask?: number;
  /** Bytes kept in all (the oldest records go first). @defaultValue 1073741824 (1 GiB) */
  maxBytes?: number;
  /** Records older than this are dropped. @defaultValue 604800000 (7 days) */
  maxAgeMs?: number;
  /** Stamps chunks and end records, ages records, runs the writers' flush timers. @defaultValue systemClock */
  clock?: Clock;
}

interface TaskEntry {
  records: StoredRecord[];
  /** Called (and cleared) when a record is added or the store closes. */
  waiters: Set<() => void>;
}

interface Stored {
  key: string;
  record: StoredRecord;
  bytes: number;
  atMs: number;
  /** Removed already (by a per-task bound or a purge). */
  gone: boolean;
}

const recordBytes = (r: StoredRecord) => (r.kind === 'chunk' ? r.bytes.byteLength : 0) + 64;

export function createMemoryTaskLogs(opts: MemoryTaskLogsOptions = {}): TaskLogs {
  const limits = taskLogLimits(opts.maxBytesPerTask);
  const maxBytes = opts.maxBytes ?? DEFAULT_LOGS_MAX_BYTES;
  const maxAgeMs = opts.maxAgeMs ?? DEFAULT_LOGS_MAX_AGE_MS;
  const clock = opts.clock ?? systemClock;
  const tasks = new Map<string, TaskEntry>();
  /** Every record in store order, for the store-wide byte and age bounds. */
  const order: Stored[] = [];
  let orderHead = 0;
  const storedOf = new WeakMap<StoredRecord, Stored>();
  let totalBytes = 0;
  let seq = 0;
  let closed = false;

  const keyOf = (jobId: string, taskId: string) => `${jobId}/${taskId}`;
  const entry = (key: string): TaskEntry => {
    let e = tasks.get(key);
    if (e === undefined) tasks.set(key, (e = { records: [], waiters: new Set() }));
    return e;
  };
  const wake = (e: TaskEntry) => {
    const ws = [...e.waiters];
    e.waiters.clear();
    for (const w of ws) w();
  };
  const remove = (key: string, r: StoredRecord) => {
    const e = tasks.get(key);
    const i = e?.records.indexOf(r) ?? -1;
    if (i >= 0) e!.records.splice(i, 1);
    const s = storedOf.get(r);
    if (s !== undefined && !s.gone) {
      s.gone = true;
      totalBytes -= s.bytes;
    }
  };

  /** The stream's limits: the oldest records go once the store is over its byte or age bound. */
  function expire(): void {
    const oldest = clock.now() - maxAgeMs;
    while (orderHead < order.length && (order[orderHead]!.gone || totalBytes > maxBytes || order[orderHead]!.atMs < oldest)) {
      const s = order[orderHead++]!;
      remove(s.key, s.record);
    }
    if (orderHead > 1024 && orderHead * 2 > order.length) {
      order.splice(0, orderHead);
      orderHead = 0;
    }
  }

  /** Appends and applies the per-subject bound (chunks and end records each) like max_msgs_per_subject, then the byte bound. */
  function append(key: string, record: StoredRecord): number {
    const e = entry(key);
    e.records.push(record);
    const stored: Stored = { key, record, bytes: recordBytes(record), atMs: clock.now(), gone: false };
    storedOf.set(record, stored);
    order.push(stored);
    totalBytes += stored.bytes;
    const same = e.records.filter((r) => r.kind === record.kind);
    if (same.length > limits.maxChunksPerTask) remove(key, same[0]!);
    if (record.kind === 'chunk') {
      // the writer's purge: the stream never holds much more than the bound (here: never more)
      let bytes = 0;
      const chunks = e.records.filter((r) => r.kind === 'chunk');
      for (let i = chunks.length - 1; i >= 0; i--) {
        bytes += (chunks[i] as { bytes: Uint8Array }).bytes.byteLength;
        if (bytes > limits.maxBytesPerTask) remove(key, chunks[i]!);
      }
    }
    expire();
    wake(e);
    return record.seq;
  }

  function recordsOf(jobId: string, taskId: string): StoredRecord[] {
    expire();
    return [...(tasks.get(keyOf(jobId, taskId))?.records ?? [])];
  }

  const live = new Set<() => void>();

  const store: TaskLogs = {
    writer(jobId, taskId, attempt) {
      checkLogIds(jobId, taskId);
      checkAttempt(attempt);
      const key = keyOf(jobId, taskId);
      return createCoalescingWriter({
        attempt,
        clock,
        sink: {
          sendChunk: async (frame) => (closed ? null : append(key, { kind: 'chunk', seq: ++seq, ...frame })),
          sendEnd: async (frame) => !closed && append(key, { kind: 'end', seq: ++seq, ...frame }) > 0,
        },
      });
    },

    async read(jobId, taskId, o = {}) {
      checkLogIds(jobId, taskId);
      checkReadOptions(o);
      if (closed) throw new AppError('UNAVAILABLE', 'task logs are closed');
      return selectLog(recordsOf(jobId, taskId), o, limits);
    },

    follow(jobId, taskId, o) {
      checkLogIds(jobId, taskId);
      checkReadOptions(o);
      const signal = o.signal;
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<LogChunk | LogEnd> {
          if (closed) throw new AppError('UNAVAILABLE', 'task logs are closed');
          const state = createFollowState(o, limits);
          const initial = recordsOf(jobId, taskId);
          let cursor = initial.reduce((m, r) => Math.max(m, r.seq), 0);
          yield* state.start(initial);
          while (!state.done && !signal.aborted && !closed) {
            const fresh = recordsOf(jobId, taskId).filter((r) => r.seq > cursor);
            if (fresh.length === 0) {
              await new Promise<void>((resolve) => {
                const e = entry(keyOf(jobId, taskId));
                const done = () => {
                  e.waiters.delete(done);
                  live.delete(done);
                  signal.removeEventListener('abort', done);
                  resolve();
                };
                e.waiters.add(done);
                live.add(done);
                signal.addEventListener('abort', done, { once: true });
              });
              continue;
            }
            for (const r of fresh) {
              cursor = r.seq;
              yield* state.next(r);
              if (state.done || signal.aborted) return;
            }
          }
        },
      };
    },

    async purgeJob(jobId) {
      checkLogIds(jobId);
      if (closed) throw new AppError('UNAVAILABLE', 'task logs are closed');
      for (const [key, e] of tasks) {
        if (!key.startsWith(`${jobId}/`)) continue;
        for (const r of [...e.records]) remove(key, r);
        if (e.waiters.size === 0) tasks.delete(key);
      }
    },

    async close() {
      closed = true;
      for (const w of [...live]) w();
    },
  };
  return store;
}
