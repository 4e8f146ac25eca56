/**
 * The coordinator's heartbeat: tells its peers it is alive, recounts the live coordinators (their
 * number sets the cluster's slots), and looks for jobs of dead peers, every `heartbeatMs`.
 */
import type { CoordinatorContext } from './context.ts';
import type { PeerJudge } from './peerJudge.ts';

export interface Heartbeat {
  /** Beats now, then every `heartbeatMs` while running. */
  beat(): Promise<void>;
  /** Clears the next beat's timer. */
  stop(): void;
}

/** Coordinators alive in our view (heartbeat seen within the detection timeout), ourselves included. */
export function countLiveCoordinators(cx: Pick<CoordinatorContext, 'id' | 'liveness' | 'config'>): number {
  return new Set(cx.liveness.alive('coord', cx.config.failureDetectionTimeoutMs).map((x) => x.id)).add(cx.id).size;
}

/** Owned jobs a heartbeat reports at most (runningJobCapacity is 100 by default): keeps the liveness value small. */
export const MAX_JOBS_REPORTED = 256;

/**
 * What one owned job waits on, as its coordinator's heartbeat reports it: the local facts no event
 * records (dispatches are not events). `GET /jobs/:id/explain` reads it from the liveness bucket.
 */
export interface OwnedJobReport {
  /** Tasks dispatched and not yet answered. */
  dispatched: number;
  /** Tasks waiting out a retry backoff. */
  retrying: number;
  /** When the first of those backoffs ends (ISO-8601, the coordinator's clock). */
  nextRetryAt?: string;
  /** Tasks are ready but the dispatch window (or the VC's share of it) has no slot. */
  starved: boolean;
}

/** A coordinator's heartbeat value. */
export type CoordinatorReport = {
  owned: number;
  /** Tasks in flight over all owned jobs (the dispatch window holds maxTasksPerWorker × live workers). */
  inflightTasks: number;
  /** The same per virtual cluster (as the jobs name it); VCs with none are absent. */
  inflightTasksPerVc: Record<string, number>;
  /** Owned jobs by id (at most {@link MAX_JOBS_REPORTED}). */
  jobs: Record<string, OwnedJobReport>;
};

/** The heartbeat value: what the coordinator owns and what each job waits on. */
export function coordinatorReport(cx: Pick<CoordinatorContext, 'owned' | 'starved' | 'tasks' | 'clock'>): CoordinatorReport {
  const jobs: Record<string, OwnedJobReport> = {};
  let n = 0;
  for (const [jobId, o] of cx.owned) {
    if (n++ >= MAX_JOBS_REPORTED) break;
    let next = Infinity;
    let retrying = 0;
    for (const r of o.retries.values()) {
      if (r.due) continue;
      retrying++;
      next = Math.min(next, r.dueAtMs);
    }
    jobs[jobId] = {
      dispatched: o.dispatched.size, retrying, starved: cx.starved.has(jobId),
      ...(Number.isFinite(next) ? { nextRetryAt: new Date(next).toISOString() } : {}),
    };
  }
  return { owned: cx.owned.size, inflightTasks: cx.tasks.total, inflightTasksPerVc: Object.fromEntries(cx.tasks.perVc()), jobs };
}

/** A coordinator's tasks in flight, total and per VC, read back from its liveness value; undefined from an older coordinator. */
export function reportedWindow(info: Record<string, unknown>): { total: number; perVc: Map<string, number> } | undefined {
  const total = info['inflightTasks'];
  const per = info['inflightTasksPerVc'];
  if (typeof total !== 'number' || typeof per !== 'object' || per === null) return undefined;
  const perVc = new Map<string, number>();
  for (const [vc, n] of Object.entries(per)) if (typeof n === 'number') perVc.set(vc, n);
  return { total, perVc };
}

/** A coordinator's report read back from its liveness value; undefined for a job it does not report (or an older coordinator). */
export function reportedJob(info: Record<string, unknown>, jobId: string): OwnedJobReport | undefined {
  const jobs = info['jobs'];
  if (typeof jobs !== 'object' || jobs === null) return undefined;
  const j = (jobs as Record<string, unknown>)[jobId];
  if (typeof j !== 'object' || j === null) return undefined;
  const r = j as Partial<OwnedJobReport>;
  if (typeof r.dispatched !== 'number' || typeof r.retrying !== 'number' || typeof r.starved !== 'boolean') return undefined;
  return { dispatched: r.dispatched, retrying: r.retrying, starved: r.starved, ...(typeof r.nextRetryAt === 'string' ? { nextRetryAt: r.nextRetryAt } : {}) };
}

export function createHeartbeat(cx: CoordinatorContext, judge: PeerJudge, recoverOrphans: () => void): Heartbeat {
  const { id, liveness, clock, config, log } = cx;
  let timer: unknown;

  async function beat() {
    judge.tick();
    try {
      await liveness.beat('coord', id, coordinatorReport(cx));
    } catch (err) {
      log.warn({ err }, 'heartbeat failed');
    }
    const coordinators = countLiveCoordinators(cx);
    if (coordinators !== cx.liveCoordinators) {
      // The number of live coordinators sets the cluster's slots: a change may make room for claims.
      cx.liveCoordinators = coordinators;
      cx.wake.scheduleClaims();
    }
    recoverOrphans();
    if (cx.running) timer = clock.setTimeout(() => void beat(), config.heartbeatMs);
  }

  return { beat, stop: () => clock.clearTimeout(timer) };
}
