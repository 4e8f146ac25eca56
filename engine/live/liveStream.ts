/**
 * Live events for one job or for every job a caller may see: a snapshot of the projection at some
 * stream sequence S, then every record after S from the event log, in order, none twice. Resuming
 * (`afterSeq`, i.e. SSE `Last-Event-ID`) skips the snapshot and follows from afterSeq + 1.
 */
import { TERMINAL_STATES } from '../../actors/events.ts';
import type { JobView } from '../../actors/jobFold.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { EventLog, Follower, LogRecord } from '../eventlog/eventLog.ts';
import { entryView } from '../projections/jobEntry.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import type { LiveMessage } from '../serviceTypes.ts';
import { checkId, parseSubject } from '../subjects.ts';

/** Most jobs in a snapshot of all jobs (non-terminal first, then the newest terminal ones). */
export const LIVE_SNAPSHOT_MAX_JOBS = 1000;
/** Messages buffered for a slow consumer before its stream ends with an error (it then resumes). */
export const LIVE_MAX_BUFFERED = 10_000;
/** How long an event waits for the projection to apply its record before the stream gives up. */
export const LIVE_PROJECTION_WAIT_MS = 10_000;

/** Dependencies of {@link liveStream}. */
export interface LiveStreamDeps {
  eventLog: EventLog;
  projection: JobProjection;
  /** Whether the caller may see this job (owner or admin). */
  canSee: (e: JobEntry) => boolean;
  /**
   * The caller sees only this owner's jobs (`canSee` agrees): the all-jobs snapshot then walks that
   * owner's index instead of every job. Absent = may see any job (admin).
   */
  owner?: string;
  clock: Clock;
  /** Overrides of the limits above (tests). */
  limits?: { maxBuffered?: number; snapshotMaxJobs?: number; projectionWaitMs?: number };
}

/** What to stream. */
export interface LiveStreamOptions {
  /** One job (the caller checked it may see it); absent = every job the caller may see. */
  jobId?: string;
  /** Resume: no snapshot, every record with seq > afterSeq. */
  afterSeq?: number;
  /** Aborting ends the iterator and stops following the log. */
  signal: AbortSignal;
}

const isTerminal = (e: JobEntry) => TERMINAL_STATES.has(e.state);

/** The snapshot of all visible jobs: every non-terminal one, then the newest terminal ones, capped. */
function snapshotAll(projection: JobProjection, canSee: (e: JobEntry) => boolean, max: number, owner?: string): { jobs: JobEntry[]; truncated: boolean } {
  const picked: JobEntry[] = [];
  let truncated = false;
  const take = (e: JobEntry): boolean => {
    if (!canSee(e)) return true;
    if (picked.length >= max) {
      truncated = true;
      return false;
    }
    picked.push(e);
    return true;
  };
  if (owner !== undefined) {
    // One owner's jobs, newest first: unfinished ones (active, then waiting), then the newest finished.
    const own = [...projection.newestFirst(undefined, { owner })].filter(canSee);
    const rank = (e: JobEntry) => (isTerminal(e) ? 2 : e.state === 'WAITING' ? 1 : 0);
    for (const r of [0, 1, 2]) {
      for (const e of own) if (rank(e) === r && !take(e)) break;
      if (truncated) break;
    }
  } else {
    // Running, paused and verifying first (what a dashboard watches), then waiting.
    outer: for (const source of [projection.active(), projection.waiting()]) {
      for (const e of source) if (!take(e)) break outer;
    }
    if (!truncated) {
      for (const e of projection.newestFirst()) {
        if (isTerminal(e) && !take(e)) break;
      }
    }
  }
  picked.sort((a, b) => a.submitSeq - b.submitSeq);
  return { jobs: picked, truncated };
}

/**
 * Streams live messages. Without `afterSeq`: one `snapshot` message at S = projection.lastSeq(),
 * then every event with seq > S. With `afterSeq`: every event with seq > afterSeq. Each event
 * carries the job's view once the projection has applied its record (null if the job is gone).
 * When retention removes a streamed job, a `removed` message follows (a one-job stream then ends).
 * For all jobs, worker records and records of jobs the caller cannot see are skipped.
 *
 * If the consumer falls more than `LIVE_MAX_BUFFERED` messages behind, the iterator throws
 * AppError('UNAVAILABLE') so the client reconnects with the last sequence it received.
 * Aborting `signal` (or leaving the loop) stops the log follower.
 */
