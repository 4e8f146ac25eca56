import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimOrder, claimQueue, pickBucket, quotaBuckets, type QuotaBucket } from '../../../../engine/quota/claimQuota.ts';
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

describe('claimOrder', () => {
  type Job = { id: string; submitSeq: number; priority: number; vc: string };
  const jobs: Job[] = [
    { id: 'a1', submitSeq: 1, priority: 0, vc: 'a' },
    { id: 'gone', submitSeq: 2, priority: 0, vc: 'old' }, // its VC was deleted: runs under default
    { id: 'd1', submitSeq: 3, priority: 0, vc: 'default' },
    { id: 'a2', submitSeq: 4, priority: 9, vc: 'a' },
    { id: 'd2', submitSeq: 5, priority: 0, vc: 'default' },
    { id: 'a3', submitSeq: 6, priority: 0, vc: 'a' },
  ];
  const waiting = (vc: string) => jobs.filter((j) => j.vc === vc).sort((x, y) => y.priority - x.priority || x.submitSeq - y.submitSeq)[Symbol.iterator]();
  const counts2 = counts({ a: [3, 0], default: [2, 0], old: [1, 0] });

  it('merges a share\'s queues by priority then submission, skips jobs in flight, and stops at each max', () => {
    // 10 slots: a guaranteed 3, max 5; default the rest
    const slots = vcSlots(effectiveClusters([{ name: 'a', capacity: 30, maxCapacity: 50 }]), 10);
    const picks = [...claimOrder(quotaBuckets(slots, counts2, new Map()), waiting, (j) => j.priority, (j) => j.id === 'd2')];
    assert.deepEqual(picks.map((p) => `${p.entry.id}@${p.vc}`).sort(), ['a1@a', 'a2@a', 'a3@a', 'd1@default', 'gone@default'].sort());
    // within a: priority first, then submission order
    assert.deepEqual(picks.filter((p) => p.vc === 'a').map((p) => p.entry.id), ['a2', 'a1', 'a3']);
    // within default (its own queue merged with the deleted VC's): submission order
    assert.deepEqual(picks.filter((p) => p.vc === 'default').map((p) => p.entry.id), ['gone', 'd1']);
  });

  it('never yields more of a VC than its max share', () => {
    const slots = vcSlots(effectiveClusters([{ name: 'a', capacity: 10, maxCapacity: 20 }]), 10);
    const picks = [...claimOrder(quotaBuckets(slots, counts2, new Map()), waiting, (j) => j.priority, () => false)];
    assert.equal(picks.filter((p) => p.vc === 'a').length, 2);
  });
});

describe('claimQueue (what the claim pass and explain share)', () => {
  type Job = { id: string; submitSeq: number; priority: number; vc: string };
  const jobs: Job[] = [
    { id: 'a1', submitSeq: 1, priority: 0, vc: 'a' },
    { id: 'd1', submitSeq: 2, priority: 0, vc: 'default' },
    { id: 'a2', submitSeq: 3, priority: 5, vc: 'a' },
  ];
  const waiting = (vc: string) => jobs.filter((j) => j.vc === vc).sort((x, y) => y.priority - x.priority || x.submitSeq - y.submitSeq)[Symbol.iterator]();
  const defs = effectiveClusters([{ name: 'a', capacity: 50, maxCapacity: 50 }]);

  it('is claimOrder over the slots of runningJobCapacity × coordinators, and walking it leaves its buckets as counted', () => {
    const input = {
      slotsFor: (total: number) => vcSlots(defs, total), runningJobCapacity: 2, coordinators: 2,
      counts: counts({ a: [2, 1], default: [1, 0] }), claiming: new Map([['default', 1]]),
      waiting, priorityOf: (j: Job) => j.priority, skip: () => false,
    };
    const q = claimQueue(input);
    assert.equal(q.totalSlots, 4);
    const order = [...q.order].map((p) => `${p.entry.id}@${p.vc}`);
    const direct = [...claimOrder(quotaBuckets(vcSlots(defs, 4), input.counts, input.claiming), waiting, input.priorityOf, input.skip)].map((p) => `${p.entry.id}@${p.vc}`);
    assert.deepEqual(order, direct);
    // a: max 2, 1 running → one more (a2, by priority); default: 1 claim in flight, max 4 → d1
    assert.deepEqual(order, ['a2@a', 'd1@default']);
    assert.deepEqual(q.buckets.map((b) => [b.name, b.used]), [['a', 1], ['default', 1]]);
  });
});
