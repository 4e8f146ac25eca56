/**
 * Job retries (JobType.jobRetries, issue 14 E2) over the in-memory engine: where the owner would
 * fail the job (too many failed tasks, the type's settle, its verify), it appends JobRetried while
 * retries are left and every task runs again as a new attempt (succeeded ones too), the attempts of
 * the run before that still run being aborted; after the last retry the failure is final.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskResult } from '../../../../actors/events.ts';
import { TaskRunError, type JobType, type RunContext } from '../../../../engine/jobtypes/jobType.ts';
import { startHarness, type Harness } from './harness.ts';
import { waitFor } from '../../../helpers/wait.ts';

interface Spec extends Record<string, unknown> {
  /** JobType.jobRetries. */
  retries: number;
  /** t0 fails (not retryable) in this many runs. */
  failRuns: number;
  /** t1 runs until aborted in the first run. */
  holdFirst?: boolean;
}

const OK: TaskResult = { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] };

/** Every run of every task, and how the held ones ended. */
function recorder() {
  const runs: { jobId: string; taskId: string; attempt: number; runAttempt: number | undefined }[] = [];
  const aborted: string[] = [];
  const runsOf = (jobId: string, taskId: string) => runs.filter((r) => r.jobId === jobId && r.taskId === taskId);
  async function run(spec: Spec, ctx: RunContext): Promise<TaskResult> {
    runs.push({ jobId: ctx.jobId, taskId: ctx.taskId, attempt: ctx.attempt, runAttempt: ctx.runAttempt });
    const n = runsOf(ctx.jobId, ctx.taskId).length;
    if (ctx.taskId === 't0' && n <= spec.failRuns) {
      // with a held t1, fail only once it runs (it is then an attempt in flight when the job is retried)
      if (spec.holdFirst === true) await waitFor(() => runsOf(ctx.jobId, 't1').length > 0, { what: 't1 running', intervalMs: 1 });
      throw new TaskRunError('EXEC_EXIT', `t0 run ${n} failed`, false);
    }
    if (ctx.taskId === 't1' && spec.holdFirst === true && n === 1) {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted.push(String(ctx.signal.reason));
      throw new TaskRunError('ABORTED', 'aborted', false);
    }
    return OK;
  }
  return { runs, aborted, runsOf, run };
}

const plan2 = async () => [{ taskId: 't0', payload: null, items: 1, bytes: 0 }, { taskId: 't1', payload: null, items: 1, bytes: 0 }];
const schema = {
  type: 'object', additionalProperties: false,
  properties: { retries: { type: 'integer' }, failRuns: { type: 'integer' }, holdFirst: { type: 'boolean' } },
};

async function withHarness(types: JobType[], body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ extraTypes: types });
  try {
    await h.startWorker('w1');
    await h.startCoordinator('c1');
    await body(h);
  } finally {
    await h.close();
  }
}

const terminal = (h: Harness, id: string) =>
  waitFor(() => (['SUCCEEDED', 'FAILED', 'STOPPED'].includes(h.job(id).state) ? h.job(id) : undefined), { what: `job ${id} terminal`, intervalMs: 5 });

