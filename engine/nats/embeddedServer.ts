import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sleep } from '../retry.ts';

/** Options of {@link startEmbeddedNats}. */
export interface EmbeddedNatsOptions {
  /** Path of the nats-server binary (see {@link findNatsServerBin}). */
  bin: string;
  /** Client port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** HTTP monitor port (health checks); 0 picks a free one. @defaultValue 0 */
  httpPort?: number;
  /** JetStream store dir (kept across restart()). */
  storeDir: string;
  /**
   * nats `sync_interval`: how often JetStream fsyncs. `'always'` is power-loss safe but ~7x slower
   * on acked publishes (see docs/nats-notes.md); the server default is 2 min.
   * @defaultValue '1s'
   */
  syncInterval?: string;
  /** Server log file; when absent the log goes to stderr and its tail is kept for errors. */
  logFile?: string;
  /** Largest message (payload + headers) in bytes. @defaultValue 8 MiB */
  maxPayload?: number;
  /** Called when the server exits without stop()/kill9()/restart() asking it to (a crash). */
  onUnexpectedExit?: (code: number | null, signal: string | null) => void;
  /** `server_name`: unique per cluster member; a JetStream cluster requires it. */
  serverName?: string;
  /** Makes the server a member of a cluster (requires {@link EmbeddedNatsOptions.serverName}). */
  cluster?: EmbeddedNatsCluster;
  /**
   * Start the server in its own session and process group, so a signal to ours (a terminal's
   * Ctrl-C) does not reach it and the parent stops it itself, last. The exit hook still kills it
   * when the parent exits; a parent killed outright leaves it to the next start's pid-file check.
   * @defaultValue false
   */
  ownProcessGroup?: boolean;
}

/** Cluster membership of one server, rendered as `cluster { name, listen, routes }`. */
export interface EmbeddedNatsCluster {
  /** Cluster name; the same on every member. */
  name: string;
  /** Route port this member listens on (on the server's host); must be a real port, not 0. */
  port: number;
  /** Route URLs of the other members, e.g. `nats-route://127.0.0.1:6222`. */
  routes: readonly string[];
}

