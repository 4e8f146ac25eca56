/**
 * The slim job view of a worker-only process (decision 0012 §4, F2): per job only what the worker
 * reads (engine/worker/terminalJobs.ts): terminal, the claim epoch, and each task's attempt floor.
 * No job machine runs: each record costs a JSON parse and a few field writes, where the full
 * projection folds it through xstate.
 *
 * **Rules**, mirroring actors/job.machine.ts, jobContext.ts and jobRecovery.ts over the stored
 * (hence legal) events:
 * - `JobSubmitted` starts a job (epoch 0). A `JobClaimed`/`JobRequeued` sets the epoch it carries.
 *   `JobSucceeded`, `JobFailed`, `JobStopped` make it terminal; `JobRecovered` makes it not terminal.
 * - A task's floor after a reset is its next attempt number, `max(maxAttemptSeen + 1, floor)`, plus
 *   one for a job retry (`recoverTasks`). `maxAttemptSeen` comes from the task's outcomes, which live
 *   on `job.<id>.task`, not `.ev`: so the view reads outcomes too, each folded to one number per task
 *   (the highest attempt an outcome named once the job had a plan). That number can exceed the
 *   machine's `maxAttemptSeen` only through outcomes below the floor, which do not change
 *   `max(seen + 1, floor)`; so after a job retry (every task reset) every floor equals the machine's.
 *   A recovery resets only the tasks that did not succeed; the view does not know which did, so it
 *   gives every task the floor. For a task that succeeded and was kept, that drops duplicate
 *   attempts at or below the highest attempt it already reported: the machine would run them and
 *   ignore their outcomes (the task is final). Never the other way: no floor here is below the
 *   machine's (test/property/slimJobView.property.test.ts folds random histories both ways).
 * - A rollup (`JobCompacted`, retention's compaction) stands for the whole job: terminal, at the
 *   epoch its context carries, whatever the view held before.
 * - A removal notice (`JobsRemoved` on `retention.removed`) forgets each named run (same
 *   `submitSeq`), as the full projection does.
 * - **A missed notice.** The notice subject is rolled up: a view that lags (a slow follower, a replay
 *   at start) may find a notice replaced by a newer one before it read it, and the newer one does not
 *   name the older one's jobs. The full projection sees a gap in its sequences and reconciles; this
 *   view follows only some subjects, so gaps tell it nothing. Each notice says which notices before
 *   it it makes up for (`sinceSeq`: all after that one): when the last notice applied here is older,
 *   the view counts a miss ({@link SlimJobView.missedRemovals}), and the retention of a worker-only
 *   process forgets the jobs whose `.ev` the store no longer holds (engine/retention/slimViewRetention.ts).
 *   Without that, a worker held such jobs until it restarted (found by test/sim/skewedClocks.test.ts,
 *   seed 539230714).
 *
 * **Memory, and why a finished job is shrunk, not dropped.** The worker drops a task whose job is
 * terminal at the task's epoch or later, and runs a task of a job it does not know: a job newer than
 * the view (its claim, dispatch and delivery can all beat the view's follower), whose task must run.
 * So a view that forgot a finished job would run that job's late tasks again, and late tasks have no
 * bound in time: a message dispatched before the end waits in `TASKS` behind any backlog and comes
 * back after every worker crash (ack wait × max deliveries). Hence a job that can never run again
 * (SUCCEEDED, or compacted) is shrunk to its epoch and submit sequence ({@link EndedJob}, no floors:
 * every task of it was dispatched at an epoch up to that one, so "terminal at the task's epoch" drops
 * them all), and forgotten only once removed: on its removal notice, when the full projection
 * forgets it too, or at the reconcile that follows a missed notice (above). A FAILED or STOPPED job
 * keeps its floors until compacted: a recovery may still bring it back. A job id submitted again
 * after a removal this view missed, before that reconcile, starts over at its new `JobSubmitted`
 * (stored only on an empty subject, so the old run is gone).
 */
