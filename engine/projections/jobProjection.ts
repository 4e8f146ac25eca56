import type { JobEvent, JobState, WorkerEvent, WorkerInfo } from '../../actors/events.ts';
import { canApply, evolveJob, jobState, startJob, type JobSnapshot } from '../../actors/jobFold.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { LogRecord } from '../eventlog/eventLog.ts';
import { parseSubject } from '../subjects.ts';
import type { Logger } from '../log.ts';

/** A job as the projection holds it. */
export interface JobEntry {
  id: string;
  snapshot: JobSnapshot;
  state: JobState;
  /** Sequence of the JobSubmitted record (orders jobs; an int64-style id for facades). */
  submitSeq: number;
  /** Sequence of the last record on job.<id>.ev: the CAS expectation for the next append. */
  lastEvSeq: number;
}

export interface WorkerEntry {
  info: WorkerInfo;
  state: 'ACTIVE' | 'DRAINING' | 'LEFT';
  registeredAt: string;
  lastSeq: number;
}

export type ChangeListener = (job: JobEntry, previous: JobState | undefined, record: LogRecord) => void;

/**
 * The in-memory fold of the JOBS stream: every job's snapshot and every worker's registration.
 * Records must be applied in stream order (replay, then follow). Pure apart from the listeners.
 */
export interface JobProjection {
  apply(record: LogRecord): void;
  get(id: string): JobEntry | undefined;
  /** Jobs in submission order (oldest first). */
  all(): IterableIterator<JobEntry>;
  /** Jobs in submission order, newest first, starting below `beforeSubmitSeq`. */
  newestFirst(beforeSubmitSeq?: number): Generator<JobEntry>;
  /** WAITING jobs, highest priority first, FIFO within a priority. */
  waiting(): Generator<JobEntry>;
  /** Jobs that have an owner: RUNNING, PAUSED or VERIFYING. */
  active(): IterableIterator<JobEntry>;
  countByState(state: JobState): number;
  workers(): IterableIterator<WorkerEntry>;
  /** Last stream sequence applied. */
  lastSeq(): number;
  /** Resolves true once a record with seq >= `seq` was applied, false after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<boolean>;
  onChange(listener: ChangeListener): () => void;
  /** Events the machines rejected (a bug if ever non-zero). */
  readonly rejected: number;
}

/** Options of {@link createJobProjection}. */
export interface JobProjectionOptions {
  logger: Logger;
  /** Drives `waitFor` timeouts (simulation injects a simulated clock). @defaultValue systemClock */
  clock?: Clock;
}

