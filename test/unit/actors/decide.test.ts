import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../../actors/events.ts';
import { decide, type CommandMeta, type Decision, type JobCommand } from '../../../actors/decide.ts';
import { foldJob, jobState } from '../../../actors/jobFold.ts';
import { AT, jobEvents, runningWith, taskPlans } from './jobEvents.fixture.ts';

const e = jobEvents();
const cm: CommandMeta = { actor: 'test', at: AT };

/** given(events).when(command).then(events) / .thenRejects(code): the Emmett decider test style. */
function given(...history: JobEvent[]) {
  return {
    when(cmd: JobCommand, meta: CommandMeta = cm) {
      const d: Decision = decide(cmd, history.length === 0 ? undefined : foldJob(history), meta);
      return {
        then(...expected: JobEvent[]): void {
          assert.deepEqual(d, { ok: true, events: expected });
          foldJob([...history, ...expected]); // the new events extend the history legally
        },
        thenRejects(code: 'JOB_NOT_FOUND' | 'INVALID_TRANSITION' | 'ALREADY_EXISTS'): void {
          assert.equal(d.ok, false, `expected ${code}, got ${JSON.stringify(d)}`);
          if (!d.ok) {
            assert.equal(d.code, code);
            assert.doesNotMatch(d.message, /^internal:/);
          }
        },
      };
    },
  };
}

// Histories by state (epoch 1 unless noted).
const waiting = [e.submitted()];
const running = runningWith(e, 2);
const paused = [...running, e.paused(1)];
const done = [...running, e.taskOk('t0'), e.taskOk('t1')];
const verifying = [...done, e.verifying(1)];
const succeeded = [...verifying, e.succeeded(1)];
const failed = [...running, e.failed(1)];
const stopped = [...running, e.stopped(1)];
const requeuedPaused = [...paused, e.requeued(2)];
const all = { waiting, running, paused, verifying, succeeded, failed, stopped };

const fail = { kind: 'finish', outcome: 'failed', error: { code: 'TOO_MANY_FAILURES', message: 'failed ratio crossed' } } as const;

