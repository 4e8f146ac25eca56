/**
 * Replay speed (issue 15 item 2):
 * `node --import tsx bench/replay.ts [--jobs N] [--compacted] [--runs R] [--store DIR] [--only transport,follower,projection,checkpoint,stages]`.
 *
 * Starts its own nats-server (file store, `sync_interval 1s`; stopped by PID at the end), appends N
 * (default 100,000) finished `noop` jobs with the records the engine writes for one (4 records, 6
 * events, the shapes and headers of a real run; with `--compacted`, each job as retention leaves it an
 * hour after it finished: one JobCompacted rollup record), then measures R times (default 3), alternating:
 *
 * - **transport**: an ordered consumer on JOBS delivering to a callback, each message only counted:
 *   the floor the client library sets;
 * - **follower**: `eventLog.follow(1, …)` counting events: transport + decode (`toRecord`);
 * - **projection**: what a starting coordinator runs (engine/startRoles.ts: `eventLog.follow` →
 *   `projection.apply`, then the roles start) until ready; then the heap the projection holds (after
 *   full GCs) and the process RSS;
 * - **checkpoint**: the same start with projection checkpoints (decision 0013): a checkpoint of the
 *   whole stream is written once to the `checkpoints` bucket first (its size and times printed, and
 *   the writer's sliced serialization: wall time, turns, the longest turn; then two whole writes as
 *   the writer makes them, `writeOnce` through the store, and two loads (`store.load`, not parsed),
 *   each with the event loop watched: its longest stall and the most RSS it added), then each run
 *   loads it, restores, and follows the (empty) tail until ready;
 * - **stages** (last): decode, and decode + fold, in process on messages fetched beforehand (no
 *   transport, no wait on the server): the steadiest figure on a busy machine.
 *
 * Figures: wall ms, records/s, events/s, CPU µs per event of this process (all threads) and of
 * nats-server. `--store DIR` keeps the nats store in DIR and reuses the jobs already there (write once,
 * measure many times, e.g. old and new code alternately). Prints figures; asserts nothing.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { decide } from '../actors/decide.ts';
import { EVENT_SCHEMA_VERSION, type Envelope, type JobEvent } from '../actors/events.ts';
import { foldJob } from '../actors/jobFold.ts';
import { systemClock, systemRandom } from '../engine/clock.ts';
import { resolveConfig } from '../engine/config.ts';
import type { BatchItem, EventLog } from '../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../engine/eventlog/jetStreamEventLog.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../engine/jobtypes/registry.ts';
import { createKvLiveness } from '../engine/liveness/kvLiveness.ts';
import { createLogger, silentLogger } from '../engine/log.ts';
import { connectNats, ensureStreams } from '../engine/nats/connection.ts';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { toRecord } from '../engine/eventlog/jetStreamLogContext.ts';
import { createJetStreamCheckpoints } from '../engine/nats/jetStreamCheckpoints.ts';
import { createKvControlStore } from '../engine/nats/kvControlStore.ts';
import type { ControlStore } from '../engine/controlstore/controlStore.ts';
import type { CheckpointStore } from '../engine/projections/checkpointStore.ts';
import { createCheckpointWriter } from '../engine/projections/checkpointWriter.ts';
import { createJobProjection } from '../engine/projections/jobProjection.ts';
import { readCheckpoint, writeCheckpoint, writeCheckpointSliced } from '../engine/projections/projectionCheckpoint.ts';
import { startRoles } from '../engine/startRoles.ts';
import { jobEvSubject, jobTaskSubject, STREAM_JOBS } from '../engine/subjects.ts';
import { createJetStreamTaskQueue } from '../engine/taskqueue/jetStreamTaskQueue.ts';
import { cpuMs, fmt } from './measure.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const JOBS = Number(arg('jobs') ?? 100_000);
const RUNS = Number(arg('runs') ?? 3);
const STORE = arg('store');
/** Write each job as retention leaves it an hour after it finished: one JobCompacted record (a rollup). */
const COMPACTED = process.argv.includes('--compacted');
/** Only these measurements (comma-separated: transport, follower, projection, stages). */
const ONLY = new Set((arg('only') ?? 'transport,follower,projection,stages').split(','));
/** Most messages the in-process stages hold in memory at once. */
const STAGE_MAX_RECORDS = 400_000;
/** Jobs written per wave: their 4 records interleave like those of jobs that run side by side. */
const WAVE_JOBS = 500;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full GCs until the heap stops shrinking; its size then. */
function settledHeap(): number {
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    gc();
    const h = process.memoryUsage().heapUsed;
    if (h >= last * 0.999) return h;
    last = h;
  }
  return last;
}

