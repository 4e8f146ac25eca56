/**
 * Open plans and a job's parallelism through the whole engine (coordinator, worker, API service) over
 * the in-memory log: a slicing job type makes its tasks as they are needed, a finite one ends when its
 * slicer is done, an endless one runs until stopped; parallelism caps the tasks in flight and can be
 * changed while the job runs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskPlan } from '../../../actors/events.ts';
import { isAppError } from '../../../engine/errors.ts';
import type { JobType } from '../../../engine/jobtypes/jobType.ts';
import { SYSTEM_CALLER } from '../../../engine/serviceTypes.ts';
import { untilTerminal, withMemoryEngine } from '../../helpers/memoryEngine.ts';
import { waitFor } from '../../helpers/wait.ts';

/** Tasks running now and the most seen at once, per job. */
const running = new Map<string, { now: number; max: number; done: number }>();
const gates: (() => void)[] = [];
const failedOnce = new Set<string>();
let holdTasks = false;

type SliceSpec = { total?: number; failAt?: number };

/** `slices`: `total` tasks (none: endless), made `want` at a time by extend; task `failAt` fails its first run. */
const slicesType: JobType<SliceSpec> = {
  name: 'slices',
  specSchema: { type: 'object', additionalProperties: false, properties: { total: { type: 'integer', minimum: 0 }, failAt: { type: 'integer' } } },
  plan: async () => [],
  async openPlan(spec) {
    return cut(spec, 0, 3);
  },
  async extend(spec, cursor, ctx) {
    return cut(spec, (cursor as { next: number }).next, ctx.want);
  },
  async run(spec, payload, ctx) {
    const r = running.get(ctx.jobId) ?? { now: 0, max: 0, done: 0 };
    running.set(ctx.jobId, r);
    r.now++;
    r.max = Math.max(r.max, r.now);
    try {
      if (holdTasks) await new Promise<void>((resolve) => gates.push(resolve));
      else await new Promise((resolve) => setTimeout(resolve, 2));
      // task `failAt` fails the first time it runs in a job (a recovery's re-run succeeds)
      if ((payload as { i: number }).i === spec.failAt && !failedOnce.has(ctx.jobId)) {
        failedOnce.add(ctx.jobId);
        throw Object.assign(new Error('slice failed'), { code: 'SLICE', retryable: false });
      }
      r.done++;
      return { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };
    } finally {
      r.now--;
    }
  },
  async verify() {
    return { ok: true };
  },
};

function cut(spec: SliceSpec, from: number, want: number): { tasks: TaskPlan[]; cursor?: unknown } {
  const to = spec.total === undefined ? from + want : Math.min(spec.total, from + want);
  const tasks = Array.from({ length: to - from }, (_, k) => ({ taskId: `s${from + k}`, payload: { i: from + k }, items: 1, bytes: 0 }));
  return spec.total !== undefined && to >= spec.total ? { tasks } : { tasks, cursor: { next: to } };
}

const release = () => {
  for (const g of gates.splice(0)) g();
};

