import type { Envelope } from '../../actors/events.ts';
import { systemClock, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { checkExactSubject, followFilters, settleItem, subjectMatcher, subjectMatches, type AppendOptions, type BatchItem, type BatchItemResult, type AppendResult, type EventLog, type Follower, type FollowOptions, type LogRecord } from './eventLog.ts';

/** Options of {@link createMemoryEventLog}. */
export interface MemoryEventLogOptions {
  /** msgId dedup window, as on the JOBS stream. @defaultValue 120000 (2 min) */
  duplicateWindowMs?: number;
  /** Record times (clock.now) and the dedup window (clock.monotonic). @defaultValue systemClock */
  clock?: Clock;
}

/** The in-memory event log plus fault hooks for simulation tests. */
export interface MemoryEventLog extends EventLog {
  /** The next append rejects (default AppError('UNAVAILABLE')) and stores nothing. */
  failNextAppend(err?: unknown): void;
  /** The next append is stored, but its promise rejects with UNAVAILABLE (a lost ack). */
  loseNextAck(): void;
}

const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export { subjectMatches } from './eventLog.ts';

/** Lets other tasks run first, like a round trip to the server. */
const hop = () => new Promise<void>((r) => queueMicrotask(r));

/**
 * An EventLog in memory with the JetStream log's semantics: per-subject CAS, msgId dedup checked
 * before the CAS (a retry of a stored append is a duplicate, not a conflict), follow with replay
 * then live delivery. Passes test/contract/eventLog.contract.ts.
 */
export function createMemoryEventLog(opts: MemoryEventLogOptions = {}): MemoryEventLog {
  const clock = opts.clock ?? systemClock;
  const windowMs = opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  // records[seq - 1]; a purged or rolled-up record leaves a hole (undefined) so seq stays the index
  const records: (LogRecord | undefined)[] = [];
  const lastBySubject = new Map<string, number>();
  /** Seqs of the live records per subject, oldest first (purge and rollup touch only these). */
  const seqsBySubject = new Map<string, number[]>();
  const dedup = new Map<string, { seq: number; atMs: number }>();
  /** The msg id each live record was stored with (Nats-Msg-Id), to recognise a retry after the window. */
  const msgIdBySeq = new Map<number, string>();
  const waiters = new Set<() => void>();
  const followers = new Set<Follower>();
  let failNext: unknown;
  let loseAck = false;

  function store(subject: string, events: readonly Envelope[], o: AppendOptions): AppendResult {
    if (o.msgId !== undefined) {
      const d = dedup.get(o.msgId);
      if (d !== undefined && clock.monotonic() - d.atMs < windowMs) return { seq: d.seq, duplicate: true };
    }
    const last = lastBySubject.get(subject) ?? 0;
    if (o.expectedLastSubjectSeq !== undefined && o.expectedLastSubjectSeq !== last) {
      // past the dedup window, a retry still finds its own stored message (as the JetStream log does)
      // (a CAS append lands right after the message it expected: ours is the first one past it)
      const next = seqsBySubject.get(subject)?.find((q) => q > (o.expectedLastSubjectSeq ?? 0));
      const own = o.msgId !== undefined && next !== undefined && msgIdBySeq.get(next) === o.msgId ? next : undefined;
      if (own !== undefined) return { seq: own, duplicate: true };
      throw new AppError('CONFLICT', `wrong last sequence on ${subject}: ${last}`);
    }
    const seq = records.length + 1;
    // a deep copy, so a caller mutating its objects cannot change history
    records.push({ seq, subject, time: new Date(clock.now()).toISOString(), events: structuredClone([...events]) });
    if (o.rollup === true) deleteSubject(subject);
    lastBySubject.set(subject, seq);
    let seqs = seqsBySubject.get(subject);
    if (seqs === undefined) seqsBySubject.set(subject, (seqs = []));
    seqs.push(seq);
    if (o.msgId !== undefined) {
      dedup.set(o.msgId, { seq, atMs: clock.monotonic() });
      msgIdBySeq.set(seq, o.msgId);
    }
    for (const w of [...waiters]) w();
    return { seq, duplicate: false };
  }

  /** Deletes the live records on `subject` and forgets its last sequence (like a JetStream purge). */
  function deleteSubject(subject: string): void {
    for (const seq of seqsBySubject.get(subject) ?? []) {
      records[seq - 1] = undefined;
      msgIdBySeq.delete(seq);
    }
    seqsBySubject.delete(subject);
    lastBySubject.delete(subject);
  }

  async function purge(subject: string): Promise<void> {
    checkExactSubject(subject);
    await hop();
    deleteSubject(subject);
    await hop();
  }

  async function append(subject: string, events: readonly Envelope[], o: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) throw new AppError('INTERNAL', 'append needs at least one event');
    await hop();
    if (failNext !== undefined) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
    const res = store(subject, events, o);
    await hop();
    if (loseAck) {
      loseAck = false;
      throw new AppError('UNAVAILABLE', 'append ack lost (injected)');
    }
    return res;
  }

  /** One round trip for the whole batch: an injected failure or lost ack hits every item, as one commit would. */
  async function appendBatch(items: readonly BatchItem[]): Promise<BatchItemResult[]> {
    if (items.some((i) => i.events.length === 0)) throw new AppError('INTERNAL', 'append needs at least one event');
    await hop();
    if (failNext !== undefined) {
      const err = failNext;
      failNext = undefined;
      const error = err instanceof AppError ? err : new AppError('UNAVAILABLE', 'append failed (injected)', { cause: err });
      return items.map(() => ({ ok: false, error }));
    }
    const results = await Promise.all(items.map((i) => settleItem(async () => store(i.subject, i.events, i.opts ?? {}))));
    await hop();
    if (loseAck) {
      loseAck = false;
      const error = new AppError('UNAVAILABLE', 'append ack lost (injected)');
      return items.map(() => ({ ok: false, error }));
    }
    return results;
  }

  async function readSubject(subject: string): Promise<LogRecord[]> {
    await hop();
    return (seqsBySubject.get(subject) ?? []).map((seq) => structuredClone(records[seq - 1] as LogRecord));
  }

  function follow(fromSeq: number, onRecord: (r: LogRecord) => void | Promise<void>, fo: FollowOptions = {}): Follower {
    const filters = followFilters(fo);
    const wanted = filters === undefined ? undefined : subjectMatcher(filters);
    const target = records.length; // last seq when follow() was called
    let cursor = Math.max(1, fromSeq);
    let delivered = 0;
    let stopped = false;
    let settled = false;
    let wake: (() => void) | undefined;
    let resolveCaughtUp!: () => void;
    let rejectCaughtUp!: (e: unknown) => void;
    const caughtUp = new Promise<void>((res, rej) => {
      resolveCaughtUp = () => ((settled = true), res());
      rejectCaughtUp = (e) => ((settled = true), rej(e));
    });
    caughtUp.catch(() => undefined);

    const nextMatch = (): LogRecord | undefined => {
      for (let i = cursor - 1; i < records.length; i++) {
        const r = records[i];
        if (r !== undefined && (wanted === undefined || wanted(r.subject))) return r;
      }
      return undefined;
    };

    async function run(): Promise<void> {
      await hop();
      while (!stopped) {
        const r = nextMatch();
        if (!settled && (r === undefined || r.seq > target)) resolveCaughtUp();
        if (r === undefined) {
          cursor = records.length + 1; // skip what did not match
          await new Promise<void>((res) => {
            wake = res;
            waiters.add(res);
          });
          if (wake !== undefined) waiters.delete(wake);
          continue;
        }
        try {
          await onRecord(structuredClone(r));
        } catch (err) {
          const e = err instanceof AppError ? err : new AppError('INTERNAL', 'follow handler failed', { cause: err });
          if (!settled) rejectCaughtUp(e);
          fo.onError?.(e);
          await follower.stop();
          return;
        }
        if (stopped) return;
        delivered = r.seq;
        cursor = r.seq + 1;
      }
    }

    const follower: Follower = {
      caughtUp,
      lastDelivered: () => delivered,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        followers.delete(follower);
        if (!settled) rejectCaughtUp(new AppError('UNAVAILABLE', 'follower stopped before catching up'));
        if (wake !== undefined) {
          waiters.delete(wake);
          wake();
        }
        await hop();
      },
    };
    followers.add(follower);
    void run();
    return follower;
  }

  return {
    append,
    appendBatch,
    purge,
    readSubject,
    lastSeq: async () => {
      await hop();
      return records.length;
    },
    listSubjects: async (filter) => {
      await hop();
      return new Set([...seqsBySubject.keys()].filter((s) => subjectMatches(filter, s)));
    },
    follow,
    close: async () => {
      await Promise.all([...followers].map((f) => f.stop()));
    },
    failNextAppend: (err?: unknown) => {
      failNext = err ?? new AppError('UNAVAILABLE', 'append failed (injected)');
    },
    loseNextAck: () => {
      loseAck = true;
    },
  };
}
