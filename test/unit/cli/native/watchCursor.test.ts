/** The watch cursor: a drop in the middle of a record (events sharing one id) resumes with no duplicate and no gap. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createCursor } from '../../../../cli/native/watch.ts';

const ev = (seq: number, type: string, last: boolean) => ({ m: { id: last ? String(seq) : undefined, event: type, data: '' }, msg: { kind: 'event' as const, seq, type } });

it('skips the events of a partly printed record when the record comes again after a reconnect', () => {
  const cursor = createCursor('4');
  const printed: string[] = [];
  const feed = (...events: ReturnType<typeof ev>[]) => {
    for (const e of events) if (cursor.admit(e.m, e.msg)) printed.push(`${e.msg.seq} ${e.msg.type}`);
  };
  feed(ev(5, 'JobSubmitted', true), ev(6, 'JobClaimed', false));
  assert.equal(cursor.lastId, '5', 'resume after the last complete record');
  cursor.reconnected(); // dropped between JobClaimed and TasksPlanned: seq 6 comes again from its start
  feed(ev(6, 'JobClaimed', false), ev(6, 'TasksPlanned', true), ev(7, 'TaskSucceeded', true));
  assert.deepEqual(printed, ['5 JobSubmitted', '6 JobClaimed', '6 TasksPlanned', '7 TaskSucceeded']);
  assert.equal(cursor.lastId, '7');
  cursor.reconnected(); // a drop between records: nothing to skip
  feed(ev(8, 'JobSucceeded', true));
  assert.deepEqual(printed.at(-1), '8 JobSucceeded');
});

it('a snapshot sets the cursor; removals (no id) leave it', () => {
  const cursor = createCursor(undefined);
  assert.ok(cursor.admit({ id: '12', event: 'snapshot', data: '' }, { kind: 'snapshot', seq: 12 }));
  assert.ok(cursor.admit({ id: undefined, event: 'removed', data: '' }, { kind: 'removed' }));
  assert.equal(cursor.lastId, '12');
});
