import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../../../engine/errors.ts';
import type { BatchItem, EventLog } from '../../../../engine/eventlog/eventLog.ts';
import { groupCommitted } from '../../../../engine/eventlog/groupCommit.ts';
import { createMemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { ev } from '../../../contract/eventLog.contract.ts';

/** A memory log that records how appends reach it: 'one' per append, the size of each batch. */
function spied() {
  const inner = createMemoryEventLog();
  const calls: (number | 'one')[] = [];
  const log: EventLog = {
    ...inner,
    append: (s, e, o) => (calls.push('one'), inner.append(s, e, o)),
    appendBatch: (items: readonly BatchItem[]) => (calls.push(items.length), inner.appendBatch(items)),
  };
  return { inner, calls, log };
}

describe('groupCommitted', () => {
  it('appends made in one turn of the event loop, or while the round trips are out, go together; a lone one goes alone', async () => {
    const { calls, log } = spied();
    const g = groupCommitted(log, { maxInFlight: 1 });
    const first = await g.append('job.a.ev', [ev('A', 0)], { expectedLastSubjectSeq: 0 });
    assert.deepEqual(calls, ['one']);
    const many = await Promise.all(Array.from({ length: 10 }, (_, i) => g.append(`job.b${i}.ev`, [ev('B', i)], { expectedLastSubjectSeq: 0 })));
    assert.deepEqual(calls, ['one', 10], 'one turn, one batch');
    assert.deepEqual(many.map((r) => r.seq), Array.from({ length: 10 }, (_, i) => first.seq + 1 + i), 'stored in call order');
    calls.length = 0;
    const busy = g.append('job.c.ev', [ev('C', 0)]);
    await new Promise((r) => setImmediate(r)); // the turn ended: the first append is out
    const waited = Promise.all([1, 2, 3].map((i) => g.append(`job.c${i}.ev`, [ev('C', i)])));
    await Promise.all([busy, waited]);
    assert.deepEqual(calls, ['one', 3], 'the three waited for the one in flight, then went together');
  });

  it('each append keeps its own outcome: a lost CAS rejects that caller only, a stored msg id is its duplicate', async () => {
    const { log, inner } = spied();
    const g = groupCommitted(log, { maxInFlight: 1 });
    const taken = await inner.append('job.t.ev', [ev('A', 0)], { expectedLastSubjectSeq: 0, msgId: 'm1' });
    const [x, loser, dup, y] = await Promise.allSettled([
      g.append('job.x.ev', [ev('X', 0)], { expectedLastSubjectSeq: 0 }),
      g.append('job.t.ev', [ev('L', 0)], { expectedLastSubjectSeq: 0 }),
      g.append('job.t.ev', [ev('A', 0)], { expectedLastSubjectSeq: 0, msgId: 'm1' }),
      g.append('job.y.ev', [ev('Y', 0)]),
    ]);
    assert.equal(x?.status, 'fulfilled');
    assert.ok(loser?.status === 'rejected' && isAppError(loser.reason, 'CONFLICT'));
    assert.ok(dup?.status === 'fulfilled');
    assert.deepEqual(dup.value, { seq: taken.seq, duplicate: true });
    assert.equal(y?.status, 'fulfilled');
  });

  it('never holds more than maxInFlight round trips, never more than maxBatch items in one, and sends rollups alone', async () => {
    const { calls, log } = spied();
    const g = groupCommitted(log, { maxInFlight: 2, maxBatch: 4 });
    await Promise.all(Array.from({ length: 11 }, (_, i) => g.append(`job.c${i}.ev`, [ev('C', i)])));
    assert.deepEqual(calls, [4, 4, 3], 'two out at once, the third when one came back');
    calls.length = 0;
    await g.append('job.c0.ev', [ev('R', 0)], { rollup: true });
    assert.deepEqual(calls, ['one']);
  });

  it('an outage fails every append of the batch, and the log keeps working after it', async () => {
    const { log, inner } = spied();
    const g = groupCommitted(log, { maxInFlight: 1 });
    inner.failNextAppend();
    const rs = await Promise.allSettled([1, 2, 3].map((i) => g.append(`job.o${i}.ev`, [ev('O', i)])));
    assert.ok(rs.every((r) => r.status === 'rejected' && isAppError(r.reason, 'UNAVAILABLE')), JSON.stringify(rs));
    assert.equal((await g.append('job.o9.ev', [ev('O', 9)])).duplicate, false);
  });
});
