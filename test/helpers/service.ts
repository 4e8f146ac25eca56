/**
 * A whole service (api + coordinator + worker roles) against a real nats-server, on random ports
 * and temp dirs. Always `after(() => svc.stop())`; `restart()` keeps the NATS store and dirs.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, DEFAULT_BODY_LIMIT_BYTES, engineServerOptions } from '../../api/server.ts';
import { DEFAULT_DASHBOARD_DIR } from '../../api/dashboard.ts';
import { enabledFacades, mountableFacades } from '../../api/compat/index.ts';
import { startFacadeListeners, type RunningListener } from '../../api/compat/facadeListeners.ts';
import { createLogger, levelControl, resolveConfig, startEngine, type Config, type Logger } from '../../engine/index.ts';
import type { Engine } from '../../engine/index.ts';
import { TEST_ADMIN_TOKEN, withAuth } from './auth.ts';
import { startTestNats, type TestNats } from './natsServer.ts';

export interface TestService {
  baseUrl: string;
  /** The facades' own listeners by name (`alluxio job master` → its URL), on free ports. */
  facadeUrls: Readonly<Record<string, string>>;
  engine: Engine;
  config: Readonly<Config>;
  /**
   * Stop the service processes' roles (not NATS) and start them again on the same store and dirs;
   * with `samePort` the API listens on the port it had (a browser's page reconnects to it).
   */
  restart(overrides?: Partial<Config>, opts?: { samePort?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** A logger of its own (not the shared silentLogger): a facade's logLevel route may change its level. */
function testLogger(): Logger {
  return createLogger({ level: process.env['LOG_LEVEL'] ?? 'silent' });
}

export async function startTestService(natsUrl: string, overrides: Partial<Config> = {}): Promise<TestService> {
  const stateDir = await mkdtemp(join(tmpdir(), 'jetjobs-svc-'));
  // searchable (not listable) by others: script tasks run as sandbox uids under <stateDir>/sandbox
  await chmod(stateDir, 0o711);
  const logger = testLogger();
  let config = resolveConfig({ natsUrl, stateDir, port: 0, alluxioMasterPort: 0, alluxioWorkerPort: 0, alluxioEePort: 0, teraslicePort: 0, sparkPort: 0, openpaiPort: 0, heartbeatMs: 200, failureDetectionTimeoutMs: 1500, retryBackoffMs: 50, drainTimeoutMs: 2000, adminToken: TEST_ADMIN_TOKEN, ...overrides });
  let engine: Engine;
  let app: FastifyInstance;
  let baseUrl = '';
  let listeners: RunningListener[] = [];

  async function up(port = 0) {
    engine = await startEngine(config, logger);
    const facades = enabledFacades(config);
    const levels = levelControl(logger);
    app = buildServer({ ...engineServerOptions(engine, config), logger: false, facades: mountableFacades(facades, config), levels, dashboardDir: DEFAULT_DASHBOARD_DIR });
    await app.listen({ host: '127.0.0.1', port });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    baseUrl = `http://127.0.0.1:${addr.port}`;
    listeners = await startFacadeListeners(facades, { service: engine.service, identity: engine.identity, levels, documents: engine.documents, binaries: engine.binaries, scriptRuntimes: engine.scriptRuntimes, taskLogs: engine.taskLogs }, { ...config, host: '127.0.0.1', bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES }, false);
    levels.seal();
  }
  async function down() {
    await Promise.all([app.close(), ...listeners.map((l) => l.close())]);
    await engine.shutdown();
  }
  await up();
  let stopped = false;
  return {
    get baseUrl() {
      return baseUrl;
    },
    get facadeUrls() {
      return Object.fromEntries(listeners.map((l) => [l.name, l.url]));
    },
    get engine() {
      return engine;
    },
    get config() {
      return config;
    },
    async restart(more = {}, opts = {}) {
      const port = opts.samePort === true ? Number(new URL(baseUrl).port) : 0;
      await down();
      config = resolveConfig({ ...config, ...more });
      await up(port);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await down().catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** JSON over HTTP against the service, as the test admin unless `headers.authorization` says otherwise ('' = no token). */
export async function http<T = unknown>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    headers: withAuth(body === undefined ? headers : { 'content-type': 'application/json', ...headers }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}


/** A suite's nats-server and service, valid inside its tests (see {@link useTestService}). */
export interface SuiteService {
  readonly nats: TestNats;
  readonly svc: TestService;
}

/**
 * Call inside a `describe`: starts a nats-server and a whole service on it before the suite's
 * tests and stops both after them, even when a test fails.
 */
export function useTestService(overrides: Partial<Config> = {}): SuiteService {
  const ctx = {} as { nats: TestNats; svc: TestService };
  before(async () => {
    ctx.nats = await startTestNats();
    ctx.svc = await startTestService(ctx.nats.url, overrides);
  });
  after(async () => {
    await ctx.svc?.stop();
    await ctx.nats?.cleanup();
  });
  return ctx;
}
