/** Cooperative stop with a grace period, then forced, over the in-memory engine. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobType } from '../../../../engine/jobtypes/jobType.ts';
import { jobTaskSubject } from '../../../../engine/subjects.ts';
import { startHarness } from './harness.ts';
import { waitFor } from '../../../helpers/wait.ts';

/** One instant task, then a verification that lasts until aborted. */
const slowVerify: JobType = {
  name: 'slow-verify',
  specSchema: { type: 'object', additionalProperties: false },
  plan: async () => [{ taskId: 't0', payload: null, items: 1, bytes: 0 }],
  run: async () => ({ itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] }),
  verify: (_spec, ctx) =>
    new Promise((resolve) => {
      const t = setTimeout(() => resolve({ ok: true }), 30_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve({ ok: true });
      });
    }),
};

describe('coordinator: stop with a grace period', () => {
  it('dispatches nothing after the stop request and stops once the tasks in flight finish', async () => {
    // A window of 2 tasks: 4 of the 6 tasks are still undispatched when the stop comes.
    const h = await startHarness({ maxTasksPerWorker: 2, workerConcurrency: 2 });
    try {
      const w = await h.startWorker('w1');
      await h.startCoordinator('c1');
      const id = await h.submit({ type: 'sleep', spec: { ms: 400, tasks: 6 } });
      await waitFor(() => w.running() === 2, { what: '2 tasks running', intervalMs: 2 });
      let dispatchedAtStop = -1;
      h.projection.onChange((e) => {
        const ctx = e.snapshot.context as { stopRequested: unknown };
        if (e.id === id && ctx.stopRequested && dispatchedAtStop < 0) dispatchedAtStop = h.dispatched.length;
      });
      const t0 = Date.now();
      await h.command(id, { kind: 'stop', graceMs: 10_000 }, 'user wants it gone');
      await waitFor(() => h.job(id).state === 'STOPPED', { what: 'STOPPED', intervalMs: 2 });
      assert.equal(dispatchedAtStop, 2);
      assert.equal(h.dispatched.length, 2, 'no task dispatched after StopRequested');
      assert.equal(h.ctx(id).progress.tasksSucceeded, 2, 'the tasks in flight finished');
      assert.ok(Date.now() - t0 < 5000, 'stopped long before the 10 s deadline');
      const last = (await h.history(id)).at(-1)!;
      assert.deepEqual([last.type, last.actor, last.reason], ['JobStopped', 'coordinator:c1', 'stop: tasks in flight finished']);
      assert.ok((await h.history(id)).some((e) => e.type === 'StopRequested' && e.reason === 'user wants it gone'));
    } finally {
      await h.close();
    }
  });

  it('forces the stop at the deadline when tasks outlast the grace period, aborting them', async () => {
    const h = await startHarness();
    try {
      const w = await h.startWorker('w1');
      await h.startCoordinator('c1');
      const id = await h.submit({ type: 'sleep', spec: { ms: 30_000, tasks: 2 } });
      await waitFor(() => w.running() === 2, { what: '2 tasks running', intervalMs: 2 });
      const t0 = Date.now();
      await h.command(id, { kind: 'stop', graceMs: 300 });
      await waitFor(() => h.job(id).state === 'STOPPED', { what: 'STOPPED', intervalMs: 2 });
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 250 && elapsed < 5000, `stopped after ${elapsed} ms`);
      const last = (await h.history(id)).at(-1)!;
      assert.equal(last.type, 'JobStopped');
      assert.equal(last.reason, 'stop: grace period over, 2 tasks abandoned');
      // The worker aborts the abandoned tasks and records no outcome for them.
      await waitFor(() => w.running() === 0, { what: 'tasks aborted', timeoutMs: 2000, intervalMs: 2 });
      assert.equal(w.stats().completed + w.stats().failed, 0);
      assert.equal((await h.log.readSubject(jobTaskSubject(id))).length, 0);
    } finally {
      await h.close();
    }
  });

  it('a new owner after a requeue stops the job at once without dispatching', async () => {
    const h = await startHarness();
    try {
      const w = await h.startWorker('w1');
      const c1 = await h.startCoordinator('c1');
      const id = await h.submit({ type: 'sleep', spec: { ms: 30_000, tasks: 2 } });
      await waitFor(() => w.running() === 2, { what: '2 tasks running', intervalMs: 2 });
      const t0 = Date.now();
      await h.command(id, { kind: 'stop', graceMs: 20_000 });
      await c1.stop({ handoff: true }); // requeues the job: WAITING, stop still requested
      await waitFor(() => h.job(id).state === 'WAITING', { what: 'requeued', intervalMs: 2 });
      assert.ok(h.ctx(id).stopRequested, 'the stop request survives the requeue');
      const before = h.dispatched.length;
      await h.startCoordinator('c2');
      await waitFor(() => h.job(id).state === 'STOPPED', { what: 'STOPPED', intervalMs: 2 });
      assert.ok(Date.now() - t0 < 20_000 - 5000, 'well before the deadline');
      assert.equal(h.dispatched.length, before, 'the new owner dispatched nothing');
      const types = (await h.history(id)).map((e) => `${e.type}@${e.actor}`);
      assert.deepEqual(types.slice(-3), ['JobRequeued@coordinator:c1', 'JobClaimed@coordinator:c2', 'JobStopped@coordinator:c2']);
      await waitFor(() => w.running() === 0, { what: 'tasks aborted', timeoutMs: 2000, intervalMs: 2 });
    } finally {
      await h.close();
    }
  });

  it('stops a verifying job at once, dropping the verification', async () => {
    const h = await startHarness({ extraTypes: [slowVerify] });
    try {
      await h.startWorker('w1');
      await h.startCoordinator('c1');
      const id = await h.submit({ type: 'slow-verify', spec: {} });
      await waitFor(() => h.job(id).state === 'VERIFYING', { what: 'VERIFYING', intervalMs: 2 });
      await h.command(id, { kind: 'stop', graceMs: 10_000 });
      await waitFor(() => h.job(id).state === 'STOPPED', { what: 'STOPPED', timeoutMs: 3000, intervalMs: 2 });
      assert.equal((await h.history(id)).at(-1)?.reason, 'stop: verification aborted');
    } finally {
      await h.close();
    }
  });
});
