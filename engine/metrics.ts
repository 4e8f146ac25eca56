import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_STATES } from '../actors/events.ts';
import type { JobProjection } from './projections/jobProjection.ts';
import { parseSubject } from './subjects.ts';

export interface Metrics {
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; text: string }>;
  stop(): void;
}

/**
 * Prometheus metrics derived from the event stream this process follows, so every process reports
 * the same cluster-wide counts. Names follow seed 004's `alluxio_scheduler_*` where they match.
 * Counting starts once the projection has caught up: replayed history is not a burst of claims.
 */
export function createMetrics(projection: JobProjection, labels: Record<string, string>): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'jetjobs_process_' });
  const claims = new Counter({ name: 'jetjobs_scheduler_claim_total', help: 'Jobs claimed by a coordinator (JobClaimed events seen).', registers: [registry] });
  const reclaims = new Counter({ name: 'jetjobs_scheduler_reclaim_total', help: 'Jobs requeued from a dead or departing coordinator (JobRequeued events seen).', labelNames: ['reason'], registers: [registry] });
  const events = new Counter({ name: 'jetjobs_events_total', help: 'Events seen on the JOBS stream, by type.', labelNames: ['type'], registers: [registry] });
  const tasks = new Counter({ name: 'jetjobs_task_outcomes_total', help: 'Task outcomes seen, by type and error code.', labelNames: ['outcome', 'code'], registers: [registry] });
  new Gauge({
    name: 'jetjobs_jobs', help: 'Jobs by state (as this process sees the stream).', labelNames: ['state'], registers: [registry],
    collect() {
      for (const s of JOB_STATES) this.set({ state: s }, projection.countByState(s));
    },
  });
  new Gauge({
    name: 'jetjobs_stream_applied_seq', help: 'Last JOBS stream sequence applied by this process.', registers: [registry],
    collect() {
      this.set(projection.lastSeq());
    },
  });
  const unsubscribe = projection.onChange((_e, _before, r) => {
    const kind = parseSubject(r.subject)?.kind;
    for (const ev of r.events) {
      events.inc({ type: ev.type });
      if (ev.type === 'JobClaimed') claims.inc();
      else if (ev.type === 'JobRequeued') reclaims.inc({ reason: ev.meta.reason?.startsWith('coordinator shutting down') ? 'handoff' : 'stale-owner' });
      else if (kind === 'job-task' && (ev.type === 'TaskSucceeded' || ev.type === 'TaskFailed')) {
        const code = ev.type === 'TaskFailed' ? (ev.data as { error: { code: string } }).error.code : '';
        tasks.inc({ outcome: ev.type === 'TaskSucceeded' ? 'succeeded' : 'failed', code });
      }
    }
  });
  return {
    async render() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    stop: unsubscribe,
  };
}
