/**
 * Directed replays of bugs the simulation found, pinned so they cannot come back unnoticed even
 * when the random runs do not happen to reach them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../actors/events.ts';
import { createMemoryEventLog } from '../../engine/eventlog/memoryEventLog.ts';
import type { EventLog } from '../../engine/eventlog/eventLog.ts';
import { createJobService } from '../../engine/jobService.ts';
import { SYSTEM_CALLER } from '../../engine/service.ts';
import { createMemoryLiveness } from '../../engine/liveness/memoryLiveness.ts';
import { silentLogger } from '../../engine/log.ts';
import { createJobProjection } from '../../engine/projections/jobProjection.ts';
import { jobEvSubject, jobTaskSubject } from '../../engine/subjects.ts';
import { createSimEnv } from './runSimulation.ts';
import { SimClock, seededRandom, settleMicrotasks } from './simClock.ts';

const JOB = '00000000-0000-4000-8000-000000000001';
const meta = (epoch: number, actor = 'coordinator:c1') => ({ jobId: JOB, epoch, actor, at: '2025-01-01T00:00:00.000Z', v: 1 });

describe('regressions found by the simulation', () => {
  it('a fresh read that races the job finishing folds a legal history (jobService readJob)', async () => {
    const clock = new SimClock();
    const log = createMemoryEventLog({ clock });
    const task = { taskId: 't00000', payload: null, items: 1, bytes: 0 };
    const submitted: JobEvent = {
      type: 'JobSubmitted', meta: meta(0, 'sim'),
      data: { jobId: JOB, type: 'noop', name: 'noop', spec: {}, priority: 0, maxTaskAttempts: 1, maxFailedRatio: 0, requestHash: 'h', owner: 'sim' },
    };
    await log.append(jobEvSubject(JOB), [submitted]);
    await log.append(jobEvSubject(JOB), [
      { type: 'JobClaimed', data: { coordinatorId: 'c1', epoch: 1 }, meta: meta(1) },
      { type: 'TasksPlanned', data: { tasks: [task] }, meta: meta(1) },
    ]);
    // The job finishes while the service reads its `.ev` subject: the task outcome lands before
    // the read is answered, so an older `.task` read would miss the outcome VerificationStarted needs.
    let finishing: Promise<void> | undefined;
    const racing: EventLog = {
      ...log,
      readSubject: async (subject) => {
        if (subject === jobEvSubject(JOB)) {
          finishing ??= (async () => {
            await settleMicrotasks(); // a parallel `.task` read would be answered meanwhile
            await log.append(jobTaskSubject(JOB), [{ type: 'TaskSucceeded', data: { taskId: 't00000', attempt: 1, workerId: 'w1', result: { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] } }, meta: meta(1, 'worker:w1') }]);
            await log.append(jobEvSubject(JOB), [{ type: 'VerificationStarted', data: {}, meta: meta(1) }, { type: 'JobSucceeded', data: {}, meta: meta(1) }]);
          })();
          await finishing;
        }
        return log.readSubject(subject);
      },
    };
    const env = createSimEnv();
    // The projection is never fed: every read falls back to the log, as when it lags.
    const service = createJobService({
      config: env.config, eventLog: racing, projection: createJobProjection({ logger: silentLogger, clock }),
      liveness: createMemoryLiveness({ clock }), registry: env.registry, roots: { dataDir: '/nonexistent', cacheDir: '/nonexistent' },
      clock, random: seededRandom(1), info: () => { throw new Error('unused'); }, checks: () => ({}),
    });
    const view = await service.get(JOB, SYSTEM_CALLER);
    assert.equal(view.state, 'SUCCEEDED');
    assert.equal(view.progress.tasksSucceeded, 1);
  });
});
