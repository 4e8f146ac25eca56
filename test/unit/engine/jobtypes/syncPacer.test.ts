import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSyncPacer } from '../../../../engine/jobtypes/syncPacer.ts';

/** A pacer on a hand-moved clock whose deferred turns run only when the test says so. */
function pacer() {
  let t = 0;
  const turns: (() => void)[] = [];
  const p = createSyncPacer({ sliceMs: 2, now: () => t, defer: (fn) => turns.push(fn) });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    p,
    turns,
    at: (ms: number) => (t = ms),
    /** Runs the oldest deferred turn, then lets the promises it settled run on. */
    async turn() {
      turns.shift()?.();
      await settle();
    },
    settle,
  };
}

describe('syncPacer', () => {
  it('lets work go on without a turn while the slice lasts', async () => {
    const x = pacer();
    x.at(1);
    await x.p.pace();
    await x.p.pace();
    assert.equal(x.turns.length, 0);
  });

  it('past the slice, callers wait for turns of the event loop, one each, in call order; a turn starts a fresh slice', async () => {
    const x = pacer();
    x.at(5);
    const resumed: string[] = [];
    const a = x.p.pace().then(() => resumed.push('a'));
    const b = x.p.pace().then(() => resumed.push('b'));
    const c = x.p.pace().then(() => resumed.push('c'));
    await x.settle();
    assert.equal(resumed.length, 0, 'nobody goes on before the loop has had a turn');
    assert.equal(x.turns.length, 1, 'one turn is scheduled, however many wait');
    await x.turn();
    assert.deepEqual(resumed, ['a']);
    x.at(6);
    await x.p.pace(); // a's slice started at 5: still running
    x.at(8);
    const a2 = x.p.pace().then(() => resumed.push('a again'));
    await x.turn();
    await x.turn();
    assert.deepEqual(resumed, ['a', 'b', 'c'], 'a waits behind b and c');
    await x.turn();
    assert.deepEqual(resumed, ['a', 'b', 'c', 'a again']);
    await x.turn();
    assert.equal(x.turns.length, 0, 'no turn is scheduled once nobody waits');
    await Promise.all([a, b, c, a2]);
  });
});