describe('open plans and parallelism in the engine', () => {
  it('a finite slicer: every slice runs once, the job succeeds when the slicer is done; parallelism caps tasks in flight', async () => {
    await withMemoryEngine({}, async ({ core }) => {
      const { job } = await core.service.submit({ type: 'slices', spec: { total: 300 }, parallelism: 3 }, { caller: SYSTEM_CALLER });
      assert.deepEqual([job.parallelism, job.planOpen], [3, false]);
      const done = await untilTerminal(core, job.id);
      assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
      assert.deepEqual([done.progress.tasksTotal, done.progress.tasksSucceeded, done.planOpen], [300, 300, false]);
      assert.equal(running.get(job.id)?.done, 300, 'each slice ran once');
      assert.ok(running.get(job.id)!.max <= 3, `at most 3 at once, saw ${running.get(job.id)!.max}`);
      const tasks = await core.service.tasks(job.id, SYSTEM_CALLER);
      assert.deepEqual(tasks.map((t) => t.taskId), Array.from({ length: 300 }, (_, i) => `s${i}`));
    }, { extraTypes: [slicesType as JobType] });
  });

  it('an endless slicer runs until stopped; raising its parallelism while it runs lets more tasks run at once', async () => {
    holdTasks = true;
    try {
      await withMemoryEngine({}, async ({ core }) => {
        const { job } = await core.service.submit({ type: 'slices', spec: {}, parallelism: 1 }, { caller: SYSTEM_CALLER });
        await waitFor(() => gates.length === 1 || undefined, { what: 'one task held' });
        const raised = await core.service.setParallelism(job.id, 4, { caller: SYSTEM_CALLER, reason: 'more workers' });
        assert.equal(raised.parallelism, 4);
        await waitFor(() => gates.length === 4 || undefined, { what: 'four tasks held' });
        // the workers' heartbeats tell which tasks they run, shown only to who may see the job
        const told = await waitFor(async () => {
          const ws = await core.service.workers();
          const tasks = ws.flatMap((w) => w.tasks).filter((t) => t.jobId === job.id);
          return tasks.length === 4 ? tasks : undefined;
        }, { what: 'four running tasks in the workers\' view' });
        assert.equal(new Set(told.map((t) => t.taskId)).size, 4);
        const other = await core.service.workers({ user: 'eve', role: 'operator', virtualClusters: [] });
        assert.deepEqual(other.flatMap((w) => w.tasks), [], 'another user sees no task of this job');
        holdTasks = false;
        release();
        await waitFor(async () => (await core.service.get(job.id, SYSTEM_CALLER)).progress.tasksSucceeded >= 40 || undefined, { what: '40 slices done', timeoutMs: 20_000, intervalMs: 5 });
        const live = await core.service.get(job.id, SYSTEM_CALLER);
        assert.deepEqual([live.state, live.planOpen], ['RUNNING', true]);
        const stopped = await core.service.stop(job.id, { caller: SYSTEM_CALLER, force: true });
        assert.equal(stopped.state, 'STOPPED');
        const history = await core.service.history(job.id, SYSTEM_CALLER);
        assert.ok(history.some((h) => h.type === 'TasksExtended'));
        const set = history.find((h) => h.type === 'ParallelismSet');
        assert.deepEqual([set?.data, set?.meta.reason], [{ parallelism: 4 }, 'more workers']);
        await assert.rejects(core.service.setParallelism(job.id, 2, { caller: SYSTEM_CALLER }), (err) => isAppError(err, 'INVALID_TRANSITION'));
        await assert.rejects(core.service.setParallelism(job.id, 0, { caller: SYSTEM_CALLER }), (err) => isAppError(err, 'VALIDATION_FAILED'));
      }, { extraTypes: [slicesType as JobType] });
    } finally {
      holdTasks = false;
      release();
    }
  });

  it('a failed slice fails the job (maxFailedRatio 0) before the slicer is done; recovery replays it and the slicer goes on where it stopped', async () => {
    await withMemoryEngine({}, async ({ core }) => {
      const { job } = await core.service.submit({ type: 'slices', spec: { total: 500, failAt: 4 }, parallelism: 2, maxTaskAttempts: 1 }, { caller: SYSTEM_CALLER });
      const failed = await untilTerminal(core, job.id);
      assert.equal(failed.state, 'FAILED');
      assert.ok(failed.planOpen, 'it failed before the slicer was done');
      assert.equal(failed.progress.tasksFailed, 1);
      const recovered = await core.service.recover(job.id, { caller: SYSTEM_CALLER });
      assert.equal(recovered.state, 'WAITING');
      const again = await untilTerminal(core, job.id);
      assert.equal(again.state, 'SUCCEEDED', JSON.stringify(again.error));
      const history = await core.service.history(job.id, SYSTEM_CALLER);
      const s4 = history.filter((h) => (h.type === 'TaskFailed' || h.type === 'TaskSucceeded') && (h.data as { taskId: string }).taskId === 's4').map((h) => h.type);
      assert.deepEqual(s4, ['TaskFailed', 'TaskSucceeded'], 'the failed slice ran again after the recovery');
      // and the slicer went on where it stopped: all 500 slices made, each succeeded once
      assert.deepEqual([again.progress.tasksTotal, again.progress.tasksSucceeded, again.planOpen], [500, 500, false]);
      assert.ok(history.filter((h) => h.type === 'TasksExtended').some((h) => h.seq > history.find((x) => x.type === 'JobRecovered')!.seq), 'slicing after the recovery');
    }, { extraTypes: [slicesType as JobType] });
  });
});
