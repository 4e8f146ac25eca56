/**
 * A worker-only process (roles without coordinator and api, decision 0012 F2) beside an
 * api+coordinator process over one in-memory log and task queue: it follows only the subjects its
 * slim job view reads, keeps no projection, writes nothing at its retention passes (they only make up
 * for removal notices it missed), and runs, drops and aborts tasks as it did with the full projection.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, systemRandom } from '../../../engine/clock.ts';
import { resolveConfig, type Role } from '../../../engine/config.ts';
import type { EventLog, FollowOptions } from '../../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog } from '../../../engine/eventlog/memoryEventLog.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../../engine/jobtypes/registry.ts';
import { createMemoryLiveness, createMemoryLivenessStore } from '../../../engine/liveness/memoryLiveness.ts';
import { silentLogger } from '../../../engine/log.ts';
import { SLIM_VIEW_SUBJECTS } from '../../../engine/projections/slimJobView.ts';
import { SYSTEM_CALLER } from '../../../engine/serviceTypes.ts';
import { startRoles, workerOnly, type Roles } from '../../../engine/startRoles.ts';
import { createMemoryTaskQueue } from '../../../engine/taskqueue/memoryTaskQueue.ts';
import { createJobProjection } from '../../../engine/projections/jobProjection.ts';
import { createRetention } from '../../../engine/retention/retention.ts';
import { createFakeClock } from '../../helpers/fakeClock.ts';
import { FAST_SETTINGS, untilTerminal } from '../../helpers/memoryEngine.ts';
import { waitFor } from '../../helpers/wait.ts';
import { appendJobHistory } from './retention/jobHistory.fixture.ts';

async function withTwoProcesses(body: (api: Roles, worker: Roles, follows: FollowOptions[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-workeronly-'));
  const log = createMemoryEventLog();
  const queue = createMemoryTaskQueue({ ackWaitMs: 30_000, maxDeliver: 10 });
  const livenessStore = createMemoryLivenessStore();
  const registry = createJobTypeRegistry(builtinJobTypes());
  const follows: FollowOptions[] = [];
  const start = (roles: Role[], eventLog: EventLog) => startRoles({
    config: resolveConfig({ stateDir: dir, ...FAST_SETTINGS, roles }), eventLog, taskQueue: queue,
    liveness: createMemoryLiveness({ clock: systemClock, store: livenessStore }), registry, clock: systemClock, random: systemRandom,
    logger: silentLogger, info: () => { throw new Error('unused'); },
  });
  const spied: EventLog = { ...log, follow: (from, onRecord, fo) => (follows.push(fo ?? {}), log.follow(from, onRecord, fo)) };
  const api = await start(['api', 'coordinator'], log);
  const worker = await start(['worker'], spied);
  try {
    await body(api, worker, follows);
  } finally {
    await worker.stop();
    await api.stop({ handoff: false });
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('worker-only process', () => {
  it('is any process without the coordinator and api roles', () => {
    assert.deepEqual([['worker'], ['api', 'worker'], ['coordinator', 'worker'], ['api']].map((r) => workerOnly(r)), [true, false, false, false]);
  });

  it('follows the slim view\'s subjects only, keeps no projection, and runs the jobs', async () => {
    await withTwoProcesses(async (api, worker, follows) => {
      assert.deepEqual(follows.map((f) => f.filterSubjects), [SLIM_VIEW_SUBJECTS]);
      const { job } = await api.service.submit({ type: 'noop', spec: { tasks: 3 } }, { caller: SYSTEM_CALLER });
      assert.equal((await untilTerminal(api, job.id)).state, 'SUCCEEDED');
      assert.equal(worker.worker?.stats().completed, 3, 'the worker-only process ran the tasks');
      await waitFor(() => worker.jobFacts.get(job.id)?.terminal, { what: 'the slim view has the job finished', intervalMs: 2 });
      assert.equal(worker.projection.lastSeq(), 0, 'its projection stays empty');
      assert.equal([...worker.projection.all()].length, 0);
      assert.ok(worker.lastSeq() > 0, 'the store guard sees the records it applied');
      assert.deepEqual(await worker.retention.runOnce(), { compacted: 0, removed: 0, strays: 0 });
    });
  });

  it('aborts the running tasks of a job stopped outright', async () => {
    await withTwoProcesses(async (api, worker) => {
      const { job } = await api.service.submit({ type: 'sleep', spec: { ms: 30_000, tasks: 2 } }, { caller: SYSTEM_CALLER });
      await waitFor(() => worker.worker!.running() === 2, { what: '2 tasks running', intervalMs: 2 });
      await api.service.stop(job.id, { caller: SYSTEM_CALLER, force: true });
      await waitFor(() => worker.worker!.running() === 0, { what: 'tasks aborted', timeoutMs: 2000, intervalMs: 2 });
      assert.equal((await untilTerminal(api, job.id)).state, 'STOPPED');
      assert.deepEqual(worker.worker!.stats(), { running: 0, completed: 0, failed: 0 });
    });
  });

  it('forgets a removed job whose notice was rolled up before it read it, at its next retention pass', async () => {
    // Found by test/sim/skewedClocks.test.ts (seed 539230714): two writers removed jobs a few records
    // apart; a worker-only process a few records behind read only the second removal's notices, and
    // held the first one's jobs until it restarted.
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-workeronly-'));
    const log = createMemoryEventLog();
    const queue = createMemoryTaskQueue({ ackWaitMs: 30_000, maxDeliver: 10 });
    const T0 = Date.parse('2024-05-01T12:00:00.000Z');
    const MIN = 60_000;
    const a = await appendJobHistory(log, () => T0, 'stopped');
    const b = await appendJobHistory(log, () => T0 + 10 * MIN, 'succeeded');
    // the worker-only process follows the log through a gate that can hold its next record
    let gate: Promise<void> | undefined;
    let held = false;
    const gated: EventLog = {
      ...log,
      follow: (from, onRecord, fo) => log.follow(from, async (r) => {
        if (gate) {
          held = true;
          await gate;
        }
        await onRecord(r);
      }, fo),
    };
    const worker = await startRoles({
      config: resolveConfig({ stateDir: dir, ...FAST_SETTINGS, roles: ['worker'] }), eventLog: gated, taskQueue: queue,
      liveness: createMemoryLiveness({ clock: systemClock, store: createMemoryLivenessStore() }), registry: createJobTypeRegistry(builtinJobTypes()),
      clock: systemClock, random: systemRandom, logger: silentLogger, info: () => { throw new Error('unused'); },
    });
    // a coordinator's retention, 20 minutes later by its clock
    const clock = createFakeClock({ wallMs: T0 + 20 * MIN, timers: 'real' });
    const projection = createJobProjection({ logger: silentLogger, clock });
    const follower = log.follow(1, (r) => projection.apply(r));
    const removeOlderThan = async (retentionMaxAgeMs: number) => {
      assert.ok(await projection.waitFor(await log.lastSeq(), 2_000));
      const config = { compactAfterMs: 3_600_000, retentionMaxAgeMs, retentionMaxCount: 0, retentionByType: '{}', retentionIntervalMs: 60_000 };
      return (await createRetention({ eventLog: log, projection, config, clock, logger: silentLogger, writer: true }).runOnce()).removed;
    };
    try {
      assert.ok(worker.jobFacts.get(a)?.terminal && worker.jobFacts.get(b)?.terminal);
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      await appendJobHistory(log, () => T0 + 20 * MIN, 'stopped'); // the record the worker is held on
      await waitFor(() => held, { what: 'the worker held on a record', intervalMs: 2 });
      assert.equal(await removeOlderThan(15 * MIN), 1, 'a removed (notices: pending, closing)');
      assert.equal(await removeOlderThan(5 * MIN), 1, 'then b, whose notices roll up a\'s');
      gate = undefined;
      open();
      const head = await log.lastSeq();
      await waitFor(() => worker.lastSeq() === head, { what: 'the worker read the log to its end', intervalMs: 2 });
      assert.equal(worker.jobFacts.get(b), undefined, 'b: forgotten on the notice it read');
      assert.ok(worker.jobFacts.get(a), 'a: its notices were rolled up before the worker read them');
      assert.deepEqual(await worker.retention.runOnce(), { compacted: 0, removed: 1, strays: 0 });
      assert.equal(worker.jobFacts.get(a), undefined);
    } finally {
      await follower.stop();
      await worker.stop();
      await queue.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
