import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DEFAULTS } from './config.ts';
import type { EventLog } from './eventlog/eventLog.ts';
import { registerNamed, type AlluxioMetricNames } from './metrics/alluxioNames.ts';
import { registerCoordinatorMetrics, registerWorkerMetrics, type CoordinatorStatsSource, type WorkerStatsSource } from './metrics/roleMetrics.ts';
import { registerStreamMetrics } from './metrics/streamMetrics.ts';
import { timedEventLog } from './metrics/timedEventLog.ts';
import type { WebhookAttemptOutcome } from './hooks/deliverer.ts';
import type { JobProjection } from './projections/jobProjection.ts';
import type { Retention } from './retention/retention.ts';

export type { CoordinatorStats, CoordinatorStatsSource, WorkerStats, WorkerStatsSource } from './metrics/roleMetrics.ts';

/** Buckets of `jetjobs_scheduler_latency_ms`: sub-ms in memory up to a leader election's stall. */
export const LATENCY_MS_BUCKETS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/** What the metrics read once the engine runs; see {@link Metrics.attach}. */
export interface MetricsSources {
  projection: JobProjection;
  coordinator?: CoordinatorStatsSource;
  worker?: WorkerStatsSource;
  /** How long the start-up replay took, in ms (`Roles.replayMs`). */
  replayMs?: number;
  /** This process's retention: its passes are counted into `jetjobs_retention_jobs_total`. */
  retention?: Pick<Retention, 'onPass'>;
}

/** Options of {@link createMetrics}: the sources may be given here or later through `attach`. */
export interface MetricsOptions extends Partial<MetricsSources> {
  /** Labels on every series (e.g. `{ roles: 'api,coordinator' }`). */
  labels: Record<string, string>;
  /** Node process metrics (`jetjobs_process_*`, `jetjobs_nodejs_*`). @defaultValue true */
  processMetrics?: boolean;
  /**
   * Whether the five scheduler series Alluxio names (`ALLUXIO_NAME_OF`) are exported under our
   * names, Alluxio's or both. @defaultValue the `alluxioMetricNames` setting's default, `both`
   */
  alluxioMetricNames?: AlluxioMetricNames;
}

export interface Metrics {
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; text: string }>;
  /**
   * The event log with every append/readSubject/lastSeq/purge timed into `jetjobs_scheduler_latency_ms`
   * and counted into `jetjobs_scheduler_job_access_total`. Wrap before the core starts so the
   * replay's reads are counted too.
   */
  wrapEventLog<L extends EventLog>(log: L): L;
  /** Starts the stream, coordinator and worker metrics once the engine runs. Once only. */
  attach(sources: MetricsSources): void;
  /** Counts one webhook attempt made by this process (`jetjobs_webhook_attempts_total`). */
  webhookAttempt(outcome: WebhookAttemptOutcome): void;
  /** The registry, for tests and for adding metrics of other components. */
  readonly registry: Registry;
  /** Stops following the projection. */
  stop(): void;
}

/**
 * Prometheus metrics. Job, queue and outcome figures derive from the event stream this process
 * follows, so every process reports the same cluster-wide counts; event-log latency and access
 * counts and the coordinator/worker gauges are this process's own. Names follow seed 004's
 * `alluxio_scheduler_*` where they match, and the five Alluxio has are exported under its names too
 * (`alluxioMetricNames`; see docs/operations.md).
 *
 * Wiring: `createMetrics({ labels })` → `metrics.wrapEventLog(log)` → start the core on the
 * wrapped log → `metrics.attach({ projection, coordinator, worker, replayMs })`.
 */
export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels(opts.labels);
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'jetjobs_' });
  const registers = [registry];
  const names = opts.alluxioMetricNames ?? DEFAULTS.alluxioMetricNames;
  const latencyMs = new Histogram({
    name: 'jetjobs_scheduler_latency_ms',
    help: 'Latency of event-log operations by this process, by op (append, readSubject, lastSeq, listSubjects, purge), in ms.',
    labelNames: ['op'],
    buckets: LATENCY_MS_BUCKETS,
    registers: [],
  });
  registerNamed(registry, latencyMs, names);
  const access = new Counter({
    name: 'jetjobs_scheduler_job_access_total',
    help: 'Event-log accesses by this process, by type: append, read (one job subject), list (stream position or a follow start), purge (retention).',
    labelNames: ['type'],
    registers: [],
  });
  registerNamed(registry, access, names);
  const errors = new Counter({
    name: 'jetjobs_eventlog_errors_total',
    help: 'Failed event-log operations by this process, by op and error code (CONFLICT = a lost CAS race).',
    labelNames: ['op', 'code'],
    registers,
  });
  // A histogram, not a gauge: summed over a fleet's restarts it shows how replay cost grows with history.
  const replaySeconds = new Histogram({
    name: 'jetjobs_scheduler_replay_seconds',
    help: 'How long this process took to replay the JOBS stream into its projection at start (one observation per start).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });

  const webhookAttempts = new Counter({
    name: 'jetjobs_webhook_attempts_total',
    help: 'Webhook delivery attempts made by this process, by outcome: delivered (2xx), retrying (failed, another attempt follows), failed (the last attempt failed).',
    labelNames: ['outcome'],
    registers,
  });
  const retentionJobs = new Counter({
    name: 'jetjobs_retention_jobs_total',
    help: 'Retention work of this process, by action: compacted (JobCompacted appended), removed (dropped from this projection), strays (leftover task/delivery records purged).',
    labelNames: ['action'],
    registers,
  });
  let unsubscribe: () => void = () => undefined;
  let offRetention: () => void = () => undefined;
  let attached = false;
  const metrics: Metrics = {
    registry,
    async render() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    wrapEventLog: (log) => timedEventLog(log, latencyMs, { access, errors }),
    attach(sources) {
      if (attached) throw new Error('metrics already attached');
      attached = true;
      unsubscribe = registerStreamMetrics(registry, sources.projection, names);
      if (sources.coordinator) registerCoordinatorMetrics(registry, sources.coordinator, names);
      if (sources.worker) registerWorkerMetrics(registry, sources.worker);
      if (sources.replayMs !== undefined) replaySeconds.observe(sources.replayMs / 1000);
      if (sources.retention) {
        offRetention = sources.retention.onPass((r) => {
          retentionJobs.inc({ action: 'compacted' }, r.compacted);
          retentionJobs.inc({ action: 'removed' }, r.removed);
          retentionJobs.inc({ action: 'strays' }, r.strays);
        });
      }
    },
    webhookAttempt: (outcome) => webhookAttempts.inc({ outcome }),
    stop: () => {
      unsubscribe();
      offRetention();
    },
  };
  if (opts.projection) {
    metrics.attach({
      projection: opts.projection,
      ...(opts.coordinator ? { coordinator: opts.coordinator } : {}),
      ...(opts.worker ? { worker: opts.worker } : {}),
      ...(opts.replayMs === undefined ? {} : { replayMs: opts.replayMs }),
      ...(opts.retention ? { retention: opts.retention } : {}),
    });
  }
  return metrics;
}
