/**
 * A minimal external subscriber of the event stream (docs/events.md). It uses only a core NATS
 * subscription: no JetStream consumer, no state on the server. Run beside a started service:
 *
 *   node --import tsx scripts/example-subscriber.ts [nats://127.0.0.1:14222]
 *
 * For a durable, resumable feed use a JetStream consumer on stream JOBS instead (see the doc).
 */
import { connect } from '@nats-io/transport-node';

const url = process.argv[2] ?? 'nats://127.0.0.1:14222';
const nc = await connect({ servers: url, name: 'example-subscriber' });
const decoder = new TextDecoder();
for (const filter of ['job.*.ev', 'job.*.task', 'job.*.hook', 'worker.*.ev']) {
  const sub = nc.subscribe(filter);
  void (async () => {
    for await (const m of sub) {
      // A message is a JSON array of event envelopes appended together.
      const events = JSON.parse(decoder.decode(m.data)) as { type: string; data: unknown; meta: { jobId: string; epoch: number; at: string } }[];
      for (const e of events) console.log(JSON.stringify({ subject: m.subject, type: e.type, jobId: e.meta.jobId, epoch: e.meta.epoch, at: e.meta.at, data: e.data }));
    }
  })();
}
await nc.flush(); // the server has our subscriptions: nothing published from now on is missed
console.error(`listening on ${url} for job.*.ev, job.*.task, job.*.hook and worker.*.ev (Ctrl-C to stop)`);
process.on('SIGINT', () => void nc.drain().then(() => process.exit(0)));
