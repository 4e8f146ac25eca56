/**
 * `npm run bench:scaleout` (= `node --import tsx bench/scaleout.ts [--jobs N] [--clients C] [--batch B] [--bulk-inflight I]`):
 * the tiny `noop` workload of bench/e2e.ts's endToEnd, submitted over HTTP from load-generator
 * processes, in several process layouts in one run, one job per request and in batches of `B`
 * through `POST /native/v1/jobs:batch`:
 *
 * - one process with every role;
 * - one api+coordinator process and 1, 2 and 4 worker-only processes;
 * - two api+coordinator processes (the load split in half, one load generator per API) and 2 workers;
 * - on a 3-node cluster with R3 streams: one api+coordinator process and 2 workers.
 *
 * Every run gets a fresh nats-server (file store, sync_interval 1s) or cluster. One api+coordinator
 * (or the all-roles process) runs in this process, like endToEnd, and its projection says when each
 * job is terminal (every process folds every job); the others are `api/main.ts start` children.
 * Prints one table: jobs/s, submit→terminal p50/p99 (and its split at the claim: waiting, running),
 * CPU µs per job of the service processes (sum), the nats-server(s) (sum) and the load generator(s),
 * and how many cores all of it kept busy. Rates and CPU count over the busy window, from the first
 * submission sent to the last job terminal (the load generators' start-up is left out).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer, engineServerOptions } from '../api/server.ts';
import { readEnv, resolveConfig, silentLogger, startEngine } from '../engine/index.ts';
import type { Role } from '../engine/config.ts';
import { findNatsServerBin, startEmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { startTestCluster } from '../test/helpers/natsCluster.ts';
import { cpuMs, fmt, pct, wall } from './measure.ts';
import { pacingArgs, type Pacing } from './pacing.ts';
import type { LoadgenReport } from './loadgen.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const JOBS = arg('jobs', 5_000);
const CLIENTS = arg('clients', 64);
const BATCH = arg('batch', 100);
const BULK_INFLIGHT = arg('bulk-inflight', 4);
const SYNC = '1s';
const DRAIN_MS = 120_000;
const CHILD_READY_MS = 60_000;
const CHILD_STOP_MS = 15_000;
const SAMPLE_MS = 50;
/** The load generators and the API children act as admin with this static token (a real, opt-in setting). */
const BENCH_TOKEN = randomBytes(24).toString('hex');
const MAIN_TS = fileURLToPath(new URL('../api/main.ts', import.meta.url));
const LOADGEN_TS = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

/** One process layout. The first api+coordinator (or the all-roles process) runs in this process. */
interface Layout {
  name: string;
  /** Run here: every role, or api+coordinator. */
  allInOne: boolean;
  /** api+coordinator children, each with its own load generator. */
  extraApis: number;
  workers: number;
  cluster: boolean;
}

const LAYOUTS: readonly Layout[] = [
  { name: 'one process, all roles', allInOne: true, extraApis: 0, workers: 0, cluster: false },
  { name: 'api+coord + 1 worker', allInOne: false, extraApis: 0, workers: 1, cluster: false },
  { name: 'api+coord + 2 workers', allInOne: false, extraApis: 0, workers: 2, cluster: false },
  { name: 'api+coord + 4 workers', allInOne: false, extraApis: 0, workers: 4, cluster: false },
  { name: '2 × api+coord + 2 workers', allInOne: false, extraApis: 1, workers: 2, cluster: false },
  { name: 'R3 cluster: api+coord + 2 workers', allInOne: false, extraApis: 0, workers: 2, cluster: true },
];

/** The figures of one run. */
interface Outcome {
  jobsPerSec: number;
  p50: number;
  p99: number;
  /** p50 of submit→claimed (the job left WAITING) and of claimed→terminal, ms. */
  waitP50: number;
  runP50: number;
  done: number;
  sent: number;
  failed: number;
  noRoute: boolean;
  /** CPU µs per finished job, over the busy window. */
  us: { service: number; nats: number; loadgen: number };
  /** CPU of service + nats-server(s) + load generators over the busy window, in cores. */
  cores: number;
}

/** A servers-and-store to run one layout on; stop() ends what it started (by PID) and removes the dir. */
interface Store {
  url: string;
  pids: () => number[];
  replicas: number;
  stop: () => Promise<void>;
}

async function singleServer(dir: string): Promise<Store> {
  await mkdir(join(dir, 'nats'), { recursive: true });
  const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats'), syncInterval: SYNC });
  return { url: nats.url, pids: () => [nats.pid], replicas: 1, stop: () => nats.stop() };
}

