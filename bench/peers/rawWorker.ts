/**
 * Raw JetStream's worker for bench/peers (protocol: childIo.ts; the workload: rawStream.ts): makes
 * the work-queue stream and a durable pull consumer (explicit ack, max_deliver and ack_wait set as
 * PITFALLS asks), consumes with a callback, and counts a job terminal once its `ackAck()` resolves.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { childConfig, closeInput, completions, heard, tell } from './childIo.ts';
import { connectRaw, RAW_PULL_BATCH, rawStreamName, rawSubject } from './rawStream.ts';
import type { PeerWorkerConfig } from './workload.ts';
import type { Stamp } from './bullmqApi.ts';

const config = childConfig<PeerWorkerConfig>();
const stream = rawStreamName(config.name);
const nc = await connectRaw(config.store, 'raw-worker');
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: stream, subjects: [rawSubject(config.name)], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
await jsm.consumers.add(stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit, max_deliver: 10, ack_wait: 30_000_000_000 });
const consumer = await jetstream(nc).consumers.get(stream, 'worker');
const done = completions(config.expected);
const messages = await consumer.consume({
  max_messages: RAW_PULL_BATCH,
  callback: (m) => {
    const { t } = m.json<Stamp>(); // "run" the no-op
    m.ackAck().then((ok) => ok && done.record(t), () => {});
  },
});
tell({ ready: true });
await Promise.race([done.all, heard('finish')]);
tell(done.report());
await heard('exit');
await messages.close();
await jsm.streams.delete(stream);
await nc.close();
closeInput();
