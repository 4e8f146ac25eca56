/**
 * S2 (docs/operations.md, Failure model): kill -9 a worker in the middle of a long task. JetStream
 * redelivers the unacked task after the ack wait (the worker kept extending it while alive); another
 * worker runs it; the job succeeds with every task counted once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../engine/clock.ts';
import { createKvLiveness } from '../../engine/liveness/kvLiveness.ts';
import type { Liveness } from '../../engine/liveness/liveness.ts';
import { connectNats } from '../../engine/nats/connection.ts';
import { audit } from '../helpers/auditor.ts';
import { startTestNats } from '../helpers/natsServer.ts';
import { createProcessHarness, FAULT_TEST_FLAGS } from '../helpers/processes.ts';
import { API, eventsByJob, getJob, readJobsStream, request, runSeed, seededRandom, taskCountProblems } from './faultKit.ts';
import type { JobView } from '../../engine/serviceTypes.ts';
import { waitFor, sleep } from '../helpers/wait.ts';

const ACK_WAIT_MS = Number(FAULT_TEST_FLAGS['task-ack-wait-ms']);
/** While a task runs the worker calls working() at least this often (sleep tasks: every second). */
const KEEPALIVE_MS = 1000;
/** Long enough that the kill lands mid-task even when a loaded machine is slow to show both workers busy. */
const TASK_MS = 5000;

describe('kill -9 of a worker mid-task', () => {
  it('redelivers the task after the ack wait to another worker; it counts once', async (t) => {
    const seed = runSeed();
    t.diagnostic(`seed ${seed}`);
    const rnd = seededRandom(seed);
    const nats = await startTestNats();
    // one task per worker at a time: two workers hold the job's two tasks, the third is idle for the re-run
    const procs = await createProcessHarness({ natsUrl: nats.url, flags: { ...FAULT_TEST_FLAGS, 'worker-concurrency': 1 } });
    const nc = await connectNats(nats.url, { name: 'fault-test' });
    let liveness: Liveness | undefined;
    let passed = false;
    try {
      const [api, , ...workers] = await Promise.all([
        procs.start({ name: 'api', roles: ['api'] }),
        procs.start({ name: 'coord', roles: ['coordinator'] }),
        ...['worker-1', 'worker-2', 'worker-3'].map((name) => procs.start({ name, roles: ['worker'] })),
      ]);
      // watched once the processes have made the liveness bucket: a watch started before it is retried
      // with a growing backoff and could see the heartbeats seconds late (terasliceWorkerKill.test.ts)
      const live = (liveness = createKvLiveness({ nc, clock: systemClock }));
      const base = api!.baseUrl!;
      const submittedAt = Date.now();
      const r = await request<JobView>(base, 'POST', `${API}/jobs`, { type: 'sleep', spec: { ms: TASK_MS, tasks: 2 } });
      assert.equal(r.status, 201);
      const jobId = r.body!.id;
      // two workers report a running task in their heartbeat
      const busy = await waitFor(() => {
        const ids = new Set(live.entries().filter((e) => e.kind === 'worker' && e.info['running'] === 1).map((e) => e.id));
        const b = workers.filter((w) => ids.has(w.workerId!));
        return b.length === 2 ? b : undefined;
      }, { what: 'two workers running a task', intervalMs: 50, retryErrors: true });
      const victim = busy[rnd.int(0, 1)]!;
      // the fault instant: up to 1 s later, but always at least 1.5 s before the task could end
      const latest = TASK_MS - 1500 - (Date.now() - submittedAt);
      assert.ok(latest >= 0, `both workers were seen busy only ${Date.now() - submittedAt} ms after the submission`);
      await sleep(Math.min(rnd.int(0, 1000), latest));
      const killedAt = Date.now();
      await victim.kill9();

      const done = await waitFor(async () => {
        const v = await getJob(base, jobId);
        return v?.state === 'SUCCEEDED' ? v : undefined;
      }, { what: 'job finished', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
      assert.equal(done.progress.tasksSucceeded, 2);

      const records = await readJobsStream(nats.url);
      const report = audit(records, { accepted: [jobId], requireTerminal: true });
      assert.deepEqual(report.violations, []);
      const events = eventsByJob(records).get(jobId)!;
      assert.deepEqual(taskCountProblems(jobId, events, report.snapshots.get(jobId)!.context.progress), []);
      const outcomes = events.filter((e) => e.event.type === 'TaskSucceeded').map((e) => ({ at: e.timeMs, ...(e.event.data as { taskId: string; workerId: string }) }));
      assert.ok(!outcomes.some((o) => o.workerId === victim.workerId), 'the killed worker reported an outcome');
      // the victim's task: re-run after the ack wait ran out (its last extension was <= 1 s before the kill)
      const rerun = outcomes.reduce((a, b) => (b.at > a.at ? b : a));
      const rerunStartMs = rerun.at - TASK_MS - killedAt;
      const rerunBy = workers.find((w) => w.workerId === rerun.workerId)!;
      t.diagnostic(`task ${rerun.taskId} of ${victim.name} re-run on ${rerunBy.name} ~${rerunStartMs} ms after the kill (ack wait ${ACK_WAIT_MS} ms)`);
      assert.ok(rerunStartMs >= ACK_WAIT_MS - KEEPALIVE_MS - 100, `re-run ${rerunStartMs} ms after the kill: earlier than the ack wait allows`);
      assert.ok(rerunStartMs <= ACK_WAIT_MS + 1500, `re-run ${rerunStartMs} ms after the kill`);
      passed = true;
    } finally {
      if (!passed) t.diagnostic(await procs.describe());
      await liveness?.close();
      await nc.close();
      await procs.cleanup({ keep: !passed });
      await nats.cleanup();
    }
  });
});