async function threeNodeCluster(): Promise<Store> {
  const cluster = await startTestCluster({ syncInterval: SYNC });
  return { url: cluster.urls, pids: () => cluster.servers.map((s) => s.pid), replicas: 3, stop: () => cluster.cleanup() };
}

/** Starts `api/main.ts start` with `roles`; resolves with the process and its API port (0 without the api role) once its banner is out. */
async function startChild(roles: readonly Role[], store: Store, stateDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN_TS, 'start', '--roles', roles.join(','), '--nats-url', store.url,
    '--state-dir', stateDir, '--port', '0', '--host', '127.0.0.1', '--replicas', String(store.replicas), '--log-level', 'warn'],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, JETJOBS_ADMIN_TOKEN: BENCH_TOKEN } });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${roles.join(',')} process not ready in ${CHILD_READY_MS} ms`)), CHILD_READY_MS);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      // the banner is written once the roles run; its last line names the files dir
      if (!/ files: /.test(out)) return;
      clearTimeout(timer);
      resolve(Number(/API:\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0));
    });
    child.once('exit', (code) => reject(new Error(`${roles.join(',')} process exited (${code})`)));
  });
  child.stdout!.resume();
  return { child, port };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_MS);
  await exited;
  clearTimeout(timer);
}

async function runLoadgen(port: number, jobs: number, clients: number, pacing: Pacing): Promise<LoadgenReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOADGEN_TS, '--port', String(port), '--jobs', String(jobs), '--clients', String(clients), ...pacingArgs(pacing)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOADGEN_TOKEN: BENCH_TOKEN } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out) as LoadgenReport;
}

/** Splits `n` over `parts` as evenly as whole numbers allow. */
const split = (n: number, parts: number) => Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));

/** Samples the CPU of the service and nats-server processes every {@link SAMPLE_MS}, to count it over a window known only afterwards. */
function cpuSampler(servicePids: readonly number[], natsPids: readonly number[]) {
  const sum = (pids: readonly number[]) => pids.reduce((s, p) => s + cpuMs(p), 0);
  const samples: { at: number; service: number; nats: number }[] = [];
  const sample = () => samples.push({ at: wall(), service: sum(servicePids), nats: sum(natsPids) });
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
    },
    /** CPU ms used from the last sample at or before `from` to the first at or after `to`. */
    between(from: number, to: number) {
      const a = samples.findLast((s) => s.at <= from) ?? samples[0]!;
      const b = samples.find((s) => s.at >= to) ?? samples[samples.length - 1]!;
      return { service: b.service - a.service, nats: b.nats - a.nats };
    },
  };
}

/** Runs `layout` on `store`: starts its processes, submits `JOBS` as `pacing` says, waits for each job to be terminal. */
async function runLayout(layout: Layout, store: Store, dir: string, pacing: Pacing): Promise<Outcome> {
  const roles: Role[] = layout.allInOne ? ['api', 'coordinator', 'worker'] : ['api', 'coordinator'];
  const config = resolveConfig(readEnv(), { natsUrl: store.url, stateDir: join(dir, 'svc'), port: 0, logLevel: 'silent', adminToken: BENCH_TOKEN, roles, replicas: store.replicas });
  const engine = await startEngine(config, silentLogger);
  const app = buildServer({ ...engineServerOptions(engine, config), logger: false });
  const children: ChildProcess[] = [];
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const ports = [(app.server.address() as { port: number }).port];
    for (let i = 0; i < layout.extraApis; i++) {
      const c = await startChild(['api', 'coordinator'], store, join(dir, `api-${i}`));
      children.push(c.child);
      ports.push(c.port);
    }
    for (let i = 0; i < layout.workers; i++) children.push((await startChild(['worker'], store, join(dir, `worker-${i}`))).child);
    const claimedAt = new Map<string, number>();
    const finishedAt = new Map<string, number>();
    engine.projection.onChange((e) => {
      if (e.state !== 'WAITING' && !claimedAt.has(e.id)) claimedAt.set(e.id, wall());
      if ((e.state === 'SUCCEEDED' || e.state === 'FAILED' || e.state === 'STOPPED') && !finishedAt.has(e.id)) finishedAt.set(e.id, wall());
    });
    const sampler = cpuSampler([process.pid, ...children.map((c) => c.pid ?? 0)], store.pids());
    // the same total in flight whatever the number of APIs: only the layout differs between rows
    const n = ports.length;
    const jobsPer = split(JOBS, n);
    const clientsPer = split(CLIENTS, n);
    const pacingPer = (i: number): Pacing => (pacing.kind === 'bulk' ? { ...pacing, inflight: Math.max(1, split(pacing.inflight, n)[i]!) } : { kind: 'single', inflight: clientsPer[i]! });
    const gens = await Promise.all(ports.map((port, i) => runLoadgen(port, jobsPer[i]!, clientsPer[i]!, pacingPer(i))));
    const sent = gens.flatMap((g) => g.sent).sort((a, b) => a[1] - b[1]);
    const deadline = Date.now() + DRAIN_MS;
    for (let i = 0; i < sent.length && Date.now() < deadline;) {
      if (finishedAt.has(sent[i]![0])) i++;
      else await new Promise((r) => setTimeout(r, 20));
    }
    sampler.stop();
    const latencies: number[] = [];
    const waited: number[] = [];
    const ran: number[] = [];
    let last = 0;
    for (const [id, at] of sent) {
      const f = finishedAt.get(id);
      if (f === undefined) continue;
      const c = claimedAt.get(id) ?? f;
      latencies.push(f - at);
      waited.push(c - at);
      ran.push(f - c);
      last = Math.max(last, f);
    }
    // from the first submission sent to the last job terminal: the load generators' start-up is not counted
    const first = sent[0]?.[1] ?? last;
    const busyMs = last - first;
    const cpu = { ...sampler.between(first, last), loadgen: gens.reduce((s, g) => s + g.cpuMs, 0) };
    const done = latencies.length;
    const perJob = (ms: number) => (ms * 1000) / done;
    return {
      jobsPerSec: done / (busyMs / 1000), p50: pct(latencies, 50), p99: pct(latencies, 99), waitP50: pct(waited, 50), runP50: pct(ran, 50),
      done, sent: sent.length, failed: gens.reduce((s, g) => s + g.failed, 0), noRoute: gens.some((g) => g.noRoute),
      us: { service: perJob(cpu.service), nats: perJob(cpu.nats), loadgen: perJob(cpu.loadgen) },
      cores: (cpu.service + cpu.nats + cpu.loadgen) / busyMs,
    };
  } finally {
    await Promise.all(children.map(stopChild));
    await app.close();
    await engine.shutdown();
  }
}

function row(layout: Layout, submit: string, o: Outcome): string {
  if (o.noRoute) return `| ${layout.name} | ${submit} | n/a (no /jobs:batch) | | | | | | | | |`;
  const processes = 1 + layout.extraApis + layout.workers;
  const finished = o.done === JOBS ? fmt(o.done) : `${fmt(o.done)} of ${fmt(JOBS)}${o.failed > 0 ? `, ${fmt(o.failed)} refused` : ''}`;
  return `| ${layout.name} | ${submit} | ${processes} | ${fmt(o.jobsPerSec)} | ${fmt(o.p50, 1)} / ${fmt(o.p99, 1)} | ${fmt(o.waitP50, 1)} / ${fmt(o.runP50, 1)} | ` +
    `${fmt(o.us.service)} | ${fmt(o.us.nats)} | ${fmt(o.us.loadgen)} | ${fmt(o.cores, 2)} | ${finished} |`;
}

async function main() {
  const modes: { submit: string; pacing: Pacing }[] = [
    { submit: `1 per request, ${CLIENTS} in flight`, pacing: { kind: 'single', inflight: CLIENTS } },
    { submit: `batch ${BATCH}, ${BULK_INFLIGHT} in flight`, pacing: { kind: 'bulk', batch: BATCH, inflight: BULK_INFLIGHT } },
  ];
  const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(`jetjobs scale-out — ${fmt(JOBS)} noop jobs per row over HTTP; nats-server file store, sync_interval ${SYNC}, ` +
    `a fresh server (or 3-node cluster, R3 streams) per row; node ${process.version}, ${cpus().length} cores; load average before ${await loadavg()}`);
  console.log('| layout | submit | service processes | jobs/s | p50 / p99 submit→terminal ms | p50 waiting / running ms | CPU µs/job service (sum) | CPU µs/job nats-server (sum) | CPU µs/job load generator(s) | cores busy | finished |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const mode of modes) {
    for (const layout of LAYOUTS) {
      const dir = await mkdtemp(join(tmpdir(), 'jetjobs-scaleout-'));
      const store = layout.cluster ? await threeNodeCluster() : await singleServer(dir);
      try {
        console.log(row(layout, mode.submit, await runLayout(layout, store, dir, mode.pacing)));
      } finally {
        await store.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(`load average after ${await loadavg()}`);
}

await main();
