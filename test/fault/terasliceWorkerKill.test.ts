/**
 * Issue 12: a persistent Teraslice execution (data_generator → delay → file_exporter, submitted
 * through the facade) runs on three worker processes sharing one files root; a worker running a
 * slice is killed with SIGKILL before that slice can end. The slice is not lost: after the ack wait
 * another worker runs it, it counts once, and its output file is written once. The execution runs
 * on until stopped; the stored history replays without a violation, and the records on disk are
 * exactly those of the slices that succeeded, none twice.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../engine/clock.ts';
import { createKvLiveness } from '../../engine/liveness/kvLiveness.ts';
import type { Liveness } from '../../engine/liveness/liveness.ts';
import { connectNats } from '../../engine/nats/connection.ts';
import { audit } from '../helpers/auditor.ts';
import { startTestNats } from '../helpers/natsServer.ts';
import { createProcessHarness, FAULT_TEST_FLAGS } from '../helpers/processes.ts';
import { eventsByJob, getJob, readJobsStream, request, runSeed, seededRandom } from './faultKit.ts';
import { waitFor, sleep } from '../helpers/wait.ts';

/** Each slice waits this long: long enough that the kill lands mid-slice even when a loaded machine is slow to show both workers busy. */
const SLICE_MS = 3000;
/** The kill goes out at least this long before the slice it aims at could end (a late sleep timer, signal delivery). */
const KILL_MARGIN_MS = 500;
const ACK_WAIT_MS = Number(FAULT_TEST_FLAGS['task-ack-wait-ms']);
/** While a slice runs its worker calls working() at least this often (taskExecution.ts: max(1 s, ack wait / 3)). */
const KEEPALIVE_MS = 1000;
/** How late a loaded worker's keepalive timer may fire (measured re-runs came 1.0-1.9 s after the kill under two CPU hogs). */
const TIMER_SLACK_MS = 500;
const RECORDS_PER_SLICE = 20;

