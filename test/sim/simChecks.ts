/**
 * Invariants the simulation checks on top of the auditor (test/helpers/auditor.ts): fencing of
 * coordinators, nothing counted after a stop, recovered jobs counting each task once, and stale
 * (zombie) writes rejected by CAS, webhooks delivered at least once. They read the journal (every record as appended, before
 * retention's rollups and purges).
 */
import type { JobEvent } from '../../actors/events.ts';
import { canApply, evolveJob, startJob, type JobSnapshot } from '../../actors/jobFold.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { parseSubject } from '../../engine/subjects.ts';
import type { AppendAttempt } from './simNetwork.ts';

const COORDINATOR = 'coordinator:';
const TERMINAL_EVENTS = new Set(['JobSucceeded', 'JobFailed', 'JobStopped']);

/**
 * Fencing: an event written by coordinator X on job J is a claim by X, a requeue (X takes the
 * job from its recorded owner), or sits between a JobClaimed by X and J's next JobRequeued or
 * terminal event. One exception: any coordinator may stop an unowned job whose stop was requested
 * (its owner was lost before it stopped; nothing runs, so no ownership is needed).
 */
export function fencingViolations(records: readonly LogRecord[]): string[] {
  const out: string[] = [];
  const owner = new Map<string, string | null>();
  const stopRequested = new Set<string>();
  for (const r of records) {
    const s = parseSubject(r.subject);
    if (s?.kind !== 'job-ev') continue;
    for (const ev of r.events as JobEvent[]) {
      const actor = ev.meta.actor.startsWith(COORDINATOR) ? ev.meta.actor.slice(COORDINATOR.length) : undefined;
      const cur = owner.get(s.id) ?? null;
      if (actor !== undefined) {
        if (ev.type === 'JobClaimed') {
          if (ev.data.coordinatorId !== actor) out.push(`${s.id}@${r.seq}: ${actor} claimed for ${ev.data.coordinatorId}`);
        } else if (ev.type === 'JobRequeued') {
          if (ev.data.fromCoordinator !== cur) out.push(`${s.id}@${r.seq}: ${actor} requeued from ${ev.data.fromCoordinator}, owner ${cur}`);
        } else if (ev.type === 'JobStopped' && cur === null && stopRequested.has(s.id)) {
          // a requeued stop request, finished by whichever coordinator saw it
        } else if (cur !== actor) {
          out.push(`${s.id}@${r.seq}: ${actor} wrote ${ev.type} while the owner was ${cur ?? 'nobody'}`);
        }
      }
      if (ev.type === 'StopRequested') stopRequested.add(s.id);
      else if (ev.type === 'JobRecovered' || TERMINAL_EVENTS.has(ev.type)) stopRequested.delete(s.id);
      if (ev.type === 'JobClaimed') owner.set(s.id, ev.data.coordinatorId);
      else if (ev.type === 'JobRequeued' || TERMINAL_EVENTS.has(ev.type)) owner.set(s.id, null);
    }
  }
  return out;
}

/** One event the job machine accepted, with the job's state before and after it. */
interface Folded {
  id: string;
  seq: number;
  ev: JobEvent;
  after: JobSnapshot;
}

/**
 * Folds every job's `.ev` and `.task` events in stream order and yields each one the machine
 * accepts (a rejected one is skipped here: the auditor reports it).
 */
function* foldedEvents(records: readonly LogRecord[]): Generator<Folded> {
  const jobs = new Map<string, JobSnapshot>();
  for (const r of records) {
    const s = parseSubject(r.subject);
    if (!s || (s.kind !== 'job-ev' && s.kind !== 'job-task')) continue;
    for (const ev of r.events as JobEvent[]) {
      const before = jobs.get(s.id);
      if (!before) {
        if (ev.type === 'JobSubmitted') jobs.set(s.id, startJob(ev));
        continue;
      }
      if (!canApply(before, ev)) continue;
      const after = evolveJob(before, ev);
      jobs.set(s.id, after);
      yield { id: s.id, seq: r.seq, ev, after };
    }
  }
}

