import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { isAppError } from '../../../engine/errors.ts';
import type { LogRecord } from '../../../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import { ensureStreams, serverHasAtomicBatch, streamConfigs } from '../../../engine/nats/connection.ts';
import { STREAM_JOBS } from '../../../engine/subjects.ts';
import { ev, eventLogContract } from '../../contract/eventLog.contract.ts';
import { NO_OLDER_SERVER, OLDER_NATS_SERVER_BIN, useTestNats, type SuiteNats } from '../../helpers/natsServer.ts';
import { waitFor } from '../../helpers/wait.ts';

/** Retries `fn` while it fails with UNAVAILABLE (the server is coming back), up to `ms`. */
async function retryUnavailable<T>(fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isAppError(e, 'UNAVAILABLE') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The contract on a fresh, empty stream per test (sequences restart at 1), configured like JOBS, under
 * a new name: nats-server 2.10 sometimes deletes a stream's files after answering the delete, so a
 * stream re-created at once under the same name can come back with the old messages.
 */
function contractOn(nats: SuiteNats, label: string): void {
  let streamNo = 0;
  eventLogContract(label, async () => {
    const jsm = await jetstreamManager(nats.nc);
    // as ensureStreams makes it: with allow_atomic on a server that has atomic batches (appendBatch then commits atomically)
    const jobs = streamConfigs({ atomic: serverHasAtomicBatch(nats.nc.info?.version) }).find((c) => c.name === STREAM_JOBS)!;
    await jsm.streams.delete(STREAM_JOBS).catch(() => undefined); // made by connectTest: same subjects
    const stream = `${STREAM_JOBS}_${++streamNo}`;
    await jsm.streams.add({ ...jobs, name: stream });
    const cleanup = async () => {
      await jsm.streams.delete(stream);
      await ensureStreams(nats.nc); // JOBS again (empty), for the tests below
    };
    // atomic from 2 items, so the contract covers the atomic path too (production sends small batches pipelined)
    return { log: createJetStreamEventLog({ nc: nats.nc, stream, atomicBatchMin: 2 }), cleanup };
  });
}


/** The Nats-Batch-Id header of each message appendBatch sends to `job.<prefix>*.ev`, after a batch of 3 with CAS 0. */
async function batchHeadersOnWire(nats: SuiteNats, prefix: string, atomicBatchMin?: number): Promise<(string | undefined)[]> {
  await ensureStreams(nats.nc);
  const got: (string | undefined)[] = [];
  const sub = nats.nc.subscribe('job.*.ev', { callback: (_e, m) => void (m.subject.startsWith(`job.${prefix}`) && got.push(m.headers?.get('Nats-Batch-Id') || undefined)) });
  const log = createJetStreamEventLog({ nc: nats.nc, ...(atomicBatchMin !== undefined ? { atomicBatchMin } : {}) });
  const res = await log.appendBatch([1, 2, 3].map((n) => ({ subject: `job.${prefix}${n}.ev`, events: [ev('A', n)], opts: { expectedLastSubjectSeq: 0 } })));
  assert.ok(res.every((r) => r.ok), 'all stored');
  await nats.nc.flush();
  sub.unsubscribe();
  return got;
}

// Servers differ in how they answer a retried CAS append (docs/operations.md, nats-server versions): both lines keep one contract.
describe('JetStream event log on the 2.10 server line', { skip: OLDER_NATS_SERVER_BIN === undefined ? NO_OLDER_SERVER : false }, () => {
  const nats = useTestNats({ bin: OLDER_NATS_SERVER_BIN ?? '' });
  contractOn(nats, 'jetstream (2.10 line)');

  // a 2.10 server stores a batch's messages one by one and only then refuses it (PITFALLS)
  it('appendBatch never sends an atomic batch to a server before 2.12', async () => {
    assert.equal(serverHasAtomicBatch(nats.nc.info?.version), false, nats.nc.info?.version);
    assert.deepEqual(await batchHeadersOnWire(nats, 'old', 2), [undefined, undefined, undefined]);
  });
});

describe('JetStream event log', () => {
  const nats = useTestNats();
  contractOn(nats, 'jetstream');

  it('appendBatch commits one atomic batch on a server with atomic batches (JOBS allows them), from atomicBatchMin items', async () => {
    assert.ok(serverHasAtomicBatch(nats.nc.info?.version), nats.nc.info?.version);
    const ids = await batchHeadersOnWire(nats, 'atomic', 3);
    assert.equal(ids.length, 3);
    assert.ok(ids[0] !== undefined && ids.every((id) => id === ids[0]), `one batch id: ${ids.join()}`);
  });

  it('appendBatch pipelines by default, and a batch smaller than atomicBatchMin (atomic batches cost the server ~4x per message)', async () => {
    assert.deepEqual(await batchHeadersOnWire(nats, 'default'), [undefined, undefined, undefined]);
    assert.deepEqual(await batchHeadersOnWire(nats, 'small', 64), [undefined, undefined, undefined]);
  });

  it('sends expect.lastSubjectSequence 0 on the wire', async () => {
    const got: (string | undefined)[] = [];
    const sub = nats.nc.subscribe('job.wire0.ev', { callback: (_e, m) => void got.push(m.headers?.get('Nats-Expected-Last-Subject-Sequence')) });
    const log = createJetStreamEventLog({ nc: nats.nc });
    await log.append('job.wire0.ev', [ev('A', 1)], { expectedLastSubjectSeq: 0 });
    await nats.nc.flush();
    sub.unsubscribe();
    assert.deepEqual(got, ['0']);
  });

  it('replays many records across pull batches, in order, then catches up', async () => {
    const js = jetstream(nats.nc);
    const start = (await createJetStreamEventLog({ nc: nats.nc }).lastSeq()) + 1;
    const n = 12_000;
    const body = JSON.stringify([ev('Bulk', 0)]);
    for (let i = 0; i < n; i += 1_000) {
      await Promise.all(Array.from({ length: 1_000 }, (_, k) => js.publish(`job.bulk${(i + k) % 7}.ev`, body)));
    }
    const log = createJetStreamEventLog({ nc: nats.nc });
    let count = 0;
    let prev = start - 1;
    let ordered = true;
    const f = log.follow(start, (r: LogRecord) => {
      ordered &&= r.seq === prev + 1;
      prev = r.seq;
      count++;
    });
    await f.caughtUp;
    await f.stop();
    assert.equal(count, n);
    assert.ok(ordered, 'gap-free and in order');
    assert.equal((await log.readSubject('job.bulk3.ev')).length, Math.ceil((n - 3) / 7));
  });
});

describe('JetStream event log across server restarts', () => {
  const nats = useTestNats();

  it('follow survives a restart (store kept) and delivers appends made after it', async () => {
    const log = createJetStreamEventLog({ nc: nats.nc, requestTimeoutMs: 1_000 });
    const s = 'job.restart1.ev';
    const before = [await log.append(s, [ev('A', 1)]), await log.append(s, [ev('A', 2)])];
    const got: number[] = [];
    const errors: unknown[] = [];
    const f = log.follow(1, (r) => void got.push(r.seq), { onError: (e) => errors.push(e) });
    await f.caughtUp;
    assert.deepEqual(got, before.map((b) => b.seq));
    await nats.srv.restart();
    const afterRestart = await retryUnavailable(() => log.append(s, [ev('A', 3)], { msgId: 'restart1:3' }));
    assert.equal(afterRestart.seq, before[1]!.seq + 1, 'the store was kept');
    await waitFor(() => got.includes(afterRestart.seq), { what: 'the post-restart record' });
    const more = await log.append(s, [ev('A', 4)], { expectedLastSubjectSeq: afterRestart.seq });
    await waitFor(() => got.includes(more.seq), { what: 'one more record' });
    assert.deepEqual(got, [...before.map((b) => b.seq), afterRestart.seq, more.seq], 'no gaps, no duplicates');
    assert.deepEqual(errors, []);
    await f.stop();
  });

  it('follow survives a SIGKILL of the server too', async () => {
    const log = createJetStreamEventLog({ nc: nats.nc, requestTimeoutMs: 1_000 });
    const start = (await log.lastSeq()) + 1;
    const got: number[] = [];
    const f = log.follow(start, (r) => void got.push(r.seq));
    await f.caughtUp;
    await nats.srv.kill9();
    await nats.srv.restart();
    const a = await retryUnavailable(() => log.append('job.kill1.ev', [ev('A', 1)], { msgId: 'kill1:1' }));
    await waitFor(() => got.includes(a.seq), { what: 'the post-crash record' });
    assert.deepEqual(got, [a.seq]);
    await f.stop();
  });

  it('append while the server is down rejects with UNAVAILABLE quickly; reads too', async () => {
    const log = createJetStreamEventLog({ nc: nats.nc, requestTimeoutMs: 300 });
    await retryUnavailable(() => log.append('job.down1.ev', [ev('A', 1)]));
    await nats.srv.stop();
    try {
      const t0 = Date.now();
      await assert.rejects(log.append('job.down1.ev', [ev('A', 2)], { msgId: 'down1:2' }), (e) => isAppError(e, 'UNAVAILABLE'));
      await assert.rejects(log.readSubject('job.down1.ev'), (e) => isAppError(e, 'UNAVAILABLE'));
      await assert.rejects(log.lastSeq(), (e) => isAppError(e, 'UNAVAILABLE'));
      assert.ok(Date.now() - t0 < 3_000, `took ${Date.now() - t0} ms`);
    } finally {
      await nats.srv.restart();
    }
    // a request made while disconnected is dropped by the client, never sent later
    const recs = await retryUnavailable(() => log.readSubject('job.down1.ev'));
    assert.equal(recs.length, 1);
  });
});
