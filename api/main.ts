/**
 * The one binary: `start [--roles api,coordinator,worker] [--port 8080] [--nats-url nats://...] ...`.
 * Every flag is also an environment variable (docs/configuration.md). SIGINT/SIGTERM stop it in
 * order and its last log lines say what stopped and that it exited (docs/operations.md).
 */
import { constants as osConstants } from 'node:os';
import { DOCS_PREFIX } from './openapi.ts';
import { buildServer, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_PREFIX, engineServerOptions } from './server.ts';
import { DASHBOARD_PATH, DEFAULT_DASHBOARD_DIR } from './dashboard.ts';
import { enabledFacades, mountableFacades } from './compat/index.ts';
import { startFacadeListeners, type RunningListener } from './compat/facadeListeners.ts';
import { ConfigError, createLogger, IGNORED_REASONS, levelControl, parseFlags, readEnv, resolveStartupConfig, startEngine, VERSION, type Config, type Engine, type Logger, type StartupConfig } from '../engine/index.ts';

async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  if (command === 'version' || command === '--version') {
    console.log(VERSION);
    return 0;
  }
  if (command === 'help' || command === '--help') {
    console.log('usage: jetjobs start [--roles api,coordinator,worker] [--port N] [--host H] [--nats-url URL] [--state-dir DIR] ...\nsee docs/configuration.md');
    return 0;
  }
  if (command !== 'start') {
    console.error(`unknown command ${JSON.stringify(command)} (try: start, version, help)`);
    return 2;
  }
  let startup: StartupConfig;
  try {
    // defaults < alluxioSiteProperties file < environment < flags
    startup = resolveStartupConfig(readEnv(), parseFlags(rest));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const { config } = startup;
  const logger = createLogger({ level: config.logLevel });
  logIgnoredAlluxioKeys(startup, logger);
  // Until the service runs, a signal just exits: the exit hook kills the embedded server, if any.
  const early = (signal: NodeJS.Signals) => {
    logger.warn({ signal }, 'interrupted while starting');
    exit(logger, 128 + osConstants.signals[signal]);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, early);
  const engine = await startEngine(config, logger);
  let app: ReturnType<typeof buildServer> | undefined;
  let facadeListeners: RunningListener[] = [];
  let mountedNames = new Set<string>();
  if (config.roles.includes('api')) {
    const apiLogger = logger.child({ role: 'api' });
    const facades = enabledFacades(config);
    const mounted = mountableFacades(facades, config, logger);
    mountedNames = new Set(mounted.map((f) => f.name));
    const levels = levelControl(logger);
    app = buildServer({ ...engineServerOptions(engine, config), logger: apiLogger, facades: mounted, levels, dashboardDir: DEFAULT_DASHBOARD_DIR });
    await app.listen({ host: config.host, port: config.port });
    facadeListeners = await startFacadeListeners(
      facades,
      { service: engine.service, identity: engine.identity, levels, documents: engine.documents, binaries: engine.binaries, scriptRuntimes: engine.scriptRuntimes, taskLogs: engine.taskLogs },
      { ...config, host: config.facadeHost, bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES },
      apiLogger,
    );
    // serving from here on: request loggers are not remembered (they take the level of their parent)
    levels.seal();
    for (const f of facades) {
      if (f.auth.mode === 'none' && config.facadeAllowUnauthenticated) {
        logger.warn({ facade: f.name }, `facade ${f.name} has auth none beyond loopback: anyone who reaches it acts as ${f.auth.user} (${f.auth.role})`);
      }
    }
  }
  process.stdout.write(banner(config, engine, app, facadeListeners, mountedNames));
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    // npm forwards the terminal's Ctrl-C that we also received: one shutdown
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hard = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      exit(logger, 1);
    }, API_CLOSE_GRACE_MS + config.drainTimeoutMs + 15_000);
    hard.unref();
    let code = 0;
    try {
      // in order: the API stops accepting, the roles stop, then NATS and the embedded server
      const stopped: string[] = [];
      if (app) {
        await Promise.all([closeApi(app, logger), ...facadeListeners.map((l) => l.close())]);
        stopped.push('api');
      }
      stopped.push(...(await engine.shutdown()));
      logger.info({ stopped }, `stopped: ${stopped.join(', ')}`);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      code = 1;
    }
    exit(logger, code);
  };
  for (const signal of STOP_SIGNALS) {
    process.off(signal, early);
    process.on(signal, (s: NodeJS.Signals) => void stop(s));
  }
  return -1; // keep running
}