describe('decide', () => {
  describe('submit', () => {
    it('creates a job at epoch 0 with the command meta', () => {
      given()
        .when({ kind: 'submit', data: e.submitted().data }, { ...cm, reason: 'r', causationId: 'idem-1' })
        .then({ ...e.submitted(), meta: { ...e.meta(0), reason: 'r', causationId: 'idem-1' } });
    });
    it('refuses an existing job in every state', () => {
      for (const h of Object.values(all)) given(...h).when({ kind: 'submit', data: e.submitted().data }).thenRejects('ALREADY_EXISTS');
    });
  });

  it('refuses every other command for a missing job', () => {
    const cmds: JobCommand[] = [
      { kind: 'stop' }, { kind: 'pause' }, { kind: 'resume' }, { kind: 'claim', coordinatorId: 'c1' },
      { kind: 'requeue', fromCoordinator: 'c1' }, { kind: 'startVerification' }, { kind: 'finish', outcome: 'succeeded' }, fail,
    ];
    for (const c of cmds) given().when(c).thenRejects('JOB_NOT_FOUND');
  });

  describe('stop', () => {
    it('stops every live job in its current epoch', () => {
      given(...waiting).when({ kind: 'stop' }).then(e.stopped(0));
      for (const h of [running, paused, verifying]) given(...h).when({ kind: 'stop' }).then(e.stopped(1));
    });
    it('is idempotent on STOPPED and refused on SUCCEEDED/FAILED', () => {
      given(...stopped).when({ kind: 'stop' }).then();
      given(...succeeded).when({ kind: 'stop' }).thenRejects('INVALID_TRANSITION');
      given(...failed).when({ kind: 'stop' }).thenRejects('INVALID_TRANSITION');
    });
  });

  describe('pause / resume', () => {
    it('pauses RUNNING; repeats on PAUSED (or a requeued paused job) change nothing', () => {
      given(...running).when({ kind: 'pause' }).then(e.paused(1));
      given(...paused).when({ kind: 'pause' }).then();
      given(...requeuedPaused).when({ kind: 'pause' }).then();
    });
    it('refuses to pause WAITING, VERIFYING and terminal jobs', () => {
      for (const h of [waiting, verifying, succeeded, failed, stopped]) given(...h).when({ kind: 'pause' }).thenRejects('INVALID_TRANSITION');
    });
    it('resumes PAUSED and a requeued paused job', () => {
      given(...paused).when({ kind: 'resume' }).then(e.resumed(1));
      given(...requeuedPaused).when({ kind: 'resume' }).then(e.resumed(2));
    });
    it('resume of a job that is not paused changes nothing; terminal jobs refuse', () => {
      for (const h of [waiting, running, verifying]) given(...h).when({ kind: 'resume' }).then();
      for (const h of [succeeded, failed, stopped]) given(...h).when({ kind: 'resume' }).thenRejects('INVALID_TRANSITION');
    });
  });

  describe('claim', () => {
    it('claims WAITING with the next epoch, planning tasks in the same append', () => {
      given(...waiting).when({ kind: 'claim', coordinatorId: 'c1', tasks: taskPlans(2) }).then(e.claimed(1), e.planned(taskPlans(2), 1));
      given(...waiting).when({ kind: 'claim', coordinatorId: 'c1' }).then(e.claimed(1));
    });
    it('re-claims a requeued job without re-planning it', () => {
      given(...running, e.requeued(2)).when({ kind: 'claim', coordinatorId: 'c2', tasks: taskPlans(5) }).then(e.claimed(3, 'c2'));
    });
    it('refuses a plan with duplicate task ids', () => {
      given(...waiting).when({ kind: 'claim', coordinatorId: 'c1', tasks: [...taskPlans(1), ...taskPlans(1)] }).thenRejects('INVALID_TRANSITION');
    });
    it('refuses every state but WAITING', () => {
      for (const h of [running, paused, verifying, succeeded, failed, stopped]) {
        given(...h).when({ kind: 'claim', coordinatorId: 'c2' }).thenRejects('INVALID_TRANSITION');
      }
    });
  });

  describe('requeue', () => {
    it('requeues RUNNING, PAUSED and VERIFYING from their owner with the next epoch', () => {
      for (const h of [running, paused, verifying]) {
        given(...h).when({ kind: 'requeue', fromCoordinator: 'c1' }, { ...cm, reason: 'owner stale' }).then(e.requeued(2));
      }
    });
    it('refuses a stale owner, WAITING and terminal jobs', () => {
      given(...running).when({ kind: 'requeue', fromCoordinator: 'c9' }).thenRejects('INVALID_TRANSITION');
      for (const h of [waiting, succeeded, failed, stopped]) {
        given(...h).when({ kind: 'requeue', fromCoordinator: 'c1' }).thenRejects('INVALID_TRANSITION');
      }
    });
  });

  describe('startVerification', () => {
    it('starts when every task is final', () => {
      given(...done).when({ kind: 'startVerification' }).then(e.verifying(1));
      given(...running, e.taskOk('t0'), e.taskFail('t1', 1, { retryable: false })).when({ kind: 'startVerification' }).then(e.verifying(1));
    });
    it('early (a job type settled it): starts with tasks still pending, not without a plan nor outside RUNNING', () => {
      given(...running, e.taskOk('t0')).when({ kind: 'startVerification', early: true }).then({ ...e.verifying(1), data: { early: true } });
      given(e.submitted(), e.claimed(1)).when({ kind: 'startVerification', early: true }).thenRejects('INVALID_TRANSITION');
      for (const h of [waiting, verifying, succeeded, failed, stopped]) given(...h).when({ kind: 'startVerification', early: true }).thenRejects('INVALID_TRANSITION');
    });
    it('refuses pending tasks, no plan, and every state but RUNNING', () => {
      given(...running, e.taskOk('t0')).when({ kind: 'startVerification' }).thenRejects('INVALID_TRANSITION');
      given(e.submitted(), e.claimed(1)).when({ kind: 'startVerification' }).thenRejects('INVALID_TRANSITION');
      for (const h of [waiting, [...done, e.paused(1)], verifying, succeeded, failed, stopped]) {
        given(...h).when({ kind: 'startVerification' }).thenRejects('INVALID_TRANSITION');
      }
    });
  });

  describe('finish', () => {
    it('succeeds only from VERIFYING, with or without a summary', () => {
      given(...verifying).when({ kind: 'finish', outcome: 'succeeded', summary: { files: 20 } }).then(e.succeeded(1, { files: 20 }));
      given(...verifying).when({ kind: 'finish', outcome: 'succeeded' }).then(e.succeeded(1));
      for (const h of [waiting, running, paused, succeeded, failed, stopped]) {
        given(...h).when({ kind: 'finish', outcome: 'succeeded' }).thenRejects('INVALID_TRANSITION');
      }
    });
    it('fails RUNNING, PAUSED and VERIFYING; refuses WAITING and terminal jobs', () => {
      for (const h of [running, paused, verifying]) given(...h).when(fail).then(e.failed(1));
      for (const h of [waiting, succeeded, failed, stopped]) given(...h).when(fail).thenRejects('INVALID_TRANSITION');
    });
  });

  it('leaves the given state untouched (decisions are pure)', () => {
    const s = foldJob(running);
    const before = structuredClone(s.context);
    decide({ kind: 'pause' }, s, cm);
    decide({ kind: 'requeue', fromCoordinator: 'c1' }, s, cm);
    assert.deepEqual(s.context, before);
    assert.equal(jobState(s), 'RUNNING');
  });
});