describe('Teraslice: kill -9 of a worker mid-slice', () => {
  it('the slice re-runs elsewhere and counts once; the persistent execution runs on until stopped; no record twice on disk', async (t) => {
    const seed = runSeed();
    t.diagnostic(`seed ${seed}`);
    const rnd = seededRandom(seed);
    const nats = await startTestNats();
    const files = await mkdtemp(join(tmpdir(), 'jetjobs-ts-files-'));
    const procs = await createProcessHarness({ natsUrl: nats.url, flags: { ...FAULT_TEST_FLAGS, 'worker-concurrency': 1, 'files-dir': files } });
    const nc = await connectNats(nats.url, { name: 'fault-test' });
    let liveness: Liveness | undefined;
    let passed = false;
    try {
      const [api, , ...workers] = await Promise.all([
        procs.start({ name: 'api', roles: ['api'] }),
        procs.start({ name: 'coord', roles: ['coordinator'] }),
        ...['worker-1', 'worker-2', 'worker-3'].map((name) => procs.start({ name, roles: ['worker'] })),
      ]);
      // Watch the heartbeats only now that the processes have made the liveness bucket: a watch started
      // before it fails and is retried with a growing backoff (0.25 s doubling, reset by an entry), so
      // it could first see the heartbeats up to 4 s after they began, a second into the first slices
      // (seed 1194594281: the kill then landed after the victim had recorded its slice).
      const live = (liveness = createKvLiveness({ nc, clock: systemClock }));
      const ts = `${api!.baseUrl!}/compat/teraslice/v1`;
      const submittedAt = performance.now();
      const submitted = await request<{ job_id: string; ex_id: string }>(ts, 'POST', '/jobs', {
        name: 'kill test', lifecycle: 'persistent', workers: 2, max_retries: 2,
        operations: [{ _op: 'data_generator', size: RECORDS_PER_SLICE }, { _op: 'delay', ms: SLICE_MS }, { _op: 'file_exporter', path: 'out' }],
      });
      assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
      const { job_id: jobId, ex_id: exId } = submitted.body!;

      // a worker running a slice of the execution, as its heartbeat tells
      const running = (w: (typeof workers)[number]) => {
        const e = live.entries().find((x) => x.kind === 'worker' && x.id === w.workerId);
        const tasks = (e?.info['tasks'] ?? []) as { jobId: string; taskId: string }[];
        return tasks.find((x) => x.jobId === exId)?.taskId;
      };
      const busy = await waitFor(() => {
        const b = workers.filter((w) => running(w) !== undefined);
        return b.length === 2 ? b : undefined;
      }, { what: 'two workers running a slice', intervalMs: 50, retryErrors: true, timeoutMs: 20_000 });
      const victim = busy[rnd.int(0, 1)]!;
      const lostTask = running(victim)!;
      // A heartbeat tells what a worker ran when it beat, not now: the slice seen may be near its end.
      // None starts before the submission, so the fault instant is chosen up to 1 s later but always
      // KILL_MARGIN_MS before that slice could end; the victim cannot have recorded it.
      const latest = SLICE_MS - KILL_MARGIN_MS - (performance.now() - submittedAt);
      assert.ok(latest >= 0, `both workers were seen busy only ${Math.round(performance.now() - submittedAt)} ms after the submission`);
      await sleep(Math.min(rnd.int(0, 1000), latest));
      const sinceSubmitMs = performance.now() - submittedAt;
      assert.ok(sinceSubmitMs < SLICE_MS - KILL_MARGIN_MS / 2, `the kill would land ${Math.round(sinceSubmitMs)} ms after the submission, too near the slice's end`);
      const killedAt = Date.now();
      await victim.kill9();
      t.diagnostic(`killed ${victim.name} ${Math.round(sinceSubmitMs)} ms after the submission, while it ran slice ${lostTask}`);

      // the slice it held succeeds on another worker, and the execution goes on slicing
      await waitFor(async () => {
        const records = await readJobsStream(nats.url);
        const events = eventsByJob(records).get(exId) ?? [];
        const ok = events.filter((e) => e.event.type === 'TaskSucceeded');
        return ok.some((e) => (e.event.data as { taskId: string }).taskId === lostTask) && ok.length >= 6 ? true : undefined;
      }, { what: `slice ${lostTask} re-run and six slices done`, timeoutMs: 40_000, intervalMs: 250, retryErrors: true });
      assert.equal((await getJob(api!.baseUrl!, exId))?.state, 'RUNNING', 'a persistent execution runs until stopped');

      const stopped = await request<{ status: string }>(ts, 'POST', `/jobs/${jobId}/_stop`, undefined, {}, 60_000);
      assert.deepEqual(stopped.body, { status: 'stopped' });

      const records = await readJobsStream(nats.url);
      const report = audit(records, { accepted: [exId], requireTerminal: true });
      assert.deepEqual(report.violations, []);
      const events = eventsByJob(records).get(exId)!;
      const succeeded = new Map<string, number>();
      for (const { event: ev } of events) if (ev.type === 'TaskSucceeded') succeeded.set(ev.data.taskId, (succeeded.get(ev.data.taskId) ?? 0) + 1);
      // the lost slice: recorded once, by another worker, which ran it after the victim's ack wait ran out
      const lost = events.filter((e) => e.event.type === 'TaskSucceeded' && (e.event.data as { taskId: string }).taskId === lostTask);
      assert.equal(lost.length, 1, `slice ${lostTask} recorded once`);
      const rerunBy = (lost[0]!.event.data as { workerId: string }).workerId;
      assert.notEqual(rerunBy, victim.workerId, `slice ${lostTask} was recorded by the worker killed before it could end`);
      const rerunStartMs = lost[0]!.timeMs - SLICE_MS - killedAt;
      t.diagnostic(`slice ${lostTask} re-run on ${workers.find((w) => w.workerId === rerunBy)?.name} ~${rerunStartMs} ms after the kill (ack wait ${ACK_WAIT_MS} ms)`);
      assert.ok(rerunStartMs >= ACK_WAIT_MS - KEEPALIVE_MS - TIMER_SLACK_MS, `slice ${lostTask} re-run ${rerunStartMs} ms after the kill: earlier than the ack wait allows`);
      const progress = report.snapshots.get(exId)!.context.progress;
      assert.equal(progress.tasksSucceeded, succeeded.size, 'every slice counted once');

      // on disk: one file per succeeded slice, RECORDS_PER_SLICE records each, no record twice
      const dir = join(files, 'out');
      const names = (await readdir(dir)).filter((n) => !n.startsWith('.'));
      assert.equal(names.length, succeeded.size, 'one file per succeeded slice');
      const uuids: string[] = [];
      for (const n of names) for (const line of (await readFile(join(dir, n), 'utf8')).split('\n')) if (line !== '') uuids.push((JSON.parse(line) as { uuid: string }).uuid);
      assert.equal(uuids.length, succeeded.size * RECORDS_PER_SLICE);
      assert.equal(new Set(uuids).size, uuids.length, 'no record twice');
      passed = true;
    } finally {
      if (!passed) t.diagnostic(await procs.describe());
      await liveness?.close();
      await nc.close();
      await procs.cleanup({ keep: !passed });
      await nats.cleanup();
      await rm(files, { recursive: true, force: true });
    }
  });
});
