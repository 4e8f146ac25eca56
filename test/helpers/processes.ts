/**
 * Real service processes for fault tests and the failover bench:
 * `node --import tsx api/main.ts start --roles ...` against a shared NATS, each in its own process
 * group with its own temp state dir, API port and log file. Kill, pause and resume them by PID.
 *
 *   const procs = await createProcessHarness({ natsUrl: nats.url, flags: FAULT_TEST_FLAGS });
 *   after(() => procs.cleanup());
 *   const coord = await procs.start({ name: 'coord-1', roles: ['coordinator'] });
 *   await coord.kill9();
 */
import { spawn } from 'node:child_process';
import { TEST_ADMIN_TOKEN } from './auth.ts';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Role } from '../../engine/config.ts';
import { sleep } from './wait.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
const KILL_WAIT_MS = 10_000;

/** The short timings of the fault tests (CI): a failure is detected in 1.5 s, a task redelivered in 2 s. */
export const FAULT_TEST_FLAGS: Readonly<Record<string, string | number>> = Object.freeze({
  'heartbeat-ms': 200,
  'failure-detection-timeout-ms': 1500,
  'task-ack-wait-ms': 2000,
  'retry-backoff-ms': 50,
  'drain-timeout-ms': 2000,
  'log-level': 'info',
});

/** One pino JSON line of a service log (banner lines are skipped). */
export interface LogLine {
  level: number;
  time: number;
  msg?: string;
  [key: string]: unknown;
}

/** What to start. */
export interface SpawnOptions {
  /** Unique within the harness; names the log file and state dir. */
  name: string;
  roles: readonly Role[];
  /** Extra `--flag value` pairs (without the dashes); override the harness flags. */
  flags?: Readonly<Record<string, string | number>>;
  /** @defaultValue 30000 */
  readyTimeoutMs?: number;
}

/** A running (or exited) service process. */
export interface ServiceProcess {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly pid: number;
  readonly logPath: string;
  /**
   * `http://127.0.0.1:<port>` when the process has the api role, read from its banner (it binds
   * port 0: a port picked free here could be taken by another process before it binds); undefined
   * before the banner and without the api role.
   */
  readonly baseUrl: string | undefined;
  /** Ids the process logged when its roles started. */
  readonly coordinatorId: string | undefined;
  readonly workerId: string | undefined;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** SIGKILL the process group; resolves when the process has exited. */
  kill9(): Promise<void>;
  sigstop(): void;
  sigcont(): void;
  /** SIGTERM (graceful: drain, hand off); resolves with the exit code. */
  term(): Promise<number | null>;
  /** The parsed JSON lines of its log so far. */
  logLines(): Promise<LogLine[]>;
}

/** Options of {@link createProcessHarness}. */
export interface ProcessHarnessOptions {
  natsUrl: string;
  /** Flags every process gets (e.g. {@link FAULT_TEST_FLAGS}). */
  flags?: Readonly<Record<string, string | number>>;
}

/** Starts and tracks service processes; `cleanup()` kills whatever still runs. */
export interface ProcessHarness {
  /** Temp dir holding every process's log and state dir. */
  readonly dir: string;
  start(opts: SpawnOptions): Promise<ServiceProcess>;
  all(): readonly ServiceProcess[];
  /** Tail of every process's log, for a failure message. */
  describe(lines?: number): Promise<string>;
  /** SIGKILLs every process still running (by its group PID) and removes the dir unless `keep`. */
  cleanup(opts?: { keep?: boolean }): Promise<void>;
}

/** Process groups alive in this test process: killed synchronously if it exits or is signalled. */
const liveGroups = new Set<number>();
let hooksInstalled = false;
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
  // a signal would end us without 'exit' hooks (ours and the nats-server launcher's): exit instead
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(sig, () => process.exit(code));
}

/** The API origin (`http://host:port`) the start banner in `log` names, or undefined before it is printed. */
export function apiOriginFromBanner(log: string): string | undefined {
  return /^ {2}API: +(http:\/\/[^/\s]+)\/native\/v1$/m.exec(log)?.[1];
}

/** A port the OS considers free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Parses a service log: one pino JSON object per line; other lines (the banner) are skipped. */
export function parseLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut by kill -9
    }
  }
  return out;
}

