/**
 * The explain decision (engine/explain/explainJob.ts) on each reason, from facts as the explainer
 * gathers them: what a user reads first (the summary and the reasons' codes) and the numbers beside.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explainJob, type ExplainFacts, type ExplainedJob } from '../../../../engine/explain/explainJob.ts';

const NOW = '2026-12-05T17:00:00.000Z';

function job(more: Partial<ExplainedJob> = {}): ExplainedJob {
  return {
    id: 'j1', state: 'WAITING', priority: 0, virtualCluster: 'default', coordinatorId: null, pauseRequested: false, stopRequested: null,
    parallelism: null, planOpen: false, finishedAt: null, error: null, lastReason: null,
    progress: { tasksTotal: 0, tasksSucceeded: 0, tasksFailed: 0, itemsTotal: 0, itemsDone: 0, itemsFailed: 0, bytesTotal: 0, bytesDone: 0 },
    ...more,
  };
}

function waiting(more: Partial<NonNullable<ExplainFacts['waiting']>> & { claimRank?: number | null; position?: number } = {}): NonNullable<ExplainFacts['waiting']> {
  const { claimRank = 0, position = 1, ...rest } = more;
  return {
    queue: { position, waitingInVc: position, higherPriorityAhead: 0, priority: 0, claimRank },
    share: { name: 'default', guaranteed: 4, max: 4, used: 0 },
    capacity: { runningJobCapacity: 4, liveCoordinators: 1, totalSlots: 4, activeJobs: 0, freeSlots: 4 },
    ...rest,
  };
}

const running = (tasks: number, report?: { dispatched: number; retrying: number; nextRetryAt?: string; starved: boolean }, more: Partial<ExplainedJob> = {}): ExplainFacts => ({
  now: NOW,
  job: job({
    state: 'RUNNING', coordinatorId: 'c1',
    progress: { tasksTotal: tasks, tasksSucceeded: 0, tasksFailed: 0, itemsTotal: tasks, itemsDone: 0, itemsFailed: 0, bytesTotal: 0, bytesDone: 0 },
    ...more,
  }),
  liveCoordinators: ['c1'],
  liveWorkers: 2,
  running: { report, runningOnWorkers: report?.dispatched ?? 0, window: { maxTasksPerWorker: 4, liveWorkers: 2, limit: 8, inFlight: report?.dispatched ?? null, share: { name: 'default', guaranteed: 8, max: 8, used: report?.dispatched ?? 0 } } },
});

const codes = (f: ExplainFacts) => explainJob(f).reasons.map((r) => r.code);

describe('explain: a WAITING job', () => {
  it('says the next claim pass takes it when a slot is free and nothing comes before it', () => {
    const x = explainJob({ now: NOW, job: job(), liveCoordinators: ['c1'], liveWorkers: 1, waiting: waiting() });
    assert.deepEqual(x.reasons.map((r) => r.code), ['CLAIM_DUE']);
    assert.equal(x.summary, x.reasons[0]!.message);
    assert.deepEqual([x.queue?.position, x.capacity?.freeSlots, x.tasks, x.window], [1, 4, null, null]);
  });

  it('says all running-job slots are taken, with how many jobs are claimed before it', () => {
    const f: ExplainFacts = {
      now: NOW, job: job(), liveCoordinators: ['c1', 'c2'], liveWorkers: 1,
      waiting: waiting({ claimRank: 3, position: 4, capacity: { runningJobCapacity: 2, liveCoordinators: 2, totalSlots: 4, activeJobs: 4, freeSlots: 0 } }),
    };
    const x = explainJob(f);
    assert.deepEqual(codes(f), ['CAPACITY_FULL']);
    assert.match(x.summary, /4 jobs hold 4 slots: 2 per coordinator × 2; 0 free.*3 jobs would be claimed before it/);
  });

  it('says its virtual cluster is at its max share when the claim order never reaches it', () => {
    const f: ExplainFacts = {
      now: NOW, job: job({ virtualCluster: 'batch' }), liveCoordinators: ['c1'], liveWorkers: 1,
      waiting: waiting({ claimRank: null, position: 3, share: { name: 'batch', guaranteed: 1, max: 2, used: 2 } }),
    };
    assert.deepEqual(codes(f), ['VC_AT_MAX']);
    assert.match(explainJob(f).summary, /'batch' may run 2 jobs at most \(max share\) and runs 2; 2 jobs ahead of it/);
  });

  it('says the slots are taken, not its VC, when its VC may use every slot and the jobs ahead of it fill them', () => {
    const f: ExplainFacts = {
      now: NOW, job: job(), liveCoordinators: ['c1'], liveWorkers: 1,
      waiting: waiting({ claimRank: null, position: 2, share: { name: 'default', guaranteed: 4, max: 4, used: 3 }, capacity: { runningJobCapacity: 4, liveCoordinators: 1, totalSlots: 4, activeJobs: 4, freeSlots: 0 } }),
    };
    assert.deepEqual(codes(f), ['CAPACITY_FULL']);
    assert.match(explainJob(f).summary, /1 job ahead of it in its queue take the slots that free up first/);
  });

  it('names the default share a job of an undefined virtual cluster runs under', () => {
    const f: ExplainFacts = {
      now: NOW, job: job({ virtualCluster: 'gone' }), liveCoordinators: ['c1'], liveWorkers: 1,
      waiting: waiting({ claimRank: null, share: { name: 'default', guaranteed: 0, max: 0, used: 0 } }),
    };
    assert.match(explainJob(f).summary, /'default' \(its own 'gone' is not defined\)/);
  });

  it('says it is never claimed when there is no share to run it under', () => {
    const f: ExplainFacts = { now: NOW, job: job({ virtualCluster: 'gone' }), liveCoordinators: ['c1'], liveWorkers: 1, waiting: waiting({ claimRank: null, share: undefined }) };
    assert.deepEqual(codes(f), ['NO_SHARE']);
  });

  it('puts "no live coordinator" first, and does not promise a claim', () => {
    const f: ExplainFacts = {
      now: NOW, job: job(), liveCoordinators: [], liveWorkers: 1,
      waiting: waiting({ capacity: { runningJobCapacity: 4, liveCoordinators: 0, totalSlots: 4, activeJobs: 0, freeSlots: 0 } }),
    };
    assert.deepEqual(codes(f), ['NO_LIVE_COORDINATOR']);
  });

  it('adds that a requested pause holds it once claimed', () => {
    const f: ExplainFacts = { now: NOW, job: job({ pauseRequested: true }), liveCoordinators: ['c1'], liveWorkers: 1, waiting: waiting() };
    assert.deepEqual(codes(f), ['CLAIM_DUE', 'CLAIMED_INTO_PAUSE']);
  });
});

describe('explain: an owned job', () => {
  it('says who paused it, when and why', () => {
    const f: ExplainFacts = { ...running(4, { dispatched: 0, retrying: 0, starved: false }, { state: 'PAUSED' }), pausedBy: { by: 'user:ann', at: NOW, reason: 'disk full' } };
    const x = explainJob(f);
    assert.deepEqual(x.reasons.map((r) => r.code), ['PAUSED']);
    assert.match(x.summary, /Paused by user:ann at .* \(disk full\)/);
    assert.deepEqual(x.paused, { by: 'user:ann', at: NOW, reason: 'disk full' });
  });

  it('says its owner is lost and a live peer requeues it', () => {
    const f = { ...running(4, undefined), liveCoordinators: ['c2'] };
    const x = explainJob(f);
    assert.equal(x.reasons[0]!.code, 'OWNER_LOST');
    assert.equal(x.coordinators.ownerAlive, false);
  });

  it('says no worker is alive while tasks wait', () => {
    const f = { ...running(3, { dispatched: 3, retrying: 0, starved: false }), liveWorkers: 0 };
    assert.equal(codes(f)[0], 'NO_LIVE_WORKER');
  });

  it('says its tasks wait out a retry backoff until the time its owner reported', () => {
    const at = '2026-12-05T17:00:04.000Z';
    const f = running(2, { dispatched: 0, retrying: 2, nextRetryAt: at, starved: false });
    const x = explainJob(f);
    assert.deepEqual(x.reasons.map((r) => r.code), ['RETRY_BACKOFF']);
    assert.ok(x.summary.includes(at));
    assert.deepEqual([x.tasks?.retrying, x.tasks?.nextRetryAt], [2, at]);
  });

  it('names tasks in a retry backoff after what runs when others are in flight', () => {
    const f = running(4, { dispatched: 2, retrying: 1, nextRetryAt: '2026-12-05T17:00:04.000Z', starved: false });
    assert.deepEqual(codes(f), ['TASKS_RUNNING', 'RETRY_BACKOFF']);
  });

  it('says its parallelism limit holds the rest', () => {
    const f = running(10, { dispatched: 2, retrying: 0, starved: false }, { parallelism: 2 });
    assert.deepEqual(codes(f), ['PARALLELISM_LIMIT', 'TASKS_RUNNING']);
  });

  it('says the dispatch window is full when its owner found no slot and the window holds its limit', () => {
    const f = running(20, { dispatched: 8, retrying: 0, starved: true });
    assert.deepEqual(codes(f), ['WINDOW_FULL', 'TASKS_RUNNING']);
    assert.match(explainJob(f).summary, /8 of 8 tasks: 4 per worker × 2 live workers/);
  });

  it("says its VC's share of the window is full when the window itself has room", () => {
    const f = running(20, { dispatched: 2, retrying: 0, starved: true });
    f.running!.window = { ...f.running!.window, inFlight: 5, share: { name: 'default', guaranteed: 2, max: 2, used: 2 } };
    assert.deepEqual(codes(f), ['VC_TASK_SHARE_FULL', 'TASKS_RUNNING']);
  });

  it('says what runs: tasks in flight, on workers and queued', () => {
    const f = running(5, { dispatched: 3, retrying: 0, starved: false });
    f.running!.runningOnWorkers = 2;
    const x = explainJob(f);
    assert.deepEqual(x.reasons.map((r) => r.code), ['TASKS_RUNNING']);
    assert.match(x.summary, /3 tasks in flight \(2 running on workers, 1 queued for a worker\)/);
    assert.deepEqual([x.tasks?.inFlight, x.tasks?.notFinal, x.window?.limit], [3, 5, 8]);
  });

  it('says ready tasks are dispatched next when its owner reported none in flight and no slot refused', () => {
    const x = explainJob(running(3, { dispatched: 0, retrying: 0, starved: false }));
    assert.deepEqual(x.reasons.map((r) => r.code), ['DISPATCH_DUE']);
    assert.match(x.summary, /3 tasks ready: its owner dispatches them at its next step/);
  });

  it('says an open plan waits for more tasks', () => {
    const f = running(0, { dispatched: 0, retrying: 0, starved: false }, { planOpen: true });
    assert.deepEqual(codes(f), ['PLAN_EXTENDING']);
  });

  it('says verification comes next once every task is final', () => {
    const f = running(2, { dispatched: 0, retrying: 0, starved: false });
    f.job.progress = { ...f.job.progress, tasksSucceeded: 2 };
    assert.deepEqual(codes(f), ['VERIFYING']);
  });

  it('says a stop is under way, with its deadline', () => {
    const f = running(2, { dispatched: 2, retrying: 0, starved: false }, { stopRequested: { deadline: '2026-12-05T17:00:30.000Z' } });
    assert.equal(codes(f)[0], 'STOPPING');
    assert.deepEqual(explainJob(f).stop, { deadline: '2026-12-05T17:00:30.000Z' });
  });

  it('says its owner has not reported on it yet', () => {
    assert.deepEqual(codes(running(2, undefined)), ['OWNER_NOT_REPORTING']);
  });
});

describe('explain: a finished job', () => {
  it('says it finished, how and when: nothing waits', () => {
    const f: ExplainFacts = { now: NOW, job: job({ state: 'FAILED', finishedAt: NOW, error: { code: 'TOO_MANY_FAILURES', message: '3 of 3 tasks failed' } }), liveCoordinators: ['c1'], liveWorkers: 1 };
    const x = explainJob(f);
    assert.deepEqual(x.reasons.map((r) => r.code), ['FINISHED']);
    assert.match(x.summary, /FAILED at .* \(TOO_MANY_FAILURES: 3 of 3 tasks failed\)/);
    assert.equal(x.coordinators.ownerAlive, null);
  });
});