/** Keys of the properties file that were accepted but change nothing here: one info line per reason. */
function logIgnoredAlluxioKeys(startup: StartupConfig, logger: Logger): void {
  if (startup.site === undefined) return;
  const { file, ignored } = startup.site;
  for (const [reason, why] of Object.entries(IGNORED_REASONS)) {
    const keys = ignored.filter((k) => k.reason === reason).map((k) => k.key);
    if (keys.length > 0) logger.info({ file, keys }, `${file}: ignored (${why}): ${keys.join(', ')}`);
  }
}

/**
 * Signals that stop the service in order. Not SIGHUP: a listener would override `nohup`'s
 * inherited ignore.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** How long requests in flight may finish once the API stops accepting; then their connections are closed. */
const API_CLOSE_GRACE_MS = 10_000;

/**
 * Stops accepting and waits for requests in flight, bounded: a client that holds a connection
 * Node does not count as idle (seen with fetch() cancelling a body mid-way) would hold close() forever.
 */
async function closeApi(app: ReturnType<typeof buildServer>, logger: Logger): Promise<void> {
  const force = setTimeout(() => {
    logger.warn({ graceMs: API_CLOSE_GRACE_MS }, 'API connections still open after the grace; closing them');
    app.server.closeAllConnections();
  }, API_CLOSE_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
}

/** The last line of every run that gets as far as a logger; the exit hooks then stop any child left. */
function exit(logger: Logger, code: number): never {
  logger.info({ code }, 'exited');
  process.exit(code);
}

/** What started and where: the API, its docs, metrics and probes, NATS and the data dirs. */
function banner(config: Readonly<Config>, engine: Engine, app: ReturnType<typeof buildServer> | undefined, facades: readonly RunningListener[], mounted: ReadonlySet<string>): string {
  const lines = [`jetjobs ${VERSION} started (roles: ${config.roles.join(', ')})`];
  const addr = app?.server.address();
  if (addr !== undefined && addr !== null && typeof addr === 'object') {
    // the port actually bound (`--port 0` picks one); an IPv6 host needs brackets in a URL
    const origin = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${addr.port}`;
    lines.push(
      `  dashboard: ${origin}${DASHBOARD_PATH}/`,
      `  API:     ${origin}${DEFAULT_PREFIX}`,
      `  docs:    ${origin}${DOCS_PREFIX}`,
      `  metrics: ${origin}/metrics`,
      `  health:  ${origin}/healthz`,
    );
    for (const l of facades) {
      const name = l.name.split(' ')[0]!;
      lines.push(`  ${l.name}: ${l.url}${mounted.has(name) ? ` (also ${origin}/compat/${name}/)` : ''}`);
    }
  } else {
    lines.push('  API:     (no api role)');
  }
  lines.push(
    `  NATS:    ${engine.embedded ? `${engine.natsUrl} (embedded, pid ${engine.embedded.pid}, sync_interval ${config.syncInterval})` : 'external (NATS_URL)'}`,
    `  data:    ${config.stateDir}${engine.embedded ? ` (NATS store ${engine.embedded.storeDir})` : ''}`,
    `  files:   ${config.filesDir}   cache: ${config.cacheDir}`,
  );
  if (engine.generatedAdminPassword !== undefined) {
    // Shown once, on the terminal only (never through the logger): it is not stored anywhere in clear.
    lines.push(
      `  first start: created user "admin" with password ${engine.generatedAdminPassword}`,
      `  (log in with POST ${DEFAULT_PREFIX}/auth/login; change it with PUT ${DEFAULT_PREFIX}/users/admin/password)`,
    );
  }
  return lines.join('\n') + '\n';
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(`fatal: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
