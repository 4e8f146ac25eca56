/**
 * A job's per-task detail (`JobService.tasks`), derived from what its events hold: the plan and the
 * task statuses of the folded context, and, from the `.task` outcome records, when each task last
 * reported and which worker did. Pure: the queries read the records and call these.
 */
import type { JobEvent } from '../../actors/events.ts';
import { statusAt, type TaskStatus } from '../../actors/jobContext.ts';
import type { JobSnapshot } from '../../actors/jobFold.ts';
import type { LogRecord } from '../eventlog/eventLog.ts';
import type { TaskView } from '../serviceTypes.ts';

/** When an outcome was reported and by which worker. */
export interface OutcomeNote {
  at: string;
  worker: string | null;
}

/** The last outcome of one task: of any kind, and the last of each kind. */
export interface LastOutcomes {
  any: OutcomeNote;
  succeeded?: OutcomeNote;
  failed?: OutcomeNote;
}

/** The worker id of an outcome: from `meta.actor` `worker:<id>`, else the outcome's `workerId`. */
function workerOf(ev: JobEvent): string | null {
  if (ev.meta.actor.startsWith('worker:')) return ev.meta.actor.slice('worker:'.length);
  const id = (ev.data as { workerId?: unknown }).workerId;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** taskId → its last outcomes, from a job's `.task` records in stream order. */
export function lastOutcomes(records: readonly LogRecord[]): Map<string, LastOutcomes> {
  const out = new Map<string, LastOutcomes>();
  for (const r of records) {
    for (const e of r.events as JobEvent[]) {
      if (e.type !== 'TaskSucceeded' && e.type !== 'TaskFailed') continue;
      const note: OutcomeNote = { at: e.meta.at, worker: workerOf(e) };
      const last: LastOutcomes = { ...out.get(e.data.taskId), any: note };
      if (e.type === 'TaskSucceeded') last.succeeded = note;
      else last.failed = note;
      out.set(e.data.taskId, last);
    }
  }
  return out;
}

/**
 * The outcome a task's view shows: for a final task, the last outcome of the kind that made it final
 * (a duplicate run's late outcome of the other kind changes nothing); otherwise the last of any kind.
 */
function shownOutcome(st: TaskStatus, o: LastOutcomes | undefined): OutcomeNote | undefined {
  if (o === undefined) return undefined;
  if (st.state === 'succeeded') return o.succeeded ?? o.any;
  if (st.state === 'failed') return o.failed ?? o.any;
  return o.any;
}

/**
 * The tasks of a job in plan order. Dispatches are not events, so a task that is not final is
 * `running` while the job is RUNNING and `pending` otherwise. A job without a plan (not planned
 * yet, or compacted) has none.
 */
export function taskViews(s: JobSnapshot, outcomes: ReadonlyMap<string, LastOutcomes>, only?: ReadonlySet<TaskView['state']>): TaskView[] {
  const c = s.context;
  if (c.tasks === null || c.compacted) return [];
  const out: TaskView[] = [];
  c.tasks.forEach((t, index) => {
    const st = statusAt(c, index);
    const state: TaskView['state'] = st.state === 'pending' ? (s.value === 'RUNNING' ? 'running' : 'pending') : st.state;
    if (only !== undefined && !only.has(state)) return;
    const shown = shownOutcome(st, outcomes.get(t.taskId));
    out.push({
      taskId: t.taskId,
      index,
      state,
      attempts: st.maxAttemptSeen,
      firstAttempt: st.attemptFloor ?? 1,
      lastUpdated: shown?.at ?? null,
      worker: shown?.worker ?? null,
      error: state === 'succeeded' || st.error === undefined ? null : { code: st.error.code, message: st.error.message, retryable: st.error.retryable },
      items: t.items,
      bytes: t.bytes,
      output: state === 'succeeded' || state === 'failed' ? (st.result?.output ?? null) : null,
    });
  });
  return out;
}
