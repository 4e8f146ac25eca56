/**
 * `alluxioMetricNames`: the five scheduler series under our names, Alluxio's or both; Alluxio's
 * samples equal ours (same labels, same values), and the work is counted once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Envelope, EventMeta } from '../../../../actors/events.ts';
import { ALLUXIO_METRIC_NAMES, ConfigError, parseFlags, readEnv, resolveConfig, type AlluxioMetricNames } from '../../../../engine/config.ts';
import { createMemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createMetrics } from '../../../../engine/metrics.ts';
import { ALLUXIO_NAME_OF, type AliasedName } from '../../../../engine/metrics/alluxioNames.ts';
import { createJobProjection } from '../../../../engine/projections/jobProjection.ts';
import { jobEvSubject } from '../../../../engine/subjects.ts';
import { familiesOf, parseExposition, valueOf, type Sample } from '../../../helpers/exposition.ts';

const OURS = Object.keys(ALLUXIO_NAME_OF) as AliasedName[];
const THEIRS = OURS.map((n) => ALLUXIO_NAME_OF[n]);
const EXPECTED: Record<AlluxioMetricNames, string[]> = { both: [...OURS, ...THEIRS], alluxio: THEIRS, native: OURS };

const JOB_A = '00000000-0000-4000-8000-00000000000a';
const JOB_B = '00000000-0000-4000-8000-00000000000b';
const meta = (jobId: string, epoch: number, reason?: string): EventMeta => ({
  jobId, epoch, actor: 'test', at: '2024-05-01T12:00:00.000Z', v: 1, ...(reason === undefined ? {} : { reason }),
});
const submitted = (jobId: string): Envelope => ({
  type: 'JobSubmitted',
  data: { jobId, type: 'noop', name: 'n', spec: {}, priority: 0, maxTaskAttempts: 3, maxFailedRatio: 0.5, requestHash: 'h', owner: 'alice' },
  meta: meta(jobId, 0),
});
const claimed = (jobId: string, epoch: number): Envelope => ({ type: 'JobClaimed', data: { coordinatorId: 'c1', epoch }, meta: meta(jobId, epoch) });

/** A metrics instance with every source attached, after two claims, a reclaim, 4 polls and a few reads. */
async function exercised(names?: AlluxioMetricNames) {
  const metrics = createMetrics({ labels: { roles: 'test' }, processMetrics: false, ...(names === undefined ? {} : { alluxioMetricNames: names }) });
  const eventLog = metrics.wrapEventLog(createMemoryEventLog());
  const projection = createJobProjection({ logger: silentLogger });
  const follower = eventLog.follow(1, (r) => projection.apply(r));
  const stats = { owned: 0, inflightTasks: 0, inflightTasksPerVc: new Map<string, number>(), claimPasses: 4 };
  metrics.attach({ projection, coordinator: { id: 'c-1', stats: () => stats } });
  try {
    const append = async (...events: Envelope[]) => {
      const { seq } = await eventLog.append(jobEvSubject(events[0]!.meta.jobId), events);
      assert.ok(await projection.waitFor(seq, 2000));
    };
    await append(submitted(JOB_A), claimed(JOB_A, 1));
    await append({ type: 'JobRequeued', data: { fromCoordinator: 'c1', epoch: 2 }, meta: meta(JOB_A, 2, 'owner stale') });
    await append(claimed(JOB_A, 3));
    await append(submitted(JOB_B));
    await eventLog.readSubject(jobEvSubject(JOB_A));
    await eventLog.lastSeq();
    const { text } = await metrics.render();
    return { text, samples: parseExposition(text), stats, render: async () => (await metrics.render()).text };
  } finally {
    metrics.stop();
    await follower.stop();
  }
}

/** The samples of family `name` (its `_bucket`/`_sum`/`_count` too), renamed to `as`, in a stable order. */
function family(samples: Sample[], name: string, as = name): string[] {
  return samples
    .filter((s) => s.name === name || (s.name.startsWith(`${name}_`) && /^_(bucket|sum|count)$/.test(s.name.slice(name.length))))
    .map((s) => `${as}${s.name.slice(name.length)}${JSON.stringify(Object.entries(s.labels).sort())} ${s.value}`)
    .sort();
}

