/**
 * Each system's side of a scenario, from the same {@link Workload}:
 * - **ours**: the whole service in this process (bench/e2e.ts's `endToEnd`) on a fresh nats-server,
 *   HTTP submissions from the load-generator process (bench/loadgen.ts): one job per
 *   `POST /native/v1/jobs`, or a batch per `POST /native/v1/jobs:batch`; terminal = SUCCEEDED in the projection;
 * - **BullMQ** on a fresh redis-server: bullmqWorker.ts + bullmqProducer.ts (pair.ts);
 * - **raw JetStream** on a fresh nats-server: rawWorker.ts + rawProducer.ts (pair.ts).
 */
import { fileURLToPath } from 'node:url';
import { endToEnd } from '../e2e.ts';
import { pct } from '../measure.ts';
import { runPair } from './pair.ts';
import type { Stores } from './stores.ts';
import type { SideResult, Workload } from './workload.ts';

const file = (name: string) => fileURLToPath(new URL(name, import.meta.url));
/** How long a side may take to finish once everything is sent. */
const DRAIN_MS = 120_000;
let scenarioSeq = 0;

/** Options of our side. */
export interface OursOptions {
  /** Keep-alive connections of the load generator for one-job-per-request pacing. */
  clients: number;
  /**
   * Bounds a long run: the load generator stops sending after this many seconds, and the jobs sent get
   * this long again to finish. @defaultValue no bound on sending; 120 s to finish
   */
  maxSecs?: number;
  /** Only our side runs; the peers' columns say "not run" (`--ours-only`). @defaultValue false */
  oursOnly?: boolean;
}

export async function ours(stores: Stores, w: Workload, opts: OursOptions): Promise<SideResult> {
  const clients = w.pacing.kind === 'bulk' ? w.pacing.inflight : w.pacing.kind === 'single' ? Math.min(opts.clients, w.pacing.inflight) : opts.clients;
  const body = JSON.stringify({ type: 'noop', spec: w.tasks > 1 ? { tasks: w.tasks } : {} });
  return stores.withNats(async (nats, dir) => {
    const bound = opts.maxSecs === undefined ? { drainMs: DRAIN_MS } : { drainMs: opts.maxSecs * 1000, maxSendSecs: opts.maxSecs };
    const r = await endToEnd(nats, dir, false, { jobs: w.jobs, clients, pacing: w.pacing, body, ...bound });
    const result: SideResult = {
      expected: w.jobs, done: r.done, busyMs: r.busyMs, p50: r.p50, p99: r.p99, p999: pct(r.latencies, 99.9),
      cpuMs: { process: r.cpuMs.service, store: r.cpuMs.nats, producer: r.cpuMs.loadgen },
    };
    if (r.noRoute) result.unavailable = 'n/a (no bulk route)';
    else if (r.sent < w.jobs) result.note = `sent ${r.sent} (${r.failed} refused; the rest cut by --ours-max-secs)`;
    return result;
  });
}

export async function bullmq(stores: Stores, w: Workload): Promise<SideResult> {
  const name = `peers-${++scenarioSeq}`;
  return stores.withRedis((redis) => runPair({
    workerFile: file('./bullmqWorker.ts'), producerFile: file('./bullmqProducer.ts'), storePid: redis.pid, drainMs: DRAIN_MS,
    worker: { store: String(redis.port), name, expected: w.jobs, ...(w.tasks > 1 ? { terminalName: 'parent' } : {}) },
    producer: { store: String(redis.port), name, ...w },
  }));
}

export async function raw(stores: Stores, w: Workload): Promise<SideResult> {
  const name = `peers-${++scenarioSeq}`;
  return stores.withNats((nats) => runPair({
    workerFile: file('./rawWorker.ts'), producerFile: file('./rawProducer.ts'), storePid: nats.pid, drainMs: DRAIN_MS,
    worker: { store: nats.url, name, expected: w.jobs * w.tasks },
    producer: { store: nats.url, name, ...w },
  }));
}
