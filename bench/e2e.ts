/**
 * `npm run bench`: end-to-end throughput of noop jobs over HTTP on the durable file store, beside
 * the raw acked JetStream publish rate on the same server; then replay of a 100k-job stream and
 * time to a ready coordinator. Prints figures; asserts nothing.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildServer, engineServerOptions } from '../api/server.ts';
import { readEnv, resolveConfig, silentLogger, startEngine } from '../engine/index.ts';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { connectNats, ensureStreams } from '../engine/nats/connection.ts';
import { createJetStreamEventLog } from '../engine/eventlog/jetStreamEventLog.ts';
import { startRoles } from '../engine/startRoles.ts';
import { createJetStreamTaskQueue } from '../engine/taskqueue/jetStreamTaskQueue.ts';
import { createKvLiveness } from '../engine/liveness/kvLiveness.ts';
import { createJobTypeRegistry } from '../engine/jobtypes/registry.ts';
import { builtinJobTypes } from '../engine/jobtypes/builtin.ts';
import { systemClock, systemRandom } from '../engine/clock.ts';
import { syntheticJobRecords } from './synthetic.ts';
import { cpuMs, fmt, pct, wall } from './measure.ts';
import { pacingArgs, type Pacing } from './pacing.ts';
import type { LoadgenReport } from './loadgen.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const JOBS = arg('jobs', 10_000);
const REPLAY_JOBS = arg('replay-jobs', 100_000);
const RAW_MSGS = arg('raw', 50_000);
const CLIENTS = arg('clients', 64);
const SYNC = process.env['JETJOBS_SYNC_INTERVAL'] ?? '1s';

export { cpuMs, fmt, pct } from './measure.ts';

/** Acked publishes with `inflight` outstanding, the way the engine publishes. */
async function rawPublishRate(url: string, n: number, inflight: number): Promise<number> {
  const nc = await connectNats(url, { name: 'bench-raw' });
  const jsm = await jetstream(nc).jetstreamManager();
  await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'], storage: 'file' as never });
  const js = jetstream(nc);
  const body = new TextEncoder().encode(JSON.stringify([{ type: 'JobSubmitted', data: { jobId: 'x', type: 'noop', spec: {} }, meta: { at: new Date().toISOString(), v: 1 } }]));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < n) {
      const i = next++;
      await js.publish(`raw.${i % 1000}`, body);
    }
  }));
  const rate = n / ((performance.now() - t0) / 1000);
  await jsm.streams.delete('RAW');
  await nc.close();
  return rate;
}