describe('alluxioMetricNames', () => {
  for (const names of ALLUXIO_METRIC_NAMES) {
    it(`${names}: the exposition has exactly ${names === 'both' ? 'both sets of names' : names === 'alluxio' ? "Alluxio's names" : 'our names'}`, async () => {
      const { text } = await exercised(names);
      const families = familiesOf(text);
      const scheduler = [...families.keys()].filter((n) => (OURS as string[]).includes(n) || n.startsWith('alluxio_'));
      assert.deepEqual(scheduler.sort(), [...EXPECTED[names]].sort());
      for (const n of THEIRS) if (families.has(n)) assert.equal(families.get(n), n.endsWith('_ms') ? 'histogram' : 'counter', n);
      // The other series keep our names whatever the setting.
      assert.ok(families.has('jetjobs_scheduler_wait_seconds') && families.has('jetjobs_coordinator_owned_jobs'));
    });
  }

  it('defaults to both', async () => {
    assert.deepEqual(resolveConfig().alluxioMetricNames, 'both');
    const families = familiesOf((await exercised()).text);
    for (const n of EXPECTED.both) assert.ok(families.has(n), n);
  });

  it("Alluxio's samples equal ours, label for label, and the work is counted once", async () => {
    const { samples, stats, render } = await exercised('both');
    for (const ours of OURS) {
      const theirs = ALLUXIO_NAME_OF[ours];
      assert.ok(family(samples, ours).length > 0, ours);
      assert.deepEqual(family(samples, theirs), family(samples, ours, theirs), `${theirs} mirrors ${ours}`);
    }
    assert.equal(valueOf(samples, 'alluxio_scheduler_etcd_claim', { roles: 'test' }), 2);
    assert.equal(valueOf(samples, 'alluxio_scheduler_etcd_reclaim', { reason: 'stale-owner' }), 1);
    assert.equal(valueOf(samples, 'alluxio_scheduler_etcd_poll', { coordinator: 'c-1' }), 4);
    assert.equal(valueOf(samples, 'alluxio_scheduler_job_access_etcd', { type: 'append' }), 4);
    assert.equal(valueOf(samples, 'alluxio_scheduler_etcd_latency_ms_count', { op: 'append' }), 4);
    assert.equal(valueOf(samples, 'alluxio_scheduler_etcd_latency_ms_bucket', { op: 'readSubject', le: '+Inf' }), 1);
    // A poll counted after the first scrape shows under both names (the mirror is read at scrape time).
    stats.claimPasses = 7;
    const again = parseExposition(await render());
    assert.equal(valueOf(again, 'alluxio_scheduler_etcd_poll', { coordinator: 'c-1' }), 7);
    assert.equal(valueOf(again, 'jetjobs_scheduler_poll_total', { coordinator: 'c-1' }), 7);
  });

  it("alluxio: Alluxio's names carry the same counts with ours not exported", async () => {
    const mine = (await exercised('native')).samples;
    const theirs = (await exercised('alluxio')).samples;
    for (const ours of OURS.filter((n) => n !== 'jetjobs_scheduler_latency_ms')) {
      assert.deepEqual(family(theirs, ALLUXIO_NAME_OF[ours]), family(mine, ours, ALLUXIO_NAME_OF[ours]), ours);
    }
    assert.equal(valueOf(theirs, 'alluxio_scheduler_etcd_latency_ms_count', { op: 'append' }), 4);
  });

  it('is read from JETJOBS_ALLUXIO_METRIC_NAMES and --alluxio-metric-names, other words refused', () => {
    assert.equal(resolveConfig(readEnv({ JETJOBS_ALLUXIO_METRIC_NAMES: 'native' })).alluxioMetricNames, 'native');
    assert.equal(resolveConfig(parseFlags(['--alluxio-metric-names', 'alluxio'])).alluxioMetricNames, 'alluxio');
    assert.throws(() => resolveConfig(readEnv({ JETJOBS_ALLUXIO_METRIC_NAMES: 'prometheus' })), ConfigError);
  });
});
