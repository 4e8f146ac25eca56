/**
 * Why a job is where it is (`GET /jobs/:id/explain`): a pure decision over the facts the engine
 * acts on (jobExplainer.ts gathers them). A WAITING job's standing comes from the cluster's claim
 * queue (`claimQueue`, the function the coordinator's claim pass takes jobs from); a RUNNING one's
 * from its owner's own report of what it has in flight, waiting for a retry, or starved.
 */
import type { JobState } from '../../actors/events.ts';
import type { JobProgress } from '../../actors/jobContext.ts';
import type { OwnedJobReport } from '../coordinator/heartbeat.ts';

/** Why a job is not (or not further) running, most decisive first. */
export const EXPLAIN_REASONS = [
  'NO_LIVE_COORDINATOR', 'NO_SHARE', 'VC_AT_MAX', 'CAPACITY_FULL', 'CLAIM_DUE', 'CLAIMED_INTO_PAUSE',
  'PAUSED', 'OWNER_LOST', 'STOPPING', 'VERIFYING', 'NO_LIVE_WORKER', 'RETRY_BACKOFF', 'PARALLELISM_LIMIT',
  'WINDOW_FULL', 'VC_TASK_SHARE_FULL', 'PLAN_EXTENDING', 'TASKS_RUNNING', 'TASKS_QUEUED', 'DISPATCH_DUE', 'OWNER_NOT_REPORTING', 'FINISHED',
] as const;
export type ExplainReasonCode = (typeof EXPLAIN_REASONS)[number];

export interface ExplainReason {
  code: ExplainReasonCode;
  message: string;
}

/** Slots of a virtual cluster's share (running-job slots, or task slots of a dispatch window). */
export interface ShareView {
  /** The VC whose share this is: the job's own, or `default` for a VC that is not defined. */
  name: string;
  guaranteed: number;
  max: number;
  used: number;
}

/** A WAITING job's place: in its VC's queue, and in the order the cluster claims jobs in. */
export interface QueueStanding {
  /** 1-based position among its VC's WAITING jobs (highest priority first, FIFO within one). */
  position: number;
  waitingInVc: number;
  /** Jobs ahead of it in its VC's queue with a higher priority. */
  higherPriorityAhead: number;
  priority: number;
  /**
   * Jobs the cluster would claim before it (`claimQueue`'s order over every VC's share), or null when
   * the order never reaches it: its VC's max share fills up first.
   */
  claimRank: number | null;
}

/** Running-job slots of the cluster: runningJobCapacity per live coordinator. */
export interface CapacityView {
  runningJobCapacity: number;
  liveCoordinators: number;
  totalSlots: number;
  /** Jobs holding a slot (RUNNING, PAUSED, VERIFYING), cluster-wide. */
  activeJobs: number;
  /** Slots live coordinators still have (each: runningJobCapacity − the jobs it owns). */
  freeSlots: number;
}

/** What a RUNNING (or PAUSED, VERIFYING) job's tasks are doing. */
export interface TasksView {
  total: number;
  succeeded: number;
  failed: number;
  /** Planned tasks not final yet. */
  notFinal: number;
  /** Dispatched and not answered, by the owner's last report (null: no report). */
  inFlight: number | null;
  /** Running on a live worker now, by the workers' heartbeats. */
  runningOnWorkers: number;
  /** Waiting out a retry backoff, by the owner's last report, and until when the first one waits. */
  retrying: number | null;
  nextRetryAt: string | null;
  parallelism: number | null;
  planOpen: boolean;
}

/** The owner's dispatch window: maxTasksPerWorker × live workers, and the job's VC's share of it. */
export interface WindowView {
  maxTasksPerWorker: number;
  liveWorkers: number;
  limit: number;
  /** The owner's tasks in flight over all its jobs (null: no report). */
  inFlight: number | null;
  share: ShareView | null;
}