export function createJobProjection(opts: JobProjectionOptions): JobProjection {
  const clock = opts.clock ?? systemClock;
  const jobs = new Map<string, JobEntry>();
  const order: JobEntry[] = [];
  const waitingByPriority = new Map<number, Map<string, JobEntry>>();
  const counts = new Map<JobState, number>();
  const active = new Map<string, JobEntry>();
  const isActive = (st: JobState) => st === 'RUNNING' || st === 'PAUSED' || st === 'VERIFYING';
  const workers = new Map<string, WorkerEntry>();
  const listeners = new Set<ChangeListener>();
  const waiters: { seq: number; resolve: (ok: boolean) => void }[] = [];
  let last = 0;
  let rejected = 0;

  const bump = (s: JobState, d: number) => counts.set(s, (counts.get(s) ?? 0) + d);

  function setWaiting(e: JobEntry, on: boolean) {
    const p = (e.snapshot.context as { priority: number }).priority;
    let bucket = waitingByPriority.get(p);
    if (on) {
      if (!bucket) waitingByPriority.set(p, (bucket = new Map()));
      bucket.set(e.id, e);
    } else if (bucket) {
      bucket.delete(e.id);
      if (bucket.size === 0) waitingByPriority.delete(p);
    }
  }

  function applyJobEvent(id: string, ev: JobEvent, r: LogRecord): JobEntry | undefined {
    let e = jobs.get(id);
    if (!e) {
      if (ev.type !== 'JobSubmitted') return undefined; // task outcome of an unknown (e.g. retained-away) job
      const snapshot = startJob(ev);
      e = { id, snapshot, state: jobState(snapshot), submitSeq: r.seq, lastEvSeq: r.seq };
      jobs.set(id, e);
      order.push(e);
      bump(e.state, 1);
      setWaiting(e, e.state === 'WAITING');
      return e;
    }
    if (!canApply(e.snapshot, ev)) {
      rejected++;
      opts.logger.error({ jobId: id, seq: r.seq, type: ev.type, state: e.state }, 'stored event rejected by the job machine');
      return undefined;
    }
    e.snapshot = evolveJob(e.snapshot, ev);
    const next = jobState(e.snapshot);
    if (next !== e.state) {
      bump(e.state, -1);
      bump(next, 1);
      if (e.state === 'WAITING') setWaiting(e, false);
      if (next === 'WAITING') setWaiting(e, true);
      if (isActive(next)) active.set(id, e);
      else active.delete(id);
      e.state = next;
    }
    return e;
  }

  function applyWorkerEvent(id: string, ev: WorkerEvent, r: LogRecord) {
    const w = workers.get(id);
    if (ev.type === 'WorkerRegistered') {
      workers.set(id, { info: ev.data, state: 'ACTIVE', registeredAt: ev.meta.at, lastSeq: r.seq });
    } else if (w) {
      w.state = ev.type === 'WorkerDraining' ? (w.state === 'LEFT' ? 'LEFT' : 'DRAINING') : 'LEFT';
      w.lastSeq = r.seq;
    }
  }

  return {
    apply(r) {
      if (r.seq <= last) return; // already applied (a follower restart may redeliver)
      last = r.seq;
      const s = parseSubject(r.subject);
      if (s) {
        if (s.kind === 'job-hook') {
          // webhook delivery log: read on demand, not part of job state
        } else if (s.kind === 'worker-ev') {
          for (const ev of r.events) applyWorkerEvent(s.id, ev as WorkerEvent, r);
        } else {
          const before = jobs.get(s.id)?.state;
          let entry: JobEntry | undefined;
          for (const ev of r.events) entry = applyJobEvent(s.id, ev as JobEvent, r) ?? entry;
          if (entry) {
            if (s.kind === 'job-ev') entry.lastEvSeq = r.seq;
            for (const l of listeners) l(entry, before, r);
          }
        }
      }
      while (waiters.length > 0 && waiters[0]!.seq <= last) waiters.shift()!.resolve(true);
    },
    get: (id) => jobs.get(id),
    all: () => order.values(),
    *newestFirst(before) {
      let hi = order.length - 1;
      if (before !== undefined) {
        // binary search: first index with submitSeq >= before, minus one
        let lo = 0, h = order.length;
        while (lo < h) {
          const mid = (lo + h) >> 1;
          if (order[mid]!.submitSeq < before) lo = mid + 1;
          else h = mid;
        }
        hi = lo - 1;
      }
      for (let i = hi; i >= 0; i--) yield order[i]!;
    },
    *waiting() {
      const priorities = [...waitingByPriority.keys()].sort((a, b) => b - a);
      for (const p of priorities) {
        const bucket = waitingByPriority.get(p);
        if (bucket) yield* bucket.values();
      }
    },
    active: () => active.values(),
    countByState: (s) => counts.get(s) ?? 0,
    workers: () => workers.values(),
    lastSeq: () => last,
    waitFor(seq, timeoutMs) {
      if (seq <= last) return Promise.resolve(true);
      return new Promise((resolve) => {
        const w = { seq, resolve };
        // keep waiters sorted by seq so apply() resolves from the front
        const i = waiters.findIndex((x) => x.seq > seq);
        if (i === -1) waiters.push(w);
        else waiters.splice(i, 0, w);
        // systemClock's timers are unref'd: a pending wait does not keep the process alive
        const t = clock.setTimeout(() => {
          const j = waiters.indexOf(w);
          if (j !== -1) waiters.splice(j, 1);
          resolve(false);
        }, timeoutMs);
        w.resolve = (ok) => {
          clock.clearTimeout(t);
          resolve(ok);
        };
      });
    },
    onChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    get rejected() {
      return rejected;
    },
  };
}
