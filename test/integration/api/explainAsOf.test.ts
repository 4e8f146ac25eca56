/**
 * `GET /jobs/:id/explain` and `?asOf=` over real HTTP against a whole service on a real nats-server:
 * a waiting job's reason (its VC at its max share, every running-job slot taken, its place in the
 * queue) and that the claim pass then claims in the order explain gave; a running job's tasks in
 * flight as its owner reports them; a paused job's who and why; the same 404 as GET /jobs/:id for a
 * job the caller may not see; the job as it was at a sequence or a time, strict 400s for bad
 * `asOf`, and a compacted job's snapshot said to be no more than that.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobExplanation } from '../../../engine/explain/explainJob.ts';
import type { AsOfInfo } from '../../../engine/jobservice/asOf.ts';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { http, useTestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';
import { API, as, history, submit, userToken, waitJob, waitState, type ApiError, type HistoryEvent } from '../journey/journeyKit.ts';

const LONG = { type: 'sleep', spec: { ms: 120_000 } };

describe('GET /jobs/:id/explain', () => {
  const env = useTestService({ runningJobCapacity: 4 });
  const base = () => env.svc.baseUrl;

  async function explain(id: string, headers: Record<string, string> = {}) {
    return http<JobExplanation & ApiError>(base(), 'GET', `${API}/jobs/${id}/explain`, undefined, headers);
  }
  async function explained(id: string): Promise<JobExplanation> {
    const r = await explain(id);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }
  /** Waits until the job's explanation satisfies `pred` (the owner reports at its next heartbeat). */
  function waitExplained(id: string, what: string, pred: (x: JobExplanation) => boolean): Promise<JobExplanation> {
    return waitFor(async () => {
      const x = await explained(id);
      return pred(x) ? x : undefined;
    }, { what: `explain of ${id}: ${what}`, timeoutMs: 15_000, intervalMs: 50 });
  }

  it('tells why each waiting job waits, the claim pass claims in that order, and a running, paused and finished job say what they are at', async () => {
    const vc = await http(base(), 'POST', `${API}/virtual-clusters`, { name: 'small', capacity: 0, maxCapacity: 25 });
    assert.equal(vc.status, 201, JSON.stringify(vc.body));
    // the VC's max share: 25 % of 4 slots = 1 job
    const s1 = await submit(base(), { ...LONG, virtualCluster: 'small' });
    await waitState(base(), s1.id, 'RUNNING');
    const s2 = await submit(base(), { ...LONG, virtualCluster: 'small' });
    const d = [];
    for (let i = 0; i < 3; i++) d.push(await submit(base(), LONG));
    for (const j of d) await waitState(base(), j.id, 'RUNNING');
    const d4 = await submit(base(), LONG);
    const d5 = await submit(base(), { ...LONG, priority: -1 });

    const small = await explained(s2.id);
    assert.equal(small.state, 'WAITING');
    assert.equal(small.reasons[0]!.code, 'VC_AT_MAX', JSON.stringify(small));
    assert.deepEqual(small.quota, { name: 'small', guaranteed: 0, max: 1, used: 1 });
    assert.equal(small.queue?.claimRank, null);
    assert.match(small.summary, /'small' may run 1 job at most/);

    const next = await explained(d4.id);
    assert.equal(next.reasons[0]!.code, 'CAPACITY_FULL', JSON.stringify(next));
    assert.deepEqual(next.capacity, { runningJobCapacity: 4, liveCoordinators: 1, totalSlots: 4, activeJobs: 4, freeSlots: 0 });
    assert.deepEqual([next.queue?.position, next.queue?.claimRank], [1, 0]);
    const after = await explained(d5.id);
    // default may use all 4 slots: 3 run and d4 takes the last, so the claim order stops before d5
    assert.deepEqual([after.reasons[0]!.code, after.queue?.position, after.queue?.claimRank, after.queue?.priority], ['CAPACITY_FULL', 2, null, -1]);
    assert.match(after.summary, /1 job ahead of it in its queue take the slots that free up first/);

    const run = await waitExplained(d[0]!.id, 'its task in flight on a worker', (x) => x.tasks?.inFlight === 1 && x.tasks.runningOnWorkers === 1);
    assert.equal(run.reasons[0]!.code, 'TASKS_RUNNING', JSON.stringify(run));
    assert.deepEqual([run.coordinators.ownerAlive, run.workers.live >= 1, run.window?.limit, run.tasks?.total], [true, true, run.window!.maxTasksPerWorker * run.window!.liveWorkers, 1]);

    const paused = await http<JobView>(base(), 'POST', `${API}/jobs/${d[0]!.id}/pause`, { reason: 'disk full on the target' });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    const p = await explained(d[0]!.id);
    assert.equal(p.reasons[0]!.code, 'PAUSED');
    assert.deepEqual(p.paused && [p.paused.by, p.paused.reason], ['user:admin', 'disk full on the target']);

    // A slot frees: the claim pass takes the job explain ranked first, not the one behind it.
    assert.equal((await http(base(), 'POST', `${API}/jobs/${d[0]!.id}/stop`, { force: true })).status, 200);
    await waitState(base(), d4.id, 'RUNNING');
    assert.equal((await explained(d5.id)).queue?.claimRank, 0);
    assert.equal((await http<JobView>(base(), 'GET', `${API}/jobs/${d5.id}`)).body.state, 'WAITING');

    const done = await explained(d[0]!.id);
    assert.deepEqual([done.state, done.reasons.map((r) => r.code)], ['STOPPED', ['FINISHED']]);

    for (const j of [s1, s2, ...d.slice(1), d4, d5]) await http(base(), 'POST', `${API}/jobs/${j.id}/stop`, { force: true });
  });

  it("answers a job the caller may not see with GET /jobs/:id's 404, and an id that is no UUID with its 400", async () => {
    const mine = await submit(base(), { type: 'noop', spec: {} });
    const eve = await userToken(base(), 'eve-explain', 'operator');
    const got = await http<ApiError>(base(), 'GET', `${API}/jobs/${mine.id}`, undefined, as(eve));
    const ex = await explain(mine.id, as(eve));
    assert.deepEqual([ex.status, ex.body.code], [404, 'JOB_NOT_FOUND']);
    assert.deepEqual(ex.body, got.body);
    const bad = await explain('not-a-uuid');
    assert.deepEqual([bad.status, bad.body.code], [400, 'INVALID_ID']);
    const anon = await explain(mine.id, { authorization: '' });
    assert.equal(anon.status, 401);
  });
});