/** The answer of `GET /jobs/:id/explain`. */
export interface JobExplanation {
  jobId: string;
  state: JobState;
  /** When the answer was made (this server's clock). */
  at: string;
  /** The first reason's message. */
  summary: string;
  /** Everything that holds the job back, most decisive first. */
  reasons: ExplainReason[];
  virtualCluster: string;
  queue: QueueStanding | null;
  quota: ShareView | null;
  capacity: CapacityView | null;
  coordinators: { live: number; owner: string | null; ownerAlive: boolean | null };
  workers: { live: number };
  paused: { by: string; at: string; reason: string | null } | null;
  tasks: TasksView | null;
  window: WindowView | null;
  stop: { deadline: string } | null;
  /** The `meta.reason` of the job's latest lifecycle event that had one (a requeue: the owner was lost). */
  lastReason: string | null;
}

/** The job, as far as the explanation needs it. */
export interface ExplainedJob {
  id: string;
  state: JobState;
  priority: number;
  virtualCluster: string;
  coordinatorId: string | null;
  pauseRequested: boolean;
  stopRequested: { deadline: string } | null;
  parallelism: number | null;
  planOpen: boolean;
  progress: JobProgress;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
  lastReason: string | null;
}

/** Everything the decision reads; gathered by jobExplainer.ts. */
export interface ExplainFacts {
  now: string;
  job: ExplainedJob;
  liveCoordinators: readonly string[];
  liveWorkers: number;
  /** WAITING: the job's queue standing, its VC's running-job share (undefined: no share), the cluster's capacity. */
  waiting?: { queue: QueueStanding; share: ShareView | undefined; capacity: CapacityView };
  /** PAUSED: the JobPaused that paused it. */
  pausedBy?: { by: string; at: string; reason: string | null };
  /** Owned (RUNNING, PAUSED, VERIFYING): the owner's report on this job (undefined: none), tasks on workers, the owner's window. */
  running?: { report: OwnedJobReport | undefined; runningOnWorkers: number; window: WindowView };
}

/** States in which a coordinator owns the job. */
const OWNED_STATES: ReadonlySet<JobState> = new Set(['RUNNING', 'PAUSED', 'VERIFYING']);

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function waitingReasons(f: ExplainFacts, w: NonNullable<ExplainFacts['waiting']>): ExplainReason[] {
  const { job } = f;
  const out: ExplainReason[] = [];
  const { queue: q, share, capacity: c } = w;
  if (f.liveCoordinators.length === 0) {
    out.push({ code: 'NO_LIVE_COORDINATOR', message: 'No coordinator is alive: nothing claims waiting jobs until one (re)starts.' });
  }
  if (share === undefined) {
    out.push({ code: 'NO_SHARE', message: `Virtual cluster '${job.virtualCluster}' is not defined and there is no 'default' share to run it under: it is never claimed.` });
  } else if (q.claimRank === null && share.max < c.totalSlots) {
    const inShare = share.name === job.virtualCluster ? `'${share.name}'` : `'${share.name}' (its own '${job.virtualCluster}' is not defined)`;
    out.push({
      code: 'VC_AT_MAX',
      message: `Virtual cluster ${inShare} may run ${plural(share.max, 'job')} at most (max share) and runs ${share.used}` +
        (q.position > 1 ? `; ${plural(q.position - 1, 'job')} ahead of it in its queue fill the rest` : '') + '.',
    });
  } else if ((q.claimRank ?? Infinity) >= c.freeSlots && f.liveCoordinators.length > 0) {
    // Not reached by the claim order while its VC may use every slot: the cluster's capacity is what binds.
    const ahead = q.claimRank === null
      ? `${plural(q.position - 1, 'job')} ahead of it in its queue take the slots that free up first`
      : q.claimRank === 0 ? 'it is the next job claimed when a slot frees up' : `${plural(q.claimRank, 'job')} would be claimed before it`;
    out.push({
      code: 'CAPACITY_FULL',
      message: `All running-job slots are taken (${c.activeJobs} jobs hold ${c.totalSlots} slots: ${c.runningJobCapacity} per coordinator × ${c.liveCoordinators}; ${c.freeSlots} free); ${ahead}.`,
    });
  } else if (f.liveCoordinators.length > 0 && q.claimRank !== null) {
    out.push({ code: 'CLAIM_DUE', message: `A slot is free and ${plural(q.claimRank, 'job')} come before it: the next claim pass takes it (a job type plans it first).` });
  }
  if (job.pauseRequested) out.push({ code: 'CLAIMED_INTO_PAUSE', message: 'A pause was requested: once claimed it is PAUSED until resumed.' });
  return out;
}

