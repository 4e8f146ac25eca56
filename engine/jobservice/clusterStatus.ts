/** The cluster as callers see it: virtual clusters with their slots and load, and the workers. */
import type { Config } from '../config.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { vcSlots, type VirtualClusterDef } from '../quota/shares.ts';
import type { Clock } from '../clock.ts';
import type { JobService, OverviewView, VirtualClusterStatus, WorkerView } from '../serviceTypes.ts';
import { ctxOf } from '../projections/jobEntry.ts';
import { canSeeJob, canUseVirtualCluster } from './access.ts';

export interface ClusterStatusDeps {
  config: Pick<Config, 'failureDetectionTimeoutMs' | 'runningJobCapacity'>;
  projection: JobProjection;
  liveness: Liveness;
  /** The effective virtual clusters. */
  virtualClusters: () => readonly VirtualClusterDef[];
  clock: Pick<Clock, 'monotonic'>;
}

export function createClusterStatus(deps: ClusterStatusDeps): Pick<JobService, 'virtualClusters' | 'workers'> & { processes(): Pick<OverviewView, 'coordinators' | 'workers'> } {
  const { config, projection, liveness, virtualClusters, clock } = deps;
  return {
    processes() {
      const alive = (kind: 'coord' | 'worker') => new Set(liveness.alive(kind, config.failureDetectionTimeoutMs).map((e) => e.id));
      const liveCoords = alive('coord');
      const now = clock.monotonic();
      const coordinators = liveness.entries().filter((e) => e.kind === 'coord')
        .map((e) => ({ id: e.id, alive: liveCoords.has(e.id), lastSeenMs: Math.max(0, Math.round(now - e.seenAtMonotonic)) }))
        .sort((a, b) => a.id.localeCompare(b.id));
      const liveWorkers = alive('worker');
      let registered = 0;
      let aliveWorkers = 0;
      for (const w of projection.workers()) {
        if (w.state === 'LEFT') continue;
        registered++;
        if (liveWorkers.has(w.info.workerId)) aliveWorkers++;
      }
      return { coordinators, workers: { registered, alive: aliveWorkers } };
    },
    async virtualClusters(caller) {
      const defs = virtualClusters();
      const coordinators = Math.max(1, liveness.alive('coord', config.failureDetectionTimeoutMs).length);
      const total = config.runningJobCapacity * coordinators;
      const slots = vcSlots(defs, total);
      const counts = projection.virtualClusterCounts();
      const out: VirtualClusterStatus[] = [];
      for (const d of defs) {
        if (!canUseVirtualCluster(caller, d.name)) continue;
        const n = counts.get(d.name) ?? { waiting: 0, active: 0, total: 0 };
        const sl = slots.get(d.name) ?? { guaranteed: 0, max: 0 };
        out.push({
          name: d.name, capacity: d.capacity, maxCapacity: d.maxCapacity,
          usedCapacity: total > 0 ? Math.round((n.active / total) * 10_000) / 100 : 0,
          numJobs: n.total, numActiveJobs: n.active, numPendingJobs: n.waiting,
          slots: { guaranteed: sl.guaranteed, max: sl.max, used: n.active, total },
        });
      }
      return out;
    },

    async workers(caller) {
      const alive = new Map(liveness.alive('worker', config.failureDetectionTimeoutMs).map((x) => [x.id, x.info]));
      const visible = (jobId: string) => {
        if (caller === undefined) return true;
        const e = projection.get(jobId);
        return e !== undefined && canSeeJob(caller, ctxOf(e));
      };
      const out: WorkerView[] = [];
      for (const w of projection.workers()) {
        const info = alive.get(w.info.workerId);
        out.push({
          id: w.info.workerId, pool: w.info.pool, state: w.state, concurrency: w.info.concurrency,
          host: w.info.host, pid: w.info.pid, alive: info !== undefined, registeredAt: w.registeredAt,
          tasks: toldTasks(info?.['tasks']).filter((t) => visible(t.jobId)),
        });
      }
      return out;
    },
  };
}

/** The running tasks a worker's heartbeat told (anything else in that field is ignored). */
function toldTasks(v: unknown): { jobId: string; taskId: string }[] {
  if (!Array.isArray(v)) return [];
  return v.filter((t): t is { jobId: string; taskId: string } =>
    typeof t === 'object' && t !== null && typeof (t as { jobId?: unknown }).jobId === 'string' && typeof (t as { taskId?: unknown }).taskId === 'string',
  ).map((t) => ({ jobId: t.jobId, taskId: t.taskId }));
}