export function liveStream(deps: LiveStreamDeps, opts: LiveStreamOptions): AsyncIterable<LiveMessage> {
  const maxBuffered = deps.limits?.maxBuffered ?? LIVE_MAX_BUFFERED;
  const snapshotMax = deps.limits?.snapshotMaxJobs ?? LIVE_SNAPSHOT_MAX_JOBS;
  const waitMs = deps.limits?.projectionWaitMs ?? LIVE_PROJECTION_WAIT_MS;
  const { eventLog, projection, canSee } = deps;
  const jobId = opts.jobId === undefined ? undefined : checkId(opts.jobId);
  if (opts.afterSeq !== undefined && !(Number.isSafeInteger(opts.afterSeq) && opts.afterSeq >= 0)) {
    throw new AppError('VALIDATION_FAILED', 'afterSeq must be an integer >= 0');
  }

  return {
    [Symbol.asyncIterator]: () => run()[Symbol.asyncIterator](),
  };

  async function* run(): AsyncGenerator<LiveMessage> {
    const { signal } = opts;
    if (signal.aborted) return;
    // Ring of pending messages; `head` avoids O(n) shifts.
    let queue: LiveMessage[] = [];
    let head = 0;
    let failure: unknown;
    let done = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const onAbort = () => {
      done = true;
      notify();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    /** Set once the one streamed job was removed: the stream ends after what is queued. */
    let removed = false;
    const offRemove = projection.onRemove((e) => {
      if (done || failure !== undefined || removed) return;
      if (jobId !== undefined ? e.id !== jobId : !canSee(e)) return;
      queue.push({ kind: 'removed', jobId: e.id });
      if (jobId !== undefined) removed = true;
      notify();
    });

    let snapshot: LiveMessage | undefined;
    let from: number;
    if (opts.afterSeq === undefined) {
      const seq = projection.lastSeq();
      if (jobId !== undefined) {
        const e = projection.get(jobId);
        snapshot = { kind: 'snapshot', seq, jobs: e ? [entryView(e)] : [], truncated: false };
      } else {
        const { jobs, truncated } = snapshotAll(projection, canSee, snapshotMax, deps.owner);
        snapshot = { kind: 'snapshot', seq, jobs: jobs.map(entryView), truncated };
      }
      from = seq + 1;
    } else {
      from = opts.afterSeq + 1;
    }

    const fail = (err: unknown) => {
      if (failure === undefined && !done) failure = err;
      notify();
    };

    const onRecord = async (r: LogRecord): Promise<void> => {
      if (done || failure !== undefined || removed) return; // `removed` is a one-job stream's last message
      const s = parseSubject(r.subject);
      if (s === undefined || s.kind === 'worker-ev') return;
      if (jobId !== undefined && s.id !== jobId) return;
      if (!(await projection.waitFor(r.seq, waitMs))) {
        fail(new AppError('NOT_READY', `the projection has not applied seq ${r.seq} yet`));
        return;
      }
      const entry = projection.get(s.id);
      // For all jobs, a job we cannot see (or no longer know, hence cannot check) is skipped.
      if (jobId === undefined && (entry === undefined || !canSee(entry))) return;
      const job: JobView | null = entry ? entryView(entry) : null;
      const subject = s.kind === 'job-ev' ? 'ev' : s.kind === 'job-task' ? 'task' : 'hook';
      r.events.forEach((ev, i) => {
        queue.push({ kind: 'event', seq: r.seq, jobId: s.id, subject, type: ev.type, data: ev.data, meta: { ...ev.meta }, job, lastInRecord: i === r.events.length - 1 });
      });
      if (queue.length - head > maxBuffered) {
        queue = [];
        head = 0;
        fail(new AppError('UNAVAILABLE', `live stream consumer fell more than ${maxBuffered} messages behind; reconnect with Last-Event-ID`));
        return;
      }
      notify();
    };

    let follower: Follower | undefined;
    try {
      follower = eventLog.follow(from, onRecord, {
        filter: jobId === undefined ? 'job.*.*' : `job.${jobId}.*`,
        onError: fail,
      });
      if (snapshot !== undefined) yield snapshot;
      for (;;) {
        if (done) return;
        if (failure !== undefined) throw failure;
        if (head < queue.length) {
          const m = queue[head]!;
          queue[head++] = undefined as unknown as LiveMessage; // release for GC
          if (head > 1024 && head * 2 > queue.length) {
            queue = queue.slice(head);
            head = 0;
          }
          yield m;
          continue;
        }
        if (removed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      done = true;
      offRemove();
      signal.removeEventListener('abort', onAbort);
      await follower?.stop();
    }
  }
}
