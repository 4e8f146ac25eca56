import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../engine/clock.ts';
import { createMemoryLiveness, createMemoryLivenessStore } from '../../../../engine/liveness/memoryLiveness.ts';
import type { Liveness } from '../../../../engine/liveness/liveness.ts';
import { livenessContract } from '../../../contract/liveness.contract.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';
import { waitFor } from '../../../helpers/wait.ts';

livenessContract('memory', async () => {
  const store = createMemoryLivenessStore();
  const opened: Liveness[] = [];
  return {
    open: (clock) => {
      const l = createMemoryLiveness({ clock, store });
      opened.push(l);
      return l;
    },
    cleanup: async () => void (await Promise.all(opened.map((l) => l.close()))),
  };
});

describe('memoryLiveness', () => {
  it('without a store, a process has a private one', async () => {
    const shared = createMemoryLivenessStore();
    await createMemoryLiveness({ clock: createFakeClock(), store: shared }).beat('coord', 'c1', {});
    const alone = createMemoryLiveness({ clock: systemClock });
    await alone.beat('worker', 'w1', {});
    await waitFor(() => alone.entries().length === 1, { what: 'its own beat' });
    assert.deepEqual(alone.entries().map((e) => e.id), ['w1']);
    assert.deepEqual([...shared.values.keys()], ['coord.c1']);
  });
});
