/**
 * The process lifecycle as an operator sees it: `npm start` with the embedded nats-server, a job in
 * flight, then SIGTERM or SIGINT to npm's own pid, or SIGINT to the whole process group (a terminal's
 * Ctrl-C). Whichever way, every process of the service ends, the embedded server is stopped once and
 * last, nothing is logged as an error, the last lines say what stopped and that the process exited,
 * and no pid file is left behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_ADMIN_TOKEN, withAuth } from '../../helpers/auth.ts';
import { apiOriginFromBanner, parseLog, withTimeout, type LogLine } from '../../helpers/processes.ts';
import { waitFor } from '../../helpers/wait.ts';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const HOST = '127.0.0.1';
const API = '/native/v1';
/** npm, tsx and a fresh JetStream store on a loaded 2-core machine: generous. */
const READY_TIMEOUT_MS = 60_000;
/** Drain (2 s) + hand-off + server stop, with room for a slow machine. */
const EXIT_TIMEOUT_MS = 30_000;

/** One process as /proc shows it; `cmdline` tells a live process from a recycled PID. */
interface Proc {
  pid: number;
  cmdline: string;
}

function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return undefined;
  }
}

/** Alive and still the same program (a zombie or a reused PID counts as gone). */
function alive(p: Proc): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z' && cmdlineOf(p.pid) === p.cmdline;
  } catch {
    return false;
  }
}

/** Every descendant of `pid` (children of all its threads, recursively). */
function descendants(pid: number): Proc[] {
  const out: Proc[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      continue;
    }
    for (const c of children) {
      const cmdline = cmdlineOf(c);
      if (cmdline !== undefined) out.push({ pid: c, cmdline }, ...descendants(c));
    }
  }
  return out;
}

/** Processes whose command line names `marker` (our unique state dir): found even if reparented. */
function processesNaming(marker: string): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = cmdlineOf(Number(name));
    if (cmdline?.includes(marker)) out.push({ pid: Number(name), cmdline });
  }
  return out;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Whatever a test started and has not seen end: SIGKILLed if this test process exits first. */
const leftovers = new Set<Proc>();
process.on('exit', () => {
  for (const p of leftovers) if (alive(p)) kill(p.pid, 'SIGKILL');
});

interface Started {
  npmPid: number;
  logPath: string;
  /** The API's origin, from the banner once it is printed (the service binds port 0: a port picked here could be taken before it binds). */
  baseUrl: string;
  exited: Promise<number | null>;
  /** False once npm has exited: its PID (and group id) may then belong to someone else. */
  running(): boolean;
}

/** `npm start` in its own process group on a temp state dir, with the API, NATS and the facades on ports the OS picks. */
async function npmStart(stateDir: string): Promise<Started> {
  const logPath = join(stateDir, 'out.log');
  // settings of the parent (or an external NATS) must not leak into the service under test
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('JETJOBS_') && !k.startsWith('npm_') && k !== 'LOG_LEVEL' && k !== 'NATS_URL'),
  );
  env['JETJOBS_ADMIN_TOKEN'] = TEST_ADMIN_TOKEN;
  env['npm_config_update_notifier'] = 'false';
  const fd = openSync(logPath, 'a');
  const args = ['start', '--', '--state-dir', stateDir, '--host', HOST, '--port', '0', '--nats-port', '0', '--alluxio-master-port', '0', '--alluxio-worker-port', '0', '--alluxio-ee-port', '0', '--teraslice-port', '0', '--spark-port', '0', '--openpai-port', '0', '--drain-timeout-ms', '2000', '--log-level', 'info'];
  const child = spawn('npm', args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error('could not spawn npm');
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  let baseUrl = '';
  return {
    npmPid: child.pid, logPath, exited, running: () => !done,
    get baseUrl() {
      if (baseUrl === '') baseUrl = apiOriginFromBanner(readFileSync(logPath, 'utf8')) ?? '';
      return baseUrl;
    },
  };
}

async function readyz(baseUrl: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  await res?.text();
  return res?.ok === true;
}

