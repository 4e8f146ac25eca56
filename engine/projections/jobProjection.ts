import type { JobEvent, JobsRemoved, JobState, WorkerEvent } from '../../actors/events.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { jobState, restoreJob, startJob, tryApply, type JobSnapshot } from '../../actors/jobFold.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { LogRecord } from '../eventlog/eventLog.ts';
import { parseSubject, RETENTION_REMOVED_SUBJECT } from '../subjects.ts';
import type { Logger } from '../log.ts';
import { submitSeqOf, type JobEntry } from './jobEntry.ts';
import { createPrefoldHints } from './prefoldHints.ts';
import { createSeqWaiters } from './seqWaiters.ts';
import { createStateIndex, type VirtualClusterCounts } from './stateIndex.ts';
import { createSubmissionOrder, type OrderIndex } from './submissionOrder.ts';
import { createWorkerRegistry, type WorkerEntry } from './workerRegistry.ts';

export type { JobEntry } from './jobEntry.ts';
export type { VirtualClusterCounts } from './stateIndex.ts';
export type { WorkerEntry } from './workerRegistry.ts';

export type ChangeListener = (job: JobEntry, previous: JobState | undefined, record: LogRecord) => void;

/**
 * The in-memory fold of the JOBS stream: every job's snapshot and every worker's registration.
 * Records must be applied in stream order (replay, then follow). Pure apart from the listeners.
 */
export interface JobProjection {
  apply(record: LogRecord): void;
  get(id: string): JobEntry | undefined;
  /** The job submitted at stream sequence `submitSeq` (its JobSubmitted record), if it is still here. */
  getBySubmitSeq(submitSeq: number): JobEntry | undefined;
  /** Jobs in submission order (oldest first). */
  all(): IterableIterator<JobEntry>;
  /** Jobs in submission order, newest first, starting below `beforeSubmitSeq`; of one owner or label if given. */
  newestFirst(beforeSubmitSeq?: number, among?: OrderIndex): Generator<JobEntry>;
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
  /**
   * Everything a checkpoint needs to rebuild this projection as it is now (projectionCheckpoint.ts):
   * live objects, not copies, so serialize them in the same turn.
   */
  state(): ProjectionState;
}

/**
 * A projection at one record boundary, as {@link JobProjection.state} gives it and
 * {@link JobProjectionOptions.from} takes it: the entries and what the indexes cannot rebuild from
 * them alone (the order of the waiting queues, of active jobs, of virtual clusters and workers).
 * Listeners, waits and prefold hints belong to a process and are not part of it.
 */
export interface ProjectionState {
  lastSeq: number;
  gapsSeen: number;
  rejected: number;
  /** Live entries, oldest `submitSeq` first. */
  jobs: readonly Pick<JobEntry, 'id' | 'snapshot' | 'submitSeq' | 'lastEvSeq'>[];
  /** Ids of the WAITING jobs, in queue order (every virtual cluster's queue keeps this relative order). */
  waiting: readonly string[];
  /** Ids of the active jobs, in the order they became active. */
  active: readonly string[];
  /** Virtual clusters in the order {@link JobProjection.virtualClusterCounts} lists them. */
  virtualClusters: readonly string[];
  /** Workers by id, in registration order. */
  workers: readonly (readonly [string, WorkerEntry])[];
  strays: readonly string[];
}

/** Options of {@link createJobProjection}. */
export interface JobProjectionOptions {
  logger: Logger;
  /** Drives `waitFor` timeouts (simulation injects a simulated clock). @defaultValue systemClock */
  clock?: Clock;
  /** Starts from this state (a checkpoint's) instead of empty; the next record to apply is `from.lastSeq + 1`. */
  from?: ProjectionState;
}

/** Most stray job ids a projection remembers until retention takes them (more wait for a restart's replay). */
export const MAX_STRAYS = 1_000;

/**
 * The assembly: folds each record into its job's entry, and keeps the indexes (by state and virtual
 * cluster, by submission order and owner), the workers, the waits for a sequence and the writers'
 * prefolded states in step with it.
 */
