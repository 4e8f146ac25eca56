/**
 * `JobService.tasks`: a job's per-task detail through its life, over the whole engine on the
 * in-memory log, queue and liveness; refused (as not found) to a caller that may not see the job;
 * empty once retention compacted it.
 */
import { untilTerminal, withMemoryEngine } from '../../helpers/memoryEngine.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Config } from '../../../engine/config.ts';
import { isAppError } from '../../../engine/errors.ts';
import { SYSTEM_CALLER, type Caller, type JobView, type TaskView } from '../../../engine/serviceTypes.ts';
import { type Roles } from '../../../engine/startRoles.ts';
import { waitFor } from '../../helpers/wait.ts';

const ANN: Caller = { user: 'ann', role: 'operator', virtualClusters: [] };
const BOB: Caller = { user: 'bob', role: 'operator', virtualClusters: [] };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;


const withEngine = (overrides: Partial<Config>, body: (core: Roles) => Promise<void>) => withMemoryEngine(overrides, (e) => body(e.core));
const terminal = untilTerminal;

const states = (tasks: TaskView[]) => tasks.map((t) => t.state);
const notFound = (e: unknown) => isAppError(e, 'JOB_NOT_FOUND');

/** The one worker's id, as the service lists it. */
async function workerId(core: Roles): Promise<string> {
  const [w] = (await core.service.workers()).filter((x) => x.state === 'ACTIVE');
  assert.ok(w, 'a worker is registered');
  return w.id;
}