/** A nats-server child process with JetStream enabled. */
export interface EmbeddedNats {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The configured `server_name` (JetStream reports leaders by it); absent if none was set. */
  readonly serverName?: string;
  /** PID of the current child (changes on restart; 0 when stopped). */
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace; resolves when the process has exited and its pid file is gone. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); resolves when the process has exited. */
  kill9(): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port and store dir. */
  restart(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_SYNC_INTERVAL = '1s';
export const DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024;
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_BYTES = 4_096;

/** Children still running: killed synchronously when this process exits, so none outlive us. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/**
 * Binds `n` throwaway listeners on port 0 at once and returns the ports the OS picked: distinct,
 * since all are held until every one is known (two picked one after the other can be the same port,
 * which once made the client and monitor ports collide).
 */
async function freePorts(host: string, n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (srv) =>
          new Promise<number>((resolve, reject) => {
            srv.once('error', reject);
            srv.listen(0, host, () => {
              const addr = srv.address();
              resolve(typeof addr === 'object' && addr !== null ? addr.port : 0);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  }
}

/** Tries of a start on ports we picked ourselves: another process may bind one before the server does. */
const PORT_TRIES = 3;

interface RenderedConfig {
  host: string;
  port: number;
  httpPort: number;
  storeDir: string;
  syncInterval: string;
  maxPayload: number;
  logFile?: string;
  pidFile: string;
  serverName?: string;
  cluster?: EmbeddedNatsCluster;
}

function renderConfig(o: RenderedConfig): string {
  const lines = [
    ...(o.serverName !== undefined ? [`server_name: ${JSON.stringify(o.serverName)}`] : []),
    `pid_file: ${JSON.stringify(o.pidFile)}`,
    `listen: "${o.host}:${o.port}"`,
    `http: "${o.host}:${o.httpPort}"`,
    `max_payload: ${o.maxPayload}`,
    // the default max_pending (64 MiB) must stay above max_payload
    `max_pending: ${Math.max(64 * 1024 * 1024, o.maxPayload * 4)}`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(o.storeDir)}`,
    `  sync_interval: ${o.syncInterval}`,
    `}`,
  ];
  if (o.cluster !== undefined) {
    lines.push(
      `cluster {`,
      `  name: ${JSON.stringify(o.cluster.name)}`,
      `  listen: "${o.host}:${o.cluster.port}"`,
      `  routes: [${o.cluster.routes.map((r) => JSON.stringify(r)).join(', ')}]`,
      `}`,
    );
  }
  if (o.logFile !== undefined) lines.push(`log_file: ${JSON.stringify(o.logFile)}`);
  return lines.join('\n') + '\n';
}

/**
 * A server left behind by a parent that was SIGKILLed still holds the port and the store: stop it,
 * but only if its command line names our config file (a recycled PID is left alone).
 */
async function stopOrphan(pidFile: string, configFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (!Number.isInteger(pid) || pid <= 1 || !cmdline.includes(configFile)) return;
  } catch {
    return; // no pid file, no such process, or no /proc: nothing to clean up
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  process.kill(pid, 'SIGKILL');
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts nats-server with JetStream as a child of this process and waits until JetStream answers
 * its health check. Rejects (with the server's stderr tail) if it exits early or is not ready in 10 s.
 *
 * A cluster member is "ready" once JetStream is enabled, which may be before the cluster has a
 * JetStream meta leader: callers that start a cluster must wait for that themselves (see
 * test/helpers/natsCluster.ts).
 */
export async function startEmbeddedNats(opts: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  if (opts.cluster !== undefined && (opts.serverName === undefined || opts.serverName === '')) {
    throw new Error('startEmbeddedNats: a cluster member needs a serverName (JetStream clustering requires server_name)');
  }
  if (opts.cluster !== undefined && !(Number.isInteger(opts.cluster.port) && opts.cluster.port > 0)) {
    throw new Error(`startEmbeddedNats: cluster.port must be a fixed port (the other members route to it), got ${opts.cluster.port}`);
  }
  const host = opts.host ?? DEFAULT_HOST;
  const fixedPort = opts.port !== undefined && opts.port !== 0 ? opts.port : undefined;
  const fixedHttpPort = opts.httpPort !== undefined && opts.httpPort !== 0 ? opts.httpPort : undefined;
  let port = 0;
  let httpPort = 0;
  await mkdir(opts.storeDir, { recursive: true });
  const configFile = join(opts.storeDir, 'nats-server.conf');
  const pidFile = join(opts.storeDir, 'nats-server.pid');
  await stopOrphan(pidFile, configFile);
  /** Picks the ports not given and writes the config file with them. */
  async function configure(): Promise<void> {
    const picked = await freePorts(host, 2);
    port = fixedPort ?? picked[0]!;
    httpPort = fixedHttpPort ?? picked[1]!;
    await writeFile(
      configFile,
      renderConfig({
        host,
        port,
        httpPort,
        storeDir: opts.storeDir,
        syncInterval: opts.syncInterval ?? DEFAULT_SYNC_INTERVAL,
        maxPayload: opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
        pidFile,
        ...(opts.logFile !== undefined ? { logFile: opts.logFile } : {}),
        ...(opts.serverName !== undefined ? { serverName: opts.serverName } : {}),
        ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
      }),
    );
  }

  let child: ChildProcess | undefined;
  let stderrTail = '';
  /** Children we asked to exit: their exit is not a crash. */
  const expected = new WeakSet<ChildProcess>();

  async function launch(): Promise<void> {
    stderrTail = '';
    const c = spawn(opts.bin, ['-c', configFile], { detached: opts.ownProcessGroup ?? false, stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    trackChild(c);
    // always drain stderr: a full pipe would block the server
    c.stderr?.on('data', (b: Buffer) => {
      stderrTail = (stderrTail + b.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    const exited = new Promise<string>((resolve) => {
      c.once('error', (e) => resolve(`spawn failed: ${e.message}`));
      c.once('exit', (code, sig) => resolve(`exited early (code ${code}, signal ${sig})`));
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let why: string | undefined;
    void exited.then((w) => {
      why = w;
    });
    while (why === undefined) {
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        await waitExit(c);
        why = `not ready within ${READY_TIMEOUT_MS} ms`;
        break;
      }
      if (await healthy(host, httpPort)) {
        c.once('exit', (code, sig) => {
          if (!expected.has(c)) opts.onUnexpectedExit?.(code, sig);
        });
        return;
      }
      await sleep(25);
    }
    child = undefined;
    // config errors reach stderr even when a log file is set
    const logHint = opts.logFile !== undefined ? `\n(server log: ${opts.logFile})` : '';
    throw new Error(`nats-server (${opts.bin}, port ${port}) ${why}; stderr tail:\n${stderrTail}${logHint}`);
  }

  /** Ends the current child; resolves with its PID (0 when none ran). */
  async function terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<number> {
    const c = child;
    if (c === undefined) return 0;
    expected.add(c);
    c.kill(signal);
    const grace = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
    await waitExit(c);
    clearTimeout(grace);
    if (child === c) child = undefined;
    return c.pid ?? 0;
  }

  /** nats-server leaves its pid file behind on a clean exit: remove it if it still names `pid`. */
  async function removePidFile(pid: number): Promise<void> {
    const named = await readFile(pidFile, 'utf8').catch(() => '');
    if (pid !== 0 && named.trim() === String(pid)) await rm(pidFile, { force: true });
  }

  // ports we picked may be taken before the server binds them: pick again (fixed ports fail at once)
  const picksPorts = fixedPort === undefined || fixedHttpPort === undefined;
  for (let attempt = 1; ; attempt++) {
    await configure();
    try {
      await launch();
      break;
    } catch (err) {
      if (!(picksPorts && attempt < PORT_TRIES && /address already in use/.test(stderrTail))) throw err;
    }
  }
  return {
    url: `nats://${host}:${port}`,
    port,
    storeDir: opts.storeDir,
    ...(opts.serverName !== undefined ? { serverName: opts.serverName } : {}),
    get pid() {
      return child?.pid ?? 0;
    },
    stop: async () => {
      await removePidFile(await terminate('SIGTERM'));
    },
    // a crash leaves the pid file, as a real one would
    kill9: async () => {
      await terminate('SIGKILL');
    },
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
  };
}

/** True once the monitor says JetStream is enabled (the client port listens by then too). */
async function healthy(host: string, httpPort: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}:${httpPort}/healthz?js-enabled-only=true`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Path of a nats-server ≥ 2.10.23: $NATS_SERVER_BIN, else whatever scripts/ensure-nats-server.sh finds or installs. */
export async function findNatsServerBin(): Promise<string> {
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const script = fileURLToPath(new URL('../../scripts/ensure-nats-server.sh', import.meta.url));
  const { stdout } = await promisify(execFile)('bash', [script], { maxBuffer: 1024 * 1024 });
  return stdout.trim();
}
