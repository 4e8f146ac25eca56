import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JetStreamApiError, JetStreamStatusError } from '@nats-io/jetstream/internal';
import { toAppError } from '../../../../engine/nats/connection.ts';

describe('toAppError (NATS errors at the edge)', () => {
  it('a lost CAS race is CONFLICT whichever code the server answers (10071; 10164 on a 2.15 cluster)', () => {
    for (const errCode of [10071, 10164]) {
      const e = toAppError(new JetStreamApiError({ code: 400, err_code: errCode, description: 'wrong last sequence' }), 'append');
      assert.equal(e.code, 'CONFLICT', String(errCode));
    }
  });

  it('a pull answered 503 "no responders" (a stream without a leader for a moment) is UNAVAILABLE, not INTERNAL', () => {
    assert.equal(toAppError(new JetStreamStatusError('no responders', 503), 'read job.x.ev').code, 'UNAVAILABLE');
    assert.equal(toAppError(new JetStreamStatusError('bad request', 400), 'read job.x.ev').code, 'INTERNAL');
  });

  it('another JetStream API error stays INTERNAL', () => {
    assert.equal(toAppError(new JetStreamApiError({ code: 400, err_code: 10999, description: 'something' }), 'append').code, 'INTERNAL');
  });
});
