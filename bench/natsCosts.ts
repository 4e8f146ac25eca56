/**
 * What a few JetStream patterns cost nats-server, in CPU µs per message, on a fresh file-store server
 * (the figures decision 0012 §7 weighs M2 and F4 with): `node --import tsx bench/natsCosts.ts
 * [--n 20000] [--prefill 50000]`. Asserts nothing.
 *
 * - `dispatch: work queue`: a task published to a work-queue stream, pulled and acked (the ack deletes
 *   it), as TASKS does today.
 * - `dispatch: limits stream`: the same on a limits stream that already holds `--prefill` job subjects,
 *   through a durable consumer filtered to the dispatch subjects (M2: the ack only moves the floor).
 * - `append, no consumer` / `append + hooks consumer`: a small record appended on `job.<id>.ev` with a
 *   msg id, without and with a durable consumer filtered like `hooks` that fetches 64 and acks each
 *   (F4: what the webhook consumer's second delivery of every `.ev` record costs the server).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../engine/nats/connection.ts';
import { findNatsServerBin, startEmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { createPubAckPublisher, type PubAckPublisher } from '../engine/nats/pubAcks.ts';
import { cpuMs } from './measure.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const N = arg('n', 20_000);
const PREFILL = arg('prefill', 50_000);
const IN_FLIGHT = 64;
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const TASK = encode({ jobId: 'x'.repeat(36), taskId: 't0', attempt: 1, epoch: 1, type: 'noop', payload: {}, spec: {} });
const RECORD = encode([{ type: 'JobClaimed', data: { coordinatorId: 'c-123456789012', epoch: 1 }, meta: { at: new Date().toISOString(), v: 1, actor: 'coordinator:c-123456789012' } }]);

/** Publishes `n` messages, `IN_FLIGHT` awaited at a time. */
async function publishAll(pa: PubAckPublisher, n: number, subject: (i: number) => string, body: Uint8Array, msgId?: (i: number) => string) {
  for (let i = 0; i < n; i += IN_FLIGHT) {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n - i) }, (_, k) =>
      pa.publish(subject(i + k), body, msgId ? { msgId: msgId(i + k) } : {}, 'bench')));
  }
}

/** Pulls `n` messages from a durable, `batch` per fetch, acking each. */
async function consume(js: JetStreamClient, stream: string, durable: string, n: number, batch: number) {
  const c = await js.consumers.get(stream, durable);
  let got = 0;
  while (got < n) {
    for await (const m of await c.fetch({ max_messages: batch, expires: 2_000 })) {
      m.ack();
      got++;
    }
  }
}

type Scenario = (nc: NatsConnection, pa: PubAckPublisher) => Promise<void>;

const scenarios: Record<string, Scenario> = {
  'dispatch: work queue': async (nc, pa) => {
    const js = jetstream(nc);
    const jsm = await js.jetstreamManager();
    await jsm.streams.add({ name: 'T', subjects: ['task.>'], retention: 'workqueue' as never });
    await jsm.consumers.add('T', { durable_name: 'pool', ack_policy: AckPolicy.Explicit, filter_subject: 'task.default' });
    await Promise.all([consume(js, 'T', 'pool', N, 256), publishAll(pa, N, () => 'task.default', TASK, (i) => `d${i}`)]);
  },
  'dispatch: limits stream': async (nc, pa) => {
    const js = jetstream(nc);
    const jsm = await js.jetstreamManager();
    await jsm.consumers.add('J', { durable_name: 'pool', ack_policy: AckPolicy.Explicit, filter_subject: 'dispatch.default.*', deliver_policy: DeliverPolicy.New });
    await Promise.all([consume(js, 'J', 'pool', N, 256), publishAll(pa, N, (i) => `dispatch.default.${i}`, TASK, (i) => `d${i}`)]);
  },
  'append, no consumer': async (_nc, pa) => {
    await publishAll(pa, N, (i) => `job.n${i}.ev`, RECORD, (i) => `a${i}`);
  },
  'append + hooks consumer': async (nc, pa) => {
    const js = jetstream(nc);
    const jsm = await js.jetstreamManager();
    await jsm.consumers.add('J', { durable_name: 'hooks', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New, filter_subjects: ['job.*.ev', 'job.*.hook'], max_deliver: -1, max_ack_pending: -1 });
    await Promise.all([consume(js, 'J', 'hooks', N, 64), publishAll(pa, N, (i) => `job.h${i}.ev`, RECORD, (i) => `a${i}`)]);
  },
};

for (const [name, run] of Object.entries(scenarios)) {
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-natscosts-'));
  const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: dir, syncInterval: '1s' });
  const nc = await connectNats(nats.url, { name: 'bench-nats-costs' });
  try {
    const jsm = await jetstream(nc).jetstreamManager();
    await jsm.streams.add({ name: 'J', subjects: ['job.>', 'dispatch.>'] });
    const pa = createPubAckPublisher(nc, 5_000);
    await publishAll(pa, PREFILL, (i) => `job.p${i}.ev`, RECORD);
    const c0 = cpuMs(nats.pid);
    const t0 = performance.now();
    await run(nc, pa);
    const us = (cpuMs(nats.pid) - c0) * 1000 / N;
    console.log(`${name.padEnd(26)} ${N} msgs over ${PREFILL} prefilled: nats-server ${us.toFixed(1)} µs/msg, ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  } finally {
    await nc.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
process.exit(0);
