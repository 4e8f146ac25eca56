/**
 * Gathers the facts of `GET /jobs/:id/explain` (explainJob.ts decides from them): the job from the
 * projection; for a WAITING job its place in the cluster's claim queue, built by `claimQueue`, the
 * function the claim pass itself takes jobs from, over the same projection counts and VC
 * definitions; liveness of coordinators and workers as the liveness view judges it (the detection
 * timeout the coordinators use); for an owned job its owner's heartbeat report (what it has in
 * flight, in a retry backoff, or starved of a dispatch slot).
 *
 * Where the reader's view differs from a coordinator's, it says so in the docs: the claim pass
 * counts slots for the peers it saw heartbeat since it started (`provenCoordinators`), this counts
 * every live one; claims in flight on a coordinator are not seen here; a report is at most one
 * heartbeat old.
 */
import type { JobEvent } from '../../actors/events.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { reportedJob, reportedWindow } from '../coordinator/heartbeat.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { Liveness } from '../liveness/liveness.ts';
import { ctxOf, type JobEntry } from '../projections/jobEntry.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { claimQueue } from '../quota/claimQuota.ts';
import { cachedSlots, DEFAULT_VIRTUAL_CLUSTER, type VirtualClusterDef } from '../quota/shares.ts';
import { shareOf } from '../quota/taskShares.ts';
import { jobEvSubject } from '../subjects.ts';
import { explainJob, type CapacityView, type ExplainFacts, type JobExplanation, type QueueStanding, type ShareView, type WindowView } from './explainJob.ts';

export interface JobExplainerDeps {
  config: Pick<Config, 'runningJobCapacity' | 'maxTasksPerWorker' | 'failureDetectionTimeoutMs'>;
  projection: JobProjection;
  liveness: Liveness;
  eventLog: EventLog;
  clock: Clock;
  /** The effective virtual clusters (`default` included). */
  virtualClusters: () => readonly VirtualClusterDef[];
}

/** Explains a job the projection holds (the caller checked it may see it). */
export type JobExplainer = (e: JobEntry) => Promise<JobExplanation>;

