/** The cluster as callers see it: virtual clusters with their slots and load, and the workers. */
import type { Config } from '../config.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { vcSlots, type VirtualClusterDef } from '../quota/shares.ts';
import type { JobService, VirtualClusterStatus, WorkerView } from '../serviceTypes.ts';
import { canUseVirtualCluster } from './access.ts';

export interface ClusterStatusDeps {
  config: Pick<Config, 'failureDetectionTimeoutMs' | 'runningJobCapacity'>;
  projection: JobProjection;
  liveness: Liveness;
  /** The effective virtual clusters. */
  virtualClusters: () => readonly VirtualClusterDef[];
}

export function createClusterStatus(deps: ClusterStatusDeps): Pick<JobService, 'virtualClusters' | 'workers'> {
  const { config, projection, liveness, virtualClusters } = deps;
  return {
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

    async workers() {
      const alive = new Set(liveness.alive('worker', config.failureDetectionTimeoutMs).map((x) => x.id));
      const out: WorkerView[] = [];
      for (const w of projection.workers()) {
        out.push({
          id: w.info.workerId, pool: w.info.pool, state: w.state, concurrency: w.info.concurrency,
          host: w.info.host, pid: w.info.pid, alive: alive.has(w.info.workerId), registeredAt: w.registeredAt,
        });
      }
      return out;
    },
  };
}