describe('JobService.tasks', () => {
  it('follows a job: none before the plan, running while it runs, pending while paused, then succeeded with time and worker', async () => {
    await withEngine({ workerConcurrency: 1, maxTasksPerWorker: 1, runningJobCapacity: 1 }, async (core) => {
      // a job that holds the one running slot keeps ours WAITING, unplanned
      const blocker = await core.service.submit({ type: 'sleep', spec: { ms: 60_000 } }, { caller: ANN });
      await waitFor(async () => ((await core.service.get(blocker.job.id, ANN)).state === 'RUNNING' ? true : undefined), { what: 'blocker running', intervalMs: 2 });
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 150, tasks: 3 } }, { caller: ANN });
      assert.equal((await core.service.get(job.id, ANN)).state, 'WAITING');
      assert.deepEqual(await core.service.tasks(job.id, ANN), []);
      await core.service.stop(blocker.job.id, { caller: ANN, force: true });
      const planned = await waitFor(async () => {
        const t = await core.service.tasks(job.id, ANN);
        return t.length === 3 && t.every((x) => x.state === 'running') ? t : undefined;
      }, { what: 'planned and running', intervalMs: 2 });
      assert.deepEqual(planned.map((t) => [t.taskId, t.index, t.items, t.bytes]), [['t00000', 0, 1, 0], ['t00001', 1, 1, 0], ['t00002', 2, 1, 0]]);
      for (const t of planned) assert.deepEqual([t.attempts, t.lastUpdated, t.worker, t.error], [0, null, null, null]);

      await core.service.pause(job.id, { caller: ANN });
      const paused = await core.service.tasks(job.id, ANN);
      assert.ok(paused.every((t) => t.state === 'pending' || t.state === 'succeeded'), JSON.stringify(states(paused)));
      assert.ok(paused.some((t) => t.state === 'pending'), 'a paused job has tasks left');

      await core.service.resume(job.id, { caller: ANN });
      assert.equal((await terminal(core, job.id)).state, 'SUCCEEDED');
      const done = await core.service.tasks(job.id, ANN);
      const worker = await workerId(core);
      assert.deepEqual(states(done), ['succeeded', 'succeeded', 'succeeded']);
      for (const t of done) {
        assert.equal(t.attempts, 1);
        assert.equal(t.worker, worker);
        assert.equal(t.error, null);
        assert.match(t.lastUpdated ?? '', ISO);
      }
    });
  });

  it('a task that fails and is retried: attempts counted, succeeded without error; with its budget used up: failed with the error', async () => {
    await withEngine({}, async (core) => {
      const retried = await core.service.submit({ type: 'sleep', spec: { ms: 0, failTimes: 2 }, maxTaskAttempts: 3 }, { caller: ANN });
      assert.equal((await terminal(core, retried.job.id)).state, 'SUCCEEDED');
      const [ok] = await core.service.tasks(retried.job.id, ANN);
      assert.deepEqual([ok?.state, ok?.attempts, ok?.error], ['succeeded', 3, null]);

      const failing = await core.service.submit({ type: 'sleep', spec: { ms: 0, failTimes: 5, tasks: 2 }, maxTaskAttempts: 2 }, { caller: ANN });
      const done: JobView = await terminal(core, failing.job.id);
      assert.equal(done.state, 'FAILED');
      const tasks = await core.service.tasks(failing.job.id, ANN);
      assert.equal(tasks.length, 2);
      // the job fails once one task failed for good: the other may still be pending
      const failed = tasks.filter((t) => t.state === 'failed');
      assert.ok(failed.length >= 1, JSON.stringify(tasks));
      for (const t of failed) {
        assert.equal(t.attempts, 2);
        assert.deepEqual([t.error?.code, t.error?.retryable], ['INJECTED_FAILURE', true]);
        assert.equal(t.worker, await workerId(core));
      }
      assert.ok(tasks.every((t) => t.state === 'failed' || t.state === 'pending'), JSON.stringify(states(tasks)));
      // the failures report agrees on the tasks that failed for good
      const report = await core.service.failures(failing.job.id, ANN);
      assert.deepEqual(report.tasks.map((t) => t.taskId), failed.map((t) => t.taskId));
    });
  });

  it('a stopped job: its tasks that never finished are pending; a job stopped before its plan has none', async () => {
    await withEngine({}, async (core) => {
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 60_000, tasks: 2 } }, { caller: ANN });
      await waitFor(async () => ((await core.service.tasks(job.id, ANN)).some((t) => t.state === 'running') ? true : undefined), { what: 'running', intervalMs: 2 });
      assert.equal((await core.service.stop(job.id, { caller: ANN, force: true })).state, 'STOPPED');
      const tasks = await core.service.tasks(job.id, ANN);
      assert.deepEqual(states(tasks), ['pending', 'pending']);
      assert.ok(tasks.every((t) => t.error === null), 'a late outcome after the stop changes nothing');
    });
    await withEngine({ roles: ['api'] }, async (core) => {
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 0, tasks: 2 } }, { caller: ANN });
      assert.deepEqual(await core.service.tasks(job.id, ANN), []);
      await core.service.stop(job.id, { caller: ANN });
      assert.deepEqual(await core.service.tasks(job.id, ANN), []);
    });
  });

  it('is refused (not found) to a caller that may not see the job, as get is', async () => {
    await withEngine({}, async (core) => {
      const { job } = await core.service.submit({ type: 'noop', spec: { tasks: 2 } }, { caller: ANN });
      await terminal(core, job.id);
      assert.equal((await core.service.tasks(job.id, ANN)).length, 2);
      assert.equal((await core.service.tasks(job.id, SYSTEM_CALLER)).length, 2);
      await assert.rejects(core.service.tasks(job.id, BOB), notFound);
      await assert.rejects(core.service.get(job.id, BOB), notFound);
      await assert.rejects(core.service.tasks(job.id, { ...BOB, role: 'viewer' }), notFound);
      await assert.rejects(core.service.tasks('00000000-0000-4000-8000-000000000000', SYSTEM_CALLER), notFound);
    });
  });

  it('a compacted job has no task detail left: []', async () => {
    await withEngine({ compactAfterMs: 0 }, async (core) => {
      const { job } = await core.service.submit({ type: 'noop', spec: { tasks: 3 } }, { caller: ANN });
      await terminal(core, job.id);
      assert.equal((await core.service.tasks(job.id, ANN)).length, 3);
      await waitFor(async () => {
        await core.retention.runOnce();
        return (await core.service.get(job.id, ANN)).compacted ? true : undefined;
      }, { what: 'compacted', intervalMs: 5 });
      assert.deepEqual(await core.service.tasks(job.id, ANN), []);
      await assert.rejects(core.service.tasks(job.id, BOB), notFound);
    });
  });
});
