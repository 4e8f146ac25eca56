/**
 * Runs one peer scenario as two processes, a worker and a producer (the child side is childIo.ts),
 * so that each one's CPU is its own, as with our service and its HTTP load generator:
 *
 * 1. the worker starts, connects and says `ready`;
 * 2. the worker's and the store's CPU are read from /proc; the producer starts and sends;
 * 3. when the worker has seen every job terminal it reports (or, `drainMs` after the producer is
 *    done, it is told `finish` and reports what it has); CPU is read again; it is told `exit`.
 *
 * Both children are stopped by PID if anything fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cpuMs } from '../measure.ts';
import { stopByPid } from './stores.ts';
import type { PeerProducerConfig, PeerWorkerConfig, ProducerReport, SideResult, WorkerReport } from './workload.ts';

/** One side of a peer: its worker and producer scripts, their configs, and the store they use. */
export interface PairSpec {
  workerFile: string;
  producerFile: string;
  worker: PeerWorkerConfig;
  producer: PeerProducerConfig;
  storePid: number;
  /** How long the worker may take once the producer is done. */
  drainMs: number;
}

function start(file: string, config: object): { child: ChildProcess; next: () => Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done === true) throw new Error(`${file} ended without a report (exit ${String(child.exitCode)})`);
    return JSON.parse(r.value as string) as unknown;
  };
  return { child, next };
}

/** Runs the pair; `expected` jobs in the result are the producer's jobs. */
export async function runPair(spec: PairSpec): Promise<SideResult> {
  const worker = start(spec.workerFile, spec.worker);
  let producer: ReturnType<typeof start> | undefined;
  try {
    await worker.next(); // ready
    const cpu0 = { worker: cpuMs(worker.child.pid ?? 0), store: cpuMs(spec.storePid) };
    producer = start(spec.producerFile, spec.producer);
    const workerReport = worker.next() as Promise<WorkerReport>;
    workerReport.catch(() => {}); // awaited below; a producer failure must not leave it unhandled
    const sent = (await producer.next()) as ProducerReport;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => (timer = setTimeout(r, spec.drainMs)));
    await Promise.race([workerReport, late.then(() => worker.child.stdin?.write('finish\n'))]);
    clearTimeout(timer);
    const w = await workerReport;
    const cpu = { process: cpuMs(worker.child.pid ?? 0) - cpu0.worker, store: cpuMs(spec.storePid) - cpu0.store, producer: sent.cpuMs };
    worker.child.stdin?.end('exit\n');
    if (sent.failed > 0) console.log(`  ${spec.producerFile}: ${sent.failed} sends failed`);
    const perJob = spec.worker.expected / spec.producer.jobs; // terminal states per job: the raw fan-out counts each message
    return { expected: spec.producer.jobs, done: Math.floor(w.done / perJob), busyMs: w.last - sent.t0, p50: w.p50, p99: w.p99, p999: w.p999, cpuMs: cpu };
  } finally {
    await Promise.all([stopAfter(worker.child, 10_000), producer ? stopAfter(producer.child, 1_000) : undefined]);
  }
}

/** Waits up to `ms` for a child to exit by itself, then stops it by PID. */
async function stopAfter(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
  await stopByPid(child);
}
