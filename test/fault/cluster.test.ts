/**
 * The fault tests' core scenario on a 3-node nats-server cluster with R3 streams (issue 4 item 9):
 * kill -9 the coordinator owning a running job and a worker mid-task, then restart the node leading
 * stream JOBS (SIGTERM, as in maintenance) under running jobs and keyed submissions. Every job must finish; the auditor, reading
 * the stream back through the cluster, must find nothing. (SIGKILL of the stream leader is covered
 * by test/integration/cluster/r3.test.ts, with nats-server 2.10.27's known replica desync.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../helpers/auditor.ts';
import { startTestCluster } from '../helpers/natsCluster.ts';
import { createProcessHarness, FAULT_TEST_FLAGS } from '../helpers/processes.ts';
import { API, getJob, readJobsStream, request, runSeed, seededRandom, submitWithRetry } from './faultKit.ts';
import type { JobView } from '../../engine/serviceTypes.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

const JOB = { type: 'sleep', spec: { ms: 200, tasks: 20 } };

describe('faults on a 3-node cluster with R3 streams', () => {
  it('coordinator and worker kill -9, and a restart of the stream leader node under submit load: every job finishes once, the log audits clean', async (t) => {
    const seed = runSeed();
    t.diagnostic(`seed ${seed}`);
    const rnd = seededRandom(seed);
    const cluster = await startTestCluster();
    const procs = await createProcessHarness({ natsUrl: cluster.urls, flags: { ...FAULT_TEST_FLAGS, 'max-tasks-per-worker': 2, replicas: 3 } });
    let passed = false;
    try {
      const [api] = await Promise.all([
        procs.start({ name: 'api', roles: ['api'] }),
        ...['coord-1', 'coord-2'].map((name) => procs.start({ name, roles: ['coordinator'] })),
        ...['worker-1', 'worker-2'].map((name) => procs.start({ name, roles: ['worker'] })),
      ]);
      const base = api!.baseUrl!;
      const accepted: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await request<JobView>(base, 'POST', `${API}/jobs`, JOB);
        assert.equal(r.status, 201);
        accepted.push(r.body!.id);
      }
      const liveOwner = (id: string | null) => procs.all().find((p) => p.running() && p.coordinatorId !== undefined && p.coordinatorId === id);
      const target = await waitFor(async () => {
        for (const id of accepted) {
          const v = await getJob(base, id);
          const owner = v?.state === 'RUNNING' ? liveOwner(v.coordinatorId) : undefined;
          if (v && owner) return { job: v, owner };
        }
        return undefined;
      }, { what: 'a running job', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
      await sleep(rnd.int(0, 800)); // the fault instant
      await target.owner.kill9();
      // a worker dies mid-task too: its task is redelivered after the ack wait
      const worker = procs.all().find((p) => p.running() && p.name === 'worker-1')!;
      await worker.kill9();
      // submissions keep coming (same key on retry) while the stream leader's node restarts
      let submitting = true;
      const keyed: Promise<{ key: string; id: string | undefined }>[] = [];
      const load = (async () => {
        for (let i = 0; submitting && i < 40; i++) {
          keyed.push(submitWithRetry(base, `cluster-${seed}-${i}`, { type: 'noop', spec: { tasks: 2 } }, { deadlineMs: 60_000 }));
          await sleep(50); // pacing only
        }
      })();
      const leader = await cluster.streamLeader('JOBS');
      await cluster.servers[leader]!.stop();
      await cluster.servers[leader]!.restart();
      await cluster.waitReady();
      submitting = false;
      await load;
      const submitted = await Promise.all(keyed);
      assert.ok(submitted.every((o) => o.id !== undefined), 'every keyed submission was accepted in the end');
      assert.equal(new Set(submitted.map((o) => o.id)).size, submitted.length, 'one job per idempotency key');
      accepted.push(...submitted.map((o) => o.id!));

      const done = await waitFor(async () => {
        const views = await Promise.all(accepted.map((id) => getJob(base, id)));
        return views.every((v) => v?.state === 'SUCCEEDED') ? (views as JobView[]) : undefined;
      }, { what: 'every job finished', timeoutMs: 90_000, intervalMs: 50, retryErrors: true });
      assert.equal(done.length, accepted.length);
      const records = await readJobsStream(cluster.urls);
      const report = audit(records, { accepted, requireTerminal: true });
      assert.deepEqual(report.violations, []);
      for (const v of done) assert.equal(v.progress.tasksSucceeded, v.progress.tasksTotal);
      t.diagnostic(`leader n${leader} restarted; ${records.length} records; reclaims ${done.map((v) => v.reclaims).join(',')}`);
      passed = true;
    } finally {
      if (!passed) t.diagnostic(await procs.describe());
      await procs.cleanup({ keep: !passed });
      await cluster.cleanup();
    }
  });
});
