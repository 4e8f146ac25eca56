import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOutputTail } from '../../../../engine/sandbox/outputTail.ts';

describe('createOutputTail', () => {
  it('keeps everything under the limit', () => {
    const t = createOutputTail(10);
    t.push(Buffer.from('abc'));
    t.push(Buffer.from('def'));
    assert.deepEqual(t.result(), { tail: 'abcdef', bytes: 6, truncated: false });
  });

  it('keeps the last bytes across many chunks and one huge one', () => {
    const t = createOutputTail(5);
    for (let i = 0; i < 1000; i++) t.push(Buffer.from(String(i % 10)));
    assert.deepEqual(t.result(), { tail: '56789', bytes: 1000, truncated: true });
    t.push(Buffer.alloc(1_000_000, 'x'));
    t.push(Buffer.from('yz'));
    assert.deepEqual(t.result(), { tail: 'xxxyz', bytes: 1_001_002, truncated: true });
  });

  it('exactly at the limit is not truncated', () => {
    const t = createOutputTail(4);
    t.push(Buffer.from('ab'));
    t.push(Buffer.from('cd'));
    assert.deepEqual(t.result(), { tail: 'abcd', bytes: 4, truncated: false });
  });

  it('drops a UTF-8 character cut at the start of the tail', () => {
    const t = createOutputTail(5);
    t.push(Buffer.from('xé€🙂', 'utf8')); // 1 + 2 + 3 + 4 bytes: the last 5 cut '€' after its first byte
    assert.deepEqual(t.result(), { tail: '🙂', bytes: 10, truncated: true });
  });

  it('keeps nothing but the count with a zero limit', () => {
    const t = createOutputTail(0);
    t.push(Buffer.from('abc'));
    assert.deepEqual(t.result(), { tail: '', bytes: 3, truncated: true });
  });
});
