import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { noopJobType } from '../../../../engine/jobtypes/noop.ts';
import { TaskRunError } from '../../../../engine/jobtypes/jobType.ts';
import { sleepJobType } from '../../../../engine/jobtypes/sleep.ts';
import { runCtx, verifyCtx } from './fileJobs.fixture.ts';

const roots = { dataDir: '/nonexistent/data', cacheDir: '/nonexistent/cache' };
const planCtx = { jobId: 'j1', roots, signal: new AbortController().signal };

describe('sleep', () => {
  it('plans `tasks` tasks and each waits ms, then returns output', async () => {
    const spec = { ms: 30, tasks: 3, output: { answer: 42 } };
    const tasks = await sleepJobType.plan(spec, planCtx);
    assert.deepEqual(tasks.map((t) => [t.taskId, t.items]), [['t00000', 1], ['t00001', 1], ['t00002', 1]]);
    const started = performance.now();
    const result = await sleepJobType.run(spec, tasks[0]?.payload, runCtx(roots));
    assert.ok(performance.now() - started >= 25);
    assert.deepEqual(result, { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [], output: { answer: 42 } });
    assert.deepEqual(await sleepJobType.verify(spec, verifyCtx(roots, tasks, [result])), { ok: true, summary: { tasks: 3 } });
  });

  it('fails the first failTimes attempts with a retryable error', async () => {
    const spec = { ms: 0, failTimes: 2 };
    for (const attempt of [1, 2]) {
      await assert.rejects(sleepJobType.run(spec, null, runCtx(roots, { attempt })), (e) => e instanceof TaskRunError && e.code === 'INJECTED_FAILURE' && e.retryable);
    }
    assert.equal((await sleepJobType.run(spec, null, runCtx(roots, { attempt: 3 }))).itemsDone, 1);
  });

  it('heartbeats every second and stops on abort', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    try {
      const ac = new AbortController();
      let beats = 0;
      const done = sleepJobType.run({ ms: 60_000 }, null, runCtx(roots, { signal: ac.signal, heartbeat: () => void beats++ }));
      mock.timers.tick(3_500);
      assert.equal(beats, 3);
      ac.abort();
      await assert.rejects(done, (e) => e instanceof TaskRunError && e.code === 'ABORTED' && !e.retryable);
    } finally {
      mock.timers.reset();
    }
  });

  it('rejects an output too large to travel in events', () => {
    assert.throws(() => sleepJobType.checkSpec?.({ ms: 0, output: 'x'.repeat(70_000) }, roots), /output/);
  });
});

describe('noop', () => {
  it('plans up to 100000 tasks with unique ids, fast, and runs them at once', async () => {
    const started = performance.now();
    const tasks = await noopJobType.plan({ tasks: 100_000 }, planCtx);
    assert.ok(performance.now() - started < 1000);
    assert.equal(new Set(tasks.map((t) => t.taskId)).size, 100_000);
    assert.equal(tasks.at(-1)?.taskId, 't99999');
    assert.deepEqual(await noopJobType.run({}, tasks[0]?.payload, runCtx(roots)), { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] });
    assert.deepEqual(await noopJobType.plan({}, planCtx), [{ taskId: 't00000', payload: null, items: 1, bytes: 0 }]);
    assert.equal((await noopJobType.verify({}, verifyCtx(roots, tasks, []))).ok, true);
  });
});
