/**
 * The auditor: replays every record of the JOBS stream and checks the invariants a user relies on
 * (docs/operations.md, Failure model). Used after simulation runs, fault tests and property tests.
 *
 * Legal on top of the plain lifecycle (issue 5):
 * - a cooperative stop: StopRequested (graceMs > 0, deadline = meta.at + graceMs) on an owned job;
 * - recovery: a JobRecovered takes a FAILED/STOPPED job back to WAITING and starts a new run, which
 *   may end in one more terminal event; at the JobRecovered progress may go down (reset tasks drop
 *   out), never up, and no task stays failed;
 * - a job retry: a JobRetried sets every task of a RUNNING/VERIFYING job back to pending (progress
 *   starts over: nothing done, nothing failed) and the run goes on;
 * - retention: a JobCompacted on a terminal job (same state, progress and error), or as the job's
 *   first event once the rollup replaced its history in the store.
 */
import type { JobCompacted, JobEvent, JobRecovered, JobState, StopRequested } from '../../actors/events.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { canApply, evolveJob, jobState, restoreJob, startJob, type JobSnapshot } from '../../actors/jobFold.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { parseSubject } from '../../engine/subjects.ts';

export interface AuditOptions {
  /** Job ids the service accepted (answered 201/200 with the id): each must exist. */
  accepted?: Iterable<string>;
  /** Every job must have reached a terminal state. */
  requireTerminal?: boolean;
}

export interface AuditReport {
  jobs: number;
  states: Partial<Record<JobState, number>>;
  violations: string[];
  /** Folded jobs, for further checks. */
  snapshots: Map<string, JobSnapshot>;
}

const PROGRESS_KEYS = ['tasksSucceeded', 'tasksFailed', 'itemsDone', 'itemsFailed', 'bytesDone'] as const;
const TERMINAL_EVENTS: ReadonlySet<string> = new Set(['JobSucceeded', 'JobFailed', 'JobStopped']);

/** What a JobRecovered may do to progress: go down only, leave no task failed, reset `tasksReset` tasks. */
function recoveryViolations(where: string, before: JobSnapshot, after: JobSnapshot, ev: JobRecovered): string[] {
  const out: string[] = [];
  const b = before.context.progress;
  const a = after.context.progress;
  for (const k of PROGRESS_KEYS) if (a[k] > b[k]) out.push(`${where}: progress ${k} went up at JobRecovered`);
  if (a.tasksFailed !== 0) out.push(`${where}: ${a.tasksFailed} tasks still failed after JobRecovered`);
  if (a.tasksSucceeded + ev.data.tasksReset !== b.tasksSucceeded + b.tasksFailed) {
    out.push(`${where}: JobRecovered reset ${ev.data.tasksReset} tasks, but tasks done went ${b.tasksSucceeded}+${b.tasksFailed} → ${a.tasksSucceeded}+${a.tasksFailed}`);
  }
  if (ev.data.mode === 'failed' && a.tasksSucceeded !== b.tasksSucceeded) out.push(`${where}: JobRecovered(failed) dropped succeeded tasks`);
  return out;
}

/** A JobRetried starts the run over: every task pending, nothing counted, the totals kept. */
function retryViolations(where: string, before: JobSnapshot, after: JobSnapshot): string[] {
  const b = before.context.progress;
  const a = after.context.progress;
  const out: string[] = [];
  for (const k of PROGRESS_KEYS) if (a[k] !== 0) out.push(`${where}: progress ${k} is ${a[k]} after JobRetried`);
  if (a.tasksTotal !== b.tasksTotal || a.itemsTotal !== b.itemsTotal) out.push(`${where}: JobRetried changed the plan's totals`);
  return out;
}

/** A compaction keeps what a user sees of the finished job. */
function compactionViolations(where: string, before: JobSnapshot, after: JobSnapshot): string[] {
  const out: string[] = [];
  if (jobState(after) !== jobState(before)) out.push(`${where}: JobCompacted changed the state ${jobState(before)} → ${jobState(after)}`);
  if (JSON.stringify(after.context.error ?? null) !== JSON.stringify(before.context.error ?? null)) out.push(`${where}: JobCompacted changed the error`);
  return out;
}

/** A StopRequested's deadline is its writer's time plus the grace period. */
function stopRequestViolations(where: string, ev: StopRequested): string[] {
  const { graceMs, deadline } = ev.data;
  if (!(graceMs > 0)) return [`${where}: StopRequested with graceMs ${graceMs} (a stop without grace is JobStopped)`];
  if (Date.parse(deadline) !== Date.parse(ev.meta.at) + graceMs) return [`${where}: StopRequested deadline ${deadline} is not meta.at + ${graceMs} ms`];
  return [];
}

