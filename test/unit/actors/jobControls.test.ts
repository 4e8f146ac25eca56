/** The controls of issue 5 on the job machine and decider: cooperative stop, recover, active flag, compaction. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../../actors/events.ts';
import { decide, type CommandMeta, type Decision, type DecisionErrorCode, type JobCommand } from '../../../actors/decide.ts';
import {
  canApply,
  evolveJob,
  foldJob,
  IllegalEventError,
  jobState,
  pendingTasks,
  restoreJob,
  taskStatus,
  toJobView,
  type JobSnapshot,
} from '../../../actors/jobFold.ts';
import { AT, jobEvents, result, runningWith, taskPlans } from './jobEvents.fixture.ts';

const e = jobEvents();
const cm: CommandMeta = { actor: 'user:alice', at: AT };

function given(...history: JobEvent[]) {
  return {
    when(cmd: JobCommand, meta: CommandMeta = cm) {
      const d: Decision = decide(cmd, foldJob(history), meta);
      return {
        then(...expected: JobEvent[]): JobSnapshot {
          assert.deepEqual(d, { ok: true, events: expected.map((ev) => ({ ...ev, meta: { ...ev.meta, actor: cm.actor } })) });
          return foldJob([...history, ...(d.ok ? d.events : [])]); // the new events extend the history legally
        },
        thenRejects(code: DecisionErrorCode): void {
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

function assertRejects(s: JobSnapshot, ev: JobEvent): void {
  assert.equal(canApply(s, ev), false, `${ev.type} should be rejected in ${jobState(s)}`);
  assert.throws(() => evolveJob(s, ev), IllegalEventError);
}

const waiting = [e.submitted()];
const running = runningWith(e, 2);
const paused = [...running, e.paused(1)];
const verifying = [...running, e.taskOk('t0'), e.taskOk('t1'), e.verifying(1)];
const succeeded = [...verifying, e.succeeded(1)];
const stopped = [...running, e.stopped(1)];
/** t0 succeeded with 2 of 10 items failed, t1 failed for good (3 partial items), t2 never ran. */
const mixed = [
  e.submitted({ maxFailedRatio: 1 }), e.claimed(1), e.planned(taskPlans(3), 1),
  e.taskOk('t0', 1, result(8, 2)),
  e.taskFail('t1', 1, { retryable: false, result: { ...result(3, 1), bytesDone: 30 } }),
  e.failed(1),
];
const failed = mixed;

describe('cooperative stop', () => {
  it('a stop with a grace period asks the owner to stop by the deadline; the job keeps running', () => {
    for (const h of [running, paused, verifying]) {
      const s = given(...h).when({ kind: 'stop', graceMs: 5000 }).then(e.stopRequested(1, 5000));
      assert.equal(jobState(s), jobState(foldJob(h)));
      assert.deepEqual(toJobView(s).stopRequested, { graceMs: 5000, deadline: '2024-05-01T12:00:05.000Z' });
    }
  });

  it('a second stop changes nothing; a forced one stops at once', () => {
    const h = [...running, e.stopRequested(1)];
    given(...h).when({ kind: 'stop', graceMs: 5000 }).then();
    assertRejects(foldJob(h), e.stopRequested(1));
    assert.equal(jobState(given(...h).when({ kind: 'stop', force: true }).then(e.stopped(1))), 'STOPPED');
  });

  it('stops a waiting job, a zero grace period, or a forced stop at once', () => {
    given(...waiting).when({ kind: 'stop', graceMs: 5000 }).then(e.stopped(0));
    given(...running).when({ kind: 'stop', graceMs: 0 }).then(e.stopped(1));
    given(...running).when({ kind: 'stop' }).then(e.stopped(1));
    given(...running).when({ kind: 'stop', graceMs: 5000, force: true }).then(e.stopped(1));
  });

  it('the machine rejects a stop request outside RUNNING, PAUSED and VERIFYING', () => {
    for (const h of [waiting, succeeded, stopped, failed]) assertRejects(foldJob(h), e.stopRequested(foldJob(h).context.epoch));
  });

  it('a requeued stopping job keeps the request; a new owner may claim it and then stops it', () => {
    const w = foldJob([...running, e.stopRequested(1), e.requeued(2)]);
    assert.equal(jobState(w), 'WAITING');
    assert.notEqual(w.context.stopRequested, null);
    const claimed = evolveJob(w, e.claimed(3, 'c2'));
    assert.equal(jobState(claimed), 'RUNNING');
    assert.equal(jobState(evolveJob(claimed, e.stopped(3))), 'STOPPED');
    assert.equal(jobState(evolveJob(w, e.stopped(2))), 'STOPPED');
  });

  it('a requeued paused job shows its kept pause in the view (a client may offer resume), and a resume clears it', () => {
    const w = foldJob([...paused, e.requeued(2)]);
    assert.equal(jobState(w), 'WAITING');
    assert.equal(toJobView(w).pauseRequested, true);
    assert.equal(toJobView(evolveJob(w, e.resumed(2))).pauseRequested, false);
    assert.equal(toJobView(foldJob(running)).pauseRequested, false);
    // only WAITING says it: PAUSED is its own state, and a finished job's compaction keeps no request
    assert.equal(toJobView(foldJob(paused)).pauseRequested, false);
    assert.equal(toJobView(evolveJob(w, e.stopped(2))).pauseRequested, false);
  });
});

