/** liveStream over the real JetStream event log: snapshot, deltas, resume, and no consumer left behind. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { systemClock } from '../../../engine/clock.ts';
import type { EventLog, Follower } from '../../../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import { liveStream } from '../../../engine/live/liveStream.ts';
import { silentLogger } from '../../../engine/log.ts';
import { createJobProjection, type JobEntry, type JobProjection } from '../../../engine/projections/jobProjection.ts';
import type { LiveMessage } from '../../../engine/serviceTypes.ts';
import { STREAM_JOBS } from '../../../engine/subjects.ts';
import { connectTest, startTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { createJobWriter, type JobWriter } from '../../unit/engine/live/jobWriter.fixture.ts';

type EventMsg = Extract<LiveMessage, { kind: 'event' }>;

async function take(it: AsyncIterator<LiveMessage>, n: number, ms = 10_000): Promise<LiveMessage[]> {
  const out: LiveMessage[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${out.length}/${n}`)), deadline - Date.now()))),
    ]).finally(() => clearTimeout(timer));
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('liveStream on JetStream', () => {
  let srv: TestNats;
  let nc: NatsConnection;
  let eventLog: EventLog;
  let projection: JobProjection;
  let feeder: Follower;
  let writer: JobWriter;
  const canSee = (e: JobEntry) => (e.snapshot.context as { owner: string }).owner === 'alice';
  const deps = () => ({ eventLog, projection, canSee, clock: systemClock });
  const consumerCount = async () => {
    const jsm = await jetstreamManager(nc);
    let n = 0;
    for await (const _c of jsm.consumers.list(STREAM_JOBS)) n++;
    return n;
  };

  before(async () => {
    srv = await startTestNats();
    nc = await connectTest(srv.url);
    eventLog = createJetStreamEventLog({ nc });
    projection = createJobProjection({ logger: silentLogger });
    feeder = eventLog.follow(1, (r) => projection.apply(r));
    await feeder.caughtUp;
    writer = createJobWriter(eventLog);
  });
  after(async () => {
    await feeder?.stop().catch(() => undefined);
    await eventLog?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await srv?.cleanup();
  });

  it('snapshot then deltas for all visible jobs; a resumed stream continues without gaps or repeats', async () => {
    const a = await writer.submit({ owner: 'alice' });
    await writer.submit({ owner: 'bob' });
    await projection.waitFor(2, 5000);
    const baseline = await consumerCount();
    const ac = new AbortController();
    const it = liveStream(deps(), { signal: ac.signal })[Symbol.asyncIterator]();
    const [snap] = await take(it, 1);
    assert.equal(snap!.kind, 'snapshot');
    assert.deepEqual(snap!.kind === 'snapshot' && snap!.jobs.map((j) => j.id), [a]);

    const b = await writer.submit({ owner: 'alice' });
    await writer.stop(a);
    const first = (await take(it, 1)) as EventMsg[];
    assert.deepEqual(first.map((m) => [m.jobId, m.type]), [[b, 'JobSubmitted']]);
    ac.abort(); // "disconnect" after the first delta
    assert.deepEqual(await take(it, 1), []);

    await writer.stop(b);
    const ac2 = new AbortController();
    const resumed = liveStream(deps(), { afterSeq: first[0]!.seq, signal: ac2.signal })[Symbol.asyncIterator]();
    const rest = (await take(resumed, 2)) as EventMsg[];
    assert.deepEqual(rest.map((m) => [m.jobId, m.type, m.job?.state]), [[a, 'JobStopped', 'STOPPED'], [b, 'JobStopped', 'STOPPED']]);
    ac2.abort();
    await take(resumed, 1);
    // the ordered consumers of both streams are gone
    const end = Date.now() + 5000;
    while ((await consumerCount()) > baseline && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await consumerCount(), baseline);
  });
});
