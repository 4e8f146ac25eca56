/** The SSE wire form of live messages: which ones carry an `id:` a client can resume from. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatSse } from '../../../api/routes/events.ts';
import { createSseParser, type SseMessage } from '../../helpers/sse.ts';

describe('formatSse', () => {
  it('gives an id to a snapshot and to the last event of a record only; a removal has none', () => {
    const ev = (lastInRecord: boolean) => ({
      kind: 'event' as const, seq: 7, jobId: 'j1', subject: 'ev' as const, type: lastInRecord ? 'TasksPlanned' : 'JobClaimed',
      data: {}, meta: {}, job: null, lastInRecord,
    });
    const wire = [
      formatSse({ kind: 'snapshot', seq: 5, jobs: [], truncated: false }),
      formatSse(ev(false)),
      formatSse(ev(true)),
      formatSse({ kind: 'removed', jobId: 'j1' }),
    ].join('');
    const msgs: SseMessage[] = [];
    createSseParser((m) => msgs.push(m))(wire);
    assert.deepEqual(msgs.map((m) => [m.event, m.id]), [['snapshot', '5'], ['JobClaimed', undefined], ['TasksPlanned', '7'], ['removed', undefined]]);
    assert.deepEqual(JSON.parse(msgs[3]!.data!), { kind: 'removed', jobId: 'j1' });
  });
});
