/**
 * A worker on the slim job view (a worker-only process, decision 0012 F2), beside a coordinator
 * over the same in-memory log: it runs tasks, drops and aborts those of a stopped job, and aborts
 * the attempts a job retry made obsolete, as a worker on the full projection does (worker.test.ts,
 * coordinator/jobRetry.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskResult } from '../../../../actors/events.ts';
import { TaskRunError, type JobType, type RunContext } from '../../../../engine/jobtypes/jobType.ts';
import { startHarness, type Harness } from '../coordinator/harness.ts';
import { waitFor } from '../../../helpers/wait.ts';

const OK: TaskResult = { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };

async function withSlimWorker(types: JobType[], body: (h: Harness, w: Awaited<ReturnType<Harness['startWorker']>>) => Promise<void>): Promise<void> {
  const h = await startHarness({ extraTypes: types });
  try {
    const w = await h.startWorker('w1', 'slim');
    await h.startCoordinator('c1');
    await body(h, w);
  } finally {
    await h.close();
  }
}

describe('worker on the slim job view', () => {
  it('runs every task once and counts the outcomes', async () => {
    await withSlimWorker([], async (h, w) => {
      const id = await h.submit({ type: 'sleep', spec: { ms: 0, tasks: 3, failTimes: 1 } });
      await waitFor(() => h.job(id).state === 'SUCCEEDED', { what: 'SUCCEEDED', intervalMs: 2 });
      assert.deepEqual(w.stats(), { running: 0, completed: 3, failed: 3 });
    });
  });

  it('aborts the running tasks of a job stopped outright and records no outcome for them', async () => {
    await withSlimWorker([], async (h, w) => {
      const id = await h.submit({ type: 'sleep', spec: { ms: 30_000, tasks: 3 } });
      await waitFor(() => w.running() === 3, { what: '3 tasks running', intervalMs: 2 });
      await h.command(id, { kind: 'stop', force: true });
      await waitFor(() => w.running() === 0, { what: 'tasks aborted', timeoutMs: 2000, intervalMs: 2 });
      assert.equal(h.job(id).state, 'STOPPED');
      assert.deepEqual(w.stats(), { running: 0, completed: 0, failed: 0 });
    });
  });

  it('a job retry: the old run\'s attempt still running is aborted as obsolete, the new run succeeds', async () => {
    const runs: { taskId: string; attempt: number }[] = [];
    const aborted: string[] = [];
    const runsOf = (taskId: string) => runs.filter((r) => r.taskId === taskId);
    // t0 fails once t1 runs (t1 is then an attempt in flight when the job is retried); t1's first run waits to be aborted
    const run = async (ctx: RunContext): Promise<TaskResult> => {
      runs.push({ taskId: ctx.taskId, attempt: ctx.attempt });
      if (ctx.taskId === 't0' && runsOf('t0').length === 1) {
        await waitFor(() => runsOf('t1').length > 0, { what: 't1 running', intervalMs: 1 });
        throw new TaskRunError('EXEC_EXIT', 't0 failed', false);
      }
      if (ctx.taskId === 't1' && runsOf('t1').length === 1) {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(String(ctx.signal.reason));
        throw new TaskRunError('ABORTED', 'aborted', false);
      }
      return OK;
    };
    const type: JobType = {
      name: 'slim-retry', specSchema: { type: 'object', additionalProperties: false },
      plan: async () => [{ taskId: 't0', payload: null, items: 1, bytes: 0 }, { taskId: 't1', payload: null, items: 1, bytes: 0 }],
      run: (_spec, _payload, ctx) => run(ctx),
      verify: async () => ({ ok: true }),
      settle: (_spec, view) => (view.states.includes('failed') ? { ok: false, code: 'EXEC_FAILED', message: 'a task failed' } : undefined),
      jobRetries: () => 1,
    };
    await withSlimWorker([type], async (h) => {
      const id = await h.submit({ type: type.name, spec: {} });
      await waitFor(() => (['SUCCEEDED', 'FAILED', 'STOPPED'].includes(h.job(id).state) ? true : undefined), { what: 'terminal', intervalMs: 5 });
      assert.equal(h.job(id).state, 'SUCCEEDED', JSON.stringify(h.ctx(id).error));
      assert.deepEqual(aborted, ['attempt-obsolete']);
      assert.deepEqual(runsOf('t1').map((r) => r.attempt), [1, 2], 't1\'s attempt 1 is below the new run\'s floor, 2');
    });
  });
});