export function audit(records: readonly LogRecord[], opts: AuditOptions = {}): AuditReport {
  const violations: string[] = [];
  const snapshots = new Map<string, JobSnapshot>();
  /** Terminal events in the job's current run (a JobRecovered starts a new run). */
  const terminalEvents = new Map<string, number>();
  const lastEpoch = new Map<string, number>();
  let prevSeq = 0;
  for (const r of records) {
    if (r.seq <= prevSeq) violations.push(`record ${r.seq} out of order (after ${prevSeq})`);
    prevSeq = r.seq;
    const s = parseSubject(r.subject);
    if (!s || s.kind === 'worker-ev' || s.kind === 'job-hook') continue;
    const id = s.id;
    for (const ev of r.events as JobEvent[]) {
      const where = `${id}@${r.seq}`;
      if (ev.meta.jobId !== id) violations.push(`${where}: event ${ev.type} names job ${ev.meta.jobId}`);
      if (s.kind === 'job-ev') {
        if (TERMINAL_EVENTS.has(ev.type)) {
          const n = (terminalEvents.get(id) ?? 0) + 1;
          terminalEvents.set(id, n);
          if (n === 2) violations.push(`${id}: 2 terminal events in one run`);
        }
        if (ev.type === 'JobClaimed' || ev.type === 'JobRequeued') {
          const prev = lastEpoch.get(id) ?? 0;
          if (ev.data.epoch <= prev) violations.push(`${where}: epoch ${ev.data.epoch} after ${prev}`);
          lastEpoch.set(id, ev.data.epoch);
        }
        if (ev.type === 'StopRequested') violations.push(...stopRequestViolations(where, ev));
      } else if (s.kind === 'job-task' && ev.type !== 'TaskSucceeded' && ev.type !== 'TaskFailed') {
        violations.push(`${where}: ${ev.type} on the task subject`);
        continue;
      }
      const before = snapshots.get(id);
      if (!before) {
        if (ev.type === 'JobSubmitted') snapshots.set(id, startJob(ev));
        else if (ev.type === 'JobCompacted' && s.kind === 'job-ev') {
          // The store after retention's rollup: this record stands for the whole (terminal) job.
          try {
            const c = restoreJob(ev as JobCompacted);
            snapshots.set(id, c);
            lastEpoch.set(id, c.context.epoch);
            terminalEvents.set(id, 1);
          } catch (err) {
            violations.push(`${where}: unusable JobCompacted: ${err instanceof Error ? err.message : String(err)}`);
          }
        } else if (s.kind === 'job-ev') violations.push(`${where}: ${ev.type} before JobSubmitted`);
        continue;
      }
      if (ev.type === 'JobSubmitted') {
        violations.push(`${where}: second JobSubmitted`);
        continue;
      }
      if (!canApply(before, ev)) {
        violations.push(`${where}: illegal ${ev.type} in ${jobState(before)}${before.context.compacted ? ' (compacted)' : ''}`);
        continue;
      }
      const after = evolveJob(before, ev);
      if (ev.type === 'JobRecovered') {
        violations.push(...recoveryViolations(where, before, after, ev));
        terminalEvents.set(id, 0);
      } else if (ev.type === 'JobRetried') {
        violations.push(...retryViolations(where, before, after));
      } else {
        const wasTerminal = TERMINAL_STATES.has(jobState(before));
        for (const k of PROGRESS_KEYS) {
          if (after.context.progress[k] < before.context.progress[k]) violations.push(`${where}: progress ${k} went backwards`);
          if (wasTerminal && after.context.progress[k] !== before.context.progress[k]) violations.push(`${where}: progress changed after ${jobState(before)}`);
        }
        if (ev.type === 'JobCompacted') violations.push(...compactionViolations(where, before, after));
      }
      const p = after.context.progress;
      if (p.tasksSucceeded + p.tasksFailed > p.tasksTotal) violations.push(`${where}: ${p.tasksSucceeded}+${p.tasksFailed} tasks done of ${p.tasksTotal}`);
      if (p.itemsDone + p.itemsFailed > p.itemsTotal) violations.push(`${where}: items done exceed total`);
      snapshots.set(id, after);
    }
  }
  for (const id of opts.accepted ?? []) if (!snapshots.has(id)) violations.push(`${id}: accepted but not in the log (lost)`);
  const states: Partial<Record<JobState, number>> = {};
  for (const [id, s] of snapshots) {
    const st = jobState(s);
    states[st] = (states[st] ?? 0) + 1;
    if (opts.requireTerminal && !TERMINAL_STATES.has(st)) violations.push(`${id}: not terminal (${st})`);
  }
  return { jobs: snapshots.size, states, violations, snapshots };
}
