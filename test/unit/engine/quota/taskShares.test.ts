import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { effectiveClusters, vcSlots } from '../../../../engine/quota/shares.ts';
import { mayDispatch, shareOf, type DispatchRoom } from '../../../../engine/quota/taskShares.ts';

const defs = effectiveClusters([
  { name: 'a', capacity: 30, maxCapacity: 50 },
  { name: 'b', capacity: 50, maxCapacity: 100 },
]); // default: 20 guaranteed, 100 max
const limit = 10;
const slots = vcSlots(defs, limit); // a 3/5, b 5/10, default 2/10

const room = (inflight: Record<string, number>, wanting: string[] = []): DispatchRoom => ({
  limit,
  total: Object.values(inflight).reduce((s, n) => s + n, 0),
  inflight: new Map(Object.entries(inflight)),
  slots,
  wanting,
});

describe('mayDispatch (VC shares of the task slots)', () => {
  it('stops a VC at its max share even when the window has room', () => {
    assert.equal(mayDispatch('a', room({ a: 4 })), true);
    assert.equal(mayDispatch('a', room({ a: 5 })), false);
  });

  it('lets the running jobs of a VC set to 0 % finish, one task at a time', () => {
    const retiring = vcSlots(effectiveClusters([{ name: 'old', capacity: 0, maxCapacity: 0 }]), limit);
    const r = (n: number): DispatchRoom => ({ limit, total: n, inflight: new Map([['old', n]]), slots: retiring, wanting: [] });
    assert.equal(mayDispatch('old', r(0)), true);
    assert.equal(mayDispatch('old', r(1)), false);
  });

  it('never goes past the window', () => {
    assert.equal(mayDispatch('b', room({ b: 2, default: 8 })), false);
  });

  it('lets a VC below its guarantee in whatever the others want', () => {
    assert.equal(mayDispatch('a', room({ a: 2, b: 7 }, ['b', 'default'])), true);
  });

  it('keeps the guarantees of waiting VCs free from a VC that borrows', () => {
    // b holds 6 (above its 5), a holds 1 of its 3 and waits: 2 slots are a's, so 1 is left to lend
    assert.equal(mayDispatch('b', room({ a: 1, b: 6 }, ['a'])), true);
    assert.equal(mayDispatch('b', room({ a: 1, b: 7 }, ['a'])), false);
    // nobody waiting: b may borrow up to the window
    assert.equal(mayDispatch('b', room({ a: 1, b: 8 })), true);
  });

  it('counts jobs of undefined VCs under default', () => {
    assert.equal(shareOf('gone', slots), 'default');
    assert.equal(mayDispatch('gone', room({ default: 1, gone: 1, b: 5 }, ['default'])), true);
    // default is at its guarantee (2) with `gone`, and a waits for its 3: 6 + 3 < 10, 7 + 3 is not
    assert.equal(mayDispatch('gone', room({ default: 1, gone: 1, b: 4 }, ['a'])), true);
    assert.equal(mayDispatch('gone', room({ default: 1, gone: 1, b: 5 }, ['a'])), false);
  });

  it('under random dispatches and completions: within the window and every max, and a waiting VC always reaches its guarantee', () => {
    const vcs = ['a', 'b', 'default', 'gone'];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...vcs), fc.boolean()), { maxLength: 200 }), (steps) => {
        const inflight = new Map<string, number>();
        let total = 0;
        for (const [vc, finish] of steps) {
          if (finish) {
            const n = inflight.get(vc) ?? 0;
            if (n > 0) {
              inflight.set(vc, n - 1);
              total--;
            }
            continue;
          }
          if (!mayDispatch(vc, { limit, total, inflight, slots, wanting: vcs })) continue;
          inflight.set(vc, (inflight.get(vc) ?? 0) + 1);
          total++;
          assert.ok(total <= limit);
          const share = shareOf(vc, slots);
          let used = 0;
          for (const [v, n] of inflight) if (shareOf(v, slots) === share) used += n;
          assert.ok(used <= slots.get(share)!.max, `${share} at ${used}`);
        }
        // every VC wants: keep dispatching until nothing may; each share then holds its guarantee
        // once the borrowers' tasks finished (no preemption): finish everything above guarantee
        for (const [v, n] of inflight) {
          const g = slots.get(shareOf(v, slots))!.guaranteed;
          if (n > g) {
            total -= n - g;
            inflight.set(v, g);
          }
        }
        for (const vc of vcs) {
          while (mayDispatch(vc, { limit, total, inflight, slots, wanting: vcs })) {
            inflight.set(vc, (inflight.get(vc) ?? 0) + 1);
            total++;
          }
        }
        for (const share of ['a', 'b', 'default']) {
          let used = 0;
          for (const [v, n] of inflight) if (shareOf(v, slots) === share) used += n;
          assert.ok(used >= slots.get(share)!.guaranteed, `${share} has ${used}`);
        }
      }),
    );
  });
});
