/**
 * Random command sequences (submit, stop, pause, resume, interleaved with time passing) against
 * the whole engine over the in-memory log. After every run the log is audited and replayed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { systemClock, systemRandom } from '../../engine/clock.ts';
import { resolveConfig } from '../../engine/config.ts';
import { startRoles } from '../../engine/startRoles.ts';
import { isAppError } from '../../engine/errors.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog } from '../../engine/eventlog/memoryEventLog.ts';
import { entryView } from '../../engine/projections/jobEntry.ts';
import { SYSTEM_CALLER } from '../../engine/serviceTypes.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../engine/jobtypes/registry.ts';
import { createMemoryLiveness } from '../../engine/liveness/memoryLiveness.ts';
import { silentLogger } from '../../engine/log.ts';
import { createJobProjection } from '../../engine/projections/jobProjection.ts';
import { audit } from '../helpers/auditor.ts';
import { createMemoryTaskQueue } from '../../engine/taskqueue/memoryTaskQueue.ts';
import { waitFor } from '../helpers/wait.ts';

type Cmd =
  | { kind: 'submit'; type: 'noop' | 'sleep'; tasks: number; ms: number; failTimes: number; maxTaskAttempts: number }
  | { kind: 'stop' | 'pause' | 'resume'; job: number }
  | { kind: 'wait'; ms: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('submit' as const), type: fc.constantFrom('noop' as const, 'sleep' as const), tasks: fc.integer({ min: 1, max: 4 }), ms: fc.integer({ min: 0, max: 8 }), failTimes: fc.integer({ min: 0, max: 2 }), maxTaskAttempts: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('stop' as const, 'pause' as const, 'resume' as const), job: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 10 }) }) },
);

describe('engine under random command sequences (in-memory log)', () => {
  it('every job ends in exactly one terminal state, and a replay equals the live projection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-prop-'));
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(cmdArb, { minLength: 1, maxLength: 14 }), async (cmds) => {
          const config = resolveConfig({ stateDir: dir, heartbeatMs: 50, failureDetectionTimeoutMs: 500, retryBackoffMs: 1, runningJobCapacity: 3, workerConcurrency: 2, maxTasksPerWorker: 2, stopGraceMs: 30 });
          const eventLog = createMemoryEventLog();
          const taskQueue = createMemoryTaskQueue({ ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver });
          const core = await startRoles({
            config, eventLog, taskQueue, liveness: createMemoryLiveness({ clock: systemClock }), registry: createJobTypeRegistry(builtinJobTypes()),
            clock: systemClock, random: systemRandom, logger: silentLogger, info: () => { throw new Error('unused'); },
          });
          const ids: string[] = [];
          let maxDoneSeen = new Map<string, number>();
          const unsubscribe = core.projection.onChange((e) => {
            const p = entryView(e).progress;
            assert.ok(p.tasksSucceeded + p.tasksFailed <= p.tasksTotal, 'done ≤ total');
            assert.ok(p.tasksSucceeded >= (maxDoneSeen.get(e.id) ?? 0), 'progress never goes backwards');
            maxDoneSeen.set(e.id, p.tasksSucceeded);
          });
          try {
            for (const c of cmds) {
              if (c.kind === 'submit') {
                const spec = c.type === 'noop' ? { tasks: c.tasks } : { ms: c.ms, tasks: c.tasks, failTimes: c.failTimes };
                ids.push((await core.service.submit({ type: c.type, spec, maxTaskAttempts: c.maxTaskAttempts }, { caller: SYSTEM_CALLER })).job.id);
              } else if (c.kind === 'wait') {
                await new Promise((r) => setTimeout(r, c.ms));
              } else if (ids.length > 0) {
                const id = ids[c.job % ids.length]!;
                await core.service[c.kind](id, { caller: SYSTEM_CALLER }).catch((e: unknown) => {
                  if (!isAppError(e, 'INVALID_TRANSITION')) throw e;
                });
              }
            }
            // Paused jobs wait for a human: resume them so every job can finish.
            await waitFor(() => {
              for (const id of ids) {
                const e = core.projection.get(id);
                if (e?.state === 'PAUSED') void core.service.resume(id, { caller: SYSTEM_CALLER }).catch(() => undefined);
              }
              return ids.every((id) => TERMINAL_STATES.has(core.projection.get(id)?.state ?? 'WAITING'));
            }, { what: 'all jobs terminal', timeoutMs: 15_000, intervalMs: 2 });
            assert.equal(core.projection.rejected, 0, 'no stored event was rejected');
            const records: LogRecord[] = [];
            const f = eventLog.follow(1, (r) => void records.push(r));
            await f.caughtUp;
            await f.stop();
            const report = audit(records, { accepted: ids, requireTerminal: true });
            assert.deepEqual(report.violations, []);
            assert.equal(report.jobs, ids.length);
            const replayed = createJobProjection({ logger: silentLogger });
            for (const r of records) replayed.apply(r);
            for (const id of ids) assert.deepEqual(entryView(replayed.get(id)!), entryView(core.projection.get(id)!));
          } finally {
            unsubscribe();
            maxDoneSeen = new Map();
            await core.stop({ handoff: false });
            await taskQueue.close();
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
