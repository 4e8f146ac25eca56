/**
 * S5 (docs/operations.md, Failure model): SIGSTOP the owning coordinator past the detection timeout,
 * let a peer requeue and take the job, then SIGCONT the old owner (a zombie with a stale view).
 * The zombie's late writes must be fenced off by CAS: no event of its actor on the job after the
 * JobRequeued that deposed it; it must notice and drop the job; every job still finishes once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../helpers/auditor.ts';
import { startTestNats } from '../helpers/natsServer.ts';
import { createProcessHarness, FAULT_TEST_FLAGS, type ServiceProcess } from '../helpers/processes.ts';
import { API, eventsByJob, getJob, readJobsStream, request, taskCountProblems } from './faultKit.ts';
import type { JobView } from '../../engine/serviceTypes.ts';
import { waitFor } from '../helpers/wait.ts';

/** Work per job through one coordinator's window (2 per worker, 2 workers). */
// long enough (~25 s at full speed) that it is still running when the last coordinator has started:
// at 12 s a loaded CI pair saw the victim SUCCEEDED under its first owner before the SIGSTOP
const JOB = { type: 'sleep', spec: { ms: 250, tasks: 400 } };

describe('a paused coordinator (zombie)', () => {
  it('is deposed after the detection timeout and its late writes are rejected', async (t) => {
    const nats = await startTestNats();
    // capacity 1: each coordinator owns one job, so the victim, the peer and the spare are known
    const procs = await createProcessHarness({ natsUrl: nats.url, flags: { ...FAULT_TEST_FLAGS, 'max-tasks-per-worker': 2, 'running-job-capacity': 1 } });
    let passed = false;
    let zombie: ServiceProcess | undefined;
    try {
      const [api] = await Promise.all([
        procs.start({ name: 'api', roles: ['api'] }),
        ...['worker-1', 'worker-2'].map((name) => procs.start({ name, roles: ['worker'] })),
      ]);
      const base = api!.baseUrl!;
      const submitOwnedBy = async (p: ServiceProcess): Promise<JobView> => {
        const r = await request<JobView>(base, 'POST', `${API}/jobs`, JOB);
        assert.equal(r.status, 201);
        return waitFor(async () => {
          const v = await getJob(base, r.body!.id);
          return v?.state === 'RUNNING' && v.coordinatorId === p.coordinatorId ? v : undefined;
        }, { what: `job claimed by ${p.name}`, intervalMs: 50, retryErrors: true });
      };
      // debug level: the zombie's "released job" / "lost a CAS race" lines are what we grep for
      zombie = await procs.start({ name: 'coord-zombie', roles: ['coordinator'], flags: { 'log-level': 'debug' } });
      const victim = await submitOwnedBy(zombie);
      // debug too: if the take-over stalls, their claims and lost races are in the failure report
      const peer = await procs.start({ name: 'coord-peer', roles: ['coordinator'], flags: { 'log-level': 'debug' } });
      const bystander = await submitOwnedBy(peer);
      const spare = await procs.start({ name: 'coord-spare', roles: ['coordinator'], flags: { 'log-level': 'debug' } });
      await waitFor(async () => ((await getJob(base, victim.id))?.progress.tasksSucceeded ?? 0) >= 4 || undefined, { what: 'tasks of the victim done under its owner', intervalMs: 50, retryErrors: true });

      zombie.sigstop();
      const stoppedAt = Date.now();
      // stays stopped until a peer has requeued the job, claimed it and made progress with it
      let seen: JobView | undefined;
      const taken = await waitFor(async () => {
        const v = (seen = await getJob(base, victim.id));
        return v && v.state === 'RUNNING' && v.coordinatorId !== zombie!.coordinatorId && v.epoch >= victim.epoch + 2 ? v : undefined;
      }, { what: 'the victim taken over by a peer', timeoutMs: 15_000, intervalMs: 50, retryErrors: true }).catch((err: unknown) => {
        // what the take-over got to: requeued (WAITING, epoch + 1) or not at all
        const last = seen && { state: seen.state, epoch: seen.epoch, coordinatorId: seen.coordinatorId, reclaims: seen.reclaims };
        throw new Error(`${err instanceof Error ? err.message : String(err)}; last seen ${JSON.stringify(last)} (claimed at epoch ${victim.epoch})`);
      });
      await waitFor(async () => ((await getJob(base, victim.id))?.progress.tasksSucceeded ?? 0) > taken.progress.tasksSucceeded + 2 || undefined, { what: 'progress under the new owner', intervalMs: 50, retryErrors: true });
      const stoppedMs = Date.now() - stoppedAt;
      zombie.sigcont();

      await waitFor(async () => {
        const vs = await Promise.all([victim.id, bystander.id].map((id) => getJob(base, id)));
        return vs.every((v) => v?.state === 'SUCCEEDED') || undefined;
      }, { what: 'both jobs finished', timeoutMs: 60_000, intervalMs: 50, retryErrors: true });
      // the zombie lives on as an ordinary coordinator
      assert.ok(zombie.running(), 'the zombie crashed after SIGCONT');
      const released = async () => (await zombie!.logLines()).some((l) => l.msg === 'released job' && l['jobId'] === victim.id);
      await waitFor(released, { what: 'the zombie drops the job it lost', intervalMs: 50, retryErrors: true });

      const records = await readJobsStream(nats.url);
      const report = audit(records, { accepted: [victim.id, bystander.id], requireTerminal: true });
      assert.deepEqual(report.violations, []);
      const byJob = eventsByJob(records);
      const zombieActor = `coordinator:${zombie.coordinatorId}`;
      const vEvents = byJob.get(victim.id)!;
      const deposed = vEvents.find((e) => e.event.type === 'JobRequeued' && (e.event.data as { fromCoordinator: string }).fromCoordinator === zombie!.coordinatorId);
      assert.ok(deposed, 'no JobRequeued deposed the zombie');
      assert.notEqual(deposed.event.meta.actor, zombieActor);
      const late = vEvents.filter((e) => e.subject === 'ev' && e.seq > deposed.seq && e.event.meta.actor === zombieActor);
      assert.deepEqual(late.map((e) => `${e.seq} ${e.event.type}`), [], 'the zombie wrote to the job after it was deposed');
      for (const v of [victim, bystander]) assert.deepEqual(taskCountProblems(v.id, byJob.get(v.id)!, report.snapshots.get(v.id)!.context.progress), []);

      const zlog = await zombie.logLines();
      const casLost = zlog.filter((l) => l.msg === 'lost a CAS race; will re-read').length;
      const staleResults = vEvents.filter((e) => e.event.type === 'TaskSucceeded' && e.seq > deposed.seq && e.event.meta.epoch < deposed.event.meta.epoch).length;
      // its liveness view is as old as the pause: it must not judge the live peers dead on waking
      const zombieRequeues = records.flatMap((r) => r.events).filter((e) => e.type === 'JobRequeued' && e.meta.actor === zombieActor);
      assert.deepEqual(zombieRequeues.map((e) => e.meta.jobId), [], 'the zombie requeued a live peer\'s job');
      assert.equal(report.snapshots.get(bystander.id)!.context.reclaims, 0);
      t.diagnostic(`zombie ${zombie.coordinatorId} stopped ${stoppedMs} ms; peers ${peer.coordinatorId}, ${spare.coordinatorId}; ` +
        `deposed at seq ${deposed.seq} by ${deposed.event.meta.actor}; CAS losses logged by the zombie: ${casLost}; ` +
        `task outcomes of the old epoch after the requeue (deduplicated): ${staleResults}`);
      passed = true;
    } finally {
      if (!passed) t.diagnostic(await procs.describe());
      zombie?.sigcont();
      await procs.cleanup({ keep: !passed });
      await nats.cleanup();
    }
  });
});
