/** Virtual-cluster shares: what a claim pass runs, over the in-memory engine. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobType } from '../../../../engine/jobtypes/jobType.ts';
import { startHarness, type Harness } from './harness.ts';
import { waitFor } from '../../../helpers/wait.ts';

const twoVcs = [
  { name: 'a', capacity: 30, maxCapacity: 50 },
  { name: 'b', capacity: 70, maxCapacity: 100 },
];

/** Tracks the highest active count per VC seen while `when` holds. */
function watchActive(h: Harness, when: (counts: ReadonlyMap<string, { waiting: number; active: number }>) => boolean) {
  const max = new Map<string, number>();
  const seen: string[] = [];
  const off = h.projection.onChange(() => {
    const counts = h.projection.virtualClusterCounts();
    if (!when(counts)) return;
    for (const [vc, c] of counts) max.set(vc, Math.max(max.get(vc) ?? 0, c.active));
    seen.push(`a=${counts.get('a')?.active ?? 0} b=${counts.get('b')?.active ?? 0}`);
  });
  return { max, seen, off };
}

const waitingOf = (counts: ReadonlyMap<string, { waiting: number }>, vc: string) => counts.get(vc)?.waiting ?? 0;

describe('coordinator: virtual-cluster shares', () => {
  it('splits the running slots by guaranteed share while both VCs have more work than slots', async () => {
    const h = await startHarness({ runningJobCapacity: 10, virtualClusters: twoVcs });
    try {
      await h.startWorker('w1');
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        ids.push(await h.submit({ type: 'sleep', spec: { ms: 100 }, virtualCluster: 'a' }));
        ids.push(await h.submit({ type: 'sleep', spec: { ms: 100 }, virtualCluster: 'b' }));
      }
      const w = watchActive(h, (c) => waitingOf(c, 'a') > 0 && waitingOf(c, 'b') > 0);
      await h.startCoordinator('c1');
      await waitFor(() => ids.every((id) => h.job(id).state === 'SUCCEEDED'), { what: 'all jobs finished', timeoutMs: 20_000, intervalMs: 2 });
      w.off();
      // Never more than the share while the other VC had work waiting, and the shares were reached.
      assert.equal(w.max.get('a'), 3, `a peaked at ${w.max.get('a')}`);
      assert.equal(w.max.get('b'), 7, `b peaked at ${w.max.get('b')}`);
      assert.ok(w.seen.includes('a=3 b=7'), 'the 3/7 split was reached');
    } finally {
      await h.close();
    }
  });

  it('lets a VC alone borrow idle slots up to its max share, never more', async () => {
    const h = await startHarness({ runningJobCapacity: 10, virtualClusters: twoVcs });
    try {
      await h.startWorker('w1');
      const ids: string[] = [];
      for (let i = 0; i < 15; i++) ids.push(await h.submit({ type: 'sleep', spec: { ms: 100 }, virtualCluster: 'a' }));
      const w = watchActive(h, () => true);
      await h.startCoordinator('c1');
      await waitFor(() => ids.every((id) => h.job(id).state === 'SUCCEEDED'), { what: 'all jobs finished', timeoutMs: 20_000, intervalMs: 2 });
      w.off();
      assert.equal(w.max.get('a'), 5); // 50 % of 10 slots, though 5 more sit idle
    } finally {
      await h.close();
    }
  });

  it('runs jobs of a VC that is no longer defined under default\'s share', async () => {
    const h = await startHarness({ runningJobCapacity: 10, virtualClusters: [...twoVcs, { name: 'default', capacity: 0, maxCapacity: 20 }] });
    try {
      await h.startWorker('w1');
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await h.submit({ type: 'sleep', spec: { ms: 100 }, virtualCluster: 'deleted' }));
      const w = watchActive(h, () => true);
      await h.startCoordinator('c1');
      await waitFor(() => ids.every((id) => h.job(id).state === 'SUCCEEDED'), { what: 'all jobs finished', timeoutMs: 20_000, intervalMs: 2 });
      w.off();
      assert.equal(w.max.get('deleted'), 2); // default's max: 20 % of 10
    } finally {
      await h.close();
    }
  });

  it('claims by priority, then in submission order, within a VC', async () => {
    const h = await startHarness({ runningJobCapacity: 1, virtualClusters: twoVcs });
    try {
      await h.startWorker('w1');
      const order: string[] = [];
      h.projection.onChange((e, before) => {
        if (before === 'WAITING' && e.state !== 'WAITING') order.push(e.id);
      });
      const low = await h.submit({ type: 'noop', spec: {}, virtualCluster: 'a', priority: 1 });
      const high1 = await h.submit({ type: 'noop', spec: {}, virtualCluster: 'a', priority: 5 });
      const mid = await h.submit({ type: 'noop', spec: {}, virtualCluster: 'a', priority: 3 });
      const high2 = await h.submit({ type: 'noop', spec: {}, virtualCluster: 'a', priority: 5 });
      const c = await h.startCoordinator('c1');
      await waitFor(() => order.length === 4, { what: 'all claimed', intervalMs: 2 });
      assert.deepEqual(order, [high1, high2, mid, low]);
      assert.ok(c.stats().claimPasses >= 4);
    } finally {
      await h.close();
    }
  });

  /**
   * A job type that counts its tasks running at once per tag (the test gives each VC's jobs their
   * own tag); each start also records `sample()`, whatever the test wants to know at that moment.
   */
  function probe(sample: () => boolean = () => true) {
    const running = new Map<string, number>();
    const starts: { tag: string; running: number; sampled: boolean }[] = [];
    const type: JobType<{ tag: string; tasks: number; ms: number }> = {
      name: 'probe',
      specSchema: {
        type: 'object', additionalProperties: false, required: ['tag', 'tasks', 'ms'],
        properties: { tag: { type: 'string' }, tasks: { type: 'integer' }, ms: { type: 'integer' } },
      },
      async plan(spec) {
        return Array.from({ length: spec.tasks }, (_, i) => ({ taskId: `t${i}`, payload: null, items: 1, bytes: 0 }));
      },
      async run(spec) {
        const n = (running.get(spec.tag) ?? 0) + 1;
        running.set(spec.tag, n);
        starts.push({ tag: spec.tag, running: n, sampled: sample() });
        await new Promise((r) => setTimeout(r, spec.ms));
        running.set(spec.tag, (running.get(spec.tag) ?? 1) - 1);
        return { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };
      },
      async verify() {
        return { ok: true };
      },
    };
    /** Most tasks of `tag` running at once (counted at starts where `sample()` held, if `sampled`). */
    const peak = (tag: string, sampled = false) =>
      Math.max(0, ...starts.filter((x) => x.tag === tag && (!sampled || x.sampled)).map((x) => x.running));
    return { type, peak };
  }

  it('keeps a VC\'s tasks in flight within its max share of the worker slots', async () => {
    const p = probe();
    // one worker of 10 slots: a may use 50 % of them, however many tasks its one job has
    const h = await startHarness({ maxTasksPerWorker: 10, workerConcurrency: 10, virtualClusters: twoVcs, extraTypes: [p.type as JobType] });
    try {
      await h.startWorker('w1');
      await h.startCoordinator('c1');
      const id = await h.submit({ type: 'probe', spec: { tag: 'a', tasks: 30, ms: 20 }, virtualCluster: 'a' });
      await waitFor(() => h.job(id).state === 'SUCCEEDED', { what: 'the job finished', timeoutMs: 20_000, intervalMs: 2 });
      assert.equal(p.peak('a'), 5);
    } finally {
      await h.close();
    }
  });

  it('gives a VC its guaranteed worker slots back from one that borrowed them all, as those tasks finish', async () => {
    let ja = '';
    // sampled: a still has tasks the coordinator has not dispatched
    const p = probe(() => h.dispatched.filter((d) => d.task.jobId === ja).length < 200);
    const vcs = [
      { name: 'a', capacity: 30, maxCapacity: 100 },
      { name: 'b', capacity: 70, maxCapacity: 100 },
    ];
    const h = await startHarness({ maxTasksPerWorker: 10, workerConcurrency: 10, virtualClusters: vcs, extraTypes: [p.type as JobType] });
    try {
      await h.startWorker('w1');
      await h.startCoordinator('c1');
      ja = await h.submit({ type: 'probe', spec: { tag: 'a', tasks: 200, ms: 20 }, virtualCluster: 'a' });
      await waitFor(() => p.peak('a') === 10, { what: 'a borrowed every slot', intervalMs: 2 });
      const jb = await h.submit({ type: 'probe', spec: { tag: 'b', tasks: 60, ms: 20 }, virtualCluster: 'b' });
      await waitFor(() => h.job(ja).state === 'SUCCEEDED' && h.job(jb).state === 'SUCCEEDED', { what: 'both jobs finished', timeoutMs: 30_000, intervalMs: 2 });
      // while a still had tasks to run, b reached its guarantee (7 of 10) and never more
      assert.equal(p.peak('b', true), 7);
    } finally {
      await h.close();
    }
  });
});
