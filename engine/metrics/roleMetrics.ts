import { Counter, Gauge, type Registry } from 'prom-client';
import type { CoordinatorStats } from '../coordinator/types.ts';
import { registerNamed, type AlluxioMetricNames } from './alluxioNames.ts';

export type { CoordinatorStats };

/** What a worker reports about itself (`worker.stats()`). */
export interface WorkerStats {
  running: number;
  /** Tasks that finished with an outcome since start (monotonic). */
  completed: number;
  /** Tasks that failed since start (monotonic). */
  failed: number;
}

/** The part of a Coordinator the metrics read. */
export interface CoordinatorStatsSource {
  readonly id: string;
  stats(): CoordinatorStats;
}

/** The part of a Worker the metrics read. */
export interface WorkerStatsSource {
  readonly id: string;
  stats(): WorkerStats;
}

/**
 * A counter that mirrors a monotonic total read at scrape time (prom-client counters only go up
 * by `inc`, so add what grew since the last scrape).
 */
function mirrorTotal(counter: Counter<string>, labels: Record<string, string>, read: () => number): () => void {
  let seen = 0;
  counter.inc(labels, 0); // the series exists (at 0) before the first task or pass
  return () => {
    const now = read();
    if (now > seen) counter.inc(labels, now - seen);
    seen = Math.max(seen, now);
  };
}

/**
 * Per-coordinator gauges and the claim-pass counter, read from `coordinator.stats()` at scrape time;
 * the counter under the names `names` asks for (`registerNamed`).
 */
export function registerCoordinatorMetrics(registry: Registry, coordinator: CoordinatorStatsSource, names: AlluxioMetricNames): void {
  const labels = { coordinator: coordinator.id };
  const registers = [registry];
  let syncPolls: () => void = () => undefined;
  const polls = new Counter({
    name: 'jetjobs_scheduler_poll_total',
    help: 'Claim passes over the waiting queue by this coordinator.',
    labelNames: ['coordinator'],
    registers: [],
    collect: () => syncPolls(),
  });
  registerNamed(registry, polls, names);
  syncPolls = mirrorTotal(polls, labels, () => coordinator.stats().claimPasses);
  new Gauge({
    name: 'jetjobs_coordinator_owned_jobs',
    help: 'Jobs this coordinator owns (RUNNING, PAUSED, VERIFYING).',
    labelNames: ['coordinator'],
    registers,
    collect() {
      this.set(labels, coordinator.stats().owned);
    },
  });
  new Gauge({
    name: 'jetjobs_coordinator_inflight_tasks',
    help: 'Tasks this coordinator dispatched that have no outcome yet.',
    labelNames: ['coordinator'],
    registers,
    collect() {
      this.set(labels, coordinator.stats().inflightTasks);
    },
  });
  new Gauge({
    name: 'jetjobs_coordinator_vc_inflight_tasks',
    help: 'Tasks this coordinator dispatched that have no outcome yet, per virtual cluster (its share of the workers in use).',
    labelNames: ['coordinator', 'virtual_cluster'],
    registers,
    collect() {
      this.reset(); // a VC whose tasks all finished drops out
      for (const [vc, n] of coordinator.stats().inflightTasksPerVc) this.set({ ...labels, virtual_cluster: vc }, n);
    },
  });
}

/** Per-worker gauge and task counter, read from `worker.stats()` at scrape time. */
export function registerWorkerMetrics(registry: Registry, worker: WorkerStatsSource): void {
  const registers = [registry];
  let sync: () => void = () => undefined;
  const total = new Counter({
    name: 'jetjobs_worker_tasks_total',
    help: 'Tasks this worker finished, by outcome (completed, failed).',
    labelNames: ['worker', 'outcome'],
    registers,
    collect: () => sync(),
  });
  const completed = mirrorTotal(total, { worker: worker.id, outcome: 'completed' }, () => worker.stats().completed);
  const failed = mirrorTotal(total, { worker: worker.id, outcome: 'failed' }, () => worker.stats().failed);
  sync = () => {
    completed();
    failed();
  };
  new Gauge({
    name: 'jetjobs_worker_running_tasks',
    help: 'Tasks this worker is running now.',
    labelNames: ['worker'],
    registers,
    collect() {
      this.set({ worker: worker.id }, worker.stats().running);
    },
  });
}
