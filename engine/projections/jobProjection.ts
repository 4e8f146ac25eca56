import { TERMINAL_STATES, type JobEvent, type JobsRemoved, type JobState, type WorkerEvent, type WorkerInfo } from '../../actors/events.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import { canApply, evolveJob, jobState, restoreJob, startJob, type JobSnapshot } from '../../actors/jobFold.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { LogRecord } from '../eventlog/eventLog.ts';
import { parseSubject, RETENTION_REMOVED_SUBJECT } from '../subjects.ts';
import type { Logger } from '../log.ts';

/** A job as the projection holds it. */
export interface JobEntry {
  id: string;
  snapshot: JobSnapshot;
  state: JobState;
  /**
   * Sequence of the JobSubmitted record (orders jobs; an int64-style id for facades). For a job
   * first seen as a JobCompacted record: the `submitSeq` it carries (else that record's seq).
   */
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

export interface VirtualClusterCounts {
  waiting: number;
  active: number;
  total: number;
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
  newestFirst(beforeSubmitSeq?: number, owner?: string): Generator<JobEntry>;
  /** WAITING jobs of one virtual cluster (or of all), highest priority first, FIFO within a priority. */
  waiting(virtualCluster?: string): Generator<JobEntry>;
  /** Jobs that have an owner: RUNNING, PAUSED or VERIFYING. */
  active(): IterableIterator<JobEntry>;
  /** SUCCEEDED, FAILED and STOPPED jobs in submission order (oldest first). */
  terminal(): IterableIterator<JobEntry>;
  countByState(state: JobState): number;
  /** Per virtual cluster: WAITING jobs, active (RUNNING+PAUSED+VERIFYING) jobs, and all jobs. */
  virtualClusterCounts(): ReadonlyMap<string, VirtualClusterCounts>;
  /** Forgets a job (retention deleted it); true if it was there. Later records of it are ignored, except a JobSubmitted or JobCompacted. */
  remove(id: string): boolean;
  /**
   * Ids of jobs this projection does not know that `.task` or `.hook` records were seen for (at most
   * {@link MAX_STRAYS} at a time), and forgets them. Most are left behind by a crash between
   * retention's purges; retention checks each one before purging (see retention.ts).
   */
  takeStrays(): string[];
  /** Called with a job's last entry each time remove() forgets one. */
  onRemove(listener: (job: JobEntry) => void): () => void;
  workers(): IterableIterator<WorkerEntry>;
  /** Last stream sequence applied. */
  lastSeq(): number;
  /**
   * Times a record came with a sequence past `lastSeq() + 1`: records between were deleted before
   * this projection read them. If they were a removed job's, it still holds that job as it last saw
   * it (perhaps RUNNING); retention reconciles with the store when this grows (retention.ts).
   */
  readonly gapsSeen: number;
  /** Resolves true once a record with seq >= `seq` was applied, false after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<boolean>;
  onChange(listener: ChangeListener): () => void;
  /**
   * A writer in this process that folded the record it just appended (seq `seq`, on job.<jobId>.ev,
   * from snapshot `base`, or from nothing for a JobSubmitted) hands the result over. `apply` then
   * takes `next` instead of folding the record's events again, if the job is still at `base` (the
   * same snapshot object: snapshots are immutable, so it is the state the writer folded from). Only
   * an optimization: a hint that comes after its record, or finds the job moved on, is dropped.
   * Never hint a duplicate append: the stored record is the earlier one, not the events folded.
   */
  prefolded(seq: number, jobId: string, base: JobSnapshot | undefined, next: JobSnapshot): void;
  /** Records applied from a writer's prefolded state instead of folding them again. */
  readonly prefoldedHits: number;
  /** Events the machines rejected (a bug if ever non-zero). */
  readonly rejected: number;
}

/** Options of {@link createJobProjection}. */
export interface JobProjectionOptions {
  logger: Logger;
  /** Drives `waitFor` timeouts (simulation injects a simulated clock). @defaultValue systemClock */
  clock?: Clock;
}

/** Most stray job ids a projection remembers until retention takes them (more wait for a restart's replay). */
export const MAX_STRAYS = 1_000;

const isActive = (st: JobState) => st === 'RUNNING' || st === 'PAUSED' || st === 'VERIFYING';
const ctxOf = (e: JobEntry) => e.snapshot.context as JobContext;

/** WAITING jobs by priority; each bucket keeps the order jobs became WAITING (FIFO). */
function createWaitingIndex() {
  const byPriority = new Map<number, Map<string, JobEntry>>();
  return {
    set(e: JobEntry, on: boolean) {
      const p = ctxOf(e).priority;
      let bucket = byPriority.get(p);
      if (on) {
        if (!bucket) byPriority.set(p, (bucket = new Map()));
        bucket.set(e.id, e);
      } else if (bucket) {
        bucket.delete(e.id);
        if (bucket.size === 0) byPriority.delete(p);
      }
    },
    *entries(): Generator<JobEntry> {
      const priorities = [...byPriority.keys()].sort((a, b) => b - a);
      for (const p of priorities) {
        const bucket = byPriority.get(p);
        if (bucket) yield* bucket.values();
      }
    },
  };
}

export function createJobProjection(opts: JobProjectionOptions): JobProjection {
  const clock = opts.clock ?? systemClock;
  const jobs = new Map<string, JobEntry>();
  /** Entries by submitSeq; may hold removed entries (`jobs.get(e.id) !== e`) until swept. */
  let order: JobEntry[] = [];
  let removedInOrder = 0;
  /** A job first seen as JobCompacted (replay) lands behind newer ones: sort before the next read. */
  let unsorted = false;
  /** Entries by owner, by submitSeq (same lazy sort and sweep as `order`): a user's list reads only its jobs. */
  const byOwner = new Map<string, JobEntry[]>();
  let ownersUnsorted = false;
  const waitingAll = createWaitingIndex();
  const waitingByVc = new Map<string, ReturnType<typeof createWaitingIndex>>();
  const counts = new Map<JobState, number>();
  const vcCounts = new Map<string, VirtualClusterCounts>();
  const active = new Map<string, JobEntry>();
  const workers = new Map<string, WorkerEntry>();
  const listeners = new Set<ChangeListener>();
  const removeListeners = new Set<(job: JobEntry) => void>();
  const waiters: { seq: number; resolve: (ok: boolean) => void }[] = [];
  let last = 0;
  let rejected = 0;
  let gapsSeen = 0;
  /** Prefolded states by record seq (see prefolded()); each is taken or dropped when its seq is applied. */
  const hints = new Map<number, { jobId: string; base: JobSnapshot | undefined; next: JobSnapshot }>();
  const MAX_HINTS = 10_000;
  let prefoldedHits = 0;
  const strays = new Set<string>();

  const live = (e: JobEntry) => jobs.get(e.id) === e;

  /** Adds (on) or takes away (off) the entry's current state from every index. */
  function index(e: JobEntry, on: boolean) {
    const d = on ? 1 : -1;
    counts.set(e.state, (counts.get(e.state) ?? 0) + d);
    const vc = ctxOf(e).virtualCluster;
    let c = vcCounts.get(vc);
    if (!c) vcCounts.set(vc, (c = { waiting: 0, active: 0, total: 0 }));
    c.total += d;
    if (e.state === 'WAITING') {
      c.waiting += d;
      waitingAll.set(e, on);
      let w = waitingByVc.get(vc);
      if (!w) waitingByVc.set(vc, (w = createWaitingIndex()));
      w.set(e, on);
    }
    if (isActive(e.state)) {
      c.active += d;
      if (on) active.set(e.id, e);
      else active.delete(e.id);
    }
    if (c.total === 0) vcCounts.delete(vc);
  }

  function sorted(): JobEntry[] {
    if (unsorted) {
      order.sort((a, b) => a.submitSeq - b.submitSeq);
      unsorted = false;
    }
    return order;
  }

  function sortedOwner(owner: string): JobEntry[] {
    if (ownersUnsorted) {
      for (const list of byOwner.values()) list.sort((a, b) => a.submitSeq - b.submitSeq);
      ownersUnsorted = false;
    }
    return byOwner.get(owner) ?? [];
  }

  function add(id: string, snapshot: JobSnapshot, submitSeq: number, r: LogRecord): JobEntry {
    const e: JobEntry = { id, snapshot, state: jobState(snapshot), submitSeq, lastEvSeq: r.seq };
    jobs.set(id, e);
    const owner = ctxOf(e).owner;
    let mine = byOwner.get(owner);
    if (!mine) byOwner.set(owner, (mine = []));
    if (mine.length > 0 && mine[mine.length - 1]!.submitSeq > submitSeq) ownersUnsorted = true;
    mine.push(e);
    if (order.length > 0 && order[order.length - 1]!.submitSeq > submitSeq) unsorted = true;
    order.push(e);
    index(e, true);
    return e;
  }

  function applyJobEvent(id: string, ev: JobEvent, r: LogRecord): JobEntry | undefined {
    const e = jobs.get(id);
    if (!e) {
      if (ev.type === 'JobSubmitted') return add(id, startJob(ev), r.seq, r);
      // Replay after retention rolled the history up: the record stands for the whole job.
      if (ev.type === 'JobCompacted') return add(id, restoreJob(ev), ev.data.submitSeq ?? r.seq, r);
      return undefined; // task outcome of an unknown (e.g. retained-away) job
    }
    // A rollup: the stream deleted every earlier `.ev` record, so the record is the whole job whatever
    // this projection saw before (a lagging follower may never have seen the terminal event).
    const compacted = ev.type === 'JobCompacted';
    if (!compacted && !canApply(e.snapshot, ev)) {
      rejected++;
      opts.logger.error({ jobId: id, seq: r.seq, type: ev.type, state: e.state }, 'stored event rejected by the job machine');
      return undefined;
    }
    const next = compacted ? restoreJob(ev) : evolveJob(e.snapshot, ev);
    const state = jobState(next);
    if (state !== e.state) {
      index(e, false);
      e.snapshot = next;
      e.state = state;
      index(e, true);
    } else {
      e.snapshot = next;
    }
    return e;
  }

  /** Applies a record from a writer's prefolded state; false if the hint does not fit (fold instead). */
  function applyPrefolded(id: string, r: LogRecord): JobEntry | undefined {
    const h = hints.get(r.seq);
    if (h === undefined) return undefined;
    hints.delete(r.seq);
    const e = jobs.get(id);
    if (h.jobId !== id || (h.base === undefined ? e !== undefined : e?.snapshot !== h.base)) return undefined;
    prefoldedHits++;
    if (e === undefined) return add(id, h.next, r.seq, r);
    const state = jobState(h.next);
    if (state !== e.state) {
      index(e, false);
      e.snapshot = h.next;
      e.state = state;
      index(e, true);
    } else {
      e.snapshot = h.next;
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

  function removeJob(id: string): boolean {
    const e = jobs.get(id);
    if (!e) return false;
    index(e, false);
    jobs.delete(id);
    // Sweep removed entries once they are most of the order (keeps remove O(1) amortized).
    if (++removedInOrder > 1024 && removedInOrder * 2 > order.length) {
      order = order.filter(live);
      for (const [owner, list] of byOwner) {
        const kept = list.filter(live);
        if (kept.length > 0) byOwner.set(owner, kept);
        else byOwner.delete(owner);
      }
      removedInOrder = 0;
    }
    for (const l of removeListeners) l(e);
    return true;
  }

  function* liveEntries(from: JobEntry[], reverse: boolean, start: number): Generator<JobEntry> {
    if (reverse) {
      for (let i = start; i >= 0; i--) if (live(from[i]!)) yield from[i]!;
    } else {
      for (let i = start; i < from.length; i++) if (live(from[i]!)) yield from[i]!;
    }
  }

  return {
    apply(r) {
      if (r.seq <= last) {
        hints.delete(r.seq);
        return; // already applied (a follower restart may redeliver)
      }
      if (r.seq > last + 1) gapsSeen++;
      last = r.seq;
      const s = parseSubject(r.subject);
      if (r.subject === RETENTION_REMOVED_SUBJECT) {
        for (const ev of r.events as JobsRemoved[]) {
          if (ev.type !== 'JobsRemoved') continue;
          // only the run that was removed: the same id may have been submitted again since
          for (const j of ev.data.jobs) if (jobs.get(j.jobId)?.submitSeq === j.submitSeq) removeJob(j.jobId);
        }
      } else if (s) {
        if (s.kind === 'job-hook') {
          // webhook delivery log: read on demand, not part of job state
          if (!jobs.has(s.id) && strays.size < MAX_STRAYS) strays.add(s.id);
        } else if (s.kind === 'worker-ev') {
          for (const ev of r.events) applyWorkerEvent(s.id, ev as WorkerEvent, r);
        } else {
          const before = jobs.get(s.id)?.state;
          let entry: JobEntry | undefined = s.kind === 'job-ev' && hints.size > 0 ? applyPrefolded(s.id, r) : undefined;
          if (entry === undefined) for (const ev of r.events) entry = applyJobEvent(s.id, ev as JobEvent, r) ?? entry;
          if (entry) {
            if (s.kind === 'job-ev') entry.lastEvSeq = r.seq;
            for (const l of listeners) l(entry, before, r);
          } else if (s.kind === 'job-task' && !jobs.has(s.id) && strays.size < MAX_STRAYS) {
            strays.add(s.id);
          }
        }
      }
      while (waiters.length > 0 && waiters[0]!.seq <= last) waiters.shift()!.resolve(true);
    },
    get: (id) => jobs.get(id),
    all: () => liveEntries(sorted(), false, 0),
    newestFirst(before, owner) {
      const o = owner === undefined ? sorted() : sortedOwner(owner);
      let hi = o.length - 1;
      if (before !== undefined) {
        // binary search: first index with submitSeq >= before, minus one
        let lo = 0, h = o.length;
        while (lo < h) {
          const mid = (lo + h) >> 1;
          if (o[mid]!.submitSeq < before) lo = mid + 1;
          else h = mid;
        }
        hi = lo - 1;
      }
      return liveEntries(o, true, hi);
    },
    waiting(vc) {
      if (vc === undefined) return waitingAll.entries();
      const w = waitingByVc.get(vc);
      return w ? w.entries() : liveEntries([], false, 0);
    },
    active: () => active.values(),
    *terminal() {
      for (const e of liveEntries(sorted(), false, 0)) if (TERMINAL_STATES.has(e.state)) yield e;
    },
    countByState: (s) => counts.get(s) ?? 0,
    virtualClusterCounts: () => vcCounts,
    remove: removeJob,
    takeStrays() {
      const ids = [...strays];
      strays.clear();
      return ids;
    },
    onRemove(listener) {
      removeListeners.add(listener);
      return () => void removeListeners.delete(listener);
    },
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
    prefolded(seq, jobId, base, next) {
      if (seq <= last) return; // the follower was first: the record is folded already
      if (hints.size >= MAX_HINTS) hints.clear(); // hints whose records never came: only an optimization
      hints.set(seq, { jobId, base, next });
    },
    get prefoldedHits() {
      return prefoldedHits;
    },
    get rejected() {
      return rejected;
    },
    get gapsSeen() {
      return gapsSeen;
    },
  };
}