export function createJobExplainer(deps: JobExplainerDeps): JobExplainer {
  const { config, projection, liveness, eventLog, clock, virtualClusters } = deps;
  const claimSlotsFor = cachedSlots(virtualClusters);
  const taskSlotsFor = cachedSlots(virtualClusters);

  function waitingFacts(e: JobEntry, liveCoordinators: readonly string[]): NonNullable<ExplainFacts['waiting']> {
    const ctx = ctxOf(e);
    const { totalSlots, buckets, order } = claimQueue({
      slotsFor: claimSlotsFor, runningJobCapacity: config.runningJobCapacity, coordinators: Math.max(1, liveCoordinators.length),
      counts: projection.virtualClusterCounts(), claiming: new Map(),
      waiting: (vc) => projection.waiting(vc), priorityOf: (x) => ctxOf(x).priority, skip: () => false,
    });
    let claimRank: number | null = null;
    let rank = 0;
    for (const pick of order) {
      if (pick.entry.id === e.id) {
        claimRank = rank;
        break;
      }
      rank++;
    }
    const bucket = buckets.find((b) => b.name === ctx.virtualCluster) ?? buckets.find((b) => b.name === DEFAULT_VIRTUAL_CLUSTER);
    const share: ShareView | undefined = bucket && { name: bucket.name, guaranteed: bucket.guaranteed, max: bucket.max, used: bucket.used };
    // Each live coordinator claims into its own room: runningJobCapacity − the jobs it owns.
    const ownedBy = new Map<string, number>();
    let activeJobs = 0;
    for (const a of projection.active()) {
      activeJobs++;
      const c = ctxOf(a).coordinatorId;
      if (c !== null) ownedBy.set(c, (ownedBy.get(c) ?? 0) + 1);
    }
    let freeSlots = 0;
    for (const c of liveCoordinators) freeSlots += Math.max(0, config.runningJobCapacity - (ownedBy.get(c) ?? 0));
    const capacity: CapacityView = { runningJobCapacity: config.runningJobCapacity, liveCoordinators: liveCoordinators.length, totalSlots, activeJobs, freeSlots };
    return { queue: { ...queuePlace(e, ctx), claimRank }, share, capacity };
  }

  /** The job's place in its own VC's queue, in the projection's order (the order the claim pass reads it in). */
  function queuePlace(e: JobEntry, ctx: JobContext): Omit<QueueStanding, 'claimRank'> {
    let position = 0;
    let waitingInVc = 0;
    let higherPriorityAhead = 0;
    for (const w of projection.waiting(ctx.virtualCluster)) {
      waitingInVc++;
      if (position > 0) continue;
      if (w.id === e.id) position = waitingInVc;
      else if (ctxOf(w).priority > ctx.priority) higherPriorityAhead++;
    }
    return { position, waitingInVc, higherPriorityAhead, priority: ctx.priority };
  }

  function ownedFacts(e: JobEntry, ctx: JobContext): NonNullable<ExplainFacts['running']> {
    const workers = liveness.alive('worker', config.failureDetectionTimeoutMs);
    const owner = ctx.coordinatorId === null ? undefined : liveness.alive('coord', config.failureDetectionTimeoutMs).find((c) => c.id === ctx.coordinatorId);
    const report = owner && reportedJob(owner.info, e.id);
    const inflight = owner && reportedWindow(owner.info);
    const limit = config.maxTasksPerWorker * Math.max(1, workers.length);
    const slots = taskSlotsFor(limit);
    const name = shareOf(ctx.virtualCluster, slots);
    const s = slots.get(name);
    let used = 0;
    for (const [vc, n] of inflight?.perVc ?? []) if (shareOf(vc, slots) === name) used += n;
    const window: WindowView = {
      maxTasksPerWorker: config.maxTasksPerWorker, liveWorkers: workers.length, limit, inFlight: inflight?.total ?? null,
      share: s ? { name, guaranteed: s.guaranteed, max: s.max, used } : null,
    };
    let runningOnWorkers = 0;
    for (const w of workers) {
      const told = w.info['tasks'];
      if (!Array.isArray(told)) continue;
      for (const t of told) if (typeof t === 'object' && t !== null && (t as { jobId?: unknown }).jobId === e.id) runningOnWorkers++;
    }
    return { report, runningOnWorkers, window };
  }

  /** The JobPaused that paused the job: who, when, why. */
  async function pausedBy(id: string): Promise<ExplainFacts['pausedBy']> {
    const records = await eventLog.readSubject(jobEvSubject(id));
    for (let i = records.length - 1; i >= 0; i--) {
      const evs = records[i]!.events as JobEvent[];
      for (let k = evs.length - 1; k >= 0; k--) {
        const ev = evs[k]!;
        if (ev.type === 'JobPaused') return { by: ev.meta.actor, at: ev.meta.at, reason: ev.meta.reason ?? null };
      }
    }
    return undefined;
  }

  return async (e) => {
    const ctx = ctxOf(e);
    const liveCoordinators = liveness.alive('coord', config.failureDetectionTimeoutMs).map((c) => c.id);
    const facts: ExplainFacts = {
      now: new Date(clock.now()).toISOString(),
      job: {
        id: e.id, state: e.state, priority: ctx.priority, virtualCluster: ctx.virtualCluster, coordinatorId: ctx.coordinatorId,
        pauseRequested: ctx.pauseRequested, stopRequested: ctx.stopRequested ? { deadline: ctx.stopRequested.deadline } : null,
        parallelism: ctx.parallelism ?? null, planOpen: ctx.planCursor !== undefined, progress: ctx.progress,
        finishedAt: ctx.finishedAt ?? null, error: ctx.error ? { code: ctx.error.code, message: ctx.error.message } : null,
        lastReason: ctx.lastReason ?? null,
      },
      liveCoordinators,
      liveWorkers: liveness.alive('worker', config.failureDetectionTimeoutMs).length,
    };
    if (e.state === 'WAITING') facts.waiting = waitingFacts(e, liveCoordinators);
    if (e.state === 'RUNNING' || e.state === 'PAUSED' || e.state === 'VERIFYING') facts.running = ownedFacts(e, ctx);
    if (e.state === 'PAUSED') {
      const by = await pausedBy(e.id);
      if (by) facts.pausedBy = by;
    }
    return explainJob(facts);
  };
}
