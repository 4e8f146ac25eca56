/**
 * Failover figures (bench/README.md), with real processes on one machine:
 *   (i)   coordinator kill -9 → the job claimed by a peer, and its first task done under the new owner
 *   (ii)  worker kill -9 → the task it was running re-run on another worker
 *   (iii) POST /jobs response time while nats-server is down (the API should answer 503 fast)
 *   (iv)  nats-server back → first accepted write; and a job submitted then finished
 * (i) and (ii) run at the same time on two separate clusters; (iii)/(iv) follow on the first.
 *
 *   node --import tsx bench/failover.ts [--coord-kills 20] [--worker-kills 5] [--outages 3]
 *     [--heartbeat-ms 1000] [--failure-detection-timeout-ms 5000] [--task-ack-wait-ms 10000] [--seed N]
 *
 * Prints figures; asserts nothing. Bounded: every wait has a deadline (~3 min in all by default).
 */
import { systemClock } from '../engine/clock.ts';
import type { LogRecord } from '../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../engine/eventlog/jetStreamEventLog.ts';
import { createKvLiveness } from '../engine/liveness/kvLiveness.ts';
import { connectNats } from '../engine/nats/connection.ts';
import type { JobView } from '../engine/serviceTypes.ts';
import { API, eventsByJob, getJob, request, seededRandom, type StoredEvent } from '../test/fault/faultKit.ts';
import { startTestNats, type TestNats } from '../test/helpers/natsServer.ts';
import { createProcessHarness, type ProcessHarness, type ServiceProcess } from '../test/helpers/processes.ts';
import { sleep, waitFor, WaitTimeoutError } from '../test/helpers/wait.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const COORD_KILLS = arg('coord-kills', 20);
const WORKER_KILLS = arg('worker-kills', 5);
const OUTAGES = arg('outages', 3);
const HEARTBEAT_MS = arg('heartbeat-ms', 1000);
const DETECTION_MS = arg('failure-detection-timeout-ms', 5000);
/** Shorter than the 30 s default so five worker kills fit the time budget; what matters is the excess over it. */
const ACK_WAIT_MS = arg('task-ack-wait-ms', 10_000);
const SEED = arg('seed', Date.now() % 2_147_483_647);
const TASK_MS = 4000;
const OUTAGE_MS = 2000;

const rnd = seededRandom(SEED);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const stats = (xs: number[]) => (xs.length ? `p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (n=${xs.length})` : 'no samples');
const flags = { 'heartbeat-ms': HEARTBEAT_MS, 'failure-detection-timeout-ms': DETECTION_MS, 'task-ack-wait-ms': ACK_WAIT_MS, 'log-level': 'info' };

/** Polls `check` every 20 ms until it returns a value; undefined after `ms` (a bench counts a miss, it does not fail). */
function until<T>(ms: number, check: () => T | undefined | Promise<T | undefined>): Promise<T | undefined> {
  return waitFor(check, { timeoutMs: ms, intervalMs: 20 }).catch((err: unknown) => {
    if (err instanceof WaitTimeoutError) return undefined;
    throw err;
  });
}

/** A cluster: its own nats-server, processes, and a live copy of the JOBS stream's events per job. */
async function cluster(name: string): Promise<{ nats: TestNats; procs: ProcessHarness; events: (jobId: string) => StoredEvent[]; close(): Promise<void> }> {
  const nats = await startTestNats();
  const procs = await createProcessHarness({ natsUrl: nats.url, flags });
  const nc = await connectNats(nats.url, { name: `bench-${name}` });
  const records: LogRecord[] = [];
  const follower = createJetStreamEventLog({ nc }).follow(1, (r) => void records.push(r));
  let indexed = 0;
  let byJob = new Map<string, StoredEvent[]>();
  const events = (jobId: string) => {
    if (indexed !== records.length) {
      byJob = eventsByJob(records);
      indexed = records.length;
    }
    return byJob.get(jobId) ?? [];
  };
  const close = async () => {
    await follower.stop().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await procs.cleanup();
    await nats.cleanup();
  };
  return { nats, procs, events, close };
}

async function submit(base: string, body: unknown): Promise<string> {
  const r = await request<JobView>(base, 'POST', `${API}/jobs`, body);
  if (r.status !== 201 || !r.body) throw new Error(`submit answered ${r.status}`);
  return r.body.id;
}

