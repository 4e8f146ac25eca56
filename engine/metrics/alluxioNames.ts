import type { Counter, Histogram, Metric, Registry } from 'prom-client';
import type { AlluxioMetricNames } from '../config.ts';

export type { AlluxioMetricNames };

/**
 * Our scheduler series and Alluxio's names for them (seed 004 §6), so a dashboard built on Alluxio
 * keeps working. Written exactly as Alluxio's docs write them: counters without `_total`, the
 * latency histogram as `alluxio_scheduler_etcd_latency_ms{_bucket,_sum,_count}`.
 */
export const ALLUXIO_NAME_OF = Object.freeze({
  jetjobs_scheduler_poll_total: 'alluxio_scheduler_etcd_poll',
  jetjobs_scheduler_claim_total: 'alluxio_scheduler_etcd_claim',
  jetjobs_scheduler_reclaim_total: 'alluxio_scheduler_etcd_reclaim',
  jetjobs_scheduler_latency_ms: 'alluxio_scheduler_etcd_latency_ms',
  jetjobs_scheduler_job_access_total: 'alluxio_scheduler_job_access_etcd',
});

/** One of our series that Alluxio has a name for. */
export type AliasedName = keyof typeof ALLUXIO_NAME_OF;

/** What prom-client's metrics carry at run time but do not declare in their types. */
interface Named {
  readonly name: string;
  readonly type: string;
}

type Source = Counter<string> | Histogram<string>;

/**
 * Exposes `metric` (created with `registers: []`) under our name, Alluxio's, or both, as
 * `alluxioMetricNames` says. Alluxio's name is a view read at scrape time: the hot path counts
 * once, into `metric`, whichever names are exported.
 */
export function registerNamed(registry: Registry, metric: Source, names: AlluxioMetricNames): void {
  if (names !== 'alluxio') registry.registerMetric(metric);
  if (names !== 'native') registry.registerMetric(renamed(metric));
}

/**
 * A collector that reads `source` (running its `collect()`) and answers its samples under
 * Alluxio's name: labels, buckets and type unchanged. prom-client's registry reads only
 * `name`, `type`, `get()` (and `reset()` on `resetMetrics`), so this object stands in for a metric.
 */
function renamed(source: Source): Metric {
  const { name: ours, type } = source as unknown as Named;
  const name: string | undefined = ALLUXIO_NAME_OF[ours as AliasedName];
  if (name === undefined) throw new Error(`no Alluxio name for ${ours}`);
  const get = async (): Promise<Awaited<ReturnType<Source['get']>>> => {
    const m = await source.get();
    return {
      ...m,
      name,
      help: `${m.help} Alluxio's name for ${ours}.`,
      // Histogram samples are named `<name>_bucket`/`_sum`/`_count`; counter samples take the metric's.
      values: m.values.map((v) => {
        const own = (v as { metricName?: string }).metricName;
        return own === undefined ? v : { ...v, metricName: name + own.slice(ours.length) };
      }),
    };
  };
  const alias = { name, type, get, reset: () => undefined };
  return alias as unknown as Metric;
}