/**
 * After its JobStopped, no task outcome is counted: a replay's progress stays where the stop left
 * it, until a JobRecovered starts a new run.
 */
export function stoppedCountViolations(records: readonly LogRecord[]): string[] {
  const out: string[] = [];
  const atStop = new Map<string, string>();
  const key = (s: JobSnapshot) => {
    const p = s.context.progress;
    return `${p.tasksSucceeded}/${p.tasksFailed}/${p.itemsDone}/${p.itemsFailed}/${p.bytesDone}`;
  };
  for (const { id, seq, ev, after } of foldedEvents(records)) {
    if (ev.type === 'JobRecovered') {
      atStop.delete(id); // a new run: it counts again
      continue;
    }
    const stopped = atStop.get(id);
    if (stopped !== undefined && key(after) !== stopped) out.push(`${id}@${seq}: ${ev.type} counted after JobStopped`);
    if (ev.type === 'JobStopped') atStop.set(id, key(after));
  }
  return out;
}

/**
 * A recovered job counts each task once: its progress always matches its task statuses (reset
 * tasks dropped, re-run ones counted again once), never more tasks succeeded than distinct tasks
 * ever reported a success, and a recovered job that SUCCEEDED has every task and item final.
 */
export function recoveredProgressViolations(records: readonly LogRecord[]): string[] {
  const out: string[] = [];
  const recovered = new Set<string>();
  const succeededTasks = new Map<string, Set<string>>();
  for (const { id, seq, ev, after } of foldedEvents(records)) {
    if (ev.type === 'TaskSucceeded') {
      let set = succeededTasks.get(id);
      if (!set) succeededTasks.set(id, (set = new Set()));
      set.add(ev.data.taskId);
    }
    if (ev.type === 'JobRecovered') recovered.add(id);
    if (!recovered.has(id) || after.context.compacted) continue;
    const c = after.context;
    const statuses = c.taskStatus.flat();
    const succeeded = statuses.filter((t) => t.state === 'succeeded').length;
    const failed = statuses.filter((t) => t.state === 'failed').length;
    const where = `${id}@${seq} (${ev.type}, after ${c.recoveries} recoveries)`;
    if (c.progress.tasksSucceeded !== succeeded || c.progress.tasksFailed !== failed) {
      out.push(`${where}: progress says ${c.progress.tasksSucceeded} succeeded / ${c.progress.tasksFailed} failed, task statuses ${succeeded} / ${failed}`);
    }
    if (c.progress.tasksSucceeded > (succeededTasks.get(id)?.size ?? 0)) out.push(`${where}: ${c.progress.tasksSucceeded} tasks counted succeeded, only ${succeededTasks.get(id)?.size ?? 0} ever did`);
    if (after.value === 'SUCCEEDED' && (c.progress.tasksSucceeded + c.progress.tasksFailed !== c.progress.tasksTotal || c.progress.itemsDone + c.progress.itemsFailed !== c.progress.itemsTotal)) {
      out.push(`${where}: SUCCEEDED with ${JSON.stringify(c.progress)}`);
    }
  }
  return out;
}

/** Every coordinator write that reached the store after its job moved on was rejected, never stored. */
export function staleWriteViolations(attempts: readonly AppendAttempt[]): string[] {
  const out: string[] = [];
  for (const a of attempts) {
    if (!a.stale) continue;
    if (a.result === 'stored') out.push(`${a.proc.name}: stale ${a.types.join('+')} on ${a.jobId} was stored`);
    else if (a.proc.wasFrozen && a.result === 'other') out.push(`${a.proc.name} (zombie): stale ${a.types.join('+')} on ${a.jobId} failed without CONFLICT`);
  }
  return out;
}

/** One POST the simulated webhook receiver got. */
export interface ReceivedNotification {
  jobId: string;
  deliveryId: string;
  event: string;
  /** The `seq` of the body: the terminal record notified. */
  seq: number;
  /** The job's state in the body. */
  state: string;
  /** What the receiver answered. */
  status: number;
  /** The process that sent it. */
  by: string;
}

