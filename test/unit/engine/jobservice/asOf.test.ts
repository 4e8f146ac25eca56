/** `asOf` parsing (strict: a stream sequence or an ISO time with a zone) and folding a job's records to a moment. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { foldAsOf, parseAsOf } from '../../../../engine/jobservice/asOf.ts';
import { isAppError } from '../../../../engine/errors.ts';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';

describe('parseAsOf', () => {
  it('reads a stream sequence and ISO times with a zone', () => {
    assert.deepEqual(parseAsOf('42'), { kind: 'seq', seq: 42, text: '42' });
    for (const [text, iso] of [
      ['2026-12-05T17:00:00Z', '2026-12-05T17:00:00.000Z'],
      ['2026-12-05T17:00Z', '2026-12-05T17:00:00.000Z'],
      ['2026-12-05T18:00:00.250+01:00', '2026-12-05T17:00:00.250Z'],
      ['2026-12-05T17:00:00.123456789Z', '2026-12-05T17:00:00.123Z'],
      ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ] as const) {
      const a = parseAsOf(text);
      assert.equal(a.kind, 'time', text);
      assert.equal(a.kind === 'time' && new Date(a.ms).toISOString(), iso, text);
    }
  });

  it('refuses anything else as VALIDATION_FAILED naming the input', () => {
    for (const text of ['0', '007', '-1', '1.5', '1e3', ' 1', 'now', '2026-12-05', '2026-12-05T17:00:00', '2026-12-05 17:00:00Z', '2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-12-05T24:00:00Z', '2026-12-05T17:60:00Z', '2026-12-05T17:00:00+25:00', '1969-12-31T23:59:59Z', '99999999999999999', 'x'.repeat(41)]) {
      assert.throws(() => parseAsOf(text), (err) => isAppError(err) && err.code === 'VALIDATION_FAILED' && err.message.startsWith('querystring/asOf "'), text);
    }
  });
});

const meta = (jobId: string, at: string) => ({ jobId, epoch: 0, actor: 'user:ann', at, v: 1 });
const submitted = (id: string): LogRecord => ({
  seq: 5, subject: `job.${id}.ev`, time: '2026-12-05T17:00:05.000Z',
  events: [{ type: 'JobSubmitted', data: { jobId: id, type: 'noop', name: 'n', spec: {}, priority: 0, maxTaskAttempts: 3, maxFailedRatio: 0, requestHash: 'h', owner: 'ann' }, meta: meta(id, '2026-12-05T17:00:05.000Z') }],
});

describe('foldAsOf', () => {
  const id = '00000000-0000-4000-8000-000000000001';
  it('folds up to a sequence or a time, and says a job did not exist before its submission', () => {
    const stopped: LogRecord = { seq: 9, subject: `job.${id}.ev`, time: '2026-12-05T17:00:09.000Z', events: [{ type: 'JobStopped', data: {}, meta: { ...meta(id, '2026-12-05T17:00:09.000Z'), reason: 'r' } }] };
    const ev = [submitted(id), stopped];
    assert.equal(foldAsOf(id, ev, [], { kind: 'seq', seq: 8, text: '8' }).snapshot.value, 'WAITING');
    const later = foldAsOf(id, ev, [], { kind: 'time', ms: Date.parse('2026-12-05T17:00:09.000Z'), text: 't' });
    assert.deepEqual([later.snapshot.value, later.info.seq, later.info.exact, later.records.length], ['STOPPED', 9, true, 2]);
    assert.throws(() => foldAsOf(id, ev, [], { kind: 'seq', seq: 4, text: '4' }), (err) => isAppError(err) && err.code === 'JOB_NOT_FOUND' && /did not exist yet as of 4: it was submitted at seq 5/.test(err.message));
  });
});
