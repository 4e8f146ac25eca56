import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoTime } from '../../../../engine/eventlog/jetStreamLogContext.ts';

describe('isoTime', () => {
  it('is Date#toISOString, whatever the order of the times it is given', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 253_402_300_799_999 }), { minLength: 1, maxLength: 50 }), (times) => {
        for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString());
      }),
    );
  });

  it('is right within one second, across seconds, and on both sides of a whole second', () => {
    const base = Date.UTC(2026, 11, 5, 10, 57, 1);
    for (const d of [0, 1, 9, 10, 99, 100, 999, 1_000, 1_001, -1, -1_000, 59_999, 60_000, 86_399_999]) {
      assert.equal(isoTime(base + d), new Date(base + d).toISOString(), String(d));
    }
  });

  it('handles the years past 9999 as Date does', () => {
    const ms = 8_640_000_000_000_000 - 1;
    assert.equal(isoTime(ms), new Date(ms).toISOString());
  });
});
