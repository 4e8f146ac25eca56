/**
 * The auditor: replays every record of the JOBS stream and checks the invariants a user relies on
 * (research/reliability.md §2.1). Used after simulation runs, fault tests and property tests.
 */
import type { JobEvent, JobState } from '../../actors/events.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { canApply, evolveJob, jobState, startJob, type JobSnapshot } from '../../actors/jobFold.ts';
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

export function audit(records: readonly LogRecord[], opts: AuditOptions = {}): AuditReport {
  const violations: string[] = [];
  const snapshots = new Map<string, JobSnapshot>();
  const terminalEvents = new Map<string, number>();
  const lastEpoch = new Map<string, number>();
  let prevSeq = 0;
  for (const r of records) {
    if (r.seq <= prevSeq) violations.push(`record ${r.seq} out of order (after ${prevSeq})`);
    prevSeq = r.seq;
    const s = parseSubject(r.subject);
    if (!s || s.kind === 'worker-ev') continue;
    const id = s.id;
    for (const ev of r.events as JobEvent[]) {
      if (ev.meta.jobId !== id) violations.push(`${id}@${r.seq}: event ${ev.type} names job ${ev.meta.jobId}`);
      if (s.kind === 'job-ev') {
        if (ev.type === 'JobSucceeded' || ev.type === 'JobFailed' || ev.type === 'JobStopped') {
          terminalEvents.set(id, (terminalEvents.get(id) ?? 0) + 1);
        }
        if (ev.type === 'JobClaimed' || ev.type === 'JobRequeued') {
          const prev = lastEpoch.get(id) ?? 0;
          if (ev.data.epoch <= prev) violations.push(`${id}@${r.seq}: epoch ${ev.data.epoch} after ${prev}`);
          lastEpoch.set(id, ev.data.epoch);
        }
      }
      const before = snapshots.get(id);
      if (!before) {
        if (ev.type === 'JobSubmitted') snapshots.set(id, startJob(ev));
        else if (s.kind === 'job-ev') violations.push(`${id}@${r.seq}: ${ev.type} before JobSubmitted`);
        continue;
      }
      if (ev.type === 'JobSubmitted') {
        violations.push(`${id}@${r.seq}: second JobSubmitted`);
        continue;
      }
      if (!canApply(before, ev)) {
        violations.push(`${id}@${r.seq}: illegal ${ev.type} in ${jobState(before)}`);
        continue;
      }
      const after = evolveJob(before, ev);
      const wasTerminal = TERMINAL_STATES.has(jobState(before));
      for (const k of PROGRESS_KEYS) {
        if (after.context.progress[k] < before.context.progress[k]) violations.push(`${id}@${r.seq}: progress ${k} went backwards`);
        if (wasTerminal && after.context.progress[k] !== before.context.progress[k]) violations.push(`${id}@${r.seq}: progress changed after ${jobState(before)}`);
      }
      const p = after.context.progress;
      if (p.tasksSucceeded + p.tasksFailed > p.tasksTotal) violations.push(`${id}@${r.seq}: ${p.tasksSucceeded}+${p.tasksFailed} tasks done of ${p.tasksTotal}`);
      if (p.itemsDone + p.itemsFailed > p.itemsTotal) violations.push(`${id}@${r.seq}: items done exceed total`);
      snapshots.set(id, after);
    }
  }
  for (const [id, n] of terminalEvents) if (n > 1) violations.push(`${id}: ${n} terminal events`);
  for (const id of opts.accepted ?? []) if (!snapshots.has(id)) violations.push(`${id}: accepted but not in the log (lost)`);
  const states: Partial<Record<JobState, number>> = {};
  for (const [id, s] of snapshots) {
    const st = jobState(s);
    states[st] = (states[st] ?? 0) + 1;
    if (opts.requireTerminal && !TERMINAL_STATES.has(st)) violations.push(`${id}: not terminal (${st})`);
  }
  return { jobs: snapshots.size, states, violations, snapshots };
}