import type { JobCompacted, JobEvent, JobsRemoved } from '../../actors/events.ts';
import type { LogRecord } from '../eventlog/eventLog.ts';
import { parseSubject, RETENTION_REMOVED_SUBJECT } from '../subjects.ts';
import type { JobFact, JobFacts } from './jobFacts.ts';
import { submitSeqOf } from './jobEntry.ts';

/** The subjects the slim view reads: a worker-only process follows these only (FollowOptions.filterSubjects). */
export const SLIM_VIEW_SUBJECTS: readonly string[] = Object.freeze(['job.*.ev', 'job.*.task', RETENTION_REMOVED_SUBJECT]);

/** A job the view holds, as a reconcile sees it (slimViewRetention.ts). */
export interface HeldJob extends JobFact {
  /** Stream sequence of the run's JobSubmitted. */
  readonly submitSeq: number;
}

/** The view's count of removal notices it may have missed (see the module comment). */
export interface MissedRemovals {
  /** Notices applied that did not make up for every notice since the last one applied here (`sinceSeq`). */
  notices: number;
  /** Every job those missed notices named was submitted below this sequence (0 when none was missed). */
  belowSeq: number;
}

/** The slim view: {@link JobFacts} folded from records applied in stream order. */
export interface SlimJobView extends JobFacts {
  /** Applies one record (in stream order; a record at or below `lastSeq()` is ignored). */
  apply(r: LogRecord): void;
  /** Sequence of the last record applied (0 if none). */
  lastSeq(): number;
  /** Jobs held: `live` may still run, `ended` never will (held as epoch and submit sequence only). */
  counts(): { live: number; ended: number };
  /** Removal notices this view may have missed (rolled up before it read them). */
  missedRemovals(): MissedRemovals;
  /** The jobs held now (a copy: safe across awaits). */
  held(): [string, HeldJob][];
  /** Forgets `jobId` if the view still holds `job` (not a newer run read since); true if it did. */
  forget(jobId: string, job: HeldJob): boolean;
}

/** A job that can never run again: SUCCEEDED, or compacted (see the module comment). */
class EndedJob implements HeldJob {
  readonly submitSeq: number;
  readonly epoch: number;
  constructor(submitSeq: number, epoch: number) {
    this.submitSeq = submitSeq;
    this.epoch = epoch;
  }
  get terminal(): boolean {
    return true;
  }
  floor(): undefined {
    return undefined;
  }
}

/** What the view keeps of a task an outcome named: the highest attempt named, and the floor (0: none). */
interface TaskMarks {
  seen: number;
  floor: number;
}

/** A job that may still run (or run again: FAILED and STOPPED may be recovered). */
class LiveJob implements HeldJob {
  readonly submitSeq: number;
  terminal = false;
  epoch = 0;
  /** TasksPlanned was applied: outcomes count from here on (the machine ignores them before a plan). */
  planned = false;
  /** The floor of every task without marks (0: none): such tasks saw no outcome, so their floors move together. */
  floorAll = 0;
  /** Tasks an outcome named, made at the first one. */
  marks: Map<string, TaskMarks> | undefined;
  constructor(submitSeq: number) {
    this.submitSeq = submitSeq;
  }
  floor(taskId: string): number | undefined {
    const f = this.marks?.get(taskId)?.floor ?? this.floorAll;
    return f > 0 ? f : undefined;
  }
  /** An outcome of `attempt` (after the plan): the task's attempt number is taken. */
  mark(taskId: string, attempt: number): void {
    this.marks ??= new Map();
    const m = this.marks.get(taskId);
    if (m === undefined) this.marks.set(taskId, { seen: attempt, floor: this.floorAll });
    else if (attempt > m.seen) m.seen = attempt;
  }
  /** A reset (`recoverTasks`): each floor becomes the next attempt number, plus `extra` (1 for a job retry). */
  reset(extra: 0 | 1): void {
    if (!this.planned) return; // no plan: nothing to reset
    for (const m of this.marks?.values() ?? []) m.floor = Math.max(m.seen + 1, m.floor) + extra;
    this.floorAll = Math.max(1, this.floorAll) + extra;
  }
}

type SlimJob = LiveJob | EndedJob;