/** µs of CPU (user + system, all threads) this process used since `from`. */
const cpuUs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return d.user + d.system;
};

/**
 * The records the engine writes for one finished `noop` job (seen in a real run): JobSubmitted
 * (CAS 0, msg id), JobClaimed + TasksPlanned (CAS), TaskSucceeded on `.task` (msg id),
 * VerificationStarted + JobSucceeded (CAS). `at` advances a few ms between them.
 */
function jobRecords(jobId: string, t0: number, coordinator: string, worker: string) {
  const meta = (epoch: number, actor: string, dt: number) => ({ jobId, epoch, actor, at: new Date(t0 + dt).toISOString(), v: EVENT_SCHEMA_VERSION });
  const requestHash = randomBytes(32).toString('hex');
  const submit: Envelope[] = [{ type: 'JobSubmitted', data: { jobId, type: 'noop', name: 'noop', spec: {}, priority: 0, maxTaskAttempts: 3, maxFailedRatio: 0, virtualCluster: 'default', requestHash, owner: 'admin' }, meta: meta(0, 'api', 0) }];
  const claim: Envelope[] = [
    { type: 'JobClaimed', data: { coordinatorId: coordinator, epoch: 1 }, meta: meta(1, `coordinator:${coordinator}`, 2) },
    { type: 'TasksPlanned', data: { tasks: [{ taskId: 't00000', payload: null, items: 1, bytes: 0 }] }, meta: meta(1, `coordinator:${coordinator}`, 2) },
  ];
  const outcome: Envelope[] = [{ type: 'TaskSucceeded', data: { taskId: 't00000', attempt: 1, workerId: worker, result: { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] } }, meta: meta(1, `worker:${worker}`, 5) }];
  const finish: Envelope[] = [
    { type: 'VerificationStarted', data: {}, meta: meta(1, `coordinator:${coordinator}`, 6) },
    { type: 'JobSucceeded', data: {}, meta: meta(1, `coordinator:${coordinator}`, 6) },
  ];
  return { requestHash, submit, claim, outcome, finish };
}

