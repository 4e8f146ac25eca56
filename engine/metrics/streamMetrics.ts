import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobState } from '../../actors/events.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { registerNamed, type AlluxioMetricNames } from './alluxioNames.ts';
import { parseSubject } from '../subjects.ts';

/** Buckets of `jetjobs_scheduler_wait_seconds`: 10 ms to 1 h. */
export const WAIT_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The virtual cluster of a job submitted before virtual clusters existed. */
const DEFAULT_VIRTUAL_CLUSTER = 'default';

interface JobFields {
  type: string;
  virtualCluster?: string;
  submittedAt: string;
}

/**
 * Metrics derived from the JOBS stream through the projection, so every process reports the same
 * cluster-wide figures. Gauges are computed at scrape time from the projection (one pass over its
 * jobs, which retention keeps bounded); counters count records applied after this call, so
 * replayed history is not reported as a burst of claims. Claims and reclaims are exported under
 * the names `names` asks for (`registerNamed`). Returns the unsubscribe function.
 */
export function registerStreamMetrics(registry: Registry, projection: JobProjection, names: AlluxioMetricNames): () => void {
  const registers = [registry];
  const claims = new Counter({ name: 'jetjobs_scheduler_claim_total', help: 'Jobs claimed by a coordinator (JobClaimed events seen).', registers: [] });
  registerNamed(registry, claims, names);
  const reclaims = new Counter({
    name: 'jetjobs_scheduler_reclaim_total',
    help: 'Jobs requeued from a dead (stale-owner) or departing (handoff) coordinator (JobRequeued events seen).',
    labelNames: ['reason'],
    registers: [],
  });
  registerNamed(registry, reclaims, names);
  const events = new Counter({ name: 'jetjobs_events_total', help: 'Events seen on the JOBS stream, by type.', labelNames: ['type'], registers });
  const tasks = new Counter({
    name: 'jetjobs_task_outcomes_total',
    help: 'Task outcomes seen, by outcome (succeeded, failed) and error code.',
    labelNames: ['outcome', 'code'],
    registers,
  });
  const waitSeconds = new Histogram({
    name: 'jetjobs_scheduler_wait_seconds',
    help: 'Queue wait of a job: JobSubmitted meta.at to its first JobClaimed meta.at (writers\' clocks).',
    buckets: WAIT_SECONDS_BUCKETS,
    registers,
  });

  // One pass over the jobs per scrape fills the three job gauges; collect() runs once per gauge.
  let pass: { byStateType: Map<string, number>; vc: Map<string, { waiting: number; active: number }> } | undefined;
  const countJobs = () => {
    const byStateType = new Map<string, number>();
    const vc = new Map<string, { waiting: number; active: number }>();
    for (const e of projection.all()) {
      const ctx = e.snapshot.context as unknown as JobFields;
      const key = `${e.state}\u0000${ctx.type}`;
      byStateType.set(key, (byStateType.get(key) ?? 0) + 1);
      const name = ctx.virtualCluster ?? DEFAULT_VIRTUAL_CLUSTER;
      let c = vc.get(name);
      if (!c) vc.set(name, (c = { waiting: 0, active: 0 }));
      if (e.state === 'WAITING') c.waiting++;
      else if (e.state === 'RUNNING' || e.state === 'PAUSED' || e.state === 'VERIFYING') c.active++;
    }
    return { byStateType, vc };
  };
  // The registry collects gauges one after another in one tick: share the pass between them.
  const jobsPass = () => {
    if (!pass) {
      pass = countJobs();
      queueMicrotask(() => (pass = undefined));
    }
    return pass;
  };

  new Gauge({
    name: 'jetjobs_jobs',
    help: 'Jobs by state and type, as this process sees the stream.',
    labelNames: ['state', 'type'],
    registers,
    collect() {
      this.reset();
      const { byStateType } = jobsPass();
      for (const [key, n] of byStateType) {
        const [state, type] = key.split('\u0000') as [JobState, string];
        this.set({ state, type }, n);
      }
    },
  });
  new Gauge({
    name: 'jetjobs_scheduler_waiting_jobs',
    help: 'Waiting queue depth per virtual cluster.',
    labelNames: ['virtual_cluster'],
    registers,
    collect() {
      this.reset();
      for (const [name, c] of jobsPass().vc) this.set({ virtual_cluster: name }, c.waiting);
    },
  });
  new Gauge({
    name: 'jetjobs_scheduler_active_jobs',
    help: 'Jobs holding a slot (RUNNING, PAUSED, VERIFYING) per virtual cluster.',
    labelNames: ['virtual_cluster'],
    registers,
    collect() {
      this.reset();
      for (const [name, c] of jobsPass().vc) this.set({ virtual_cluster: name }, c.active);
    },
  });
  new Gauge({
    name: 'jetjobs_stream_applied_seq',
    help: 'Last JOBS stream sequence applied by this process.',
    registers,
    collect() {
      this.set(projection.lastSeq());
    },
  });
  new Gauge({
    name: 'jetjobs_projection_rejected_events',
    help: 'Stored events the job machine rejected (a bug if ever above 0).',
    registers,
    collect() {
      this.set(projection.rejected);
    },
  });

  return projection.onChange((entry, _before, r) => {
    const kind = parseSubject(r.subject)?.kind;
    for (const ev of r.events) {
      events.inc({ type: ev.type });
      if (ev.type === 'JobClaimed') {
        claims.inc();
        // Epoch 1 is the job's first claim; later claims follow a requeue or a recovery.
        if ((ev.data as { epoch: number }).epoch === 1) {
          const waitMs = Date.parse(ev.meta.at) - Date.parse((entry.snapshot.context as unknown as JobFields).submittedAt);
          if (Number.isFinite(waitMs)) waitSeconds.observe(Math.max(0, waitMs) / 1000);
        }
      } else if (ev.type === 'JobRequeued') {
        reclaims.inc({ reason: ev.meta.reason?.startsWith('coordinator shutting down') ? 'handoff' : 'stale-owner' });
      } else if (kind === 'job-task' && (ev.type === 'TaskSucceeded' || ev.type === 'TaskFailed')) {
        const code = ev.type === 'TaskFailed' ? (ev.data as { error: { code: string } }).error.code : '';
        tasks.inc({ outcome: ev.type === 'TaskSucceeded' ? 'succeeded' : 'failed', code });
      }
    }
  });
}