describe('GET /jobs/:id?asOf= and /history?asOf=', () => {
  // sleep jobs are compacted as soon as they finish; noop jobs keep their history
  const env = useTestService({ retentionByType: '{"sleep":{"compactAfterMs":0}}', retentionIntervalMs: 200 });
  const base = () => env.svc.baseUrl;

  type AsOfJob = JobView & { asOf: AsOfInfo };
  const jobAsOf = (id: string, asOf: string) => http<AsOfJob & ApiError>(base(), 'GET', `${API}/jobs/${id}?asOf=${encodeURIComponent(asOf)}`);
  const historyAsOf = (id: string, asOf: string) =>
    http<{ events: HistoryEvent[]; asOf: AsOfInfo } & ApiError>(base(), 'GET', `${API}/jobs/${id}/history?asOf=${encodeURIComponent(asOf)}`);

  it('answers the job as it was at a stream sequence or a time, folded from its history', async () => {
    const job = await submit(base(), { type: 'noop', spec: { tasks: 2 } });
    await waitState(base(), job.id, 'SUCCEEDED');
    const events = await history(base(), job.id);
    const submitted = events.find((e) => e.type === 'JobSubmitted')!;
    const claimed = events.find((e) => e.type === 'JobClaimed')!;

    const atSubmit = await jobAsOf(job.id, String(submitted.seq));
    assert.equal(atSubmit.status, 200, JSON.stringify(atSubmit.body));
    assert.deepEqual([atSubmit.body.state, atSubmit.body.progress.tasksSucceeded, atSubmit.body.submitSeq], ['WAITING', 0, job.submitSeq]);
    assert.deepEqual(atSubmit.body.asOf, { requested: String(submitted.seq), seq: submitted.seq, time: submitted.time, exact: true, compactedAt: null, note: null });

    const atClaim = await jobAsOf(job.id, claimed.time);
    assert.equal(atClaim.body.state, 'RUNNING');
    assert.equal(atClaim.body.asOf.seq, claimed.seq);

    const now = await jobAsOf(job.id, new Date(Date.now() - 1).toISOString());
    assert.deepEqual([now.body.state, now.body.progress.tasksSucceeded], ['SUCCEEDED', 2]);
    // without asOf: the job as it is, as before (no asOf field)
    const plain = await http<JobView & { asOf?: unknown }>(base(), 'GET', `${API}/jobs/${job.id}`);
    assert.equal(plain.body.asOf, undefined);

    const h = await historyAsOf(job.id, String(claimed.seq));
    assert.equal(h.status, 200, JSON.stringify(h.body));
    assert.deepEqual(h.body.events.map((e) => e.seq), events.filter((e) => e.seq <= claimed.seq).map((e) => e.seq));
    assert.equal(h.body.asOf.exact, true);

    const before = await jobAsOf(job.id, String(submitted.seq - 1));
    assert.deepEqual([before.status, before.body.code], [404, 'JOB_NOT_FOUND']);
    assert.match(before.body.message, /did not exist yet as of .*: it was submitted at seq/);
  });

  it('refuses a malformed or impossible asOf with a 400 that says what is wrong', async () => {
    const job = await submit(base(), { type: 'noop', spec: {} });
    const cases: [string, RegExp][] = [
      ['yesterday', /must be a stream sequence .* or an ISO-8601 time with a zone/],
      ['0', /must be a stream sequence/],
      ['-5', /must be a stream sequence/],
      ['1e3', /must be a stream sequence/],
      ['2026-12-05T17:00:00', /must be a stream sequence .* with a zone/],
      ['2026-02-30T00:00:00Z', /is not a valid date and time/],
      ['2026-12-05T24:00:00Z', /is not a valid date and time/],
      ['99999999999999999', /past the largest stream sequence|must be a stream sequence/],
      ['9007199254740000', /is past the stream's last sequence/],
      [new Date(Date.now() + 3_600_000).toISOString(), /is in the future/],
      ['', /must NOT have fewer than 1 characters/],
      ['x'.repeat(41), /must NOT have more than 40 characters/],
    ];
    for (const [asOf, message] of cases) {
      for (const r of [await jobAsOf(job.id, asOf), await historyAsOf(job.id, asOf)]) {
        assert.deepEqual([r.status, r.body.code], [400, 'VALIDATION_FAILED'], `${asOf}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.message, message, asOf);
      }
    }
    const eve = await userToken(base(), 'eve-asof', 'operator');
    const hidden = await http<ApiError>(base(), 'GET', `${API}/jobs/${job.id}?asOf=1`, undefined, as(eve));
    assert.deepEqual([hidden.status, hidden.body.code], [404, 'JOB_NOT_FOUND']);
  });

  it('says clearly that a compacted job is known only by its snapshot before its compaction', async () => {
    const job = await submit(base(), { type: 'sleep', spec: { ms: 1 } });
    const compacted = await waitJob(base(), job.id, 'compacted', (j) => j.compacted, 30_000);
    assert.equal(compacted.state, 'SUCCEEDED');
    const [rollup] = await history(base(), job.id);
    assert.equal(rollup?.type, 'JobCompacted');

    const early = await jobAsOf(job.id, String(job.submitSeq));
    assert.equal(early.status, 200, JSON.stringify(early.body));
    assert.deepEqual(
      [early.body.asOf.exact, early.body.asOf.compactedAt, early.body.state],
      [false, { seq: rollup.seq, time: rollup.time }, 'SUCCEEDED'],
    );
    assert.match(early.body.asOf.note ?? '', /compacted at seq .*: its state before then is not known/);
    const earlyHistory = await historyAsOf(job.id, String(job.submitSeq));
    assert.deepEqual([earlyHistory.body.events, earlyHistory.body.asOf.exact], [[], false]);

    const late = await jobAsOf(job.id, String(rollup.seq));
    assert.deepEqual([late.body.asOf.exact, late.body.asOf.compactedAt?.seq, late.body.compacted], [true, rollup.seq, true]);

    const before = await jobAsOf(job.id, String(job.submitSeq - 1));
    assert.deepEqual([before.status, before.body.code], [404, 'JOB_NOT_FOUND']);
  });
});
