/** The whole engine (coordinator, worker, service) over the in-memory log, queue and liveness. */
import { untilTerminal, withMemoryEngine } from '../../helpers/memoryEngine.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config } from '../../../engine/config.ts';
import { type Roles } from '../../../engine/startRoles.ts';
import { isAppError } from '../../../engine/errors.ts';
import { type MemoryEventLog } from '../../../engine/eventlog/memoryEventLog.ts';
import { SYSTEM_CALLER, type Caller, type JobView } from '../../../engine/serviceTypes.ts';
import { TaskRunError, type JobType } from '../../../engine/jobtypes/jobType.ts';
import type { VirtualClusterDef } from '../../../engine/quota/shares.ts';
import { waitFor } from '../../helpers/wait.ts';


function withEngine(
  overrides: Partial<Config>,
  body: (core: Roles, log: MemoryEventLog, config: Readonly<Config>) => Promise<void>,
  extraTypes: JobType[] = [],
  virtualClusters?: () => readonly VirtualClusterDef[],
) {
  return withMemoryEngine(overrides, (e) => body(e.core, e.log, e.config), { extraTypes, ...(virtualClusters ? { virtualClusters } : {}) });
}

const terminal = untilTerminal;

describe('engine over the in-memory log', () => {
  it('runs a noop job with several tasks to SUCCEEDED, counting each task once', async () => {
    await withEngine({}, async (core) => {
      const { job, created } = await core.service.submit({ type: 'noop', spec: { tasks: 5 } }, { caller: SYSTEM_CALLER });
      assert.equal(created, true);
      const done = await terminal(core, job.id);
      assert.equal(done.state, 'SUCCEEDED');
      assert.equal(done.progress.tasksSucceeded, 5);
      const types = (await core.service.history(job.id, SYSTEM_CALLER)).filter((e) => e.subject === 'ev').map((e) => e.type);
      assert.deepEqual(types, ['JobSubmitted', 'JobClaimed', 'TasksPlanned', 'VerificationStarted', 'JobSucceeded']);
      assert.equal(core.projection.rejected, 0);
    });
  });

  it('refuses a submission past the waiting capacity and writes nothing', async () => {
    await withEngine({ roles: ['api'], waitingJobCapacity: 2 }, async (core, log) => {
      await core.service.submit({ type: 'noop', spec: {} }, { caller: SYSTEM_CALLER });
      await core.service.submit({ type: 'noop', spec: {} }, { caller: SYSTEM_CALLER });
      const before = await log.lastSeq();
      await assert.rejects(core.service.submit({ type: 'noop', spec: {} }, { caller: SYSTEM_CALLER }), (e) => isAppError(e, 'QUEUE_FULL'));
      assert.equal(await log.lastSeq(), before);
    });
  });

  it('never runs more jobs at once than runningJobCapacity', async () => {
    await withEngine({ runningJobCapacity: 2 }, async (core) => {
      let maxRunning = 0;
      core.projection.onChange(() => {
        maxRunning = Math.max(maxRunning, core.projection.countByState('RUNNING') + core.projection.countByState('VERIFYING'));
      });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await core.service.submit({ type: 'sleep', spec: { ms: 20 } }, { caller: SYSTEM_CALLER })).job.id);
      for (const id of ids) assert.equal((await terminal(core, id)).state, 'SUCCEEDED');
      assert.ok(maxRunning <= 2, `at most 2 running, saw ${maxRunning}`);
      assert.ok(maxRunning >= 1);
    });
  });

  it('pause stops dispatch and keeps state; resume finishes the job', async () => {
    await withEngine({ workerConcurrency: 1, maxTasksPerWorker: 1 }, async (core) => {
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 30, tasks: 6 } }, { caller: SYSTEM_CALLER });
      await waitFor(async () => ((await core.service.get(job.id, SYSTEM_CALLER)).state === 'RUNNING' ? true : undefined), { what: 'running', intervalMs: 5 });
      const paused = await core.service.pause(job.id, { caller: SYSTEM_CALLER, reason: 'maintenance' });
      assert.equal(paused.state, 'PAUSED');
      // the one task in flight may finish; nothing new is dispatched
      await waitFor(() => (core.worker!.running() === 0 ? true : undefined), { what: 'in-flight task settled', intervalMs: 5 });
      const settled = (await core.service.get(job.id, SYSTEM_CALLER)).progress.tasksSucceeded;
      // a later job's task goes through the same pool and the one worker slot: a task the paused job
      // had dispatched meanwhile would be in the queue before it and would have run first
      const { job: marker } = await core.service.submit({ type: 'sleep', spec: { ms: 1, tasks: 1 } }, { caller: SYSTEM_CALLER });
      assert.equal((await terminal(core, marker.id)).state, 'SUCCEEDED');
      const still = await core.service.get(job.id, SYSTEM_CALLER);
      assert.equal(still.state, 'PAUSED');
      assert.equal(still.progress.tasksSucceeded, settled);
      assert.ok(settled < 6);
      await core.service.resume(job.id, { caller: SYSTEM_CALLER });
      const done = await terminal(core, job.id);
      assert.equal(done.state, 'SUCCEEDED');
      assert.equal(done.progress.tasksSucceeded, 6);
      const pausedEv = (await core.service.history(job.id, SYSTEM_CALLER)).find((e) => e.type === 'JobPaused');
      assert.equal(pausedEv?.meta['reason'], 'maintenance');
    });
  });

  it('stop is idempotent on a stopped job and refused on a finished one', async () => {
    await withEngine({ roles: ['api'] }, async (core) => {
      const { job } = await core.service.submit({ type: 'noop', spec: {} }, { caller: SYSTEM_CALLER });
      assert.equal((await core.service.stop(job.id, { caller: SYSTEM_CALLER })).state, 'STOPPED');
      assert.equal((await core.service.stop(job.id, { caller: SYSTEM_CALLER })).state, 'STOPPED');
      await assert.rejects(core.service.pause(job.id, { caller: SYSTEM_CALLER }), (e) => isAppError(e, 'INVALID_TRANSITION'));
    });
    await withEngine({}, async (core) => {
      const { job } = await core.service.submit({ type: 'noop', spec: {} }, { caller: SYSTEM_CALLER });
      await terminal(core, job.id);
      await assert.rejects(core.service.stop(job.id, { caller: SYSTEM_CALLER }), (e) => isAppError(e, 'INVALID_TRANSITION'));
    });
  });

  it('a job whose tasks keep failing ends FAILED after its attempt budget', async () => {
    await withEngine({}, async (core) => {
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 0, failTimes: 5 }, maxTaskAttempts: 2 }, { caller: SYSTEM_CALLER });
      const done: JobView = await terminal(core, job.id);
      assert.equal(done.state, 'FAILED');
      assert.equal(done.error?.code, 'TOO_MANY_FAILURES');
      const failures = (await core.service.history(job.id, SYSTEM_CALLER)).filter((e) => e.type === 'TaskFailed');
      assert.equal(failures.length, 2);
      const report = await core.service.failures(job.id, SYSTEM_CALLER);
      assert.equal(report.tasksFailed, 1);
      assert.deepEqual(report.tasks.map((t) => [t.taskId, t.attempts, t.error?.retryable]), [['t00000', [1, 2], true]]);
    });
  });
  it('a load of an empty directory plans no tasks and succeeds; a missing one fails with the reason', async () => {
    await withEngine({}, async (core, _log, config) => {
      await mkdir(join(config.filesDir, 'empty'), { recursive: true });
      const empty = await terminal(core, (await core.service.submit({ type: 'load', spec: { path: 'empty' } }, { caller: SYSTEM_CALLER })).job.id);
      assert.equal(empty.state, 'SUCCEEDED');
      assert.equal(empty.progress.tasksTotal, 0);
      const missing = await terminal(core, (await core.service.submit({ type: 'load', spec: { path: 'missing' } }, { caller: SYSTEM_CALLER })).job.id);
      assert.equal(missing.state, 'FAILED');
      assert.match(missing.error?.message ?? '', /missing/);
    });
  });
});

