/**
 * A real nats-server per test file, on a random port with a fresh store dir (like nats.js `nst/`).
 *
 * Always clean up, even when an assertion fails:
 *
 *   const srv = await startTestNats();
 *   after(() => srv.cleanup());
 *
 * or, inside one test, `await using srv = await startTestNats();`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from '../../engine/nats/embeddedServer.ts';
import { connectNats, ensureStreams, type EnsureStreamsOptions } from '../../engine/nats/connection.ts';

export interface TestNats extends EmbeddedNats {
  /** Stops the server (by its PID) and removes the temp store dir. Safe to call twice. */
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts nats-server on 127.0.0.1, a random port and a new temp store dir. */
export async function startTestNats(opts: { syncInterval?: string } = {}): Promise<TestNats> {
  const storeDir = await mkdtemp(join(tmpdir(), 'jetjobs-nats-'));
  let srv: EmbeddedNats;
  try {
    srv = await startEmbeddedNats({
      bin: await findNatsServerBin(),
      port: 0,
      storeDir,
      ...(opts.syncInterval !== undefined ? { syncInterval: opts.syncInterval } : {}),
    });
  } catch (err) {
    await rm(storeDir, { recursive: true, force: true });
    throw err;
  }
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await srv.stop();
      await rm(storeDir, { recursive: true, force: true });
    })());
  return {
    url: srv.url,
    port: srv.port,
    storeDir,
    get pid() {
      return srv.pid;
    },
    stop: () => srv.stop(),
    kill9: () => srv.kill9(),
    restart: () => srv.restart(),
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}

/** A connection to `url` with the JOBS / TASKS streams and the liveness bucket in place. */
export async function connectTest(url: string, opts: EnsureStreamsOptions = {}): Promise<NatsConnection> {
  const nc = await connectNats(url, { name: 'test' });
  try {
    await ensureStreams(nc, opts);
  } catch (err) {
    await nc.close();
    throw err;
  }
  return nc;
}

/** A suite's server and connection, valid inside its tests (see {@link useTestNats}). */
export interface SuiteNats {
  readonly srv: TestNats;
  readonly nc: NatsConnection;
}

/**
 * Call inside a `describe`: starts a nats-server and a connection (streams ensured) before the
 * suite's tests and closes both after them, even when a test fails.
 */
export function useTestNats(): SuiteNats {
  const ctx = {} as { srv: TestNats; nc: NatsConnection };
  before(async () => {
    ctx.srv = await startTestNats();
    ctx.nc = await connectTest(ctx.srv.url);
  });
  after(async () => {
    await ctx.nc?.close();
    await ctx.srv?.cleanup();
  });
  return ctx;
}
