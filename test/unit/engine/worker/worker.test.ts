import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../coordinator/harness.ts';
import { waitFor } from '../../../helpers/wait.ts';
import type { JobType } from '../../../../engine/jobtypes/jobType.ts';

describe('worker', () => {
  it('counts the outcomes it recorded: succeeded and failed tasks', async () => {
    const h = await startHarness();
    try {
      const w = await h.startWorker('w1');
      const c = await h.startCoordinator('c1');
      // 3 tasks whose first attempt fails (retryable), then succeeds: 3 failed + 3 completed.
      const id = await h.submit({ type: 'sleep', spec: { ms: 0, tasks: 3, failTimes: 1 } });
      await waitFor(() => h.job(id).state === 'SUCCEEDED', { what: 'SUCCEEDED', intervalMs: 2 });
      assert.deepEqual(w.stats(), { running: 0, completed: 3, failed: 3 });
      assert.deepEqual({ owned: c.stats().owned, inflightTasks: c.stats().inflightTasks }, { owned: 0, inflightTasks: 0 });
    } finally {
      await h.close();
    }
  });

  it('aborts the running tasks of a job stopped outright and records no outcome for them', async () => {
    const h = await startHarness();
    try {
      const w = await h.startWorker('w1');
      const c = await h.startCoordinator('c1');
      const id = await h.submit({ type: 'sleep', spec: { ms: 30_000, tasks: 3 } });
      await waitFor(() => w.running() === 3 && c.stats().inflightTasks === 3, { what: '3 tasks running', intervalMs: 2 });
      await h.command(id, { kind: 'stop', force: true });
      await waitFor(() => w.running() === 0, { what: 'tasks aborted', timeoutMs: 2000, intervalMs: 2 });
      assert.equal(h.job(id).state, 'STOPPED');
      assert.deepEqual(w.stats(), { running: 0, completed: 0, failed: 0 });
    } finally {
      await h.close();
    }
  });

  it('keeps a task alive without a publish per heartbeat: a job type that beats per item sends at most one per tenth of the ack wait', async () => {
    const items = 20_000;
    const chatty: JobType = {
      name: 'chatty',
      instantVerify: true,
      specSchema: { type: 'object', additionalProperties: false },
      verify: async () => ({ ok: true }),
      plan: async () => [{ taskId: 't0', payload: {}, items, bytes: 0 }],
      run: async (_spec, _payload, ctx) => {
        for (let i = 0; i < items; i++) ctx.heartbeat();
        return { itemsDone: items, itemsFailed: 0, bytesDone: 0, failures: [] };
      },
    };
    const h = await startHarness({ extraTypes: [chatty] });
    try {
      await h.startWorker('w1');
      await h.startCoordinator('c1');
      const id = await h.submit({ type: 'chatty', spec: {} });
      await waitFor(() => h.job(id).state === 'SUCCEEDED', { what: 'SUCCEEDED', intervalMs: 2 });
      // the loop takes far less than a tenth of the 30 s ack wait: one working() reaches the queue
      assert.ok(h.workingCalls >= 1 && h.workingCalls <= 2, `working() called ${h.workingCalls} times`);
    } finally {
      await h.close();
    }
  });
});