describe('coordinator: job retries', () => {
  it('too many failed tasks: the job runs again as a whole (succeeded tasks too) and succeeds; retries 1', async () => {
    const r = recorder();
    const type: JobType = { name: 'retry-ratio', specSchema: schema, plan: plan2, run: (spec, _p, ctx) => r.run(spec as Spec, ctx), verify: async () => ({ ok: true }), jobRetries: (spec) => (spec as Spec).retries };
    await withHarness([type], async (h) => {
      const id = await h.submit({ type: type.name, spec: { retries: 1, failRuns: 1 } });
      const done = await terminal(h, id);
      assert.equal(done.state, 'SUCCEEDED');
      assert.equal(h.ctx(id).retries, 1);
      assert.deepEqual((await h.history(id)).map((e) => e.type), ['JobSubmitted', 'JobClaimed', 'TasksPlanned', 'JobRetried', 'VerificationStarted', 'JobSucceeded']);
      const retried = (await h.log.readSubject(`job.${id}.ev`)).flatMap((rec) => rec.events).find((e) => e.type === 'JobRetried')!;
      assert.deepEqual([(retried.data as { attempt: number }).attempt, (retried.data as { error: { code: string } }).error.code], [1, 'TOO_MANY_FAILURES']);
      // t1 had succeeded in the first run: it ran again, as a new attempt above the skipped number
      assert.deepEqual(r.runsOf(id, 't1').map((x) => [x.attempt, x.runAttempt]), [[1, 1], [3, 1]]);
      assert.deepEqual(r.runsOf(id, 't0').map((x) => [x.attempt, x.runAttempt]), [[1, 1], [3, 1]]);
      const second = h.dispatched.filter((d) => d.task.jobId === id && d.task.attempt > 1).map((d) => [d.task.taskId, d.task.attempt, d.task.firstAttempt]);
      assert.deepEqual(second.sort(), [['t0', 3, 3], ['t1', 3, 3]]);
    });
  });

  it('a job that fails in every run ends FAILED after its retries, with retries counted', async () => {
    const r = recorder();
    const type: JobType = { name: 'retry-fail', specSchema: schema, plan: plan2, run: (spec, _p, ctx) => r.run(spec as Spec, ctx), verify: async () => ({ ok: true }), jobRetries: (spec) => (spec as Spec).retries };
    await withHarness([type], async (h) => {
      const id = await h.submit({ type: type.name, spec: { retries: 2, failRuns: 99 } });
      const done = await terminal(h, id);
      assert.equal(done.state, 'FAILED');
      assert.equal(h.ctx(id).retries, 2);
      assert.equal(h.ctx(id).error?.code, 'TOO_MANY_FAILURES');
      assert.deepEqual((await h.history(id)).map((e) => e.type).filter((t) => t === 'JobRetried' || t === 'JobFailed'), ['JobRetried', 'JobRetried', 'JobFailed']);
      assert.equal(r.runsOf(id, 't0').length, 3);
    });
  });

  it('the type\'s settle failing the job early: a retry, the old run\'s attempt still running is aborted, the new run succeeds', async () => {
    const r = recorder();
    const type: JobType = {
      name: 'retry-settle', specSchema: schema, plan: plan2, run: (spec, _p, ctx) => r.run(spec as Spec, ctx), verify: async () => ({ ok: true }),
      settle: (_spec, view) => (view.states.includes('failed') ? { ok: false, code: 'EXEC_FAILED', message: 'a task failed' } : undefined),
      jobRetries: (spec) => (spec as Spec).retries,
    };
    await withHarness([type], async (h) => {
      const id = await h.submit({ type: type.name, spec: { retries: 1, failRuns: 1, holdFirst: true } });
      const done = await terminal(h, id);
      assert.equal(done.state, 'SUCCEEDED', JSON.stringify(h.ctx(id).error));
      assert.deepEqual(r.aborted, ['attempt-obsolete'], 'the first run\'s t1 was aborted, not left running');
      // t1's attempt 1 (in flight, no outcome) is below the new run's floor, 2
      assert.deepEqual(r.runsOf(id, 't1').map((x) => [x.attempt, x.runAttempt]), [[1, 1], [2, 1]]);
      assert.equal(h.ctx(id).retries, 1);
    });
  });

  it('a verification that fails: from VERIFYING back to RUNNING, every task again', async () => {
    let verifies = 0;
    const r = recorder();
    const type: JobType = {
      name: 'retry-verify', specSchema: schema, plan: plan2, run: (spec, _p, ctx) => r.run(spec as Spec, ctx),
      verify: async () => (++verifies === 1 ? { ok: false, code: 'VERIFY_MISMATCH', message: 'not yet' } : { ok: true }),
      jobRetries: (spec) => (spec as Spec).retries,
    };
    await withHarness([type], async (h) => {
      const id = await h.submit({ type: type.name, spec: { retries: 1, failRuns: 0 } });
      const done = await terminal(h, id);
      assert.equal(done.state, 'SUCCEEDED');
      assert.deepEqual((await h.history(id)).map((e) => e.type), ['JobSubmitted', 'JobClaimed', 'TasksPlanned', 'VerificationStarted', 'JobRetried', 'VerificationStarted', 'JobSucceeded']);
      assert.deepEqual([r.runsOf(id, 't0').length, r.runsOf(id, 't1').length, verifies], [2, 2, 2]);
    });
  });

  it('a type without jobRetries fails as before', async () => {
    const r = recorder();
    const type: JobType = { name: 'no-retry', specSchema: schema, plan: plan2, run: (spec, _p, ctx) => r.run(spec as Spec, ctx), verify: async () => ({ ok: true }) };
    await withHarness([type], async (h) => {
      const id = await h.submit({ type: type.name, spec: { retries: 5, failRuns: 1 } });
      assert.equal((await terminal(h, id)).state, 'FAILED');
      assert.equal(h.ctx(id).retries, 0);
    });
  });
});
