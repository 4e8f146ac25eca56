import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../engine/clock.ts';
import { createMemoryLiveness, createMemoryLivenessStore } from '../../../../engine/liveness/memoryLiveness.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

const settle = () => new Promise((r) => setImmediate(r));

describe('memoryLiveness', () => {
  it('observers sharing a store see beats by their own clocks, and leaves', async () => {
    const store = createMemoryLivenessStore();
    const worker = createMemoryLiveness({ clock: createFakeClock(), store });
    const obsClock = createFakeClock();
    const observer = createMemoryLiveness({ clock: obsClock, store });
    await worker.beat('worker', 'w1', { pool: 'p' });
    await settle();
    assert.deepEqual(observer.alive('worker', 100).map((e) => [e.id, e.info, e.seenAtMonotonic]), [['w1', { pool: 'p' }, 0]]);
    await obsClock.advance(150);
    assert.deepEqual(observer.alive('worker', 100), []);
    await worker.beat('worker', 'w1', { pool: 'p' }); // same info, new revision: a sign of life
    await settle();
    assert.equal(observer.alive('worker', 100)[0]?.seenAtMonotonic, 150);
    assert.deepEqual(observer.alive('coord', 100), []);
    await worker.leave('worker', 'w1');
    await settle();
    assert.deepEqual(observer.entries(), []);
    await Promise.all([worker.close(), observer.close()]);
  });

  it('a late observer counts existing keys as seen at its start; a private store is isolated', async () => {
    const store = createMemoryLivenessStore();
    const a = createMemoryLiveness({ clock: createFakeClock(), store });
    await a.beat('coord', 'c1', {});
    const clock = createFakeClock();
    await clock.advance(42);
    const late = createMemoryLiveness({ clock, store });
    assert.equal(late.alive('coord', 0)[0]?.seenAtMonotonic, 42);
    const alone = createMemoryLiveness({ clock: systemClock });
    assert.deepEqual(alone.entries(), []);
    await assert.rejects(alone.beat('worker', 'bad id', {}));
  });
});
