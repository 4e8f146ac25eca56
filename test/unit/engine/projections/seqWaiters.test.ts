/** Waiting for the projection to reach a sequence: resolved in order, timed out on the injected clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSeqWaiters } from '../../../../engine/projections/seqWaiters.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

describe('seqWaiters', () => {
  it('resolves true at once when reached, and each wait once the sequence it waits for is applied', async () => {
    const clock = createFakeClock();
    let last = 3;
    const w = createSeqWaiters({ clock, lastSeq: () => last });
    assert.equal(await w.waitFor(3, 100), true);
    const seen: string[] = [];
    const six = w.waitFor(6, 1000).then((ok) => seen.push(`6:${ok}`));
    const five = w.waitFor(5, 1000).then((ok) => seen.push(`5:${ok}`));
    last = 5;
    w.release();
    await five;
    assert.deepEqual(seen, ['5:true']);
    last = 6;
    w.release();
    await six;
    assert.deepEqual(seen, ['5:true', '6:true']);
    assert.equal(clock.pending(), 0, 'a resolved wait clears its timer');
  });

  it('resolves false after the timeout, and a later release does not resolve it again', async () => {
    const clock = createFakeClock();
    let last = 0;
    const w = createSeqWaiters({ clock, lastSeq: () => last });
    const p = w.waitFor(2, 50);
    await clock.advance(50);
    assert.equal(await p, false);
    last = 2;
    w.release();
    assert.equal(clock.pending(), 0);
  });
});