function ownerReasons(f: ExplainFacts): ExplainReason[] {
  const owner = f.job.coordinatorId;
  if (owner !== null && f.liveCoordinators.includes(owner)) return [];
  const who = owner === null ? 'Its owner' : `Its owner ${owner}`;
  return [{
    code: 'OWNER_LOST',
    message: f.liveCoordinators.length > 0
      ? `${who} is not alive: a live coordinator requeues it (WAITING, a new epoch) and it is claimed again.`
      : `${who} is not alive and no coordinator is: it is requeued once one (re)starts.`,
  }];
}

function runningReasons(f: ExplainFacts, r: NonNullable<ExplainFacts['running']>): ExplainReason[] {
  const { job } = f;
  const out = ownerReasons(f);
  if (job.stopRequested) out.push({ code: 'STOPPING', message: `A stop was requested: nothing more is dispatched; it stops by ${job.stopRequested.deadline} at the latest.` });
  const p = job.progress;
  const notFinal = p.tasksTotal - p.tasksSucceeded - p.tasksFailed;
  if (job.state === 'VERIFYING' || (notFinal === 0 && !job.planOpen && p.tasksTotal > 0 && job.state === 'RUNNING')) {
    out.push({ code: 'VERIFYING', message: job.state === 'VERIFYING' ? 'Every task is final: its owner is verifying the result.' : 'Every task is final: its owner verifies it next.' });
    return out;
  }
  if (job.state !== 'RUNNING') return out;
  if (f.liveWorkers === 0 && notFinal > 0) out.push({ code: 'NO_LIVE_WORKER', message: `No worker is alive: ${plural(notFinal, 'task')} wait in the queue until one (re)starts.` });
  const rep = r.report;
  if (rep === undefined) {
    if (out.length === 0) out.push({ code: 'OWNER_NOT_REPORTING', message: 'Its owner has not reported on this job yet (it reports every heartbeat).' });
    return out;
  }
  const ready = notFinal - rep.dispatched - rep.retrying;
  const backoff: ExplainReason | undefined = rep.retrying > 0
    ? { code: 'RETRY_BACKOFF', message: `${plural(rep.retrying, 'task')} failed and wait out a retry backoff, the first until ${rep.nextRetryAt ?? 'soon'}.` }
    : undefined;
  // all that is left waits for a retry: that is what holds the job; else it comes after what runs
  const onlyBackoff = backoff !== undefined && rep.dispatched === 0 && ready <= 0;
  if (onlyBackoff) out.push(backoff);
  if (job.parallelism !== null && rep.dispatched >= job.parallelism && ready > 0) {
    out.push({ code: 'PARALLELISM_LIMIT', message: `${plural(rep.dispatched, 'task')} in flight, its parallelism limit (${job.parallelism}): the other ${ready} wait for them.` });
  } else if (rep.starved) {
    const win = r.window;
    const s = win.share;
    if (win.inFlight !== null && win.inFlight >= win.limit) {
      out.push({ code: 'WINDOW_FULL', message: `Its owner's dispatch window is full (${win.inFlight} of ${win.limit} tasks: ${win.maxTasksPerWorker} per worker × ${win.liveWorkers} live workers): ${ready} ready tasks wait for a slot.` });
    } else {
      out.push({
        code: 'VC_TASK_SHARE_FULL',
        message: `Virtual cluster '${s?.name ?? job.virtualCluster}' uses ${s?.used ?? '?'} task slots of its owner's window (guaranteed ${s?.guaranteed ?? '?'}, max ${s?.max ?? '?'}), and other virtual clusters' guarantees hold the rest: ${ready} ready tasks wait.`,
      });
    }
  }
  if (ready <= 0 && rep.dispatched === 0 && rep.retrying === 0 && job.planOpen) {
    out.push({ code: 'PLAN_EXTENDING', message: 'Its plan is open and every planned task is done: its owner asks the job type for more tasks.' });
  }
  if (ready > 0 && !rep.starved && rep.dispatched === 0) {
    // Ready, a slot was not refused, and under its own limit: the owner had not dispatched them yet when it reported.
    out.push({ code: 'DISPATCH_DUE', message: `${plural(ready, 'task')} ready: its owner dispatches them at its next step (its report is at most one heartbeat old).` });
  }
  if (rep.dispatched > 0) {
    const queued = Math.max(0, rep.dispatched - r.runningOnWorkers);
    out.push({
      code: queued > 0 && r.runningOnWorkers === 0 ? 'TASKS_QUEUED' : 'TASKS_RUNNING',
      message: `${plural(rep.dispatched, 'task')} in flight (${r.runningOnWorkers} running on workers, ${queued} queued for a worker); ${plural(p.tasksSucceeded, 'task')} succeeded, ${p.tasksFailed} failed, of ${p.tasksTotal}.`,
    });
  }
  if (backoff !== undefined && !onlyBackoff) out.push(backoff);
  return out;
}