export function createSlimJobView(): SlimJobView {
  const jobs = new Map<string, SlimJob>();
  const listeners = new Set<(jobId: string, job: JobFact) => void>();
  let last = 0;
  /** Sequence of the last removal notice applied (0: none yet). */
  let lastNotice = 0;
  const missed: MissedRemovals = { notices: 0, belowSeq: 0 };

  /** The id to keep as the map key: the event's copy (the subject's would keep the whole subject text alive). */
  const keyOf = (fromEvent: string, fromSubject: string) => (fromEvent === fromSubject ? fromEvent : fromSubject);

  /** Applies one event of job `id`; true when it changed what `get(id)` says. */
  function applyEvent(id: string, ev: JobEvent, seq: number): boolean {
    if (ev.type === 'JobSubmitted') {
      jobs.set(keyOf(ev.data.jobId, id), new LiveJob(seq));
      return true;
    }
    if (ev.type === 'JobCompacted') {
      const before = jobs.get(id);
      const epoch = (ev.data.context as { epoch?: number }).epoch ?? 0;
      jobs.set(keyOf(ev.meta.jobId, id), new EndedJob(before?.submitSeq ?? submitSeqOf(ev as JobCompacted, seq)!, epoch));
      return true;
    }
    const job = jobs.get(id);
    // an ended job's facts no longer change; an unknown job's events are not ours to start (as in the projection)
    if (!(job instanceof LiveJob) || ev.meta.jobId !== id) return false;
    switch (ev.type) {
      case 'TaskSucceeded':
      case 'TaskFailed':
        if (job.planned) job.mark(ev.data.taskId, ev.data.attempt);
        return false;
      case 'TasksPlanned':
        job.planned = true;
        return false;
      case 'JobClaimed':
      case 'JobRequeued':
        job.epoch = ev.data.epoch;
        return true;
      case 'JobSucceeded':
        jobs.set(id, new EndedJob(job.submitSeq, job.epoch)); // the key stays the one stored
        return true;
      case 'JobFailed':
      case 'JobStopped':
        job.terminal = true;
        return true;
      case 'JobRecovered':
        job.terminal = false;
        job.reset(0);
        return true;
      case 'JobRetried':
        job.reset(1);
        return true;
      default:
        return false;
    }
  }

  function applyRemoval(r: LogRecord): void {
    for (const ev of r.events as JobsRemoved[]) {
      if (ev.type !== 'JobsRemoved') continue;
      // notices after the last one read here and up to `sinceSeq` were rolled up unread, and this one
      // does not name their runs (each submitted below that notice); a notice without the field
      // (an older writer) may cover nothing
      const since = ev.data.sinceSeq ?? r.seq;
      if (since > lastNotice) {
        missed.notices++;
        missed.belowSeq = Math.max(missed.belowSeq, since);
      }
      lastNotice = r.seq;
      // only the run that was removed: the same id may have been submitted again since
      for (const j of ev.data.jobs) if (jobs.get(j.jobId)?.submitSeq === j.submitSeq) jobs.delete(j.jobId);
    }
  }

  return {
    apply(r) {
      if (r.seq <= last) return; // already applied (a follower restart may redeliver)
      last = r.seq;
      if (r.subject === RETENTION_REMOVED_SUBJECT) {
        applyRemoval(r);
        return;
      }
      const s = parseSubject(r.subject);
      if (s === undefined || (s.kind !== 'job-ev' && s.kind !== 'job-task')) return;
      let changed = false;
      for (const ev of r.events as JobEvent[]) if (applyEvent(s.id, ev, r.seq)) changed = true;
      const job = changed ? jobs.get(s.id) : undefined;
      if (job !== undefined) for (const l of listeners) l(s.id, job);
    },
    get: (jobId) => jobs.get(jobId),
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    lastSeq: () => last,
    missedRemovals: () => ({ ...missed }),
    held: () => [...jobs],
    forget(jobId, job) {
      if (jobs.get(jobId) !== job) return false;
      jobs.delete(jobId);
      return true;
    },
    counts() {
      let ended = 0;
      for (const j of jobs.values()) if (j instanceof EndedJob) ended++;
      return { live: jobs.size - ended, ended };
    },
  };
}