/** Starts a worker-only service process (the `--split` layout): the second core runs the tasks. */
async function startWorkerProcess(natsUrl: string, stateDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../api/main.ts', import.meta.url)), 'start',
    '--roles', 'worker', '--nats-url', natsUrl, '--state-dir', stateDir, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('worker started')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker process exited (${code})`)));
  });
  child.stdout.resume();
  return child;
}

/** The load generator authenticates as admin with this static token (a real, opt-in setting). */
const BENCH_TOKEN = randomBytes(24).toString('hex');

/** What {@link endToEnd} submits (through ./loadgen.ts). */
export interface EndToEndLoad {
  jobs: number;
  /** Keep-alive connections. */
  clients: number;
  /** At most this many jobs a second (open loop) when given. */
  ratePerSec?: number;
  /** How submissions are paced; overrides `ratePerSec`. @defaultValue one job per request, `clients` in flight */
  pacing?: Pacing;
  /** The job submitted, as JSON. @defaultValue a noop job */
  body?: string;
  /** The load generator stops sending after this. @defaultValue no limit */
  maxSendSecs?: number;
  /** How long to wait for the last job once everything is sent. @defaultValue 120000 */
  drainMs?: number;
}

function loadgenArgs(port: number, load: EndToEndLoad): string[] {
  const pacing = load.pacing ?? (load.ratePerSec === undefined ? undefined : { kind: 'rate' as const, perSec: load.ratePerSec });
  return ['--port', String(port), '--jobs', String(load.jobs), '--clients', String(load.clients),
    ...(pacing === undefined ? [] : pacingArgs(pacing)),
    ...(load.body === undefined ? [] : ['--body', load.body]),
    ...(load.maxSendSecs === undefined ? [] : ['--max-secs', String(load.maxSendSecs)])];
}

async function runLoadgen(port: number, load: EndToEndLoad): Promise<LoadgenReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./loadgen.ts', import.meta.url)), ...loadgenArgs(port, load)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOADGEN_TOKEN: BENCH_TOKEN } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out) as LoadgenReport;
}

/**
 * Runs the whole service in this process (and a worker process when `split`) on `nats`, submits the
 * load over HTTP from a separate load-generator process (./loadgen.ts) and waits until each job is
 * terminal: jobs/s, submit→terminal latencies, CPU per job of the service and of nats-server.
 */
export async function endToEnd(nats: EmbeddedNats, stateDir: string, split: boolean, load: EndToEndLoad = { jobs: JOBS, clients: CLIENTS }) {
  const config = resolveConfig(readEnv(), { natsUrl: nats.url, stateDir, port: 0, logLevel: 'silent', adminToken: BENCH_TOKEN, ...(split ? { roles: ['api', 'coordinator'] as ('api' | 'coordinator')[] } : {}) });
  const workerProc = split ? await startWorkerProcess(nats.url, `${stateDir}-worker`) : undefined;
  const engine = await startEngine(config, silentLogger);
  const app = buildServer({ ...engineServerOptions(engine, config), logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const finishedAt = new Map<string, number>();
  const states: Record<string, number> = {};
  engine.projection.onChange((e) => {
    if ((e.state === 'SUCCEEDED' || e.state === 'FAILED' || e.state === 'STOPPED') && !finishedAt.has(e.id)) {
      finishedAt.set(e.id, wall());
      states[e.state] = (states[e.state] ?? 0) + 1;
    }
  });
  const cpu0 = { self: cpuMs(process.pid), nats: cpuMs(nats.pid), worker: workerProc?.pid === undefined ? 0 : cpuMs(workerProc.pid) };
  const t0 = wall();
  const gen = await runLoadgen(port, load);
  if (gen.failed > 0) console.log(`  ${gen.failed} submissions failed`);
  const deadline = Date.now() + (load.drainMs ?? 120_000);
  // jobs finish roughly in submission order: one pass over the list, waiting at the first unfinished one
  for (let i = 0; i < gen.sent.length && Date.now() < deadline;) {
    if (finishedAt.has(gen.sent[i]![0])) i++;
    else await new Promise((r) => setTimeout(r, 20));
  }
  const latencies: number[] = [];
  let last = 0;
  for (const [id, at] of gen.sent) {
    const f = finishedAt.get(id);
    if (f === undefined) continue;
    latencies.push(f - at);
    last = Math.max(last, f);
  }
  const secs = (last - t0) / 1000;
  const cpu = {
    service: cpuMs(process.pid) - cpu0.self + (workerProc?.pid === undefined ? 0 : cpuMs(workerProc.pid) - cpu0.worker),
    nats: cpuMs(nats.pid) - cpu0.nats,
  };
  await app.close();
  await engine.shutdown();
  if (workerProc) {
    workerProc.kill('SIGTERM');
    await new Promise((r) => workerProc.once('exit', r));
  }
  return { jobsPerSec: latencies.length / secs, submitPerSec: gen.sent.length / gen.secs, p50: pct(latencies, 50), p99: pct(latencies, 99), done: latencies.length, latencies,
    sent: gen.sent.length, failed: gen.failed, noRoute: gen.noRoute, states,
    /** From the first submission sent to the last job terminal (wall ms): the window without the load generator's start-up. */
    busyMs: last - gen.sent.reduce((m, [, at]) => Math.min(m, at), Infinity),
    /** Totals over the run (ms): the service process(es), nats-server, and the load generator while it sent. */
    cpuMs: { ...cpu, loadgen: gen.cpuMs },
    // CPU per finished job: steadier than jobs/s on a shared machine, so the figure to compare changes by
    cpuUsPerJob: { service: (cpu.service * 1000) / latencies.length, nats: (cpu.nats * 1000) / latencies.length } };
}

async function replay(nats: EmbeddedNats, stateDir: string) {
  const nc = await connectNats(nats.url, { name: 'bench-replay' });
  await ensureStreams(nc);
  const log = createJetStreamEventLog({ nc });
  const t0 = performance.now();
  const { records, events } = await syntheticJobRecords(log, REPLAY_JOBS);
  const writeSecs = (performance.now() - t0) / 1000;
  const config = resolveConfig({ natsUrl: nats.url, stateDir, roles: ['coordinator'], logLevel: 'silent' });
  const taskQueue = createJetStreamTaskQueue({ nc, ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver });
  const liveness = createKvLiveness({ nc, clock: systemClock });
  const registry = createJobTypeRegistry(builtinJobTypes());
  const total = await log.lastSeq();
  const t1 = performance.now();
  const core = await startRoles({ config, eventLog: log, taskQueue, liveness, registry, clock: systemClock, random: systemRandom, logger: silentLogger, info: () => { throw new Error('unused'); } });
  const readyMs = performance.now() - t1;
  const rss = process.memoryUsage().rss;
  await core.stop({ handoff: false });
  await taskQueue.close();
  await liveness.close();
  await log.close();
  await nc.close();
  return { records, events, total, writeSecs, replayMs: core.replayMs, readyMs, rss };
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-bench-'));
  await mkdir(join(dir, 'nats'));
  const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats'), syncInterval: SYNC });
  try {
    console.log(`jetjobs bench — nats-server file store, sync_interval ${SYNC}, node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
    const raw = await rawPublishRate(nats.url, RAW_MSGS, 256);
    console.log(`raw JetStream acked publish (256 in flight, ${fmt(RAW_MSGS)} msgs): ${fmt(raw)} msg/s`);
    if (SYNC !== 'always') {
      // The price of fsync on every write, measured beside the default on the same machine.
      await mkdir(join(dir, 'nats-always'));
      const always = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats-always'), syncInterval: 'always' });
      try {
        const rate = await rawPublishRate(always.url, Math.min(RAW_MSGS, 20_000), 256);
        console.log(`raw JetStream acked publish with sync_interval always: ${fmt(rate)} msg/s (${fmt(rate / raw, 2)}× the ${SYNC} rate)`);
      } finally {
        await always.stop();
      }
    }
    const e2e = await endToEnd(nats, join(dir, 'svc'), false);
    console.log(`end-to-end noop jobs over HTTP, one process (api+coordinator+worker) (${fmt(JOBS)} jobs, ${CLIENTS} clients): ${fmt(e2e.jobsPerSec)} jobs/s ` +
      `(submit ${fmt(e2e.submitPerSec)}/s; submit→terminal p50 ${fmt(e2e.p50, 1)} ms, p99 ${fmt(e2e.p99, 1)} ms; ${fmt(e2e.done)} finished)`);
    console.log(`  CPU per job: service ${fmt(e2e.cpuUsPerJob.service)} µs, nats-server ${fmt(e2e.cpuUsPerJob.nats)} µs`);
    const split = await endToEnd(nats, join(dir, 'svc2'), true);
    console.log(`end-to-end noop jobs over HTTP, api+coordinator process + worker process: ${fmt(split.jobsPerSec)} jobs/s ` +
      `(submit ${fmt(split.submitPerSec)}/s; submit→terminal p50 ${fmt(split.p50, 1)} ms, p99 ${fmt(split.p99, 1)} ms; ${fmt(split.done)} finished)`);
    console.log(`  CPU per job: service (both processes) ${fmt(split.cpuUsPerJob.service)} µs, nats-server ${fmt(split.cpuUsPerJob.nats)} µs`);
    console.log(`ratio: ${fmt(e2e.jobsPerSec / raw, 3)} jobs per raw publish (a job costs 4 JOBS appends + 1 TASKS publish + ack)`);
    const r = await replay(nats, join(dir, 'replay'));
    console.log(`replay: ${fmt(r.total)} records (${fmt(REPLAY_JOBS)} synthetic jobs + the above; written in ${fmt(r.writeSecs, 1)} s) ` +
      `in ${fmt(r.replayMs)} ms = ${fmt((r.events / r.replayMs) * 1000)} events/s, ${fmt((r.total / r.replayMs) * 1000)} records/s`);
    console.log(`time to a ready coordinator: ${fmt(r.readyMs)} ms; process rss after replay ${fmt(r.rss / 2 ** 20)} MiB`);
  } finally {
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// Run only as a script: bench/peers/run.ts imports endToEnd from here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
