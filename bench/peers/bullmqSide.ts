/**
 * BullMQ's side of bench/peers/run.ts, run as its own process so its CPU is its own: a Queue and a
 * Worker (concurrency 100, no-op processor) in this one process, on the redis-server `run.ts`
 * started. Prints one JSON line ({@link BullMqResult}).
 *
 * `bullmqSide.ts <redisPort> <redisPid> <bulk|single|rate> <jobs> [ratePerSec] [inflight]`:
 * - `bulk`: `Queue.addBulk` of 100 jobs at a time, one batch after the other;
 * - `single`: `Queue.add`, one job per call, `inflight` calls outstanding (like the HTTP clients on our side);
 * - `rate`: `Queue.add` of job i at start + i/rate (open loop); its latency counts from that due time.
 */
import { cpuMs, pct } from '../e2e.ts';

/** What the parent reads back. Latencies in ms from the add call (or due time) to the worker's `completed`. */
export interface BullMqResult { done: number; busyMs: number; p50: number; p99: number; p999: number; cpuUsPerJob: { node: number; redis: number } }

/** The few members of bullmq used here, so that the root typecheck does not need bench/peers/node_modules. */
interface BullJob { data: { t: number } }
interface BullQueue { add(name: string, data: { t: number }): Promise<unknown>; addBulk(jobs: { name: string; data: { t: number } }[]): Promise<unknown>; close(): Promise<void> }
interface BullWorker { on(event: 'completed', fn: (job: BullJob) => void): void; waitUntilReady(): Promise<unknown>; close(): Promise<void> }
interface BullMq {
  Queue: new (name: string, opts: { connection: { host: string; port: number } }) => BullQueue;
  Worker: new (name: string, processor: () => Promise<void>, opts: { connection: { host: string; port: number }; concurrency: number }) => BullWorker;
}

const [port, redisPid, mode, jobs] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? 'bulk', Number(process.argv[5])];
const ratePerSec = Number(process.argv[6] ?? 500);
const inflight = Number(process.argv[7] ?? 64);
const BATCH = 100;
const CONCURRENCY = 100;
const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bullmqName: string = 'bullmq';
const { Queue, Worker } = (await import(bullmqName)) as BullMq;
const connection = { host: '127.0.0.1', port };
const name = `peers-${mode}-${process.pid}`;
const queue = new Queue(name, { connection });
const worker = new Worker(name, async () => {}, { connection, concurrency: CONCURRENCY });
const latencies: number[] = [];
let last = 0;
let allDone: () => void = () => {};
const finished = new Promise<void>((r) => (allDone = r));
worker.on('completed', (job) => {
  last = wall();
  latencies.push(last - job.data.t);
  if (latencies.length === jobs) allDone();
});
await worker.waitUntilReady();

const cpu0 = { node: cpuMs(process.pid), redis: cpuMs(redisPid) };
const t0 = wall();
if (mode === 'bulk') {
  for (let i = 0; i < jobs; i += BATCH) {
    const t = wall();
    await queue.addBulk(Array.from({ length: Math.min(BATCH, jobs - i) }, () => ({ name: 'noop', data: { t } })));
  }
} else if (mode === 'single') {
  let next = 0;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < jobs) {
      next++;
      await queue.add('noop', { t: wall() });
    }
  }));
} else if (mode === 'rate') {
  const adds: Promise<unknown>[] = [];
  for (let i = 0; i < jobs; i++) {
    const due = t0 + (i * 1000) / ratePerSec;
    const now = wall();
    if (due > now) await sleep(due - now);
    adds.push(queue.add('noop', { t: due }));
  }
  await Promise.all(adds);
} else {
  throw new Error(`unknown mode ${mode}`);
}
let deadline: NodeJS.Timeout | undefined;
await Promise.race([finished, new Promise((r) => (deadline = setTimeout(r, 120_000)))]);
clearTimeout(deadline);
const cpu = { node: cpuMs(process.pid) - cpu0.node, redis: cpuMs(redisPid) - cpu0.redis };
await worker.close();
await queue.close();
const n = latencies.length;
const result: BullMqResult = {
  done: n, busyMs: last - t0, p50: pct(latencies, 50), p99: pct(latencies, 99), p999: pct(latencies, 99.9),
  cpuUsPerJob: { node: (cpu.node * 1000) / n, redis: (cpu.redis * 1000) / n },
};
process.stdout.write(JSON.stringify(result) + '\n');