const EVENT_OF_STATE: Readonly<Record<string, string>> = { SUCCEEDED: 'job.succeeded', FAILED: 'job.failed', STOPPED: 'job.stopped' };

/**
 * What the webhook deliverer guarantees (engine/hooks/deliverer.ts): at least once, with retries.
 * Every job that ended with a callbackUrl (and was not removed meanwhile: retention may take a job
 * before its retries are done) had its last terminal event POSTed, and one such POST was accepted
 * (2xx), the receiver refusing fewer times than `webhookMaxAttempts`. Such a POST names that event's
 * record, or a later one (a compaction that rolled the record up before the deliverer read it is
 * notified under its own seq). Duplicates are allowed.
 */
export function undeliveredNotifications(
  journal: readonly LogRecord[],
  jobs: readonly { id: string; state: string | undefined; callbackUrl: string | undefined }[],
  received: readonly ReceivedNotification[],
): string[] {
  const lastTerminal = new Map<string, number>();
  for (const r of journal) {
    const s = parseSubject(r.subject);
    if (s?.kind === 'job-ev' && (r.events as JobEvent[]).some((ev) => TERMINAL_EVENTS.has(ev.type))) lastTerminal.set(s.id, r.seq);
  }
  const out: string[] = [];
  for (const j of jobs) {
    const event = j.state === undefined ? undefined : EVENT_OF_STATE[j.state];
    if (j.callbackUrl === undefined || event === undefined) continue;
    const seq = lastTerminal.get(j.id) ?? 0;
    const posts = received.filter((n) => n.jobId === j.id && n.event === event && n.seq >= seq);
    if (!posts.some((n) => n.status >= 200 && n.status < 300)) {
      out.push(`webhook: ${j.id} ended ${j.state} (record ${seq}) with a callback; no POST of ${event} for it was accepted (${posts.length} refused)`);
    }
  }
  return out;
}

/** Counts for the run summary: how often the interesting cases actually happened. */
export function coverage(attempts: readonly AppendAttempt[], records: readonly LogRecord[]): Record<string, number> {
  let requeues = 0;
  let stops = 0;
  let terminal = 0;
  let exhausted = 0;
  let paused = 0;
  let verifying = 0;
  let stopRequests = 0;
  let recoveries = 0;
  let reruns = 0;
  let activeSet = 0;
  let compactions = 0;
  const outcomes = new Set<string>();
  let repeatedOutcomes = 0;
  for (const r of records) {
    for (const ev of r.events as JobEvent[]) {
      if (ev.type === 'JobRequeued') requeues++;
      if (ev.type === 'JobStopped') stops++;
      if (ev.type === 'JobPaused') paused++;
      if (ev.type === 'VerificationStarted') verifying++;
      if (ev.type === 'StopRequested') stopRequests++;
      if (ev.type === 'JobRecovered') recoveries++;
      if (ev.type === 'JobSubmitted' && ev.data.rerunOf !== undefined) reruns++;
      if (ev.type === 'JobActiveSet') activeSet++;
      if (ev.type === 'JobCompacted') compactions++;
      if (TERMINAL_EVENTS.has(ev.type)) terminal++;
      if (ev.type === 'TaskFailed' && ev.data.error.code === 'DELIVERY_EXHAUSTED') exhausted++;
      if (ev.type === 'TaskSucceeded' || ev.type === 'TaskFailed') {
        const k = `${ev.meta.jobId}:${ev.data.taskId}`;
        if (outcomes.has(k)) repeatedOutcomes++;
        outcomes.add(k);
      }
    }
  }
  const zombieRejected = attempts.filter((a) => a.stale && a.proc.wasFrozen && a.result === 'CONFLICT').length;
  const staleRejected = attempts.filter((a) => a.stale && a.result === 'CONFLICT').length;
  return { requeues, stops, stopRequests, paused, verifying, recoveries, reruns, activeSet, compactions, terminal, exhausted, repeatedOutcomes, staleRejected, zombieRejected };
}
