/**
 * Raw JetStream's producer for bench/peers (protocol: childIo.ts; the workload: rawStream.ts), in its
 * own process: an acked `js.publish` per job; a batch is that many publishes pipelined (sent
 * without waiting, then their acks awaited together); a job of N tasks is N messages sent so.
 */
import { jetstream } from '@nats-io/jetstream';
import { cpuMs } from '../measure.ts';
import { pace } from '../pacing.ts';
import { childConfig, closeInput, tell } from './childIo.ts';
import { connectRaw, rawSubject } from './rawStream.ts';
import type { PeerProducerConfig, ProducerReport } from './workload.ts';

const config = childConfig<PeerProducerConfig>();
const subject = rawSubject(config.name);
const nc = await connectRaw(config.store, 'raw-producer');
const js = jetstream(nc);
const encoder = new TextEncoder();
let failed = 0;

/** `n` acked publishes in flight at once, each a job stamped `t`. */
async function publish(t: number, n: number): Promise<void> {
  const body = encoder.encode(JSON.stringify({ type: 'noop', spec: {}, t }));
  const acks = await Promise.allSettled(Array.from({ length: n }, () => js.publish(subject, body)));
  failed += acks.filter((a) => a.status === 'rejected').length;
}

const cpu0 = cpuMs(process.pid);
const t0 = await pace(config.jobs, config.pacing, { one: (t) => publish(t, config.tasks), many: (t, n) => publish(t, n) });
const report: ProducerReport = { t0, cpuMs: cpuMs(process.pid) - cpu0, failed };
tell(report);
await nc.close();
closeInput();
