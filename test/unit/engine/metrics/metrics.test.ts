/**
 * The Prometheus exposition after a few events on the in-memory log: stream-derived counts,
 * queue depth and wait, event-log latency and access counts, and the coordinator/worker figures.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Envelope, EventMeta } from '../../../../actors/events.ts';
import { createMemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createMetrics } from '../../../../engine/metrics.ts';
import { createJobProjection } from '../../../../engine/projections/jobProjection.ts';
import { jobEvSubject, jobTaskSubject } from '../../../../engine/subjects.ts';
import { parseExposition, valueOf } from '../../../helpers/exposition.ts';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const JOB_A = '00000000-0000-4000-8000-00000000000a';
const JOB_B = '00000000-0000-4000-8000-00000000000b';
const JOB_C = '00000000-0000-4000-8000-00000000000c';

const meta = (jobId: string, epoch: number, atMs: number, reason?: string): EventMeta => ({
  jobId, epoch, actor: 'test', at: new Date(atMs).toISOString(), v: 1, ...(reason === undefined ? {} : { reason }),
});
const submitted = (jobId: string, type: string, atMs: number, virtualCluster?: string): Envelope => ({
  type: 'JobSubmitted',
  data: {
    jobId, type, name: 'n', spec: {}, priority: 0, maxTaskAttempts: 3, maxFailedRatio: 0.5, requestHash: 'h', owner: 'alice',
    ...(virtualCluster === undefined ? {} : { virtualCluster }),
  },
  meta: meta(jobId, 0, atMs),
});
const claimed = (jobId: string, epoch: number, atMs: number): Envelope => ({ type: 'JobClaimed', data: { coordinatorId: 'c1', epoch }, meta: meta(jobId, epoch, atMs) });
const planned = (jobId: string, n: number): Envelope => ({
  type: 'TasksPlanned',
  data: { tasks: Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, payload: {}, items: 1, bytes: 1 })) },
  meta: meta(jobId, 1, T0),
});
const result = { itemsDone: 1, itemsFailed: 0, bytesDone: 1, failures: [] };

function setup() {
  const log = createMemoryEventLog();
  const metrics = createMetrics({ labels: { roles: 'test' }, processMetrics: false });
  const eventLog = metrics.wrapEventLog(log);
  const projection = createJobProjection({ logger: silentLogger });
  const follower = eventLog.follow(1, (r) => projection.apply(r));
  const append = async (subject: string, ...events: Envelope[]) => {
    const { seq } = await eventLog.append(subject, events);
    assert.ok(await projection.waitFor(seq, 2000), `projection did not reach ${seq}`);
  };
  const scrape = async () => parseExposition((await metrics.render()).text);
  return { log, metrics, eventLog, projection, follower, append, scrape };
}

describe('createMetrics', () => {
  it('reports claims, reclaims, wait time, task outcomes and queue depth from the stream', async () => {
    const { metrics, projection, follower, append, scrape } = setup();
    try {
      // History before attach: replay is not a burst of claims.
      await append(jobEvSubject(JOB_C), submitted(JOB_C, 'noop', T0), claimed(JOB_C, 1, T0 + 100));
      await follower.caughtUp;
      metrics.attach({ projection, replayMs: 1500 });

      await append(jobEvSubject(JOB_A), submitted(JOB_A, 'load', T0, 'gpu'));
      await append(jobEvSubject(JOB_B), submitted(JOB_B, 'sleep', T0 + 10));
      await append(jobEvSubject(JOB_A), claimed(JOB_A, 1, T0 + 2500), planned(JOB_A, 2));
      await append(jobTaskSubject(JOB_A), { type: 'TaskSucceeded', data: { taskId: 't0', attempt: 1, workerId: 'w1', result }, meta: meta(JOB_A, 1, T0) });
      await append(jobTaskSubject(JOB_A), {
        type: 'TaskFailed',
        data: { taskId: 't1', attempt: 1, workerId: 'w1', error: { code: 'EIO', message: 'disk', retryable: true } },
        meta: meta(JOB_A, 1, T0),
      });
      await append(jobEvSubject(JOB_A), { type: 'JobRequeued', data: { fromCoordinator: 'c1', epoch: 2 }, meta: meta(JOB_A, 2, T0 + 3000, 'owner stale') });
      // The second claim (after the requeue) counts as a claim but not as a queue wait.
      await append(jobEvSubject(JOB_A), claimed(JOB_A, 3, T0 + 9000));

      const s = await scrape();
      assert.equal(valueOf(s, 'jetjobs_scheduler_claim_total'), 2);
      assert.equal(valueOf(s, 'jetjobs_scheduler_reclaim_total', { reason: 'stale-owner' }), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_wait_seconds_count'), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_wait_seconds_sum'), 2.5);
      assert.equal(valueOf(s, 'jetjobs_scheduler_wait_seconds_bucket', { le: '2.5' }), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_wait_seconds_bucket', { le: '1' }), 0);
      assert.equal(valueOf(s, 'jetjobs_task_outcomes_total', { outcome: 'succeeded' }), 1);
      assert.equal(valueOf(s, 'jetjobs_task_outcomes_total', { outcome: 'failed', code: 'EIO' }), 1);
      assert.equal(valueOf(s, 'jetjobs_events_total', { type: 'JobSubmitted' }), 2);
      // Gauges cover every job the projection holds, replayed ones included.
      assert.equal(valueOf(s, 'jetjobs_jobs', { state: 'RUNNING', type: 'load' }), 1);
      assert.equal(valueOf(s, 'jetjobs_jobs', { state: 'RUNNING', type: 'noop' }), 1);
      assert.equal(valueOf(s, 'jetjobs_jobs', { state: 'WAITING', type: 'sleep' }), 1);
      assert.equal(valueOf(s, 'jetjobs_jobs', { state: 'WAITING', type: 'load' }), undefined);
      assert.equal(valueOf(s, 'jetjobs_scheduler_waiting_jobs', { virtual_cluster: 'default' }), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_waiting_jobs', { virtual_cluster: 'gpu' }), 0);
      assert.equal(valueOf(s, 'jetjobs_scheduler_active_jobs', { virtual_cluster: 'gpu' }), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_active_jobs', { virtual_cluster: 'default' }), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_replay_seconds_sum'), 1.5);
      assert.equal(valueOf(s, 'jetjobs_scheduler_replay_seconds_count'), 1);
      assert.equal(valueOf(s, 'jetjobs_stream_applied_seq'), projection.lastSeq());
      assert.equal(valueOf(s, 'jetjobs_projection_rejected_events'), 0);
      // Default labels reach every series.
      assert.ok(s.every((x) => x.labels['roles'] === 'test'));
    } finally {
      metrics.stop();
      await follower.stop();
    }
  });

  it('times and counts event-log operations, failures by code', async () => {
    const { log, metrics, eventLog, projection, follower, append, scrape } = setup();
    try {
      metrics.attach({ projection });
      await append(jobEvSubject(JOB_A), submitted(JOB_A, 'load', T0));
      await eventLog.readSubject(jobEvSubject(JOB_A));
      await eventLog.readSubject(jobEvSubject(JOB_B));
      await eventLog.lastSeq();
      await eventLog.purge(jobTaskSubject(JOB_B));
      await assert.rejects(eventLog.append(jobEvSubject(JOB_A), [claimed(JOB_A, 1, T0)], { expectedLastSubjectSeq: 0 }), { code: 'CONFLICT' });
      log.failNextAppend();
      await assert.rejects(eventLog.append(jobEvSubject(JOB_B), [submitted(JOB_B, 'load', T0)]), { code: 'UNAVAILABLE' });

      const s = await scrape();
      assert.equal(valueOf(s, 'jetjobs_scheduler_latency_ms_count', { op: 'append' }), 3);
      assert.equal(valueOf(s, 'jetjobs_scheduler_latency_ms_count', { op: 'readSubject' }), 2);
      assert.equal(valueOf(s, 'jetjobs_scheduler_latency_ms_count', { op: 'lastSeq' }), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_latency_ms_count', { op: 'purge' }), 1);
      assert.equal(valueOf(s, 'jetjobs_scheduler_job_access_total', { type: 'purge' }), 1);
      assert.ok(valueOf(s, 'jetjobs_scheduler_latency_ms_sum', { op: 'append' })! >= 0);
      assert.equal(valueOf(s, 'jetjobs_scheduler_job_access_total', { type: 'append' }), 3);
      assert.equal(valueOf(s, 'jetjobs_scheduler_job_access_total', { type: 'read' }), 2);
      // lastSeq plus the follow() started in setup
      assert.equal(valueOf(s, 'jetjobs_scheduler_job_access_total', { type: 'list' }), 2);
      assert.equal(valueOf(s, 'jetjobs_eventlog_errors_total', { op: 'append', code: 'CONFLICT' }), 1);
      assert.equal(valueOf(s, 'jetjobs_eventlog_errors_total', { op: 'append', code: 'UNAVAILABLE' }), 1);
    } finally {
      metrics.stop();
      await follower.stop();
    }
  });

  it('mirrors coordinator and worker stats as gauges and monotonic counters', async () => {
    const { metrics, projection, follower, scrape } = setup();
    const coord = { owned: 2, inflightTasks: 7, inflightTasksPerVc: new Map([['default', 5], ['batch', 2]]), claimPasses: 5 };
    const work = { running: 3, completed: 10, failed: 1 };
    try {
      metrics.attach({
        projection,
        coordinator: { id: 'c-1', stats: () => ({ ...coord }) },
        worker: { id: 'w-1', stats: () => ({ ...work }) },
      });
      let s = await scrape();
      assert.equal(valueOf(s, 'jetjobs_scheduler_poll_total', { coordinator: 'c-1' }), 5);
      assert.equal(valueOf(s, 'jetjobs_coordinator_owned_jobs', { coordinator: 'c-1' }), 2);
      assert.equal(valueOf(s, 'jetjobs_coordinator_inflight_tasks', { coordinator: 'c-1' }), 7);
      assert.equal(valueOf(s, 'jetjobs_coordinator_vc_inflight_tasks', { coordinator: 'c-1', virtual_cluster: 'batch' }), 2);
      assert.equal(valueOf(s, 'jetjobs_coordinator_vc_inflight_tasks', { coordinator: 'c-1', virtual_cluster: 'default' }), 5);
      assert.equal(valueOf(s, 'jetjobs_worker_running_tasks', { worker: 'w-1' }), 3);
      assert.equal(valueOf(s, 'jetjobs_worker_tasks_total', { worker: 'w-1', outcome: 'completed' }), 10);
      assert.equal(valueOf(s, 'jetjobs_worker_tasks_total', { worker: 'w-1', outcome: 'failed' }), 1);

      Object.assign(coord, { owned: 0, inflightTasks: 0, inflightTasksPerVc: new Map(), claimPasses: 9 });
      Object.assign(work, { running: 0, completed: 12 });
      s = await scrape();
      assert.equal(valueOf(s, 'jetjobs_scheduler_poll_total', { coordinator: 'c-1' }), 9);
      assert.equal(valueOf(s, 'jetjobs_coordinator_owned_jobs', { coordinator: 'c-1' }), 0);
      assert.equal(valueOf(s, 'jetjobs_coordinator_vc_inflight_tasks', { coordinator: 'c-1', virtual_cluster: 'batch' }), undefined);
      assert.equal(valueOf(s, 'jetjobs_worker_running_tasks', { worker: 'w-1' }), 0);
      assert.equal(valueOf(s, 'jetjobs_worker_tasks_total', { worker: 'w-1', outcome: 'completed' }), 12);
      assert.throws(() => metrics.attach({ projection }), /already attached/);
    } finally {
      metrics.stop();
      await follower.stop();
    }
  });

  it('an API-only process has no coordinator or worker series', async () => {
    const projection = createJobProjection({ logger: silentLogger });
    const metrics = createMetrics({ labels: {}, projection });
    try {
      const text = (await metrics.render()).text;
      assert.match(text, /^jetjobs_process_cpu_user_seconds_total /m);
      assert.match(text, /^# TYPE jetjobs_scheduler_claim_total counter/m);
      assert.doesNotMatch(text, /jetjobs_coordinator_|jetjobs_worker_/);
    } finally {
      metrics.stop();
    }
  });

  it('counts this process\'s webhook attempts by outcome and its retention work by action', async () => {
    const projection = createJobProjection({ logger: silentLogger });
    let report: ((r: { compacted: number; removed: number; strays: number }) => void) | undefined;
    const m = createMetrics({ labels: {}, processMetrics: false, projection, retention: { onPass: (l) => ((report = l), () => undefined) } });
    try {
      m.webhookAttempt('delivered');
      m.webhookAttempt('retrying');
      m.webhookAttempt('retrying');
      m.webhookAttempt('failed');
      report!({ compacted: 3, removed: 2, strays: 0 });
      report!({ compacted: 1, removed: 0, strays: 1 });
      const s = parseExposition((await m.render()).text);
      assert.equal(valueOf(s, 'jetjobs_webhook_attempts_total', { outcome: 'delivered' }), 1);
      assert.equal(valueOf(s, 'jetjobs_webhook_attempts_total', { outcome: 'retrying' }), 2);
      assert.equal(valueOf(s, 'jetjobs_webhook_attempts_total', { outcome: 'failed' }), 1);
      assert.equal(valueOf(s, 'jetjobs_retention_jobs_total', { action: 'compacted' }), 4);
      assert.equal(valueOf(s, 'jetjobs_retention_jobs_total', { action: 'removed' }), 2);
      assert.equal(valueOf(s, 'jetjobs_retention_jobs_total', { action: 'strays' }), 1);
    } finally {
      m.stop();
    }
  });
});