/** Creates a harness whose processes talk to `natsUrl`. */
export async function createProcessHarness(opts: ProcessHarnessOptions): Promise<ProcessHarness> {
  installHooks();
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-procs-'));
  const procs: ServiceProcess[] = [];

  async function start(o: SpawnOptions): Promise<ServiceProcess> {
    if (procs.some((p) => p.name === o.name)) throw new Error(`process ${o.name} exists`);
    const stateDir = join(dir, o.name);
    await mkdir(stateDir, { recursive: true });
    const logPath = join(dir, `${o.name}.log`);
    const flags: Record<string, string | number> = { ...opts.flags, ...o.flags, roles: o.roles.join(','), host: HOST, port: 0, 'state-dir': stateDir };
    const args = ['--import', 'tsx', 'api/main.ts', 'start', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])];
    // the parent's JETJOBS_* settings must not leak into the process under test
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JETJOBS_') && k !== 'LOG_LEVEL'));
    env['NATS_URL'] = opts.natsUrl;
    env['JETJOBS_ADMIN_TOKEN'] = TEST_ADMIN_TOKEN;
    // several API processes on one host: the facades' own ports are picked free, not the originals'
    env['JETJOBS_ALLUXIO_MASTER_PORT'] = '0';
    env['JETJOBS_ALLUXIO_WORKER_PORT'] = '0';
    env['JETJOBS_ALLUXIO_EE_PORT'] = '0';
    env['JETJOBS_TERASLICE_PORT'] = '0';
    env['JETJOBS_SPARK_PORT'] = '0';
    env['JETJOBS_OPENPAI_PORT'] = '0';
    const fd = openSync(logPath, 'a');
    // detached: its own process group, so a signal reaches it (and any child) and nothing else
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not spawn ${o.name}`);
    liveGroups.add(pid);
    let done = false;
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        done = true;
        liveGroups.delete(pid);
        resolve(code);
      });
    });
    const logLines = async () => parseLog(await readFile(logPath, 'utf8').catch(() => ''));
    let apiOrigin: string | undefined;
    const ids: { coordinatorId?: string; workerId?: string } = {};
    const p: ServiceProcess = {
      name: o.name,
      roles: o.roles,
      pid,
      logPath,
      get baseUrl() {
        if (!o.roles.includes('api')) return undefined;
        apiOrigin ??= apiOriginFromBanner(readFileSync(logPath, 'utf8'));
        return apiOrigin;
      },
      get coordinatorId() {
        return ids.coordinatorId;
      },
      get workerId() {
        return ids.workerId;
      },
      exited,
      running: () => !done,
      async kill9() {
        if (done) return;
        killGroup(pid, 'SIGKILL');
        await withTimeout(exited, KILL_WAIT_MS, `${o.name} (pid ${pid}) to exit after SIGKILL`);
      },
      // never signal a group whose leader has exited: its id may belong to someone else by now
      sigstop: () => void (done || killGroup(pid, 'SIGSTOP')),
      sigcont: () => void (done || killGroup(pid, 'SIGCONT')),
      async term() {
        if (!done) killGroup(pid, 'SIGTERM');
        return exited;
      },
      logLines,
    };
    procs.push(p);
    try {
      await waitReady(p, o, ids);
    } catch (err) {
      await p.kill9();
      const tail = (await readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
      throw new Error(`${o.name} did not start: ${err instanceof Error ? err.message : String(err)}\n${tail}`, { cause: err });
    }
    return p;
  }

  /** Ready = each role's start line (level info) is in the log and, with the api role, /readyz answers 200. */
  async function waitReady(p: ServiceProcess, o: SpawnOptions, ids: { coordinatorId?: string; workerId?: string }): Promise<void> {
    const deadline = Date.now() + (o.readyTimeoutMs ?? READY_TIMEOUT_MS);
    for (;;) {
      if (!p.running()) throw new Error(`exited with ${await p.exited}`);
      const lines = await p.logLines();
      ids.coordinatorId ??= lines.find((l) => l.msg === 'coordinator started')?.['coordinator'] as string | undefined;
      ids.workerId ??= lines.find((l) => l.msg === 'worker started')?.['worker'] as string | undefined;
      const ok =
        (!o.roles.includes('coordinator') || ids.coordinatorId !== undefined) &&
        (!o.roles.includes('worker') || ids.workerId !== undefined) &&
        // the banner (printed after listen) names the port the OS gave; then /readyz must answer
        (!o.roles.includes('api') ||
          (p.baseUrl !== undefined &&
            (await fetch(`${p.baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => (void r.body?.cancel(), r.ok), () => false))));
      if (ok) return;
      if (Date.now() > deadline) {
        // pino logs asynchronously, so the banner alone proves nothing until the deadline
        const banner = (await readFile(p.logPath, 'utf8').catch(() => '')).includes(' started (roles: ');
        throw new Error(banner ? 'started, but no role start line names its ids (they are logged at level info)' : 'not ready in time');
      }
      await sleep(POLL_MS);
    }
  }

  let cleaned: Promise<void> | undefined;
  return {
    dir,
    start,
    all: () => procs,
    async describe(lines = 15) {
      const parts = await Promise.all(
        procs.map(async (p) => {
          const tail = (await readFile(p.logPath, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n');
          return `--- ${p.name} pid ${p.pid} ${p.running() ? 'running' : 'exited'} (${p.logPath})\n${tail}`;
        }),
      );
      return parts.join('\n');
    },
    cleanup: (c = {}) =>
      (cleaned ??= (async () => {
        for (const p of procs) if (p.running()) killGroup(p.pid, 'SIGCONT'); // a stopped process must not linger
        await Promise.all(procs.map((p) => p.kill9().catch(() => undefined)));
        if (c.keep) console.error(`kept process logs and state in ${dir}`);
        else await rm(dir, { recursive: true, force: true });
      })()),
  };
}

/** Rejects with `what` if `p` does not settle within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
