import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { systemClock, type Clock } from '../../../engine/clock.ts';
import { isAppError } from '../../../engine/errors.ts';
import { createKvLiveness } from '../../../engine/liveness/kvLiveness.ts';
import { connectTest, startTestNats, type TestNats } from '../../helpers/natsServer.ts';

function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** System time for timers, a hand-moved monotonic clock for staleness. */
function observerClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { ...systemClock, monotonic: () => 1_000 + offset, advance: (ms) => void (offset += ms) };
}

describe('KV liveness', () => {
  let srv: TestNats;
  let ncA: NatsConnection;
  let ncB: NatsConnection;
  before(async () => {
    srv = await startTestNats();
    ncA = await connectTest(srv.url);
    ncB = await connectTest(srv.url);
  });
  after(async () => {
    await ncA?.close();
    await ncB?.close();
    await srv?.cleanup();
  });

  it('an observer sees beats, judges staleness by its own clock, and sees leaves', async () => {
    const a = createKvLiveness({ nc: ncA, clock: systemClock });
    const clock = observerClock();
    const b = createKvLiveness({ nc: ncB, clock });
    try {
      await a.beat('worker', 'w1', { pool: 'default' });
      await a.beat('coord', 'c1', {});
      await waitFor(() => b.entries().length === 2, 'two entries');
      const w1 = b.alive('worker', 5_000);
      assert.equal(w1.length, 1);
      assert.deepEqual({ ...w1[0], revision: 0 }, { kind: 'worker', id: 'w1', revision: 0, info: { pool: 'default' }, seenAtMonotonic: 1_000 });

      clock.advance(6_000);
      assert.deepEqual(b.alive('worker', 5_000), [], 'stale without a new revision');
      const rev = b.entries().find((e) => e.id === 'w1')?.revision;
      await a.beat('worker', 'w1', { pool: 'default', running: 1 });
      await waitFor(() => b.alive('worker', 5_000).length === 1, 'alive again after a beat');
      const again = b.alive('worker', 5_000)[0];
      assert.ok(again !== undefined && again.revision > (rev ?? 0));
      assert.equal(again.seenAtMonotonic, 7_000);
      assert.deepEqual(again.info, { pool: 'default', running: 1 });

      await a.leave('worker', 'w1');
      await waitFor(() => b.entries().every((e) => e.id !== 'w1'), 'the leave');
      assert.deepEqual(b.entries().map((e) => `${e.kind}.${e.id}`), ['coord.c1']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a new observer counts existing keys as seen now', async () => {
    const a = createKvLiveness({ nc: ncA, clock: systemClock });
    await a.beat('worker', 'w2', {});
    const clock = observerClock();
    const late = createKvLiveness({ nc: ncB, clock });
    try {
      await waitFor(() => late.alive('worker', 1).some((e) => e.id === 'w2'), 'the existing key');
      assert.equal(late.alive('worker', 1).find((e) => e.id === 'w2')?.seenAtMonotonic, 1_000);
    } finally {
      await Promise.all([a.close(), late.close()]);
    }
  });

  it('keeps watching across a nats-server restart', async () => {
    const a = createKvLiveness({ nc: ncA, clock: systemClock, requestTimeoutMs: 300 });
    const b = createKvLiveness({ nc: ncB, clock: systemClock });
    try {
      await a.beat('worker', 'w3', { n: 1 });
      await waitFor(() => b.entries().some((e) => e.id === 'w3'), 'the first beat');
      await srv.restart();
      const deadline = Date.now() + 10_000;
      // beat until the observer sees the new value (beats fail with UNAVAILABLE until reconnected)
      while (!b.entries().some((e) => e.id === 'w3' && e.info['n'] === 2)) {
        assert.ok(Date.now() < deadline, 'observer saw no beat within 10 s of the restart');
        await a.beat('worker', 'w3', { n: 2 }).catch((e) => assert.ok(isAppError(e, 'UNAVAILABLE'), String(e)));
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('rejects ids that are not valid subject tokens', async () => {
    const a = createKvLiveness({ nc: ncA, clock: systemClock });
    await assert.rejects(a.beat('worker', 'a.b', {}), (e) => isAppError(e, 'INVALID_ID'));
    await a.close();
  });
});
