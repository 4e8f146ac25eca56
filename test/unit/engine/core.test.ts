/** The whole engine (coordinator, worker, service) over the in-memory log, queue and liveness. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, systemRandom } from '../../../engine/clock.ts';
import { resolveConfig, type Config } from '../../../engine/config.ts';
import { startEngineCore, type EngineCore } from '../../../engine/core.ts';
import { isAppError } from '../../../engine/errors.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../../engine/eventlog/memoryEventLog.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../../engine/jobtypes/registry.ts';
import { createMemoryLiveness } from '../../../engine/liveness/memoryLiveness.ts';
import { silentLogger } from '../../../engine/log.ts';
import { createMemoryTaskQueue } from '../../../engine/taskqueue/memoryTaskQueue.ts';
import type { JobView } from '../../../engine/service.ts';

async function withEngine(overrides: Partial<Config>, body: (core: EngineCore, log: MemoryEventLog, config: Readonly<Config>) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-core-'));
  const config = resolveConfig({ stateDir: dir, heartbeatMs: 50, failureDetectionTimeoutMs: 500, retryBackoffMs: 10, drainTimeoutMs: 500, ...overrides });
  const eventLog = createMemoryEventLog();
  const taskQueue = createMemoryTaskQueue({ ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver });
  const liveness = createMemoryLiveness({ clock: systemClock });
  const core = await startEngineCore({
    config, eventLog, taskQueue, liveness, registry: createJobTypeRegistry(builtinJobTypes()),
    clock: systemClock, random: systemRandom, logger: silentLogger, info: () => { throw new Error('unused'); },
  });
  try {
    await body(core, eventLog, config);
  } finally {
    await core.stop({ handoff: false });
    await taskQueue.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const terminal = (core: EngineCore, id: string) =>
  until(`job ${id} terminal`, async () => {
    const j = await core.service.get(id);
    return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state) ? j : undefined;
  });

describe('engine over the in-memory log', () => {
  it('runs a noop job with several tasks to SUCCEEDED, counting each task once', async () => {
    await withEngine({}, async (core) => {
      const { job, created } = await core.service.submit({ type: 'noop', spec: { tasks: 5 } }, { actor: 'test' });
      assert.equal(created, true);
      const done = await terminal(core, job.id);
      assert.equal(done.state, 'SUCCEEDED');
      assert.equal(done.progress.tasksSucceeded, 5);
      const types = (await core.service.history(job.id)).filter((e) => e.subject === 'ev').map((e) => e.type);
      assert.deepEqual(types, ['JobSubmitted', 'JobClaimed', 'TasksPlanned', 'VerificationStarted', 'JobSucceeded']);
      assert.equal(core.projection.rejected, 0);
    });
  });

  it('refuses a submission past the waiting capacity and writes nothing', async () => {
    await withEngine({ roles: ['api'], waitingJobCapacity: 2 }, async (core, log) => {
      await core.service.submit({ type: 'noop', spec: {} }, { actor: 'test' });
      await core.service.submit({ type: 'noop', spec: {} }, { actor: 'test' });
      const before = await log.lastSeq();
      await assert.rejects(core.service.submit({ type: 'noop', spec: {} }, { actor: 'test' }), (e) => isAppError(e, 'QUEUE_FULL'));
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
      for (let i = 0; i < 6; i++) ids.push((await core.service.submit({ type: 'sleep', spec: { ms: 20 } }, { actor: 'test' })).job.id);
      for (const id of ids) assert.equal((await terminal(core, id)).state, 'SUCCEEDED');
      assert.ok(maxRunning <= 2, `at most 2 running, saw ${maxRunning}`);
      assert.ok(maxRunning >= 1);
    });
  });

  it('pause stops dispatch and keeps state; resume finishes the job', async () => {
    await withEngine({ workerConcurrency: 1, maxTasksPerWorker: 1 }, async (core) => {
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 30, tasks: 6 } }, { actor: 'test' });
      await until('running', async () => ((await core.service.get(job.id)).state === 'RUNNING' ? true : undefined));
      const paused = await core.service.pause(job.id, { actor: 'test', reason: 'maintenance' });
      assert.equal(paused.state, 'PAUSED');
      // the one task in flight may finish; nothing new is dispatched
      await until('in-flight task settled', () => (core.worker!.running() === 0 ? true : undefined));
      const settled = (await core.service.get(job.id)).progress.tasksSucceeded;
      await new Promise((r) => setTimeout(r, 150)); // would be enough for several more 30 ms tasks
      const still = await core.service.get(job.id);
      assert.equal(still.state, 'PAUSED');
      assert.equal(still.progress.tasksSucceeded, settled);
      assert.ok(settled < 6);
      await core.service.resume(job.id, { actor: 'test' });
      const done = await terminal(core, job.id);
      assert.equal(done.state, 'SUCCEEDED');
      assert.equal(done.progress.tasksSucceeded, 6);
      const pausedEv = (await core.service.history(job.id)).find((e) => e.type === 'JobPaused');
      assert.equal(pausedEv?.meta['reason'], 'maintenance');
    });
  });

  it('stop is idempotent on a stopped job and refused on a finished one', async () => {
    await withEngine({ roles: ['api'] }, async (core) => {
      const { job } = await core.service.submit({ type: 'noop', spec: {} }, { actor: 'test' });
      assert.equal((await core.service.stop(job.id, { actor: 'test' })).state, 'STOPPED');
      assert.equal((await core.service.stop(job.id, { actor: 'test' })).state, 'STOPPED');
      await assert.rejects(core.service.pause(job.id, { actor: 'test' }), (e) => isAppError(e, 'INVALID_TRANSITION'));
    });
    await withEngine({}, async (core) => {
      const { job } = await core.service.submit({ type: 'noop', spec: {} }, { actor: 'test' });
      await terminal(core, job.id);
      await assert.rejects(core.service.stop(job.id, { actor: 'test' }), (e) => isAppError(e, 'INVALID_TRANSITION'));
    });
  });

  it('a job whose tasks keep failing ends FAILED after its attempt budget', async () => {
    await withEngine({}, async (core) => {
      const { job } = await core.service.submit({ type: 'sleep', spec: { ms: 0, failTimes: 5 }, maxTaskAttempts: 2 }, { actor: 'test' });
      const done: JobView = await terminal(core, job.id);
      assert.equal(done.state, 'FAILED');
      assert.equal(done.error?.code, 'TOO_MANY_FAILURES');
      const failures = (await core.service.history(job.id)).filter((e) => e.type === 'TaskFailed');
      assert.equal(failures.length, 2);
      const report = await core.service.failures(job.id);
      assert.equal(report.tasksFailed, 1);
      assert.deepEqual(report.tasks.map((t) => [t.taskId, t.attempts, t.error?.retryable]), [['t00000', [1, 2], true]]);
    });
  });
  it('a load of an empty directory plans no tasks and succeeds; a missing one fails with the reason', async () => {
    await withEngine({}, async (core, _log, config) => {
      await mkdir(join(config.filesDir, 'empty'), { recursive: true });
      const empty = await terminal(core, (await core.service.submit({ type: 'load', spec: { path: 'empty' } }, { actor: 'test' })).job.id);
      assert.equal(empty.state, 'SUCCEEDED');
      assert.equal(empty.progress.tasksTotal, 0);
      const missing = await terminal(core, (await core.service.submit({ type: 'load', spec: { path: 'missing' } }, { actor: 'test' })).job.id);
      assert.equal(missing.state, 'FAILED');
      assert.match(missing.error?.message ?? '', /missing/);
    });
  });
});
