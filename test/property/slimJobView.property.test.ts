/**
 * The slim job view of a worker-only process (engine/projections/slimJobView.ts) against the full
 * projection (the job machine's fold), over random valid histories of a few interleaved jobs: the
 * commands through `decide` (claims with open and closed plans, extensions, requeues, pauses, stops,
 * failures, recoveries, job retries, (de)activation, compaction as a rollup), random task outcomes
 * (old epochs, any attempt, redeliveries) and removals. Each record is applied to both as a live
 * follower would, and the stored log (rolled up and purged) is replayed into both at the end and at
 * a random point. After every record, for task messages the job's owner could have dispatched at
 * any point of the history and random ones, the worker's decisions (engine/worker/terminalJobs.ts)
 * must agree:
 *
 * - `finishedFor` exactly, for every message;
 * - whatever the projection drops (finished or obsolete), the slim view drops;
 * - the slim view drops more only where running the attempt would change nothing: its outcome,
 *   either way, folded into the projection's job changes neither the job nor the task (a kept task
 *   that a recovery did not reset; see the module comment of slimJobView.ts);
 * - the tasks the worker's listener aborts: the same rule, through each view's `onChange`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JobEvent } from '../../actors/events.ts';
import { evolveJob, taskStatus, toJobView, type JobSnapshot } from '../../actors/jobFold.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { silentLogger } from '../../engine/log.ts';
import { jobFactsOf, type JobFacts } from '../../engine/projections/jobFacts.ts';
import { createJobProjection, type JobProjection } from '../../engine/projections/jobProjection.ts';
import { createSlimJobView, type SlimJobView } from '../../engine/projections/slimJobView.ts';
import type { TaskMessage } from '../../engine/taskqueue/taskQueue.ts';
import { createRunningTasks, type RunningTasks } from '../../engine/worker/runningTasks.ts';
import { abortEndedTasks, finishedFor, obsoleteFor } from '../../engine/worker/terminalJobs.ts';
import { result } from '../unit/actors/jobEvents.fixture.ts';

import { actionArb, History, key, type Action, type Job } from './randomJobHistory.ts';

/** The messages to judge for a job: every dispatch, and random ones at epochs the job reaches. */
function messagesOf(j: Job, extra: { task: number; attempt: number; epoch: number }[]): TaskMessage[] {
  const random = extra.map((x) => ({
    jobId: j.e.jobId, taskId: x.task === 5 ? 'unplanned' : `t${x.task}`, attempt: x.attempt, epoch: x.epoch % (j.maxEpoch + 1), type: 'noop', payload: null, spec: {},
  }));
  return [...j.dispatched.values(), ...random];
}

const drops = (facts: JobFacts, m: TaskMessage) => finishedFor(facts, m) || obsoleteFor(facts, m);

/** Running the attempt changes nothing in the job as the machine folds it, whatever it reports. */
function changesNothing(s: JobSnapshot, m: TaskMessage, e: Job['e']): boolean {
  const outcomes: JobEvent[] = [e.taskOk(m.taskId, m.attempt, result(1), m.epoch), e.taskFail(m.taskId, m.attempt, { retryable: true, epoch: m.epoch }), e.taskFail(m.taskId, m.attempt, { retryable: false, epoch: m.epoch })];
  return outcomes.every((o) => {
    const after = evolveJob(s, o);
    return JSON.stringify(toJobView(after)) === JSON.stringify(toJobView(s)) && JSON.stringify(taskStatus(after, m.taskId)) === JSON.stringify(taskStatus(s, m.taskId));
  });
}

interface Counts { agree: number; slimMore: number; obsoleteBoth: number; finishedBoth: number; abortedBoth: number; abortedSlimMore: number }

/** Both views' decisions for every job and message, with `full`'s snapshots as the judge. */
function compare(h: History, full: JobProjection, slim: SlimJobView, extra: { task: number; attempt: number; epoch: number }[], n: Counts, where: string): void {
  const fullFacts = jobFactsOf(full);
  for (const j of h.jobs) {
    const f = fullFacts.get(j.e.jobId);
    const s = slim.get(j.e.jobId);
    assert.equal(s === undefined, f === undefined, `${where}: both views hold ${j.e.jobId} or neither`);
    if (f === undefined || s === undefined) continue;
    assert.equal(s.terminal, f.terminal, `${where}: terminal`);
    assert.equal(s.epoch, f.epoch, `${where}: epoch`);
    for (const m of messagesOf(j, extra)) {
      assert.equal(finishedFor(slim, m), finishedFor(fullFacts, m), `${where}: finishedFor ${key(m)}`);
      const byFull = drops(fullFacts, m);
      const bySlim = drops(slim, m);
      if (byFull) assert.ok(bySlim, `${where}: the projection drops ${key(m)} (floor ${f.floor(m.taskId)}), the slim view runs it (floor ${s.floor(m.taskId)})`);
      if (bySlim && !byFull) {
        assert.ok(changesNothing(full.get(j.e.jobId)!.snapshot, m, j.e), `${where}: the slim view drops ${key(m)}, whose outcome would count`);
        n.slimMore++;
      } else n.agree++;
      if (byFull && obsoleteFor(fullFacts, m) && !finishedFor(fullFacts, m)) n.obsoleteBoth++;
      if (byFull && finishedFor(fullFacts, m)) n.finishedBoth++;
    }
  }
}