describe('recover', () => {
  it('takes a failed job back to WAITING, clearing the outcome, the owner and the requests', () => {
    const s = given(...failed).when({ kind: 'recover', mode: 'failed' }).then(e.recovered(1, 'failed', 1));
    const c = s.context;
    assert.equal(jobState(s), 'WAITING');
    assert.deepEqual(
      [c.error, c.finishedAt, c.coordinatorId, c.stopRequested, c.pauseRequested, c.recoveries, c.epoch],
      [undefined, undefined, null, null, false, 1, 1],
    );
    const v = toJobView(s);
    assert.deepEqual([v.error, v.finishedAt, v.recoveries], [null, null, 1]);
  });

  it('failed mode re-runs only the failed task; progress is the fold of the kept tasks', () => {
    const s = given(...failed).when({ kind: 'recover', mode: 'failed' }).then(e.recovered(1, 'failed', 1));
    assert.deepEqual(['t0', 't1', 't2'].map((t) => taskStatus(s, t)?.state), ['succeeded', 'pending', 'pending']);
    // What a job that only ever ran t0 shows.
    const keptOnly = foldJob([e.submitted({ maxFailedRatio: 1 }), e.claimed(1), e.planned(taskPlans(3), 1), e.taskOk('t0', 1, result(8, 2))]);
    assert.deepEqual(s.context.progress, keptOnly.context.progress);
    assert.deepEqual(s.context.failures, keptOnly.context.failures);
    assert.deepEqual(pendingTasks(s).map((p) => [p.task.taskId, p.nextAttempt]), [['t1', 2], ['t2', 1]]);
  });

  it('notSucceeded mode also re-runs tasks that succeeded with failed items', () => {
    const s = given(...failed).when({ kind: 'recover', mode: 'notSucceeded' }).then(e.recovered(1, 'notSucceeded', 2));
    assert.deepEqual(['t0', 't1', 't2'].map((t) => taskStatus(s, t)?.state), ['pending', 'pending', 'pending']);
    const p = s.context.progress;
    assert.deepEqual([p.tasksSucceeded, p.tasksFailed, p.itemsDone, p.itemsFailed, p.bytesDone, p.itemsTotal], [0, 0, 0, 0, 0, 30]);
    assert.deepEqual(s.context.failures, []);
  });

  it('gives reset tasks a fresh attempt budget above every attempt seen; older outcomes are ignored', () => {
    // maxTaskAttempts 2: t0 fails attempts 1 and 2 for good.
    const h = [e.submitted({ maxTaskAttempts: 2 }), e.claimed(1), e.planned(taskPlans(1), 1), e.taskFail('t0', 1), e.taskFail('t0', 2), e.failed(1)];
    let s = given(...h).when({ kind: 'recover', mode: 'failed' }).then(e.recovered(1, 'failed', 1));
    assert.deepEqual(pendingTasks(s).map((p) => p.nextAttempt), [3]);
    s = evolveJob(s, e.claimed(2));
    s = evolveJob(s, e.taskFail('t0', 2)); // a late redelivery from before the recovery
    s = evolveJob(s, e.taskOk('t0', 1)); // a stale success of an old attempt
    assert.equal(taskStatus(s, 't0')?.state, 'pending');
    s = evolveJob(s, e.taskFail('t0', 3));
    assert.equal(taskStatus(s, 't0')?.state, 'pending', 'one failure after the recovery is within the budget of 2');
    s = evolveJob(s, e.taskFail('t0', 4));
    assert.equal(taskStatus(s, 't0')?.state, 'failed');
    assert.deepEqual(taskStatus(s, 't0')?.failedAttempts, [3, 4]);
  });

  it('recovers a stopped job, and one stopped before it was planned', () => {
    assert.equal(jobState(given(...stopped).when({ kind: 'recover', mode: 'failed' }).then(e.recovered(1, 'failed', 0))), 'WAITING');
    const unplanned = [e.submitted(), e.stopped(0)];
    const s = given(...unplanned).when({ kind: 'recover', mode: 'failed' }).then(e.recovered(0, 'failed', 0));
    assert.equal(s.context.tasks, null);
  });

  it('refuses live and succeeded jobs, inactive ones, and compacted ones (JOB_COMPACTED)', () => {
    for (const h of [waiting, running, paused, verifying, succeeded]) given(...h).when({ kind: 'recover', mode: 'failed' }).thenRejects('INVALID_TRANSITION');
    given(...failed, e.activeSet(1, false)).when({ kind: 'recover', mode: 'failed' }).thenRejects('INVALID_TRANSITION');
    assertRejects(foldJob([...failed, e.activeSet(1, false)]), e.recovered(1));
    const compact = decide({ kind: 'compact' }, foldJob(failed), cm);
    assert.ok(compact.ok);
    const h = [...failed, ...compact.events];
    given(...h).when({ kind: 'recover', mode: 'failed' }).thenRejects('JOB_COMPACTED');
    assertRejects(foldJob(h), e.recovered(1));
  });

  it('refuses a recovery that would re-run nothing and fail again at once, pointing at notSucceeded', () => {
    // every task succeeded, but with failed items (a missing file in a load): only notSucceeded re-runs them
    const itemFailures = [
      e.submitted({ maxFailedRatio: 0 }), e.claimed(1), e.planned(taskPlans(2), 1),
      e.taskOk('t0', 1, result(9, 1)), e.taskOk('t1'), e.failed(1),
    ];
    const d = decide({ kind: 'recover', mode: 'failed' }, foldJob(itemFailures), cm);
    assert.equal(d.ok, false);
    assert.match(d.ok ? '' : d.message, /notSucceeded/);
    const ok = decide({ kind: 'recover', mode: 'notSucceeded' }, foldJob(itemFailures), cm);
    assert.ok(ok.ok && ok.events[0]?.type === 'JobRecovered');
    // a verification failure with no failed items may be recovered (re-verified) in failed mode
    const verifyFailed = [...verifying, e.failed(1)];
    assert.ok(decide({ kind: 'recover', mode: 'failed' }, foldJob(verifyFailed), cm).ok);
  });
});