/** (i): kill the owner of one long job again and again; a peer must claim it and run tasks again. */
async function coordinatorKills(c: Awaited<ReturnType<typeof cluster>>, api: ServiceProcess): Promise<{ claim: number[]; progress: number[]; missed: number }> {
  const out = { claim: [] as number[], progress: [] as number[], missed: 0 };
  // 300 ms tasks through a window of 2 per worker: progress every ~75 ms, for far longer than the run
  const jobId = await submit(api.baseUrl!, { type: 'sleep', spec: { ms: 300, tasks: 10_000 } });
  let spawned = 3;
  for (let k = 0; k < COORD_KILLS; k++) {
    // running under a live owner, with a task done under the current epoch
    const target = await until(30_000, () => {
      const evs = c.events(jobId);
      const claim = evs.filter((e) => e.event.type === 'JobClaimed').at(-1);
      if (!claim) return undefined;
      const { coordinatorId, epoch } = claim.event.data as { coordinatorId: string; epoch: number };
      const owner = c.procs.all().find((p) => p.running() && p.coordinatorId === coordinatorId);
      const progressing = evs.some((e) => e.event.type === 'TaskSucceeded' && e.event.meta.epoch === epoch);
      return owner && progressing && evs.at(-1)!.seq >= claim.seq ? { owner, epoch } : undefined;
    });
    if (!target) break;
    await sleep(rnd.int(0, 1000));
    const killedAt = Date.now();
    await target.owner.kill9();
    const replacement = c.procs.start({ name: `coord-${++spawned}`, roles: ['coordinator'] });
    const claimed = await until(DETECTION_MS + 20_000, () =>
      c.events(jobId).find((e) => e.event.type === 'JobClaimed' && (e.event.data as { epoch: number }).epoch > target.epoch));
    if (!claimed) {
      out.missed++;
      await replacement;
      continue;
    }
    out.claim.push(claimed.timeMs - killedAt);
    const epoch = (claimed.event.data as { epoch: number }).epoch;
    const done = await until(20_000, () => c.events(jobId).find((e) => e.event.type === 'TaskSucceeded' && e.event.meta.epoch >= epoch));
    if (done) out.progress.push(done.timeMs - killedAt);
    await replacement;
  }
  return out;
}

/** (ii): two workers run one 4 s task each, a third idles; kill a busy one; its task runs again. */
async function workerKills(c: Awaited<ReturnType<typeof cluster>>, api: ServiceProcess): Promise<{ rerun: number[]; missed: number }> {
  const out = { rerun: [] as number[], missed: 0 };
  const nc = await connectNats(c.nats.url, { name: 'bench-liveness' });
  const liveness = createKvLiveness({ nc, clock: systemClock });
  let spawned = 3;
  try {
    for (let k = 0; k < WORKER_KILLS; k++) {
      const jobId = await submit(api.baseUrl!, { type: 'sleep', spec: { ms: TASK_MS, tasks: 2 } });
      const busy = await until(10_000, () => {
        const ids = new Set(liveness.entries().filter((e) => e.kind === 'worker' && e.info['running'] === 1).map((e) => e.id));
        const b = c.procs.all().filter((p) => p.running() && p.workerId !== undefined && ids.has(p.workerId));
        return b.length >= 2 ? b : undefined;
      });
      if (!busy) {
        out.missed++;
        continue;
      }
      await sleep(rnd.int(0, 1000));
      const victim = busy[rnd.int(0, busy.length - 1)]!;
      const killedAt = Date.now();
      await victim.kill9();
      const replacement = c.procs.start({ name: `worker-${++spawned}`, roles: ['worker'], flags: { 'worker-concurrency': 1 } });
      const outcomes = await until(ACK_WAIT_MS + TASK_MS + 20_000, () => {
        const o = c.events(jobId).filter((e) => e.event.type === 'TaskSucceeded');
        return new Set(o.map((e) => (e.event.data as { taskId: string }).taskId)).size === 2 ? o : undefined;
      });
      // the victim's task is the one that finished last; it started TASK_MS before its outcome
      if (outcomes) out.rerun.push(Math.max(...outcomes.map((e) => e.timeMs)) - TASK_MS - killedAt);
      else out.missed++;
      await replacement;
      // the job is done before the next round, so the next one starts on idle workers
      await until(10_000, async () => ((await getJob(api.baseUrl!, jobId))?.state === 'SUCCEEDED' ? true : undefined));
    }
  } finally {
    await liveness.close();
    await nc.close();
  }
  return out;
}

