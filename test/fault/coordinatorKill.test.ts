/**
 * S1 (docs/operations.md, Failure model): kill -9 the coordinator that owns a running job, at seeded
 * random instants, several times. Peers must requeue and finish every job; the auditor must find
 * nothing; every task of every job must be counted once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../helpers/auditor.ts';
import { startTestNats } from '../helpers/natsServer.ts';
import { createProcessHarness, FAULT_TEST_FLAGS, type ServiceProcess } from '../helpers/processes.ts';
import { API, eventsByJob, getJob, readJobsStream, request, runSeed, seededRandom, taskCountProblems, taskRuns } from './faultKit.ts';
import type { JobView } from '../../engine/serviceTypes.ts';
import { waitFor, sleep } from '../helpers/wait.ts';

const KILLS = 3;
const MAX_ROUNDS = 8;
/** 40 tasks of 250 ms through a window of 2 per worker: a job runs for ~2.5 s on one owner. */
const JOB = { type: 'sleep', spec: { ms: 250, tasks: 40 } };

describe('kill -9 of the owning coordinator', () => {
  it(`peers requeue and finish every job (${KILLS} kills at random instants)`, async (t) => {
    const seed = runSeed();
    t.diagnostic(`seed ${seed} (FAULT_SEED=${seed} replays the fault instants)`);
    const rnd = seededRandom(seed);
    const nats = await startTestNats();
    const procs = await createProcessHarness({ natsUrl: nats.url, flags: { ...FAULT_TEST_FLAGS, 'max-tasks-per-worker': 2 } });
    let passed = false;
    try {
      const [api] = await Promise.all([
        procs.start({ name: 'api', roles: ['api'] }),
        ...['coord-1', 'coord-2', 'coord-3'].map((name) => procs.start({ name, roles: ['coordinator'] })),
        ...['worker-1', 'worker-2'].map((name) => procs.start({ name, roles: ['worker'] })),
      ]);
      const base = api!.baseUrl!;
      const accepted: string[] = [];
      const submit = async () => {
        const r = await request<JobView>(base, 'POST', `${API}/jobs`, JOB);
        assert.equal(r.status, 201, `submit answered ${r.status}`);
        accepted.push(r.body!.id);
      };
      for (let i = 0; i < 3; i++) await submit();

      const killed: string[] = [];
      const midJob: string[] = [];
      let spawned = 3;
      const liveCoordinator = (id: string | null) => procs.all().find((p) => p.running() && p.coordinatorId !== undefined && p.coordinatorId === id);
      for (let round = 0; round < MAX_ROUNDS && midJob.length < KILLS; round++) {
        // a job running under a live coordinator; keep one in the system
        const target = await waitFor(async () => {
          const views = (await Promise.all(accepted.map((id) => getJob(base, id)))).filter((v): v is JobView => v !== undefined);
          if (views.length === accepted.length && views.every((v) => v.state === 'SUCCEEDED')) await submit();
          const v = views.find((j) => j.state === 'RUNNING' && liveCoordinator(j.coordinatorId));
          return v ? { job: v, owner: liveCoordinator(v.coordinatorId)! } : undefined;
        }, { what: 'a job running under a live coordinator', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
        await sleep(rnd.int(0, 1200)); // the fault instant
        const owner: ServiceProcess = target.owner;
        await owner.kill9();
        killed.push(owner.coordinatorId!);
        const replacement = procs.start({ name: `coord-${++spawned}`, roles: ['coordinator'] });
        // reclaimed by a peer (epoch raised, owner changed), or it had finished before the kill
        const after = await waitFor(async () => {
          const v = await getJob(base, target.job.id);
          if (!v) return undefined;
          if (v.reclaims > target.job.reclaims && v.coordinatorId !== owner.coordinatorId && v.state !== 'WAITING') return v;
          return v.state === 'SUCCEEDED' && v.reclaims === target.job.reclaims ? v : undefined;
        }, { what: `job ${target.job.id} reclaimed from ${owner.coordinatorId}`, timeoutMs: 15_000, intervalMs: 50, retryErrors: true });
        if (after.reclaims > target.job.reclaims) midJob.push(owner.coordinatorId!);
        await replacement;
      }
      assert.ok(midJob.length >= KILLS, `only ${midJob.length} kills hit a running job in ${MAX_ROUNDS} rounds`);

      const done = await waitFor(async () => {
        const views = await Promise.all(accepted.map((id) => getJob(base, id)));
        return views.every((v) => v !== undefined && v.state === 'SUCCEEDED') ? (views as JobView[]) : undefined;
      }, { what: 'every job finished', timeoutMs: 60_000, intervalMs: 50, retryErrors: true });

      const records = await readJobsStream(nats.url);
      const report = audit(records, { accepted, requireTerminal: true });
      assert.deepEqual(report.violations, []);
      const byJob = eventsByJob(records);
      const problems: string[] = [];
      let ranTwice = 0;
      for (const v of done) {
        const evs = byJob.get(v.id) ?? [];
        for (const n of taskRuns(evs).values()) if (n > 1) ranTwice++;
        problems.push(...taskCountProblems(v.id, evs, report.snapshots.get(v.id)!.context.progress));
        // a job taken from a killed owner was finished by a peer, and the dead wrote nothing after their requeue
        const jobEv = evs.filter((e) => e.subject === 'ev');
        for (const rq of jobEv.filter((e) => e.event.type === 'JobRequeued')) {
          const dead = `coordinator:${(rq.event.data as { fromCoordinator: string }).fromCoordinator}`;
          const late = jobEv.filter((e) => e.seq > rq.seq && e.event.meta.actor === dead);
          if (late.length > 0) problems.push(`${v.id}: ${late.map((e) => e.event.type).join(', ')} by ${dead} after it was requeued`);
        }
      }
      assert.deepEqual(problems, []);
      const requeues = records.flatMap((r) => r.events).filter((e) => e.type === 'JobRequeued').map((e) => (e.data as { fromCoordinator: string }).fromCoordinator);
      for (const k of midJob) assert.ok(requeues.includes(k), `no JobRequeued from ${k}`);
      t.diagnostic(`${killed.length} kills (${midJob.length} mid-job), ${accepted.length} jobs, ${requeues.length} requeues, ${ranTwice} tasks ran twice (counted once), ${records.length} records`);
      passed = true;
    } finally {
      if (!passed) t.diagnostic(await procs.describe());
      await procs.cleanup({ keep: !passed });
      await nats.cleanup();
    }
  });
});
