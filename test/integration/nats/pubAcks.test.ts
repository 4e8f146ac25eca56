import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { isAppError } from '../../../engine/errors.ts';
import { createPubAckPublisher } from '../../../engine/nats/pubAcks.ts';
import { connectTest, useTestNats } from '../../helpers/natsServer.ts';

const body = (s: string) => new TextEncoder().encode(s);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('acknowledged publishes without per-request machinery (pubAcks.ts)', () => {
  const nats = useTestNats();

  it('stores, deduplicates by msg id, and enforces the expected last subject sequence like js.publish', async () => {
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.add({ name: 'PA', subjects: ['pa.>'], allow_rollup_hdrs: true });
    const p = createPubAckPublisher(nats.nc, 2_000);
    const a = await p.publish('pa.x', body('1'), { msgId: 'm1', expectedLastSubjectSeq: 0 }, 'test');
    assert.deepEqual(a, { seq: 1, duplicate: false });
    assert.deepEqual(await p.publish('pa.x', body('1 again'), { msgId: 'm1' }, 'test'), { seq: 1, duplicate: true });
    const lost = await rejection(p.publish('pa.x', body('stale'), { expectedLastSubjectSeq: 0 }, 'test'));
    assert.ok(isAppError(lost, 'CONFLICT'), String(lost));
    assert.deepEqual(await p.publish('pa.x', body('2'), { expectedLastSubjectSeq: 1 }, 'test'), { seq: 2, duplicate: false });
    // a rollup leaves only the new message on the subject
    await p.publish('pa.x', body('3'), { rollup: true }, 'test');
    assert.equal((await jsm.streams.info('PA')).state.messages, 1);
    // many in flight at once each get their own answer
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => p.publish(`pa.y${i % 7}`, body(String(i)), {}, 'test')));
    assert.deepEqual(acks.map((x) => x.seq).sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i + 4));
    assert.equal(p.pending, 0);
    const stored = await jsm.streams.getMessage('PA', { seq: 3 });
    assert.equal(new TextDecoder().decode(stored?.data), '3');
    await jsm.streams.delete('PA');
  });

  it('answers UNAVAILABLE for a subject no stream takes, for no answer in time, and once the connection is closed', async () => {
    const p = createPubAckPublisher(nats.nc, 300);
    const none = await rejection(p.publish('nostream.x', body('x'), {}, 'publish to nostream.x'));
    assert.ok(isAppError(none, 'UNAVAILABLE'), String(none));
    assert.match((none as Error).message, /publish to nostream\.x/);
    // a plain subscriber takes the message and never answers
    const silent = nats.nc.subscribe('silent.x', { callback: () => undefined });
    const t0 = performance.now();
    const late = await rejection(p.publish('silent.x', body('x'), {}, 'publish to silent.x'));
    assert.ok(isAppError(late, 'UNAVAILABLE'), String(late));
    assert.ok(performance.now() - t0 >= 290, 'not before its timeout');
    silent.unsubscribe();
    assert.equal(p.pending, 0);

    const nc = await connectTest(nats.srv.url);
    const q = createPubAckPublisher(nc, 5_000);
    const quiet = nc.subscribe('silent.y', { callback: () => undefined });
    const waiting = rejection(q.publish('silent.y', body('x'), {}, 'publish to silent.y'));
    await nc.flush();
    assert.equal(q.pending, 1);
    quiet.unsubscribe();
    await nc.close();
    const closed = await waiting;
    assert.ok(isAppError(closed, 'UNAVAILABLE'), String(closed));
    const after = await rejection(q.publish('silent.y', body('x'), {}, 'publish to silent.y'));
    assert.ok(isAppError(after, 'UNAVAILABLE'), String(after));
  });

  it('answers with the server\'s description: UNAVAILABLE for a 503 (a full stream), INTERNAL for a refusal', async () => {
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.add({ name: 'PB', subjects: ['pb.>'], max_msgs: 1, discard: 'new' as never, max_msg_size: 64 });
    const p = createPubAckPublisher(nats.nc, 2_000);
    await p.publish('pb.a', body('1'), {}, 'test');
    const full = await rejection(p.publish('pb.a', body('2'), {}, 'append to pb.a'));
    assert.ok(isAppError(full, 'UNAVAILABLE'), String(full));
    assert.match((full as Error).message, /append to pb\.a: .*maximum messages/i);
    const big = await rejection(p.publish('pb.b', body('x'.repeat(100)), {}, 'append to pb.b'));
    assert.ok(isAppError(big, 'INTERNAL'), String(big));
    assert.match((big as Error).message, /append to pb\.b: .*size/i);
    await jsm.streams.delete('PB');
  });
});