/** Appends `jobs` finished jobs in waves of {@link WAVE_JOBS} (group commits, two waves in flight). */
async function writeJobs(log: EventLog, jobs: number): Promise<void> {
  const coordinators = ['c-' + randomBytes(6).toString('hex'), 'c-' + randomBytes(6).toString('hex')];
  const workers = ['w-' + randomBytes(6).toString('hex'), 'w-' + randomBytes(6).toString('hex')];
  let next = 0;
  let written = 0;
  const t0 = performance.now();
  const batch = async (items: BatchItem[]) => {
    const rs = await log.appendBatch(items);
    return rs.map((r) => {
      if (!r.ok) throw r.error;
      return r.result.seq;
    });
  };
  const wave = async (from: number, n: number) => {
    const start = Date.now();
    const js = Array.from({ length: n }, (_, k) => {
      const jobId = randomUUID();
      return { jobId, subj: jobEvSubject(jobId), ...jobRecords(jobId, start + k, coordinators[k % 2]!, workers[(from + k) % 2]!) };
    });
    if (COMPACTED) {
      // what retention appends (compaction.ts): decide's JobCompacted of the folded job, as a rollup
      await batch(js.map((j, k) => {
        const folded = foldJob([...j.submit, ...j.claim, ...j.outcome, ...j.finish] as JobEvent[]);
        const d = decide({ kind: 'compact', submitSeq: 4 * (from + k) + 1 }, folded, { actor: 'coordinator:c-retention', at: new Date(start + 3_600_000).toISOString() });
        if (!d.ok) throw new Error(d.message);
        return { subject: j.subj, events: d.events, opts: { rollup: true, expectedLastSubjectSeq: 0, msgId: `compact:x:${j.jobId}:0` } };
      }));
      written += n;
      if (written % 100_000 < n) process.stderr.write(`  written ${fmt(written)} jobs (${fmt(written / ((performance.now() - t0) / 1000))}/s)\n`);
      return;
    }
    const s1 = await batch(js.map((j) => ({ subject: j.subj, events: j.submit, opts: { expectedLastSubjectSeq: 0, msgId: `submit:${j.jobId}:${j.requestHash}` } })));
    const s2 = await batch(js.map((j, k) => ({ subject: j.subj, events: j.claim, opts: { expectedLastSubjectSeq: s1[k]!, msgId: `claim+plan:x:${j.jobId}:${s1[k]}` } })));
    await batch(js.map((j) => ({ subject: jobTaskSubject(j.jobId), events: j.outcome, opts: { msgId: `${j.jobId}:t00000:1` } })));
    await batch(js.map((j, k) => ({ subject: j.subj, events: j.finish, opts: { expectedLastSubjectSeq: s2[k]!, msgId: `verify:x:${j.jobId}:${s2[k]}` } })));
    written += n;
    if (written % 100_000 < n) process.stderr.write(`  written ${fmt(written)} jobs (${fmt(written / ((performance.now() - t0) / 1000))}/s)\n`);
  };
  await Promise.all([0, 1].map(async () => {
    while (next < jobs) {
      const from = next;
      const n = Math.min(WAVE_JOBS, jobs - from);
      next += n;
      await wave(from, n);
    }
  }));
}

interface Figures {
  ms: number;
  records: number;
  events: number;
  cpuUs: number;
  natsMs: number;
  heapMiB?: number;
  rssMiB?: number;
  readyMs?: number;
}

