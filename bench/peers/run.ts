/**
 * `npm run bench:peers` (`--jobs N`, `--rate R`, `--rate-secs S`, `--clients C`) and `npm run bench:quick`
 * (`--quick`: 3,000 jobs, 5 s at 500/s): the same tiny no-op workload on this service and on BullMQ
 * (bench/peers/bullmqSide.ts) on a local redis-server with AOF `everysec`, in one run, printed as one
 * table with the ratio ours / BullMQ. Starts and stops its own redis-server and nats-server (by PID, in
 * `finally`), in a temp dir it removes. Asserts nothing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from '../../engine/nats/embeddedServer.ts';
import { endToEnd, fmt, pct } from '../e2e.ts';
import type { BullMqResult } from './bullmqSide.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const QUICK = process.argv.includes('--quick');
const JOBS = arg('jobs', QUICK ? 3_000 : 10_000);
const RATE = arg('rate', 500);
const RATE_SECS = arg('rate-secs', QUICK ? 5 : 10);
const CLIENTS = arg('clients', 64);
const SYNC = process.env['JETJOBS_SYNC_INTERVAL'] ?? '1s';
const here = fileURLToPath(new URL('.', import.meta.url));
const run = promisify(execFile);

/** Installs bench/peers' own pinned dependencies (never the root project's) when they are missing. */
async function ensurePeerModules(): Promise<void> {
  if (existsSync(join(here, 'node_modules', 'bullmq', 'package.json'))) return;
  console.error('installing bench/peers dependencies (npm ci --prefix bench/peers)...');
  await run('npm', ['ci', '--prefix', here, '--no-audit', '--no-fund', '--loglevel=error'], { maxBuffer: 16 * 1024 * 1024 });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** redis-server on 127.0.0.1 with AOF `everysec` (no RDB snapshots) in `dir`; resolves once it accepts connections. */
async function startRedis(bin: string, dir: string): Promise<{ proc: ChildProcess; pid: number; port: number; version: string }> {
  const port = await freePort();
  const proc = spawn(bin, ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
    '--save', '', '--daemonize', 'no', '--logfile', '', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s: ${out.slice(-500)}`)), 10_000);
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)); });
  });
  proc.stdout?.resume();
  if (proc.pid === undefined) throw new Error('redis-server has no pid');
  return { proc, pid: proc.pid, port, version: /Redis version=([\d.]+)/.exec(out)?.[1] ?? '?' };
}

async function stopByPid(proc: ChildProcess): Promise<void> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => proc.pid !== undefined && proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Runs one BullMQ scenario in its own process (bullmqSide.ts); the child is stopped by PID if it fails. */
async function bullmq(redis: { port: number; pid: number }, mode: 'bulk' | 'single' | 'rate', jobs: number): Promise<BullMqResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'bullmqSide.ts'), String(redis.port), String(redis.pid), mode, String(jobs), String(RATE), String(CLIENTS)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    const code = await new Promise((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`bullmqSide ${mode} exited (${String(code)})`);
    return JSON.parse(out) as BullMqResult;
  } finally {
    await stopByPid(child);
  }
}

/** Our side of one scenario: the whole service in this process (bench/e2e.ts's endToEnd), HTTP submits from its load generator. */
async function ours(nats: EmbeddedNats, stateDir: string, jobs: number, ratePerSec?: number) {
  const r = await endToEnd(nats, stateDir, false, { jobs, clients: CLIENTS, ...(ratePerSec === undefined ? {} : { ratePerSec }) });
  return { done: r.done, jobsPerSec: (r.done * 1000) / r.busyMs, p50: r.p50, p99: r.p99, p999: pct(r.latencies, 99.9), cpu: r.cpuUsPerJob.service, store: r.cpuUsPerJob.nats };
}

type Row = [scenario: string, figure: string, ours: number, peer: number, digits: number, better: 'higher' | 'lower'];

function table(rows: Row[]): string {
  const lines = ['| scenario | figure | jetjobs | BullMQ | jetjobs / BullMQ |', '|---|---|---|---|---|'];
  let prev = '';
  for (const [scenario, figure, a, b, d, better] of rows) {
    lines.push(`| ${scenario === prev ? '' : scenario} | ${figure} (${better} is better) | ${fmt(a, d)} | ${fmt(b, d)} | ${fmt(a / b, 2)}× |`);
    prev = scenario;
  }
  return lines.join('\n');
}

async function main() {
  await ensurePeerModules();
  const redisBin = (await run('bash', [join(here, 'ensure-redis.sh')], { maxBuffer: 1024 * 1024 })).stdout.trim();
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-peers-'));
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  let nats: EmbeddedNats | undefined;
  try {
    await mkdir(join(dir, 'redis'));
    await mkdir(join(dir, 'nats'));
    redis = await startRedis(redisBin, join(dir, 'redis'));
    nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats'), syncInterval: SYNC });
    const rateJobs = RATE * RATE_SECS;
    console.log(`jetjobs vs BullMQ — ${fmt(JOBS)} tiny jobs, then ${fmt(RATE)} jobs/s for ${RATE_SECS} s; node ${process.version}, ${cpus().length} cores; ` +
      `redis-server ${redis.version} (appendonly yes, appendfsync everysec), nats-server file store sync_interval ${SYNC}`);
    const step = (s: string) => console.error(`  … ${s}`);
    step('BullMQ addBulk'); const bulk = await bullmq(redis, 'bulk', JOBS);
    step('BullMQ add'); const single = await bullmq(redis, 'single', JOBS);
    step('jetjobs HTTP submit'); const mine = await ours(nats, join(dir, 'svc'), JOBS);
    step(`BullMQ ${RATE}/s`); const bullRate = await bullmq(redis, 'rate', rateJobs);
    step(`jetjobs ${RATE}/s`); const mineRate = await ours(nats, join(dir, 'svc-rate'), rateJobs, RATE);

    const jps = (r: BullMqResult) => (r.done * 1000) / r.busyMs;
    const cpuRow = (s: string, m: { cpu: number; store: number }, b: BullMqResult): Row[] => [
      [s, 'CPU µs/job, process + store', m.cpu + m.store, b.cpuUsPerJob.node + b.cpuUsPerJob.redis, 0, 'lower'],
      [s, 'CPU µs/job, process (service / BullMQ node)', m.cpu, b.cpuUsPerJob.node, 0, 'lower'],
      [s, 'CPU µs/job, store (nats-server / redis-server)', m.store, b.cpuUsPerJob.redis, 0, 'lower'],
    ];
    const sat = (s: string, b: BullMqResult): Row[] => [
      [s, 'jobs/s', mine.jobsPerSec, jps(b), 0, 'higher'],
      [s, 'p50 submit→terminal ms', mine.p50, b.p50, 1, 'lower'],
      [s, 'p99 submit→terminal ms', mine.p99, b.p99, 1, 'lower'],
      ...cpuRow(s, mine, b),
    ];
    const rows: Row[] = [
      ...sat(`${fmt(JOBS)} tiny jobs; ours: 1 job per HTTP request, ${CLIENTS} clients; BullMQ: addBulk ×100, concurrency 100`, bulk),
      ...sat(`${fmt(JOBS)} tiny jobs; ours: same run as above; BullMQ: add 1 job per call, ${CLIENTS} in flight, concurrency 100`, single),
      [`${fmt(RATE)} jobs/s for ${RATE_SECS} s (open loop)`, 'p50 ms', mineRate.p50, bullRate.p50, 1, 'lower'],
      [`${fmt(RATE)} jobs/s for ${RATE_SECS} s (open loop)`, 'p99 ms', mineRate.p99, bullRate.p99, 1, 'lower'],
      [`${fmt(RATE)} jobs/s for ${RATE_SECS} s (open loop)`, 'p99.9 ms', mineRate.p999, bullRate.p999, 1, 'lower'],
      ...cpuRow(`${fmt(RATE)} jobs/s for ${RATE_SECS} s (open loop)`, mineRate, bullRate),
    ];
    console.log(table(rows));
    const short = [[mine.done, JOBS, 'jetjobs'], [bulk.done, JOBS, 'BullMQ addBulk'], [single.done, JOBS, 'BullMQ add'],
      [mineRate.done, rateJobs, `jetjobs ${RATE}/s`], [bullRate.done, rateJobs, `BullMQ ${RATE}/s`]].filter(([d, n]) => d !== n);
    for (const [d, n, what] of short) console.log(`warning: ${what}: only ${fmt(Number(d))} of ${fmt(Number(n))} jobs finished`);
  } finally {
    if (nats) await nats.stop();
    if (redis) await stopByPid(redis.proc);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
