/**
 * BullMQ's producer for bench/peers (protocol: childIo.ts), in its own process: `Queue.add` for one
 * job per call, `Queue.addBulk` for a batch, and for a job of N tasks a `FlowProducer` parent named
 * `parent` with N no-op children on the same queue. Paced by bench/pacing.ts like every producer.
 */
import { cpuMs } from '../measure.ts';
import { pace } from '../pacing.ts';
import { childConfig, closeInput, tell } from './childIo.ts';
import { connectionTo, loadBullMq, type BullFlow } from './bullmqApi.ts';
import type { PeerProducerConfig, ProducerReport } from './workload.ts';

const config = childConfig<PeerProducerConfig>();
const { Queue, FlowProducer } = await loadBullMq();
const connection = connectionTo(config.store);
const queue = new Queue(config.name, connection);
const flows = config.tasks > 1 ? new FlowProducer(connection) : undefined;
let failed = 0;
const count = (n: number) => () => void (failed += n);

/** One job of `config.tasks` tasks: a flow parent and its children. */
function flow(t: number): BullFlow {
  const child: BullFlow = { name: 'noop', queueName: config.name, data: {} };
  return { name: 'parent', queueName: config.name, data: { t }, children: Array.from({ length: config.tasks }, () => child) };
}

await Promise.all([queue.waitUntilReady(), flows?.waitUntilReady()]);

const cpu0 = cpuMs(process.pid);
const t0 = await pace(config.jobs, config.pacing, {
  one: (t) => (flows ? flows.add(flow(t)) : queue.add('noop', { t })).then(() => {}, count(1)),
  many: (t, n) => queue.addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: { t } }))).then(() => {}, count(n)),
});
const report: ProducerReport = { t0, cpuMs: cpuMs(process.pid) - cpu0, failed };
tell(report);
await Promise.all([queue.close(), flows?.close()]);
closeInput();