/** An ordered consumer over the whole stream delivering to a callback (as the follower does), each message only counted. */
async function transport(nc: Awaited<ReturnType<typeof connectNats>>, total: number, nats: EmbeddedNats): Promise<Figures & { bytes: number }> {
  const c0 = process.cpuUsage();
  const n0 = cpuMs(nats.pid);
  const t0 = performance.now();
  const consumer = await jetstream(nc).consumers.get(STREAM_JOBS, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
  let records = 0;
  let bytes = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const msgs = await consumer.consume({
    max_messages: 2_000,
    expires: 5_000,
    callback: (m) => {
      records++;
      bytes += m.data.length;
      if (m.seq >= total) done();
    },
  });
  await all;
  const ms = performance.now() - t0;
  const cpu = cpuUs(c0);
  await msgs.close();
  await consumer.delete().catch(() => undefined);
  return { ms, records, bytes, events: NaN, cpuUs: cpu, natsMs: cpuMs(nats.pid) - n0 };
}

/** `eventLog.follow(1, …)` until caught up, counting events. */
async function follower(log: EventLog, nats: EmbeddedNats): Promise<Figures> {
  let records = 0;
  let events = 0;
  const c0 = process.cpuUsage();
  const n0 = cpuMs(nats.pid);
  const t0 = performance.now();
  const f = log.follow(1, (r) => {
    records++;
    events += r.events.length;
  });
  await f.caughtUp;
  const ms = performance.now() - t0;
  const cpu = cpuUs(c0);
  await f.stop();
  return { ms, records, events, cpuUs: cpu, natsMs: cpuMs(nats.pid) - n0 };
}

/** A coordinator's start (engine/startRoles.ts) on the stream: replay into the projection, then ready. */
async function projection(nc: Awaited<ReturnType<typeof connectNats>>, log: EventLog, nats: EmbeddedNats, stateDir: string, checkpoints?: CheckpointStore): Promise<Figures> {
  const config = resolveConfig({ natsUrl: nats.url, stateDir, roles: ['coordinator'], logLevel: 'silent', checkpointIntervalMs: 3_600_000 });
  const taskQueue = createJetStreamTaskQueue({ nc, ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver });
  const liveness = createKvLiveness({ nc, clock: systemClock });
  const registry = createJobTypeRegistry(builtinJobTypes());
  const heap0 = settledHeap();
  const c0 = process.cpuUsage();
  const n0 = cpuMs(nats.pid);
  const t0 = performance.now();
  const core = await startRoles({ config, eventLog: log, taskQueue, liveness, registry, clock: systemClock, random: systemRandom, logger: silentLogger, info: () => { throw new Error('unused'); }, ...(checkpoints ? { checkpoints } : {}) });
  if (checkpoints !== undefined && core.checkpointSeq === 0) throw new Error('the checkpoint was not used');
  const readyMs = performance.now() - t0;
  const cpu = cpuUs(c0);
  const natsMs = cpuMs(nats.pid) - n0;
  const heap = settledHeap() - heap0;
  const rss = process.memoryUsage().rss;
  const records = core.projection.lastSeq();
  const ms = core.replayMs;
  if (core.projection.rejected > 0) throw new Error(`${core.projection.rejected} events rejected`);
  await core.stop({ handoff: false });
  await taskQueue.close();
  await liveness.close();
  return { ms, readyMs, records, events: NaN, cpuUs: cpu, natsMs, heapMiB: heap / 2 ** 20, rssMiB: rss / 2 ** 20 };
}

/** Interval of the event-loop watch: a stall is the longest gap between two of its ticks. */
const WATCH_MS = 2;

/**
 * `fn` while a {@link WATCH_MS} timer watches the event loop (after full GCs): wall ms, the longest gap
 * between two ticks (the longest stretch `fn` held the loop, within a tick), the most RSS above the start.
 */
async function watched<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; stallMs: number; rssMiB: number }> {
  settledHeap();
  const rss0 = process.memoryUsage.rss();
  let rssMax = rss0;
  let last = performance.now();
  let stallMs = 0;
  const watch = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  }, WATCH_MS);
  const t0 = performance.now();
  let value: T;
  try {
    value = await fn();
  } finally {
    clearInterval(watch);
  }
  const ms = performance.now() - t0;
  stallMs = Math.max(stallMs, performance.now() - last);
  return { value, ms, stallMs, rssMiB: (Math.max(rssMax, process.memoryUsage.rss()) - rss0) / 2 ** 20 };
}

/** The figures of {@link watched}. */
const watchedLine = (w: { ms: number; stallMs: number; rssMiB: number }) => `${fmt(w.ms)} ms, event loop held at most ${fmt(w.stallMs, 1)} ms, RSS +${fmt(w.rssMiB)} MiB at most`;

/**
 * Replays the stream and stores its checkpoint in the `checkpoints` bucket; the store, for the runs to
 * load, and its control store (its lease), to close at the end (open, it kept the process alive).
 */
