/** A writer's prefolded state is taken once, and only for the job and base it was folded from. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobSnapshot } from '../../../../actors/jobFold.ts';
import { createPrefoldHints } from '../../../../engine/projections/prefoldHints.ts';

const snap = (n: number) => ({ value: 'WAITING', context: { n } }) as unknown as JobSnapshot;

describe('prefoldHints', () => {
  it('gives the hint for a matching job and base, once', () => {
    const h = createPrefoldHints();
    const base = snap(1);
    const next = snap(2);
    h.add(7, 'a', base, next);
    assert.equal(h.take(7, 'a', base), next);
    assert.equal(h.take(7, 'a', base), undefined);
    assert.equal(h.hits, 1);
  });

  it('drops a hint for another job, another base, or a new job that exists already', () => {
    const h = createPrefoldHints();
    const base = snap(1);
    h.add(1, 'a', base, snap(2));
    h.add(2, 'a', base, snap(2));
    h.add(3, 'a', undefined, snap(2));
    assert.equal(h.take(1, 'b', base), undefined);
    assert.equal(h.take(2, 'a', snap(1)), undefined);
    assert.equal(h.take(3, 'a', base), undefined);
    assert.equal(h.size, 0);
    assert.equal(h.hits, 0);
    h.add(4, 'a', undefined, snap(2));
    h.drop(4);
    assert.equal(h.size, 0);
  });
});