export function createJobProjection(opts: JobProjectionOptions): JobProjection {
  const clock = opts.clock ?? systemClock;
  const jobs = new Map<string, JobEntry>();
  /** The same entries by submitSeq: unique, as each is the seq of one JobSubmitted record. */
  const bySubmitSeq = new Map<number, JobEntry>();
  const live = (e: JobEntry) => jobs.get(e.id) === e;
  const from = opts.from;
  const byState = createStateIndex(from?.virtualClusters);
  const order = createSubmissionOrder(live);
  const workers = createWorkerRegistry(from?.workers.map(([id, w]) => [id, w] as [string, WorkerEntry]));
  const hints = createPrefoldHints();
  const listeners = new Set<ChangeListener>();
  const removeListeners = new Set<(job: JobEntry) => void>();
  let last = from?.lastSeq ?? 0;
  const waiters = createSeqWaiters({ clock, lastSeq: () => last });
  let rejected = from?.rejected ?? 0;
  let gapsSeen = from?.gapsSeen ?? 0;
  const strays = new Set<string>(from?.strays);
  if (from) restore(from);

  function add(subjectId: string, snapshot: JobSnapshot, submitSeq: number, r: LogRecord): JobEntry {
    // the context's copy of the id: the one cut from the subject would keep the whole subject text alive
    const id = snapshot.context.jobId === subjectId ? snapshot.context.jobId : subjectId;
    const e: JobEntry = { id, snapshot, state: jobState(snapshot), submitSeq, lastEvSeq: r.seq };
    jobs.set(id, e);
    bySubmitSeq.set(submitSeq, e);
    order.add(e);
    byState.set(e, true);
    return e;
  }

  /** Rebuilds the maps and indexes of a state; the state index in the queue orders the state lists. */
  function restore(st: ProjectionState): void {
    for (const j of st.jobs) {
      const e: JobEntry = { id: j.id, snapshot: j.snapshot, state: jobState(j.snapshot), submitSeq: j.submitSeq, lastEvSeq: j.lastEvSeq };
      jobs.set(e.id, e);
      bySubmitSeq.set(e.submitSeq, e);
      order.add(e);
    }
    const first = new Set<string>();
    for (const id of [...st.active, ...st.waiting]) {
      const e = jobs.get(id);
      if (e === undefined || first.has(id)) throw new RangeError(`projection state lists unknown or repeated job ${id}`);
      first.add(id);
      byState.set(e, true);
    }
    for (const e of jobs.values()) if (!first.has(e.id)) byState.set(e, true);
  }

  /** The entry's new snapshot, moving it in the state index if its state changed. */
  function update(e: JobEntry, next: JobSnapshot): void {
    const state = jobState(next);
    if (state !== e.state) {
      byState.set(e, false);
      e.snapshot = next;
      e.state = state;
      byState.set(e, true);
    } else {
      e.snapshot = next;
    }
  }

  function applyJobEvent(id: string, ev: JobEvent, r: LogRecord): JobEntry | undefined {
    const e = jobs.get(id);
    if (!e) {
      // A JobCompacted first: replay after retention rolled the history up, the record stands for the whole job.
      const snapshot = ev.type === 'JobSubmitted' ? startJob(ev) : ev.type === 'JobCompacted' ? restoreJob(ev) : undefined;
      if (snapshot === undefined) return undefined; // task outcome of an unknown (e.g. retained-away) job
      return add(id, snapshot, submitSeqOf(ev, r.seq)!, r);
    }
    // A rollup: the stream deleted every earlier `.ev` record, so the record is the whole job whatever
    // this projection saw before (a lagging follower may never have seen the terminal event).
    const next = ev.type === 'JobCompacted' ? restoreJob(ev) : tryApply(e.snapshot, ev);
    if (next === undefined) {
      rejected++;
      opts.logger.error({ jobId: id, seq: r.seq, type: ev.type, state: e.state }, 'stored event rejected by the job machine');
      return undefined;
    }
    update(e, next);
    return e;
  }

  /** Applies a record from a writer's prefolded state; undefined if the hint does not fit (fold instead). */
  function applyPrefolded(id: string, r: LogRecord): JobEntry | undefined {
    const e = jobs.get(id);
    const next = hints.take(r.seq, id, e?.snapshot);
    if (next === undefined) return undefined;
    if (e === undefined) return add(id, next, r.seq, r);
    update(e, next);
    return e;
  }

  function removeJob(id: string): boolean {
    const e = jobs.get(id);
    if (!e) return false;
    byState.set(e, false);
    jobs.delete(id);
    if (bySubmitSeq.get(e.submitSeq) === e) bySubmitSeq.delete(e.submitSeq);
    order.removed();
    for (const l of removeListeners) l(e);
    return true;
  }

  return {
    apply(r) {
      if (r.seq <= last) {
        hints.drop(r.seq);
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
          for (const ev of r.events) workers.apply(s.id, ev as WorkerEvent, r);
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
      waiters.release();
    },
    get: (id) => jobs.get(id),
    getBySubmitSeq: (submitSeq) => bySubmitSeq.get(submitSeq),
    all: () => order.all(),
    newestFirst: (before, among) => order.newestFirst(before, among),
    waiting: (vc) => byState.waiting(vc),
    active: () => byState.active(),
    *terminal() {
      for (const e of order.all()) if (TERMINAL_STATES.has(e.state)) yield e;
    },
    countByState: (s) => byState.countByState(s),
    virtualClusterCounts: () => byState.virtualClusterCounts(),
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
    waitFor: (seq, timeoutMs) => waiters.waitFor(seq, timeoutMs),
    onChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    prefolded(seq, jobId, base, next) {
      if (seq <= last) return; // the follower was first: the record is folded already
      hints.add(seq, jobId, base, next);
    },
    get prefoldedHits() {
      return hints.hits;
    },
    get rejected() {
      return rejected;
    },
    get gapsSeen() {
      return gapsSeen;
    },
    state: () => ({
      lastSeq: last,
      gapsSeen,
      rejected,
      jobs: [...order.all()],
      waiting: Array.from(byState.waiting(), (e) => e.id),
      active: Array.from(byState.active(), (e) => e.id),
      virtualClusters: [...byState.virtualClusterCounts().keys()],
      workers: [...workers.entries()],
      strays: [...strays],
    }),
  };
}
