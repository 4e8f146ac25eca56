/**
 * A real 3-node nats-server cluster on 127.0.0.1 (like nats.js `nst/` `jetstreamCluster(3)`): random
 * ports, one temp store dir per node, everything stopped and removed by cleanup().
 *
 *   const cluster = await startTestCluster();
 *   after(() => cluster.cleanup());
 *
 * or, inside one test, `await using cluster = await startTestCluster();`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { findNatsServerBin, startEmbeddedNats, type EmbeddedNats } from '../../engine/nats/embeddedServer.ts';
import { connectNats } from '../../engine/nats/connection.ts';
import { waitFor, type WaitOptions } from './wait.ts';

/** Three clustered servers and what a test needs to reach them. */
export interface TestCluster {
  /** The members, index i named `n<i>` (their `serverName`). restart() keeps ports and store. */
  readonly servers: readonly EmbeddedNats[];
  /** Client URLs of every member, comma-separated (what connectNats accepts). */
  readonly urls: string;
  /**
   * Index in `servers` of the running member that leads `stream` now. Waits (bounded) while the
   * stream has no leader, e.g. right after the leader was killed.
   */
  streamLeader(stream: string): Promise<number>;
  /** Waits until every running member answers JetStream API requests (e.g. after a restart). */
  waitReady(): Promise<void>;
  /** Stops every member (by its PID) and removes the store dirs. Safe to call twice. */
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const HOST = '127.0.0.1';
const SIZE = 3;
const CLUSTER_NAME = 'jetjobs-test';
/** Meta leader election plus the probe stream; ~1-2 s here. */
const READY_TIMEOUT_MS = 20_000;
/** Members agreeing on a meta leader that hears them all: ~1 s idle, much more on a loaded machine. */
const META_READY_TIMEOUT_MS = 60_000;
/** Stream leader elections take a few seconds after a kill. */
const LEADER_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 2_000;
const POLL_MS = 100;
const PROBE_STREAM = 'CLUSTER_READY_PROBE';
/** Retries (a member may refuse while it starts) with a backoff of 100, 200, … up to 500 ms. */
const RETRY: WaitOptions = { intervalMs: (i) => Math.min(POLL_MS * (i + 1), 500), retryErrors: true };

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Holds n listeners open at once so the OS cannot hand out the same port twice. */
async function reservePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, HOST, () => resolve());
      });
    }
    return servers.map((s) => {
      const addr = s.address();
      return typeof addr === 'object' && addr !== null ? addr.port : 0;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** One member's view of the JetStream meta group, from its monitor's /jsz (2.10 omits `replicas` on non-leaders). */
interface MetaView {
  leader?: string;
  cluster_size?: number;
  replicas?: { name: string; current: boolean }[];
}

async function metaView(monitorUrl: string): Promise<MetaView | undefined> {
  const res = await fetch(`${monitorUrl}/jsz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return ((await res.json()) as { meta_cluster?: MetaView }).meta_cluster;
}

/**
 * Placement needs a meta leader that hears from every peer: until then a replicated stream fails
 * with "no suitable peers for placement" (seen on a loaded 2-core machine after a fixed budget).
 * Waits while the members converge, and on timeout says what each one sees.
 */
async function waitMetaReady(running: readonly EmbeddedNats[], monitorOf: (s: EmbeddedNats) => string | undefined): Promise<void> {
  const views = new Map<string, MetaView | string>();
  const ready = async () => {
    const names = running.map((s) => s.serverName ?? s.url);
    for (const s of running) {
      const url = monitorOf(s);
      if (url === undefined) return true; // no monitor known: the probe stream decides
      views.set(s.serverName ?? s.url, await metaView(url).catch((e: unknown) => message(e)) ?? 'no meta_cluster');
    }
    const seen = [...views.values()];
    const leaders = new Set(seen.map((v) => (typeof v === 'string' ? undefined : v.leader)));
    const leader = [...leaders][0];
    if (leaders.size !== 1 || leader === undefined || leader === '' || !names.includes(leader)) return false;
    const lv = views.get(leader);
    // the leader lists its followers (2.15): each running one must be current
    if (typeof lv === 'object' && lv.replicas !== undefined) {
      const current = new Set(lv.replicas.filter((r) => r.current).map((r) => r.name));
      if (names.some((n) => n !== leader && !current.has(n))) return false;
    }
    return true;
  };
  try {
    await waitFor(async () => ((await ready()) ? true : undefined), { what: 'a JetStream meta leader that every member follows', timeoutMs: META_READY_TIMEOUT_MS, ...RETRY });
  } catch (err) {
    throw new Error(`${message(err)}; members see: ${JSON.stringify(Object.fromEntries(views))}`);
  }
}

/**
 * healthz says only "JetStream enabled"; a cluster is usable once a meta leader exists and knows
 * the peers. Proof: each running member answers $JS.API.INFO, they agree on a meta leader that sees
 * them all, and a stream replicated on every running member can be created.
 */
async function waitJetStream(servers: readonly EmbeddedNats[], monitorOf: (s: EmbeddedNats) => string | undefined = () => undefined): Promise<void> {
  const running = servers.filter((s) => s.pid !== 0);
  for (const srv of running) {
    // a direct, non-reconnecting connection: we want this member's answer, not a neighbour's
    const name = srv.serverName ?? srv.url;
    const connectOnce = () => connect({ servers: srv.url, reconnect: false, timeout: REQUEST_TIMEOUT_MS, name: 'cluster-ready' });
    const nc = await waitFor(connectOnce, { what: `connecting to ${name}`, timeoutMs: READY_TIMEOUT_MS, ...RETRY });
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: REQUEST_TIMEOUT_MS });
      await waitFor(async () => (await jsm.getAccountInfo()) ?? undefined, { what: `JetStream API on ${name}`, timeoutMs: READY_TIMEOUT_MS, ...RETRY });
      if (srv === running[0]) {
        await waitMetaReady(running, monitorOf);
        // as many replicas as members run: a stream placed on every live peer
        await waitFor(async () => {
          await jsm.streams.add({ name: PROBE_STREAM, subjects: ['jetjobs.ready.probe'], num_replicas: running.length, storage: StorageType.Memory });
          await jsm.streams.delete(PROBE_STREAM);
          return true;
        }, { what: `creating an R${running.length} probe stream`, timeoutMs: READY_TIMEOUT_MS, ...RETRY });
      }
    } finally {
      await nc.close();
    }
  }
}

/**
 * Starts three clustered nats-servers (JetStream, R3-capable) and waits until JetStream is usable.
 * Tries twice with fresh ports: the ports are reserved and released before the servers bind them, so
 * a test file running alongside can take one meanwhile, and a route then never finds its peer (seen
 * once in a full suite run as "no suitable peers for placement").
 */
export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  try {
    return await startTestClusterOnce(opts);
  } catch (first) {
    try {
      return await startTestClusterOnce(opts);
    } catch (second) {
      throw new AggregateError([first, second], `the test cluster did not start twice: ${message(first)} / ${message(second)}`);
    }
  }
}

/** Options of {@link startTestCluster}. */
export interface TestClusterOptions {
  syncInterval?: string;
  /** @defaultValue the default line ({@link findNatsServerBin}) */
  bin?: string;
}

async function startTestClusterOnce(opts: TestClusterOptions): Promise<TestCluster> {
  const bin = opts.bin ?? (await findNatsServerBin());
  const ports = await reservePorts(SIZE * 3);
  const clientPort = (i: number) => ports[i] ?? 0;
  const routePort = (i: number) => ports[SIZE + i] ?? 0;
  const httpPort = (i: number) => ports[2 * SIZE + i] ?? 0;
  const dirs: string[] = [];
  const started: EmbeddedNats[] = [];
  const monitorOf = (s: EmbeddedNats) => {
    const i = started.indexOf(s);
    return i < 0 ? undefined : `http://${HOST}:${httpPort(i)}`;
  };
  let admin: NatsConnection | undefined;

  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await admin?.close().catch(() => undefined);
      await Promise.all(started.map((s) => s.stop()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    })());

  try {
    for (let i = 0; i < SIZE; i++) dirs.push(await mkdtemp(join(tmpdir(), `jetjobs-cluster-n${i}-`)));
    const results = await Promise.allSettled(
      dirs.map((storeDir, i) =>
        startEmbeddedNats({
          bin,
          port: clientPort(i),
          httpPort: httpPort(i),
          storeDir,
          serverName: `n${i}`,
          cluster: {
            name: CLUSTER_NAME,
            port: routePort(i),
            routes: dirs.flatMap((_d, j) => (j === i ? [] : [`nats-route://${HOST}:${routePort(j)}`])),
          },
          ...(opts.syncInterval !== undefined ? { syncInterval: opts.syncInterval } : {}),
        }),
      ),
    );
    const failures: string[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') started.push(r.value);
      else failures.push(message(r.reason));
    }
    if (failures.length > 0) throw new Error(`cluster member(s) failed to start:\n${failures.join('\n')}`);
    await waitJetStream(started, monitorOf);
  } catch (err) {
    await cleanup();
    throw err;
  }

  const servers: readonly EmbeddedNats[] = started;
  const urls = servers.map((s) => s.url).join(',');
  let jsmP: Promise<JetStreamManager> | undefined;
  const jsm = () =>
    (jsmP ??= (async () => {
      admin = await connectNats(urls, { name: 'cluster-admin' });
      return jetstreamManager(admin, { checkAPI: false, timeout: REQUEST_TIMEOUT_MS });
    })());

  async function streamLeader(stream: string): Promise<number> {
    const m = await jsm();
    return waitFor(async () => {
      const leader = (await m.streams.info(stream)).cluster?.leader;
      const i = servers.findIndex((s) => s.serverName === leader);
      // a killed leader cannot answer, but stale info may still name it: only a live one counts
      return i >= 0 && servers[i]?.pid !== 0 ? i : undefined;
    }, { what: `a running leader of stream ${stream}`, timeoutMs: LEADER_TIMEOUT_MS, ...RETRY });
  }

  return {
    servers,
    urls,
    streamLeader,
    waitReady: () => waitJetStream(servers, monitorOf),
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}
