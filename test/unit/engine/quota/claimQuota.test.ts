import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pickBucket, quotaBuckets, type QuotaBucket } from '../../../../engine/quota/claimQuota.ts';
import { effectiveClusters, vcSlots } from '../../../../engine/quota/shares.ts';

const counts = (o: Record<string, [waiting: number, active: number]>) =>
  new Map(Object.entries(o).map(([k, [waiting, active]]) => [k, { waiting, active, total: waiting + active }]));

/** Claims one job at a time like a claim pass, with unlimited waiting jobs in `waiting` VCs. */
function fill(buckets: QuotaBucket[], waiting: Set<string>, room: number): Record<string, number> {
  const got: Record<string, number> = {};
  for (; room > 0; room--) {
    const b = pickBucket(buckets, (x) => waiting.has(x.name));
    if (!b) break;
    b.used++;
    got[b.name] = (got[b.name] ?? 0) + 1;
  }
  return got;
}

describe('quota buckets', () => {
  const defs = effectiveClusters([
    { name: 'a', capacity: 30, maxCapacity: 50 },
    { name: 'b', capacity: 70, maxCapacity: 100 },
  ]);
  const slots = vcSlots(defs, 10);

  it('splits the slots by guaranteed share when every VC has work', () => {
    const buckets = quotaBuckets(slots, counts({ a: [50, 0], b: [50, 0] }), new Map());
    // room = the total slots (one coordinator): its local bound stops the pass there.
    assert.deepEqual(fill(buckets, new Set(['a', 'b']), 10), { a: 3, b: 7 });
  });

  it('lets a VC alone borrow idle slots up to its max share, never beyond', () => {
    const buckets = quotaBuckets(slots, counts({ a: [50, 0] }), new Map());
    assert.deepEqual(fill(buckets, new Set(['a']), 100), { a: 5 });
  });

  it('serves the VC furthest below its guarantee first', () => {
    // a already runs its 3, b runs 2 of 7: all free slots go to b.
    const buckets = quotaBuckets(slots, counts({ a: [50, 3], b: [50, 2] }), new Map());
    assert.deepEqual(fill(buckets, new Set(['a', 'b']), 3), { b: 3 });
  });

  it('counts our claims in flight against the VC share', () => {
    const buckets = quotaBuckets(slots, counts({ a: [50, 1] }), new Map([['a', 4]]));
    assert.equal(buckets.find((b) => b.name === 'a')?.used, 5);
    assert.deepEqual(fill(buckets, new Set(['a']), 10), {});
  });

  it('runs jobs of an undefined VC under default\'s share', () => {
    const buckets = quotaBuckets(slots, counts({ gone: [5, 2], default: [1, 1] }), new Map());
    const d = buckets.find((b) => b.name === 'default')!;
    assert.equal(d.used, 3);
    assert.deepEqual(d.sources.sort(), ['default', 'gone']);
  });

  it('claims nothing from a VC with max share 0', () => {
    const s = vcSlots([{ name: 'off', capacity: 0, maxCapacity: 0 }, { name: 'default', capacity: 100, maxCapacity: 100 }], 10);
    const buckets = quotaBuckets(s, counts({ off: [5, 0] }), new Map());
    assert.deepEqual(fill(buckets, new Set(['off']), 10), {});
  });
});
