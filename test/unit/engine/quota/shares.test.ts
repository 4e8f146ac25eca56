import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { effectiveClusters, vcSlots, type VirtualClusterDef } from '../../../../engine/quota/shares.ts';

describe('effectiveClusters', () => {
  it('adds an implicit default with what the others leave', () => {
    const defs = effectiveClusters([
      { name: 'a', capacity: 30, maxCapacity: 50 },
      { name: 'b', capacity: 50, maxCapacity: 100 },
    ]);
    assert.deepEqual(defs.find((d) => d.name === 'default'), { name: 'default', capacity: 20, maxCapacity: 100 });
    assert.equal(defs.length, 3);
  });

  it('gives default 100 % when nothing is defined, and 0 guaranteed when others take it all', () => {
    assert.deepEqual(effectiveClusters([]), [{ name: 'default', capacity: 100, maxCapacity: 100 }]);
    const full = effectiveClusters([{ name: 'a', capacity: 100, maxCapacity: 100 }]);
    assert.equal(full.find((d) => d.name === 'default')?.capacity, 0);
  });

  it('keeps a defined default as is', () => {
    const d = { name: 'default', capacity: 10, maxCapacity: 20 };
    assert.deepEqual(effectiveClusters([d, { name: 'a', capacity: 30, maxCapacity: 50 }]), [
      d,
      { name: 'a', capacity: 30, maxCapacity: 50 },
    ]);
  });
});

describe('vcSlots', () => {
  it('floors the percentages of the total slots', () => {
    const slots = vcSlots(
      [
        { name: 'a', capacity: 30, maxCapacity: 50 },
        { name: 'b', capacity: 70, maxCapacity: 100 },
      ],
      10,
    );
    assert.deepEqual(slots.get('a'), { guaranteed: 3, max: 5 });
    assert.deepEqual(slots.get('b'), { guaranteed: 7, max: 10 });
  });

  it('lets a VC with a max share run at least one job even when its share rounds to 0', () => {
    const slots = vcSlots([{ name: 'tiny', capacity: 1, maxCapacity: 5 }], 4);
    assert.deepEqual(slots.get('tiny'), { guaranteed: 0, max: 1 });
    assert.deepEqual(vcSlots([{ name: 'off', capacity: 0, maxCapacity: 0 }], 4).get('off'), { guaranteed: 0, max: 0 });
  });

  it('caps the guarantee at the max share', () => {
    assert.deepEqual(vcSlots([{ name: 'odd', capacity: 80, maxCapacity: 40 }], 10).get('odd'), { guaranteed: 4, max: 4 });
  });

  const defArb: fc.Arbitrary<VirtualClusterDef> = fc.record({
    name: fc.string({ minLength: 1, maxLength: 8 }),
    capacity: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 100, noNaN: true })),
    maxCapacity: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 100, noNaN: true })),
  });
  const defsArb = fc.uniqueArray(defArb, { selector: (d) => d.name, maxLength: 12 });

  it('property: guaranteed ≤ max ≤ total and Σ guaranteed ≤ total', () => {
    fc.assert(
      fc.property(defsArb, fc.integer({ min: 0, max: 10_000 }), (defined, total) => {
        const slots = vcSlots(effectiveClusters(defined), total);
        let sum = 0;
        for (const { guaranteed, max } of slots.values()) {
          assert.ok(Number.isInteger(guaranteed) && Number.isInteger(max));
          assert.ok(guaranteed >= 0 && guaranteed <= max && max <= total, `${guaranteed} ≤ ${max} ≤ ${total}`);
          sum += guaranteed;
        }
        assert.ok(sum <= total, `Σ guaranteed ${sum} ≤ ${total}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: effective clusters always contain exactly one default and every defined VC', () => {
    fc.assert(
      fc.property(defsArb, (defined) => {
        const eff = effectiveClusters(defined);
        assert.equal(eff.filter((d) => d.name === 'default').length, 1);
        for (const d of defined) assert.ok(eff.some((e) => e.name === d.name));
      }),
    );
  });
});