async function api<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl + API + path, {
    method,
    headers: withAuth(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const logOf = async (s: Started) => readFile(s.logPath, 'utf8').catch(() => '');

/** The start banner names the API, its docs, metrics and liveness URLs, the facades' listeners (each answers), NATS and the data dir. */
async function checkBanner(text: string, baseUrl: string, stateDir: string): Promise<void> {
  const field = (name: string) => new RegExp(`^ {2}${name}: +(.+)$`, 'm').exec(text)?.[1];
  assert.equal(field('API'), `${baseUrl}${API}`, text);
  for (const [name, path] of [['docs', '/docs'], ['metrics', '/metrics'], ['health', '/healthz']] as const) {
    assert.equal(field(name), `${baseUrl}${path}`, text);
    const res = await fetch(`${baseUrl}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    await res.text(); // read to the end: a body cancelled mid-way keeps the connection busy (see closeApi in api/main.ts)
    assert.ok(res.status < 400, `${path} answers ${res.status}`);
  }
  // the facades on their own (free) ports and under /compat/<name>/: each answers as the original
  for (const [listener, path] of [['alluxio job master', '/api/v1/master/job/service_name'], ['alluxio job worker', '/api/v1/job_worker/info'], ['alluxio EE coordinator', '/api/v1/load'], ['teraslice cluster master', '/v1/cluster/stats']] as const) {
    const name = listener.split(' ')[0]!;
    const m = new RegExp(`^(http://127\\.0\\.0\\.1:\\d+) \\(also (http://\\S+)/compat/${name}/\\)$`).exec(field(listener) ?? '');
    assert.ok(m, `${listener} in the banner:\n${text}`);
    assert.equal(m[2], baseUrl);
    for (const url of [`${m[1]}${path}`, `${baseUrl}/compat/${name}${path}`]) {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await res.text();
      assert.equal(res.status, 200, url);
    }
  }
  assert.match(field('NATS') ?? '', /^nats:\/\/127\.0\.0\.1:\d+ \(embedded, pid \d+, sync_interval 1s\)$/, text);
  assert.ok(field('data')?.startsWith(stateDir), text);
}

/** Runs `npm start`, puts a job in flight, sends `signal` to `to`, and checks how it all ends. */
async function signalledRun(signal: NodeJS.Signals, to: 'npm pid' | 'process group'): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'jetjobs-lifecycle-'));
  let s: Started | undefined;
  let seen: Proc[] = [];
  try {
    s = await npmStart(stateDir);
    const started = s;
    const describeLog = async () => `\n--- ${started.logPath}\n${(await logOf(started)).split('\n').slice(-25).join('\n')}`;
    await waitFor(async () => (await logOf(started)).includes(' started (roles: ') && started.baseUrl !== '' && (await readyz(started.baseUrl)), { what: 'the service to be ready', timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, retryErrors: true }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}${await describeLog()}`);
    });
    await checkBanner(await logOf(started), started.baseUrl, stateDir);
    // A job in flight: its coordinator must hand it off and its worker drain before NATS stops.
    const job = await api<{ id: string }>(started.baseUrl, 'POST', '/jobs', { type: 'sleep', spec: { ms: 60_000, tasks: 2 } });
    await waitFor(async () => (await api<{ state: string }>(started.baseUrl, 'GET', `/jobs/${job.id}`)).state === 'RUNNING', { what: 'the job to run', timeoutMs: 20_000, intervalMs: 100, retryErrors: true });

    seen = descendants(started.npmPid);
    for (const p of seen) leftovers.add(p);
    const service = seen.find((p) => p.cmdline.includes('api/main.ts start'));
    const natsServer = seen.find((p) => p.cmdline.includes('nats-server') && p.cmdline.includes(stateDir));
    assert.ok(service, `the node service runs under npm: ${JSON.stringify(seen)}`);
    assert.ok(natsServer, `the embedded nats-server runs under the service: ${JSON.stringify(seen)}`);
    const pidFile = join(stateDir, 'nats', 'nats-server.pid');
    assert.equal((await readFile(pidFile, 'utf8')).trim(), String(natsServer.pid));

    if (to === 'process group') process.kill(-started.npmPid, signal);
    else process.kill(started.npmPid, signal);

    const npmCode = await withTimeout(started.exited, EXIT_TIMEOUT_MS, `npm (pid ${started.npmPid}) to exit`).catch(async (err: unknown) => {
      throw new Error(`${String(err)}${await describeLog()}`);
    });
    // what we saw before the signal, and anything started since (a restarted server) or reparented
    const left = () => [...seen.filter(alive), ...processesNaming(stateDir).filter((p) => !seen.some((q) => q.pid === p.pid))];
    await waitFor(() => left().length === 0, { what: 'every process of the service to end', timeoutMs: EXIT_TIMEOUT_MS, intervalMs: 100, retryErrors: true }).catch(async () => {
      throw new Error(`still running after ${signal} to the ${to}: ${JSON.stringify(left())}${await describeLog()}`);
    });

    const text = await logOf(started);
    const lines = parseLog(text);
    const context = await describeLog();
    // nothing said twice: one `pid` key per line (pino's own), the first admin logged once
    const jsonLines = text.split('\n').filter((l) => l.startsWith('{'));
    assert.deepEqual(jsonLines.filter((l) => l.split('"pid":').length !== 2), [], `one pid key per line${context}`);
    assert.equal(lines.filter((l) => /first admin/.test(l.msg ?? '')).length, 1, `the first admin logged once${context}`);
    const errors = lines.filter((l) => l.level >= 50);
    assert.deepEqual(errors, [], `no error line${context}`);
    assert.ok(!lines.some((l) => /restart/i.test(l.msg ?? '')), `the embedded server was not restarted${context}`);
    assert.equal(lines.filter((l) => l.msg === 'embedded nats-server started').length, 1, `started once${context}`);
    const shutdown = lines.find((l) => l.msg === 'shutting down');
    assert.equal(shutdown?.['signal'], signal, `shutdown by ${signal}${context}`);

    // in order: roles first (the worker drains, the coordinator hands the job off), the server last
    const order = ['shutting down', 'worker drained and left', 'coordinator stopped'].map((m) => lines.findIndex((l) => l.msg === m));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), `shutdown order ${JSON.stringify(order)}${context}`);
    assert.equal(lines.find((l) => l.msg === 'coordinator stopped')?.['handedOff'], 1, `the running job was handed off${context}`);

    // the last lines, raw (nothing after them, npm included): what stopped, then that it exited
    const tail = text.trimEnd().split('\n').slice(-2).map((l) => JSON.parse(l) as LogLine);
    assert.equal(tail[0]?.msg, `stopped: api, worker, coordinator, embedded nats-server (pid ${natsServer.pid})`, context);
    assert.equal(tail[1]?.msg, 'exited', context);
    assert.equal(tail[1]?.['code'], 0, context);
    await assert.rejects(access(pidFile), { code: 'ENOENT' }, `no stale pid file${context}`);
    assert.equal(npmCode, 0, `npm exit code${context}`);
  } finally {
    // whatever is left (an assertion failed): the group, what we saw, and anything naming our dir
    if (s?.running()) kill(-s.npmPid, 'SIGKILL');
    for (const p of [...seen, ...processesNaming(stateDir)]) if (alive(p)) kill(p.pid, 'SIGKILL');
    if (s !== undefined) await withTimeout(s.exited, 10_000, 'npm to exit').catch(() => undefined);
    for (const p of seen) leftovers.delete(p);
    await rm(stateDir, { recursive: true, force: true });
  }
}

describe('npm start: signals and shutdown', { timeout: 4 * (READY_TIMEOUT_MS + EXIT_TIMEOUT_MS) }, () => {
  it('SIGTERM to the npm pid stops everything, in order', { timeout: READY_TIMEOUT_MS + 2 * EXIT_TIMEOUT_MS + 20_000 }, () => signalledRun('SIGTERM', 'npm pid'));
  it('SIGINT to the npm pid stops everything, in order', { timeout: READY_TIMEOUT_MS + 2 * EXIT_TIMEOUT_MS + 20_000 }, () => signalledRun('SIGINT', 'npm pid'));
  it('SIGINT to the whole process group (Ctrl-C) stops the embedded server once, last', { timeout: READY_TIMEOUT_MS + 2 * EXIT_TIMEOUT_MS + 20_000 }, () =>
    signalledRun('SIGINT', 'process group'),
  );
});