/** A fresh projection and slim view fed `records`. */
function replayed(records: readonly LogRecord[]): { full: JobProjection; slim: SlimJobView } {
  const full = createJobProjection({ logger: silentLogger });
  const slim = createSlimJobView();
  for (const r of records) {
    full.apply(structuredClone(r));
    slim.apply(structuredClone(r));
  }
  return { full, slim };
}

/** Starts every message as a running task, on a RunningTasks aborted by each view's listener. */
function runningOn(facts: JobFacts, h: History): { running: RunningTasks; aborted: Set<string> } {
  const running = createRunningTasks();
  const aborted = new Set<string>();
  for (const j of h.jobs) {
    for (const m of j.dispatched.values()) {
      const t = running.start(key(m), m.jobId, m.epoch);
      t.abort.signal.addEventListener('abort', () => aborted.add(key(m)));
    }
  }
  facts.onChange((jobId, job) => abortEndedTasks(running, jobId, job));
  return { running, aborted };
}

function check(jobCount: number, actions: Action[], extra: { task: number; attempt: number; epoch: number }[], cut: number, n: Counts): void {
  const h = new History(jobCount);
  for (const a of actions) h.apply(a);
  const full = createJobProjection({ logger: silentLogger });
  const slim = createSlimJobView();
  const fullRunning = runningOn(jobFactsOf(full), h);
  const slimRunning = runningOn(slim, h);
  const cutAt = 1 + (cut % h.appended.length);
  for (const r of h.appended) {
    full.apply(structuredClone(r));
    slim.apply(structuredClone(r));
    compare(h, full, slim, extra, n, `live after record ${r.seq} (${r.subject} ${r.events.map((e) => e.type).join('+')})`);
    for (const k of fullRunning.aborted) {
      assert.ok(slimRunning.aborted.has(k), `after record ${r.seq}: the projection's listener aborted ${k}, the slim view's did not`);
      n.abortedBoth++;
    }
    for (const k of slimRunning.aborted) {
      if (fullRunning.aborted.has(k)) continue;
      const [jobId, taskId, attempt, epoch] = [k.slice(0, k.indexOf(':')), ...k.slice(k.indexOf(':') + 1).split(':')] as [string, string, string, string];
      const j = h.jobs.find((x) => x.e.jobId === jobId)!;
      const m: TaskMessage = { jobId, taskId, attempt: Number(attempt), epoch: Number(epoch), type: 'noop', payload: null, spec: {} };
      const entry = full.get(jobId);
      assert.ok(entry !== undefined && changesNothing(entry.snapshot, m, j.e), `after record ${r.seq}: the slim view's listener aborted ${k}, whose outcome would count`);
      n.abortedSlimMore++;
    }
    if (r.seq === cutAt) {
      const later = replayed(h.storedUpTo(cutAt));
      compare(h, later.full, later.slim, extra, n, `replay of the store after record ${cutAt}`);
    }
  }
  const end = replayed(h.storedUpTo(h.appended.length));
  compare(h, end.full, end.slim, extra, n, 'replay of the store at the end');
  assert.equal(end.full.rejected, 0);
}

describe('slim job view (worker-only processes) against the full projection', () => {
  it('random histories: the worker drops, runs and aborts the same tasks, but for kept tasks whose runs change nothing', () => {
    const n: Counts = { agree: 0, slimMore: 0, obsoleteBoth: 0, finishedBoth: 0, abortedBoth: 0, abortedSlimMore: 0 };
    const extraArb = fc.array(fc.record({ task: fc.nat(5), attempt: fc.integer({ min: 1, max: 8 }), epoch: fc.nat(8) }), { maxLength: 12 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(actionArb(3), { maxLength: 90, size: 'max' }), extraArb, fc.nat(), (jobs, actions, extra, cut) => {
        check(jobs, actions.map((a) => ({ ...a, job: a.job % jobs })), extra, cut, n);
      }),
      { numRuns: 300 },
    );
    console.log(`slim view: ${JSON.stringify(n)}`);
    // the generator must reach the cases that matter, or the property proves little
    assert.ok(n.obsoleteBoth > 0, 'never an attempt obsolete in both views');
    assert.ok(n.finishedBoth > 0, 'never a task of a finished job');
    assert.ok(n.abortedBoth > 0, 'never an abort');
    assert.ok(n.slimMore < n.agree / 20, `the slim view drops more than rarely: ${n.slimMore} of ${n.agree + n.slimMore}`);
  });
});
