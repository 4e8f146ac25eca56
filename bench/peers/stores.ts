/**
 * The stores the peer bench runs on: a redis-server (AOF `everysec`, no RDB snapshots) for BullMQ
 * and a nats-server (file store, `sync_interval` as configured) for this service and for raw
 * JetStream. Every scenario gets a fresh server in a fresh directory, stopped by PID and removed
 * after it, so no scenario starts on another's history.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from '../../engine/nats/embeddedServer.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const run = promisify(execFile);

/** A running redis-server the bench started. */
export interface Redis { proc: ChildProcess; pid: number; port: number; version: string }

/** Fresh stores on demand, each in its own directory under `root`. */
export interface Stores {
  /** What the stores are, for the table's header. */
  readonly description: string;
  withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T>;
  /** `dir` is a fresh directory beside the server's store, for the service's state and files. */
  withNats<T>(fn: (nats: EmbeddedNats, dir: string) => Promise<T>): Promise<T>;
}

/** Installs bench/peers' own pinned dependencies (never the root project's) when they are missing. */
export async function ensurePeerModules(): Promise<void> {
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

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function stopByPid(proc: ChildProcess): Promise<void> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => proc.pid !== undefined && proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** redis-server on 127.0.0.1 with AOF `everysec` (no RDB snapshots) in `dir`; resolves once it accepts connections. */
async function startRedis(bin: string, dir: string): Promise<Redis> {
  const port = await freePort();
  const proc = spawn(bin, ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
    '--save', '', '--daemonize', 'no', '--logfile', '', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s: ${out.slice(-500)}`)), 10_000);
      proc.stdout?.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); }
      });
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)); });
    });
  } catch (e) {
    await stopByPid(proc);
    throw e;
  }
  proc.stdout?.resume();
  if (proc.pid === undefined) throw new Error('redis-server has no pid');
  return { proc, pid: proc.pid, port, version: /Redis version=([\d.]+)/.exec(out)?.[1] ?? '?' };
}

/** Finds (or fetches) both servers, starts each once to learn its version, and hands out fresh ones under `root`. */
export async function openStores(root: string, syncInterval: string): Promise<Stores> {
  const redisBin = (await run('bash', [join(here, 'ensure-redis.sh')], { maxBuffer: 1024 * 1024 })).stdout.trim();
  const natsBin = await findNatsServerBin();
  const natsVersion = (await run(natsBin, ['--version'])).stdout.trim().replace(/^nats-server: v?/, '');
  let n = 0;
  const fresh = async (what: string) => {
    const dir = join(root, `${String(++n).padStart(3, '0')}-${what}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };
  const withRedis = async <T>(fn: (redis: Redis) => Promise<T>): Promise<T> => {
    const dir = await fresh('redis');
    const redis = await startRedis(redisBin, dir);
    try {
      return await fn(redis);
    } finally {
      await stopByPid(redis.proc);
      await rm(dir, { recursive: true, force: true });
    }
  };
  const withNats = async <T>(fn: (nats: EmbeddedNats, dir: string) => Promise<T>): Promise<T> => {
    const dir = await fresh('nats');
    await mkdir(join(dir, 'store'));
    const nats = await startEmbeddedNats({ bin: natsBin, port: 0, storeDir: join(dir, 'store'), syncInterval });
    try {
      return await fn(nats, join(dir, 'svc'));
    } finally {
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    }
  };
  const redisVersion = await withRedis(async (r) => r.version);
  return {
    description: `redis-server ${redisVersion} (appendonly yes, appendfsync everysec), nats-server ${natsVersion} file store sync_interval ${syncInterval}`,
    withRedis, withNats,
  };
}
