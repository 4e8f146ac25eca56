/**
 * The explainer over a whole in-memory engine (coordinator, worker, job service): the facts come from
 * where the engine keeps them, not from the test. A task that failed waits out its retry backoff and
 * explain names the time its owner will retry it; a job with a parallelism limit says so.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobType } from '../../../../engine/jobtypes/jobType.ts';
import { taskRetryDelayMs } from '../../../../engine/coordinator/dispatcher.ts';
import { SYSTEM_CALLER } from '../../../../engine/serviceTypes.ts';
import { withMemoryEngine } from '../../../helpers/memoryEngine.ts';
import { waitFor } from '../../../helpers/wait.ts';

const releases: (() => void)[] = [];

/** `flaky`: its tasks fail (retryably) on their first attempt; `held` tasks wait until released. */
const flaky: JobType<{ tasks: number; held?: boolean }> = {
  name: 'flaky',
  specSchema: { type: 'object', additionalProperties: false, required: ['tasks'], properties: { tasks: { type: 'integer', minimum: 1 }, held: { type: 'boolean' } } },
  plan: async (spec) => Array.from({ length: spec.tasks }, (_, i) => ({ taskId: `t${String(i).padStart(5, '0')}`, payload: { i }, items: 1, bytes: 0 })),
  async run(spec, _payload, ctx) {
    if (spec.held) await new Promise<void>((resolve) => releases.push(resolve));
    else if (ctx.attempt === 1) throw new Error('first attempts fail');
    return { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };
  },
  verify: async () => ({ ok: true }),
};

describe('jobExplainer over the engine', () => {
  it("names a failed task's retry backoff and the time its owner dispatches it again", async () => {
    const retryBackoffMs = 30_000;
    await withMemoryEngine({ retryBackoffMs }, async ({ core }) => {
      const { job } = await core.service.submit({ type: 'flaky', spec: { tasks: 2 } }, { caller: SYSTEM_CALLER });
      const before = Date.now();
      const x = await waitFor(async () => {
        const e = await core.service.explain(job.id, SYSTEM_CALLER);
        return e.reasons[0]?.code === 'RETRY_BACKOFF' && e.tasks?.retrying === 2 ? e : undefined;
      }, { what: 'explain says RETRY_BACKOFF for both tasks', timeoutMs: 10_000 });
      const at = Date.parse(x.tasks!.nextRetryAt!);
      // the dispatcher's own delay for a second attempt, from when it held the task back
      const delay = taskRetryDelayMs(retryBackoffMs, 2);
      assert.ok(at >= before + delay && at <= Date.now() + delay, `${x.tasks!.nextRetryAt} ≈ now + ${delay} ms`);
      assert.ok(x.summary.includes(x.tasks!.nextRetryAt!), x.summary);
      assert.deepEqual([x.state, x.tasks!.inFlight, x.coordinators.ownerAlive], ['RUNNING', 0, true]);
    }, { extraTypes: [flaky as JobType] });
  });

  it('says a job waits on its parallelism limit while its other tasks are ready', async () => {
    await withMemoryEngine({}, async ({ core }) => {
      const { job } = await core.service.submit({ type: 'flaky', spec: { tasks: 5, held: true }, parallelism: 2 }, { caller: SYSTEM_CALLER });
      try {
        const x = await waitFor(async () => {
          const e = await core.service.explain(job.id, SYSTEM_CALLER);
          return e.reasons[0]?.code === 'PARALLELISM_LIMIT' ? e : undefined;
        }, { what: 'explain says PARALLELISM_LIMIT', timeoutMs: 10_000 });
        assert.deepEqual([x.tasks?.inFlight, x.tasks?.parallelism, x.tasks?.notFinal], [2, 2, 5]);
        assert.match(x.summary, /2 tasks in flight, its parallelism limit \(2\): the other 3 wait/);
      } finally {
        await core.service.stop(job.id, { caller: SYSTEM_CALLER, force: true });
        for (const r of releases.splice(0)) r();
      }
    }, { extraTypes: [flaky as JobType] });
  });
});
