/**
 * The one binary: `start [--roles api,coordinator,worker] [--port 8080] [--nats-url nats://...] ...`.
 * Every flag is also an environment variable (docs/configuration.md).
 */
import { buildServer, engineServerOptions } from './server.ts';
import { ConfigError, createLogger, parseFlags, readEnv, resolveConfig, startEngine, VERSION } from '../engine/index.ts';

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
  let config;
  try {
    config = resolveConfig(readEnv(), parseFlags(rest));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const engine = await startEngine(config, logger);
  let app: ReturnType<typeof buildServer> | undefined;
  if (config.roles.includes('api')) {
    app = buildServer({ ...engineServerOptions(engine, config), logger: logger.child({ role: 'api' }) });
    await app.listen({ host: config.host, port: config.port });
  }
  const where = app ? `http://${config.host}:${config.port}/native/v1` : '(no api role)';
  process.stdout.write(
    `jetjobs ${VERSION} started (roles: ${config.roles.join(', ')})\n` +
      `  API:   ${where}\n` +
      `  NATS:  ${engine.embedded ? `${engine.natsUrl} (embedded, store ${config.stateDir}/nats, sync_interval ${config.syncInterval})` : 'external (NATS_URL)'}\n` +
      `  files: ${config.filesDir}   cache: ${config.cacheDir}\n`,
  );
  if (engine.generatedAdminPassword !== undefined) {
    // Shown once, on the terminal only (never through the logger): it is not stored anywhere in clear.
    process.stdout.write(
      `  first start: created user "admin" with password ${engine.generatedAdminPassword}\n` +
        `  (log in with POST /native/v1/auth/login; change it with PUT /native/v1/users/admin/password)\n`,
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hard = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.drainTimeoutMs + 15_000);
    hard.unref();
    await app?.close();
    await engine.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return -1; // keep running
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