async function writeOneCheckpoint(nc: Awaited<ReturnType<typeof connectNats>>, log: EventLog): Promise<{ store: CheckpointStore; controlStore: ControlStore }> {
  const controlStore = createKvControlStore({ nc });
  await controlStore.ready;
  const store = createJetStreamCheckpoints({ nc, controlStore });
  const p = createJobProjection({ logger: silentLogger });
  const f = log.follow(1, (r) => p.apply(r));
  await f.caughtUp;
  await f.stop();
  // as the coordinator's writer writes (lease, the cut, the sliced text, the put), and as startRoles loads
  // the writer's own log line: its serialization's longest turn (the cut's included) and the put's time
  let logged: { serializeMs?: number; longestSliceMs?: number; slices?: number; saveMs?: number } = {};
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (line: Buffer, _enc, done) => done(void (logged = JSON.parse(line.toString('utf8')) as typeof logged)) }) });
  const writer = createCheckpointWriter({ store, projection: p, holder: 'bench-replay', intervalMs: 3_600_000, everyRecords: Infinity, clock: systemClock, logger });
  for (let i = 1; i <= 2; i++) {
    const w = await watched(() => writer.writeOnce());
    if (!w.value) throw new Error('the writer did not write (lease?)');
    console.log(`writer's write ${i} (writeOnce through the store): ${watchedLine(w)}; serialize ${logged.serializeMs} ms in ${logged.slices} turns, longest ${logged.longestSliceMs} ms; put ${logged.saveMs} ms`);
  }
  for (let i = 1; i <= 2; i++) console.log(`load ${i} (store.load, not parsed): ${watchedLine(await watched(() => store.load()))}`);
  const t0 = performance.now();
  const text = writeCheckpoint(p, (await store.stream())!);
  const t1 = performance.now();
  await store.save([Buffer.from(text, 'utf8')]);
  const t2 = performance.now();
  const loaded = await store.load();
  const t3 = performance.now();
  const read = readCheckpoint(loaded!, (await store.stream())!);
  const t4 = performance.now();
  if (!read.ok) throw new Error(`checkpoint refused: ${read.reason}`);
  // the writer's way: a slice per turn; the longest stretch it holds the event loop
  const t5 = performance.now();
  const sliced = await writeCheckpointSliced(p, (await store.stream())!);
  const t6 = performance.now();
  if (Buffer.concat(sliced.pieces).toString('utf8') !== text) throw new Error('the sliced checkpoint differs from the one-turn checkpoint');
  console.log(`checkpoint of ${fmt(read.header.jobs)} jobs at seq ${fmt(read.header.seq)}: ${fmt(text.length / 2 ** 20, 1)} MiB (${fmt(text.length / Math.max(1, read.header.jobs))} B/job); serialize ${fmt(t1 - t0)} ms, put ${fmt(t2 - t1)} ms, get ${fmt(t3 - t2)} ms, check + parse + resolve ${fmt(t4 - t3)} ms; sliced: ${fmt(t6 - t5)} ms in ${fmt(sliced.slices)} turns, longest ${fmt(sliced.longestSliceMs, 1)} ms`);
  return { store, controlStore };
}

