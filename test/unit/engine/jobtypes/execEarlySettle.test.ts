/**
 * Review findings on `exec`'s completion policies (JobType.settle / verify), over the whole engine
 * on the in-memory log and queue with the real `exec` type running /bin/sh as this user (no uids,
 * host network). Each test states the behaviour the docs promise (both failed before failed instances became failed tasks with their exit code, and settle saw task states).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { createDocumentStore } from '../../../../engine/documents/documentStore.ts';
import { createExecJobType } from '../../../../engine/jobtypes/exec/index.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { SYSTEM_CALLER, type JobView } from '../../../../engine/serviceTypes.ts';
import type { Roles } from '../../../../engine/startRoles.ts';
import { untilTerminal, withMemoryEngine } from '../../../helpers/memoryEngine.ts';
import { waitFor, WaitTimeoutError } from '../../../helpers/wait.ts';

const by = { caller: SYSTEM_CALLER };

async function withExec(body: (core: Roles, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-exec-review-'));
  const exec = createExecJobType({ workRoot: join(dir, 'work'), uids: null, network: 'host', logger: silentLogger, limits: { timeLimitMs: 120_000, memoryLimitMb: 1024 }, documents: createDocumentStore(createMemoryControlStore()) });
  try {
    await withMemoryEngine({}, (e) => body(e.core, dir), { extraTypes: [exec] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The job terminal within `timeoutMs`, or undefined (then it is force-stopped so its processes end). */
async function terminalWithin(core: Roles, id: string, timeoutMs: number): Promise<JobView | undefined> {
  try {
    return await waitFor(async () => {
      const j = await core.service.get(id, SYSTEM_CALLER);
      return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state) ? j : undefined;
    }, { what: `job ${id} terminal`, timeoutMs, intervalMs: 20 });
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    await core.service.stop(id, { ...by, force: true }).catch(() => undefined);
    return undefined;
  }
}

/**
 * Real processes under a loaded CI pair (two clones' suites on 2 cores, Node 20): the default 10 s
 * wait was too short there for a run, an early failure, a recovery and a re-run.
 */
const PROCESS_WAIT_MS = 60_000;

describe('exec completion policies (review)', { timeout: 240_000 }, () => {
  it('a recovered EXEC_FAILED job runs its failed instance again (or the recovery is refused): it must not just fail again untouched', async () => {
    await withExec(async (core, dir) => {
      // first run: instance 0 fails (exit 3) while instance 1 still runs (an early fail); on a re-run both succeed
      const m0 = join(dir, 'm0');
      const m1 = join(dir, 'm1');
      const { job } = await core.service.submit({
        type: 'exec',
        spec: { taskRoles: [{ name: 'worker', taskNumber: 2, commands: [
          `if [ "$PAI_TASK_INDEX" = 0 ] && [ ! -e ${m0} ]; then touch ${m0}; exit 3; fi`,
          `if [ "$PAI_TASK_INDEX" = 1 ] && [ ! -e ${m1} ]; then touch ${m1}; sleep 30; fi`,
        ] }] },
      }, by);
      const first = await untilTerminal(core, job.id, SYSTEM_CALLER, PROCESS_WAIT_MS);
      assert.equal(first.state, 'FAILED');
      assert.equal(first.error?.code, 'EXEC_FAILED');

      let recovered: JobView;
      try {
        recovered = await core.service.recover(job.id, by);
      } catch (err) {
        if (isAppError(err, 'INVALID_TRANSITION')) return; // refusing a recovery that re-runs nothing is also right
        throw err;
      }
      assert.equal(recovered.recoveries, 1);
      const second = await untilTerminal(core, job.id, SYSTEM_CALLER, PROCESS_WAIT_MS);
      const tasks = await core.service.tasks(job.id, SYSTEM_CALLER);
      assert.equal(second.state, 'SUCCEEDED',
        `recovery was accepted, yet the job ended ${second.state} ${second.error?.code ?? ''} again with the failed instance at ${tasks[0]!.attempts} attempt(s) (state ${tasks[0]!.state}): ` +
        'its exit-3 outcome is a TaskSucceeded, which no recovery mode resets, so settle() fails the job again at its first drive');
    });
  });

  it('an instance that failed for good (no outcome) counts toward minFailedInstances while other instances run', async () => {
    await withExec(async (core) => {
      // the worker instance exhausts its attempts (EXEC_RETRY every time): it fails for good without an output;
      // maxFailedRatio 1 leaves the decision to the roles' policies, as an OpenPAI facade must
      const { job } = await core.service.submit({
        type: 'exec',
        maxTaskAttempts: 2,
        maxFailedRatio: 1,
        spec: { taskRetryCount: 2, taskRoles: [
          { name: 'ps', taskNumber: 1, commands: ['sleep 120'] },
          { name: 'worker', taskNumber: 1, commands: ['exit 5'] },
        ] },
      }, by);
      await waitFor(async () => ((await core.service.tasks(job.id, SYSTEM_CALLER))[1]?.state === 'failed' ? true : undefined), { what: 'the worker instance failed for good', timeoutMs: PROCESS_WAIT_MS, intervalMs: 20 });
      // well under the ps's 120 s: a job still running then is held by the ps, not slow
      const done = await terminalWithin(core, job.id, 30_000);
      assert.ok(done !== undefined, 'worker[0] failed for good (minFailedInstances 1) yet the job kept RUNNING behind the ps: settle() sees its result as undefined, like a running instance');
      assert.equal(done.state, 'FAILED');
      assert.equal(done.error?.code, 'EXEC_FAILED');
    });
  });
});
