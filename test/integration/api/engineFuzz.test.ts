/**
 * The route fuzz (test/helpers/routeFuzz.ts) over the real engine on a real nats-server: what the
 * generated requests submit, stop, recover and re-run are real jobs in JetStream, and role tokens
 * are real logins.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, engineServerOptions } from '../../../api/server.ts';
import { resolveConfig, silentLogger, startEngine } from '../../../engine/index.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { startTestNats } from '../../helpers/natsServer.ts';
import { describeRouteFuzz } from '../../helpers/routeFuzz.ts';

describeRouteFuzz('fuzz over the real engine', {
  runs: 10_000,
  setup: async () => {
    const nats = await startTestNats();
    const stateDir = await mkdtemp(join(tmpdir(), 'jetjobs-fuzz-'));
    const config = resolveConfig({
      natsUrl: nats.url, stateDir, port: 0, adminToken: TEST_ADMIN_TOKEN,
      heartbeatMs: 200, failureDetectionTimeoutMs: 1500, retryBackoffMs: 50, drainTimeoutMs: 1000,
    });
    const engine = await startEngine(config, silentLogger).catch(async (err: unknown) => {
      await nats.cleanup();
      await rm(stateDir, { recursive: true, force: true });
      throw err;
    });
    const app = buildServer({ ...engineServerOptions(engine, config), logger: false });
    return {
      app,
      identity: engine.identity,
      adminHeaders: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      asUser: async (name, role) => {
        const password = `fuzz-password-of-${name}`;
        await engine.identity.createUser({ name, password, role, virtualClusters: [] });
        return { authorization: `Bearer ${(await engine.identity.login(name, password)).token}` };
      },
      close: async () => {
        await app.close();
        await engine.shutdown();
        await nats.cleanup();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  },
});