/** The first `n` messages of JOBS, as the client library hands them over (for the in-process stages). */
async function fetchMessages(nc: Awaited<ReturnType<typeof connectNats>>, n: number): Promise<JsMsg[]> {
  const consumer = await jetstream(nc).consumers.get(STREAM_JOBS, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
  const msgs = await consumer.consume({ max_messages: 2_000, expires: 5_000 });
  const out: JsMsg[] = [];
  for await (const m of msgs) {
    if (m.info.streamSequence < 1) break; // parsed here once, as the consumer's own ordering check does
    out.push(m);
    if (out.length >= n) break;
  }
  await msgs.close();
  await consumer.delete().catch(() => undefined);
  return out;
}

/**
 * The follower's and the projection's own work without the transport, on messages already fetched:
 * CPU µs per event to decode (`toRecord`) and to decode and fold (`projection.apply`); the fold's
 * share is the difference (records are not kept: keeping them would bill their GC to the fold).
 */
function stages(msgs: JsMsg[]): { decodeUs: number; foldUs: number; bothUs: number; events: number } {
  let events = 0;
  gc();
  let c0 = process.cpuUsage();
  for (const m of msgs) events += toRecord(m).events.length;
  const decodeUs = cpuUs(c0) / events;
  const p = createJobProjection({ logger: silentLogger });
  gc();
  c0 = process.cpuUsage();
  for (const m of msgs) p.apply(toRecord(m));
  const bothUs = cpuUs(c0) / events;
  if (p.rejected > 0) throw new Error(`${p.rejected} events rejected`);
  return { decodeUs, foldUs: bothUs - decodeUs, bothUs, events };
}

/** Records per job in the store measured. */
let perJob = 4;

function line(name: string, f: Figures, events: number): string {
  const ev = Number.isNaN(f.events) ? events : f.events;
  const secs = f.ms / 1000;
  const parts = [
    `${name.padEnd(10)} ${fmt(f.ms).padStart(6)} ms`,
    `${fmt(f.records / secs).padStart(8)} records/s`,
    `${fmt(ev / secs).padStart(9)} events/s`,
    `CPU ${fmt(f.cpuUs / ev, 2)} µs/event (nats-server ${fmt((f.natsMs * 1000) / ev, 2)})`,
  ];
  if (f.readyMs !== undefined) parts.push(`ready ${fmt(f.readyMs)} ms`);
  if (f.heapMiB !== undefined) parts.push(`heap +${fmt(f.heapMiB, 1)} MiB = ${fmt((f.heapMiB * 2 ** 20) / (f.records / perJob))} B/job, rss ${fmt(f.rssMiB ?? 0)} MiB`);
  return parts.join('  ');
}

async function main() {
  const dir = STORE ?? (await mkdtemp(join(tmpdir(), 'jetjobs-replay-')));
  await mkdir(join(dir, 'nats'), { recursive: true });
  const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats'), syncInterval: '1s' });
  const nc = await connectNats(nats.url, { name: 'bench-replay' });
  const log = createJetStreamEventLog({ nc });
  let checkpointed: { store: CheckpointStore; controlStore: ControlStore } | undefined;
  try {
    await ensureStreams(nc);
    let total = await log.lastSeq();
    if (total === 0) {
      const t0 = performance.now();
      await writeJobs(log, JOBS);
      total = await log.lastSeq();
      console.log(`wrote ${fmt(JOBS)} finished noop jobs (${fmt(total)} records) in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    }
    // the store's shape, from its first record: 4 records and 6 events per job, or 1 and 1 when compacted
    const first = (await (await jetstreamManager(nc)).streams.getMessage(STREAM_JOBS, { seq: 1 }))?.json<Envelope[]>();
    const compacted = first?.[0]?.type === 'JobCompacted';
    perJob = compacted ? 1 : 4;
    const events = compacted ? total : (total / 4) * 6;
    console.log(`replay bench — ${fmt(total)} records, ${fmt(events)} events (${fmt(total / perJob)} ${compacted ? 'compacted ' : ''}jobs), nats-server file store, node ${process.version}`);
    console.log(`load average ${loadavg().map((l) => fmt(l, 2)).join(' ')}`);
    checkpointed = ONLY.has('checkpoint') ? await writeOneCheckpoint(nc, log) : undefined;
    const checkpoints = checkpointed?.store;
    for (let run = 1; run <= RUNS; run++) {
      if (ONLY.has('transport')) {
        const t = await transport(nc, total, nats);
        console.log(`${line('transport', t, events)}  (${fmt(t.bytes / t.records)} B/record)`);
      }
      if (ONLY.has('follower')) console.log(line('follower', await follower(log, nats), events));
      if (ONLY.has('projection')) console.log(line('projection', await projection(nc, log, nats, join(dir, `state-${run}`)), events));
      if (checkpoints !== undefined) console.log(line('checkpoint', await projection(nc, log, nats, join(dir, `state-c${run}`), checkpoints), events));
    }
    if (ONLY.has('stages')) {
      const staged = await fetchMessages(nc, Math.min(total, STAGE_MAX_RECORDS));
      for (let run = 1; run <= RUNS; run++) {
        const st = stages(staged);
        console.log(`${'stages'.padEnd(10)} in process, ${fmt(st.events)} events: decode ${fmt(st.decodeUs, 2)} µs/event, decode + fold ${fmt(st.bothUs, 2)} µs/event (fold ${fmt(st.foldUs, 2)})`);
      }
    }
  } finally {
    await checkpointed?.controlStore.close();
    await log.close();
    await nc.close();
    await nats.stop();
    if (STORE === undefined) await rm(dir, { recursive: true, force: true });
  }
}

await main();
