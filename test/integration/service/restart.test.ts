import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { http, startTestService, type TestService } from '../../helpers/service.ts';
import { SYSTEM_CALLER, type HistoryEntry, type JobView } from '../../../engine/serviceTypes.ts';
import { waitFor } from '../../helpers/wait.ts';
import { parseExposition, valueOf } from '../../helpers/exposition.ts';

const API = '/native/v1';

const getJob = async (svc: TestService, id: string) => (await http<JobView>(svc.baseUrl, 'GET', `${API}/jobs/${id}`)).body;
const terminal = (svc: TestService, id: string) =>
  waitFor(async () => {
    const j = await getJob(svc, id);
    return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state) ? j : undefined;
  }, { what: `job ${id} terminal`, timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
const historyOf = async (svc: TestService, id: string) => (await http<{ events: HistoryEntry[] }>(svc.baseUrl, 'GET', `${API}/jobs/${id}/history`)).body.events;

describe('restarts against a real nats-server', () => {
  let nats: TestNats;
  const services: TestService[] = [];
  before(async () => {
    nats = await startTestNats();
  });
  after(async () => {
    for (const s of services) await s.stop();
    await nats?.cleanup();
  });

  it('a restarted service starts from the projection checkpoint its coordinator wrote, and shows the same jobs', async () => {
    const svc = await startTestService(nats.url, { checkpointIntervalMs: 100 });
    services.push(svc);
    assert.equal(svc.engine.checkpointSeq, 0, 'no checkpoint yet on a fresh store');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await http<JobView>(svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: { tasks: 2 } })).body.id);
    const before = await Promise.all(ids.map((id) => terminal(svc, id)));
    const seq = svc.engine.lastSeq();
    await waitFor(() => (svc.engine.controlStore.get('checkpoint.lease') !== undefined ? true : undefined), { what: 'a checkpoint lease', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1_500)); // a write after the last record
    await svc.restart();
    assert.ok(svc.engine.checkpointSeq >= seq, `started from the checkpoint (${svc.engine.checkpointSeq} >= ${seq})`);
    for (const [i, id] of ids.entries()) assert.deepEqual(await getJob(svc, id), before[i]);
    await svc.stop();
  });

  it('a coordinator restarted mid-job lets the job finish, each task counted once', async () => {
    const svc = await startTestService(nats.url, { workerConcurrency: 2, maxTasksPerWorker: 2 });
    services.push(svc);
    const job = (await http<JobView>(svc.baseUrl, 'POST', `${API}/jobs`, { type: 'sleep', spec: { ms: 150, tasks: 8 } })).body;
    await waitFor(async () => ((await getJob(svc, job.id)).progress.tasksSucceeded >= 2 ? true : undefined), { what: 'some tasks done', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    await svc.restart();
    const done = await terminal(svc, job.id);
    assert.equal(done.state, 'SUCCEEDED');
    assert.equal(done.progress.tasksSucceeded, 8);
    assert.ok(done.epoch >= 3, `claimed, requeued on shutdown, claimed again (epoch ${done.epoch})`);
    const events = await historyOf(svc, job.id);
    assert.ok(events.some((e) => e.type === 'JobRequeued'));
    const succeeded = new Set(events.filter((e) => e.type === 'TaskSucceeded').map((e) => (e.data as { taskId: string }).taskId));
    assert.equal(succeeded.size, 8);
    await svc.stop();
  });

  it('the native API shows each job\'s submitSeq (its JobSubmitted\'s stream sequence), the same after a restart', async () => {
    const svc = await startTestService(nats.url, { roles: ['api'] });
    services.push(svc);
    const a = (await http<JobView>(svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} })).body;
    const b = (await http<JobView>(svc.baseUrl, 'POST', `${API}/jobs`, { type: 'noop', spec: {} })).body;
    for (const j of [a, b]) {
      assert.equal(j.submitSeq, (await historyOf(svc, j.id)).find((e) => e.type === 'JobSubmitted')?.seq, 'the JobSubmitted record\'s seq');
    }
    assert.ok(Number.isSafeInteger(a.submitSeq) && b.submitSeq > a.submitSeq);
    const numbers = async () => {
      const { jobs } = (await http<{ jobs: JobView[] }>(svc.baseUrl, 'GET', `${API}/jobs?active=all`)).body;
      const mine = jobs.filter((j) => j.id === a.id || j.id === b.id);
      const one = await Promise.all([a, b].map(async (j) => (await getJob(svc, j.id)).submitSeq));
      return { listed: mine.map((j) => [j.id, j.submitSeq]), get: one };
    };
    const expected = { listed: [[b.id, b.submitSeq], [a.id, a.submitSeq]], get: [a.submitSeq, b.submitSeq] };
    assert.deepEqual(await numbers(), expected);
    await svc.restart();
    assert.deepEqual(await numbers(), expected, 'a new process replays the stream to the same numbers');
    assert.equal((await svc.engine.service.getBySubmitSeq(a.submitSeq, SYSTEM_CALLER)).id, a.id);
    await svc.stop();
  });

  it('a coordinator that dies without handing off is replaced by a peer after the detection timeout', async () => {
    const a = await startTestService(nats.url, { roles: ['api', 'coordinator', 'worker'] });
    services.push(a);
    const job = (await http<JobView>(a.baseUrl, 'POST', `${API}/jobs`, { type: 'sleep', spec: { ms: 200, tasks: 6 } })).body;
    await waitFor(async () => ((await getJob(a, job.id)).coordinatorId === a.engine.coordinator!.id ? true : undefined), { what: 'job running on a', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    const deadOwner = a.engine.coordinator!.id;
    await a.engine.coordinator!.stop({ handoff: false }); // like a crash: no requeue, no more heartbeats
    const b = await startTestService(nats.url, { roles: ['api', 'coordinator'] });
    services.push(b);
    const done = await terminal(b, job.id);
    assert.equal(done.state, 'SUCCEEDED');
    assert.notEqual(done.coordinatorId, deadOwner);
    const requeue = (await historyOf(b, job.id)).find((e) => e.type === 'JobRequeued');
    assert.equal((requeue?.data as { fromCoordinator: string }).fromCoordinator, deadOwner);
    assert.match(requeue?.meta['reason'] as string, /missed heartbeats/);
    assert.equal(done.reclaims, 1);
    const metrics = await fetch(`${b.baseUrl}/metrics`).then((r) => r.text());
    assert.match(metrics, /jetjobs_scheduler_reclaim_total\{reason="stale-owner"[^}]*\} 1/);
    // Under Alluxio's names too (alluxioMetricNames defaults to both), with the same values.
    const samples = parseExposition(metrics);
    assert.equal(valueOf(samples, 'alluxio_scheduler_etcd_reclaim', { reason: 'stale-owner' }), 1);
    const claims = valueOf(samples, 'alluxio_scheduler_etcd_claim');
    assert.ok(claims !== undefined && claims >= 1, `alluxio_scheduler_etcd_claim after the job ran: ${claims}`);
    assert.equal(claims, valueOf(samples, 'jetjobs_scheduler_claim_total'));
    await b.stop();
    await a.stop();
  });

  it('the whole service restarted returns the same job states and histories', async () => {
    const svc = await startTestService(nats.url);
    services.push(svc);
    const ids: string[] = [];
    for (const body of [
      { type: 'noop', spec: { tasks: 3 } },
      { type: 'sleep', spec: { ms: 10 } },
      { type: 'sleep', spec: { ms: 60_000 } },
    ]) ids.push((await http<JobView>(svc.baseUrl, 'POST', `${API}/jobs`, body)).body.id);
    await terminal(svc, ids[0]!);
    await terminal(svc, ids[1]!);
    // Forced: a cooperative stop would let the 60 s task run through its grace period.
    await http(svc.baseUrl, 'POST', `${API}/jobs/${ids[2]}/stop`, { force: true });
    const before = new Map<string, { job: JobView; history: HistoryEntry[] }>();
    for (const id of ids) before.set(id, { job: await getJob(svc, id), history: await historyOf(svc, id) });
    const listBefore = (await http<{ jobs: JobView[] }>(svc.baseUrl, 'GET', `${API}/jobs?limit=1000`)).body.jobs;

    await svc.restart();
    for (const id of ids) {
      assert.deepEqual(await getJob(svc, id), before.get(id)!.job);
      assert.deepEqual(await historyOf(svc, id), before.get(id)!.history);
    }
    const listAfter = (await http<{ jobs: JobView[] }>(svc.baseUrl, 'GET', `${API}/jobs?limit=1000`)).body.jobs;
    assert.deepEqual(listAfter, listBefore);
  });
});
