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

/**
 * Debian 13's nats-server (the 2.10 line) when scripts/test.sh could fetch it: tests that hold both
 * server lines to one contract run on it too. Operators may run any server >= 2.10.23.
 */
export const OLDER_NATS_SERVER_BIN: string | undefined = process.env['NATS_SERVER_BIN_2_10'] || undefined;
/** Why a test on the 2.10 line did not run. */
export const NO_OLDER_SERVER = 'no 2.10 nats-server here (scripts/test.sh fetches it into .cache/nats-server-trixie on Debian-family systems)';

/** Options of {@link startTestNats}. */
export interface TestNatsOptions {
  syncInterval?: string;
  /** @defaultValue the default line ({@link findNatsServerBin}) */
  bin?: string;
}

/** Starts nats-server on 127.0.0.1, a random port and a new temp store dir. */
export async function startTestNats(opts: TestNatsOptions = {}): Promise<TestNats> {
  const storeDir = await mkdtemp(join(tmpdir(), 'jetjobs-nats-'));
  let srv: EmbeddedNats;
  try {
    srv = await startEmbeddedNats({
      bin: opts.bin ?? (await findNatsServerBin()),
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
export function useTestNats(opts: TestNatsOptions = {}): SuiteNats {
  const ctx = {} as { srv: TestNats; nc: NatsConnection };
  before(async () => {
    ctx.srv = await startTestNats(opts);
    ctx.nc = await connectTest(ctx.srv.url);
  });
  after(async () => {
    await ctx.nc?.close();
    await ctx.srv?.cleanup();
  });
  return ctx;
}