describe('active flag', () => {
  it('a finished job is deactivated and activated again; repeats change nothing', () => {
    const s = given(...succeeded).when({ kind: 'setActive', active: false }).then(e.activeSet(1, false));
    assert.equal(toJobView(s).active, false);
    given(...succeeded, e.activeSet(1, false)).when({ kind: 'setActive', active: false }).then();
    given(...succeeded, e.activeSet(1, false)).when({ kind: 'setActive', active: true }).then(e.activeSet(1, true));
    given(...succeeded).when({ kind: 'setActive', active: true }).then();
  });

  it('is refused for unfinished jobs (decider and machine)', () => {
    for (const h of [waiting, running, paused, verifying]) {
      given(...h).when({ kind: 'setActive', active: false }).thenRejects('INVALID_TRANSITION');
      assertRejects(foldJob(h), e.activeSet(foldJob(h).context.epoch, false));
    }
  });
});

describe('compaction', () => {
  it('one JobCompacted carries the final context without plan or statuses; the view is unchanged but for `compacted`', () => {
    const before = foldJob(mixed);
    const d = decide({ kind: 'compact', submitSeq: 7 }, before, cm);
    assert.ok(d.ok);
    assert.equal(d.events.length, 1);
    const ev = d.events[0]!;
    assert.equal(ev.type, 'JobCompacted');
    if (ev.type !== 'JobCompacted') return;
    assert.deepEqual([ev.data.state, ev.data.submitSeq, ev.data.context['tasks'], ev.data.context['taskStatus'], ev.data.context['compacted']], ['FAILED', 7, null, [], true]);
    const after = foldJob([...mixed, ev]);
    assert.deepEqual(toJobView(after), { ...toJobView(before), compacted: true });
    assert.equal(after.context.tasks, null);
    // What a reader sees after the rollup (and in JSON): the one event stands for the job.
    assert.deepEqual(toJobView(foldJob([JSON.parse(JSON.stringify(ev)) as JobEvent])), toJobView(after));
  });

  it('a read between rollup and purge (task outcomes sorted before the rollup) folds from the JobCompacted', () => {
    const d = decide({ kind: 'compact' }, foldJob(stopped), cm);
    assert.ok(d.ok);
    const s = foldJob([e.taskOk('t0'), e.taskFail('t1', 1), ...d.events, e.taskOk('t1', 2)]);
    assert.equal(jobState(s), 'STOPPED');
    assert.equal(s.context.compacted, true);
  });

  it('a compacted job still accepts late outcomes (ignored) and the active flag; it is compacted once', () => {
    const d = decide({ kind: 'compact' }, foldJob(succeeded), cm);
    assert.ok(d.ok);
    const h = [...succeeded, ...d.events];
    const s = foldJob(h);
    assert.deepEqual(evolveJob(s, e.taskOk('t0', 2)).context, s.context);
    assert.equal(evolveJob(s, e.activeSet(1, false)).context.active, false);
    given(...h).when({ kind: 'compact' }).then();
    assertRejects(s, d.events[0]!);
  });

  it('is refused for unfinished jobs; restoring a non-terminal snapshot is a bug', () => {
    for (const h of [waiting, running, paused, verifying]) given(...h).when({ kind: 'compact' }).thenRejects('INVALID_TRANSITION');
    const bad = e.compacted(1, { state: 'RUNNING', context: {} });
    assertRejects(foldJob(running), bad);
    assert.throws(() => restoreJob(bad), IllegalEventError);
  });

  it('restores snapshots written without the newer fields with their defaults', () => {
    const s = restoreJob(e.compacted(1, { state: 'SUCCEEDED', context: { ...foldJob(succeeded).context, virtualCluster: undefined, active: undefined, recoveries: undefined } }));
    const v = toJobView(s);
    assert.deepEqual([v.virtualCluster, v.active, v.recoveries, v.compacted, v.stopRequested], ['default', true, 0, true, null]);
  });
});

describe('submission fields', () => {
  it('keeps virtual cluster, callback and rerun link; old submissions run in `default`', () => {
    const v = toJobView(foldJob([e.submitted({ virtualCluster: 'gpu', callbackUrl: 'https://x.test/cb', rerunOf: 'job-0' })]));
    assert.deepEqual([v.virtualCluster, v.callbackUrl, v.rerunOf, v.active, v.recoveries, v.compacted], ['gpu', 'https://x.test/cb', 'job-0', true, 0, false]);
    const old = toJobView(foldJob([e.submitted()]));
    assert.deepEqual([old.virtualCluster, old.callbackUrl, old.rerunOf], ['default', null, null]);
  });
});