const alice: Caller = { user: 'alice', role: 'operator', virtualClusters: [] };
const bob: Caller = { user: 'bob', role: 'operator', virtualClusters: ['gpu'] };
const root: Caller = { user: 'root', role: 'admin', virtualClusters: [] };
const notFound = (e: unknown) => isAppError(e, 'JOB_NOT_FOUND');

/** Three tasks run one at a time; tasks named in `failing` fail for good. Counts runs per task. */
function flakyType() {
  const runs = new Map<string, number>();
  const failing = new Set<string>();
  const type: JobType = {
    name: 'flaky',
    instantVerify: true,
    specSchema: { type: 'object', additionalProperties: false },
    async plan() {
      return ['t0', 't1', 't2'].map((taskId) => ({ taskId, payload: null, items: 1, bytes: 0 }));
    },
    async run(_spec, _payload, ctx) {
      runs.set(ctx.taskId, (runs.get(ctx.taskId) ?? 0) + 1);
      if (failing.has(ctx.taskId)) throw new TaskRunError('BROKEN', `${ctx.taskId} is broken`, false);
      return { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };
    },
    async verify() {
      return { ok: true };
    },
  };
  return { type, runs, failing };
}

describe('job scoping and controls through the engine', () => {
  it('a user sees and controls only their own jobs (404 otherwise); an admin sees all', async () => {
    await withEngine({ roles: ['api'] }, async (core) => {
      const a = (await core.service.submit({ type: 'noop', spec: {} }, { caller: alice })).job;
      const b = (await core.service.submit({ type: 'noop', spec: {} }, { caller: bob })).job;
      assert.deepEqual([a.owner, b.owner], ['alice', 'bob']);
      await assert.rejects(core.service.get(a.id, bob), notFound);
      await assert.rejects(core.service.progress(a.id, bob), notFound);
      await assert.rejects(core.service.history(a.id, bob), notFound);
      await assert.rejects(core.service.failures(a.id, bob), notFound);
      await assert.rejects(core.service.stop(a.id, { caller: bob }), notFound);
      assert.equal((await core.service.get(a.id, alice)).state, 'WAITING', 'nothing was written');
      const list = (c: Caller, q = {}) => core.service.list({ limit: 10, ...q }, c).then((r) => r.jobs.map((j) => j.id));
      assert.deepEqual(await list(bob), [b.id]);
      assert.deepEqual(await list(bob, { owner: 'alice' }), []);
      assert.deepEqual(await list(root), [b.id, a.id]);
      assert.deepEqual(await list(root, { owner: 'alice' }), [a.id]);
      const stopped = await core.service.stop(a.id, { caller: root, reason: 'cleanup' });
      assert.equal(stopped.state, 'STOPPED');
      const ev = (await core.service.history(a.id, alice)).at(-1)!;
      assert.deepEqual([ev.type, ev.meta['actor'], ev.meta['reason']], ['JobStopped', 'user:root', 'cleanup']);
    });
  });

  it('checks the virtual cluster: it must exist and the caller needs access', async () => {
    await withEngine({ roles: ['api'] }, async (core) => {
      await assert.rejects(core.service.submit({ type: 'noop', spec: {}, virtualCluster: 'gpu' }, { caller: bob }), (e) => isAppError(e, 'VIRTUAL_CLUSTER_NOT_FOUND'));
      const j = (await core.service.submit({ type: 'noop', spec: {}, callbackUrl: 'https://hooks.example/x?y=1' }, { caller: alice })).job;
      assert.deepEqual([j.virtualCluster, j.callbackUrl], ['default', 'https://hooks.example/x?y=1']);
      await assert.rejects(core.service.submit({ type: 'noop', spec: {}, callbackUrl: 'file:///etc/passwd' }, { caller: alice }), (e) => isAppError(e, 'INVALID_CALLBACK_URL'));
      const vcs = await core.service.virtualClusters(alice);
      assert.deepEqual(vcs.map((v) => [v.name, v.numJobs, v.numPendingJobs]), [['default', 1, 1]]);
    });
    const clusters = [{ name: 'gpu', capacity: 30, maxCapacity: 50 }, { name: 'default', capacity: 70, maxCapacity: 100 }];
    await withEngine({ roles: ['api'] }, async (core) => {
      await assert.rejects(core.service.submit({ type: 'noop', spec: {}, virtualCluster: 'gpu' }, { caller: alice }), (e) => isAppError(e, 'VIRTUAL_CLUSTER_FORBIDDEN'));
      const j = (await core.service.submit({ type: 'noop', spec: {}, virtualCluster: 'gpu' }, { caller: bob })).job;
      assert.equal(j.virtualCluster, 'gpu');
      assert.deepEqual((await core.service.virtualClusters(alice)).map((v) => v.name), ['default']);
      const gpu = (await core.service.virtualClusters(root)).find((v) => v.name === 'gpu')!;
      assert.deepEqual([gpu.numJobs, gpu.numPendingJobs, gpu.slots.total], [1, 1, 100]);
    }, [], () => clusters);
  });

  it('recover after a failure re-runs only the tasks that did not succeed', async () => {
    const flaky = flakyType();
    flaky.failing.add('t1');
    await withEngine({ workerConcurrency: 1, maxTasksPerWorker: 1 }, async (core) => {
      const { job } = await core.service.submit({ type: 'flaky', spec: {} }, { caller: alice });
      const failed = await terminal(core, job.id);
      assert.equal(failed.state, 'FAILED');
      assert.equal(failed.progress.tasksSucceeded, 1);
      flaky.failing.clear();
      await assert.rejects(core.service.recover(job.id, { caller: bob }), notFound);
      const recovered = await core.service.recover(job.id, { caller: alice, reason: 'disk replaced' });
      assert.deepEqual([recovered.recoveries, recovered.error, recovered.progress.tasksFailed], [1, null, 0]);
      const done = await terminal(core, job.id);
      assert.equal(done.state, 'SUCCEEDED');
      assert.equal(done.progress.tasksSucceeded, 3);
      assert.deepEqual(Object.fromEntries(flaky.runs), { t0: 1, t1: 2, t2: 1 });
      await assert.rejects(core.service.recover(job.id, { caller: alice }), (e) => isAppError(e, 'INVALID_TRANSITION'));
      assert.equal(core.projection.rejected, 0);
    }, [flaky.type]);
  });

  it('rerun creates a linked job with the same request and owner; inactive jobs are hidden and cannot be re-run', async () => {
    await withEngine({}, async (core) => {
      const { job } = await core.service.submit({ type: 'noop', spec: { tasks: 2 }, priority: 3, name: 'nightly' }, { caller: alice });
      await assert.rejects(core.service.rerun(job.id, { caller: alice }), (e) => isAppError(e, 'INVALID_TRANSITION'));
      await terminal(core, job.id);
      const again = await core.service.rerun(job.id, { caller: root, reason: 'once more' });
      assert.notEqual(again.id, job.id);
      assert.deepEqual(
        [again.rerunOf, again.owner, again.type, again.name, again.priority, again.spec],
        [job.id, 'alice', 'noop', 'nightly', 3, job.spec],
      );
      const submitted = (await core.service.history(again.id, alice))[0]!;
      assert.deepEqual([submitted.meta['causationId'], submitted.meta['actor'], submitted.meta['reason']], [job.id, 'user:root', 'once more']);
      assert.equal((await terminal(core, again.id)).state, 'SUCCEEDED');
      const hidden = await core.service.setActive(job.id, false, { caller: alice });
      assert.equal(hidden.active, false);
      const ids = async (q: object) => (await core.service.list({ limit: 10, ...q }, alice)).jobs.map((j) => j.id);
      assert.deepEqual(await ids({}), [again.id]);
      assert.deepEqual(await ids({ active: false }), [job.id]);
      assert.deepEqual(await ids({ active: 'all' }), [again.id, job.id]);
      await assert.rejects(core.service.rerun(job.id, { caller: alice }), (e) => isAppError(e, 'INVALID_TRANSITION'));
    });
  });

  it('stop with a grace period keeps the job RUNNING until the task in flight finishes', async () => {
    await withEngine({ workerConcurrency: 1, maxTasksPerWorker: 1 }, async (core) => {
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 300, tasks: 4 } }, { caller: alice });
      await waitFor(() => (core.worker!.running() > 0 ? true : undefined), { what: 'a task in flight', intervalMs: 5 });
      const stopping = await core.service.stop(job.id, { caller: alice, graceMs: 10_000, reason: 'enough' });
      assert.equal(stopping.state, 'RUNNING');
      assert.equal(stopping.stopRequested?.graceMs, 10_000);
      const t0 = Date.now();
      const done = await terminal(core, job.id);
      assert.equal(done.state, 'STOPPED');
      assert.ok(Date.now() - t0 < 5000, 'stopped when the task finished, not at the deadline');
      assert.equal(done.progress.tasksSucceeded, 1, 'the task in flight finished and counted; nothing new was dispatched');
    });
  });
});