/** (iii)/(iv): nats-server down for OUTAGE_MS (SIGTERM and kill -9 in turn) while clients keep submitting. */
async function natsOutages(c: Awaited<ReturnType<typeof cluster>>, api: ServiceProcess): Promise<{ down: number[]; other: number; firstWrite: number[]; jobDone: number[] }> {
  const out = { down: [] as number[], other: 0, firstWrite: [] as number[], jobDone: [] as number[] };
  const base = api.baseUrl!;
  for (let k = 0; k < OUTAGES; k++) {
    if (k % 2 === 0) await c.nats.stop();
    else await c.nats.kill9();
    const end = Date.now() + OUTAGE_MS;
    // 4 clients for the length of the outage
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 1000 && Date.now() < end; i++) {
        const r = await request(base, 'POST', `${API}/jobs`, { type: 'noop', spec: {} });
        if (r.status === 503) out.down.push(r.ms);
        else out.other++;
      }
    }));
    await c.nats.restart();
    const backAt = Date.now();
    const id = await until(60_000, async () => {
      const r = await request<JobView>(base, 'POST', `${API}/jobs`, { type: 'noop', spec: {} });
      return r.status === 201 ? r.body!.id : undefined;
    });
    if (id === undefined) continue;
    out.firstWrite.push(Date.now() - backAt);
    const done = await until(60_000, async () => ((await getJob(base, id))?.state === 'SUCCEEDED' ? true : undefined));
    if (done) out.jobDone.push(Date.now() - backAt);
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const [a, b] = await Promise.all([cluster('a'), cluster('b')]);
  try {
    // cluster a: 3 coordinators, 2 workers; cluster b: 1 coordinator, 3 workers running one task at a time
    const [apiA, , , , , , apiB] = await Promise.all([
      a.procs.start({ name: 'api', roles: ['api'] }),
      ...['coord-1', 'coord-2', 'coord-3'].map((name) => a.procs.start({ name, roles: ['coordinator'], flags: { 'max-tasks-per-worker': 2 } })),
      ...['worker-1', 'worker-2'].map((name) => a.procs.start({ name, roles: ['worker'] })),
      b.procs.start({ name: 'api', roles: ['api', 'coordinator'] }),
      ...['worker-1', 'worker-2', 'worker-3'].map((name) => b.procs.start({ name, roles: ['worker'], flags: { 'worker-concurrency': 1 } })),
    ]);
    const [ck, wk] = await Promise.all([coordinatorKills(a, apiA!), workerKills(b, apiB!)]);
    const outages = await natsOutages(a, apiA!);
    console.log(`settings: heartbeat ${HEARTBEAT_MS} ms, failure detection ${DETECTION_MS} ms, task ack wait ${ACK_WAIT_MS} ms; ` +
      `3 coordinators + 2 workers (i), 1 coordinator + 3 workers at concurrency 1 with ${TASK_MS} ms tasks (ii); seed ${SEED}`);
    console.log(`(i)   coordinator kill -9 -> job claimed by a peer: ${stats(ck.claim)}; -> first task done under the new owner: ${stats(ck.progress)}${ck.missed ? `; ${ck.missed} kills not reclaimed in time` : ''}`);
    console.log(`(ii)  worker kill -9 -> its task re-run on another worker: ${stats(wk.rerun)} (ack wait ${ACK_WAIT_MS} ms; the worker extends it every 1 s while running)${wk.missed ? `; ${wk.missed} rounds missed` : ''}`);
    console.log(`(iii) POST /jobs while nats-server is down: 503 in ${stats(outages.down)}; ${outages.other} other answers`);
    console.log(`(iv)  nats-server back (healthy) -> first 201: ${stats(outages.firstWrite)}; -> a job submitted then SUCCEEDED: ${stats(outages.jobDone)} (${OUTAGES} outages of ${OUTAGE_MS} ms, SIGTERM and kill -9 in turn)`);
    console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