/** The explanation of a job from its facts. */
export function explainJob(f: ExplainFacts): JobExplanation {
  const { job } = f;
  let reasons: ExplainReason[] = [];
  if (job.state === 'WAITING' && f.waiting) reasons = waitingReasons(f, f.waiting);
  else if (job.state === 'PAUSED') {
    const by = f.pausedBy;
    reasons = [{
      code: 'PAUSED',
      message: by ? `Paused by ${by.by} at ${by.at}${by.reason ? ` (${by.reason})` : ''}: nothing is dispatched until it is resumed.` : 'Paused: nothing is dispatched until it is resumed.',
    }, ...ownerReasons(f)];
    if (job.stopRequested) reasons.push({ code: 'STOPPING', message: `A stop was requested: it stops by ${job.stopRequested.deadline} at the latest.` });
  } else if ((job.state === 'RUNNING' || job.state === 'VERIFYING') && f.running) reasons = runningReasons(f, f.running);
  else if (job.state === 'SUCCEEDED' || job.state === 'FAILED' || job.state === 'STOPPED') {
    reasons = [{ code: 'FINISHED', message: `It finished: ${job.state}${job.finishedAt ? ` at ${job.finishedAt}` : ''}${job.error ? ` (${job.error.code}: ${job.error.message})` : ''}. Nothing waits.` }];
  }
  const p = job.progress;
  const rep = f.running?.report;
  const tasks: TasksView | null = f.running ? {
    total: p.tasksTotal, succeeded: p.tasksSucceeded, failed: p.tasksFailed, notFinal: p.tasksTotal - p.tasksSucceeded - p.tasksFailed,
    inFlight: rep?.dispatched ?? null, runningOnWorkers: f.running.runningOnWorkers, retrying: rep?.retrying ?? null,
    nextRetryAt: rep?.nextRetryAt ?? null, parallelism: job.parallelism, planOpen: job.planOpen,
  } : null;
  return {
    jobId: job.id,
    state: job.state,
    at: f.now,
    summary: reasons[0]?.message ?? `${job.state}.`,
    reasons,
    virtualCluster: job.virtualCluster,
    queue: f.waiting?.queue ?? null,
    quota: f.waiting?.share ?? null,
    capacity: f.waiting?.capacity ?? null,
    coordinators: {
      live: f.liveCoordinators.length,
      owner: job.coordinatorId,
      ownerAlive: job.coordinatorId === null || !OWNED_STATES.has(job.state) ? null : f.liveCoordinators.includes(job.coordinatorId),
    },
    workers: { live: f.liveWorkers },
    paused: job.state === 'PAUSED' ? (f.pausedBy ?? null) : null,
    tasks,
    window: f.running?.window ?? null,
    stop: job.stopRequested,
    lastReason: job.lastReason,
  };
}
