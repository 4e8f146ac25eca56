/** When a coordinator may judge peers dead: after a full detection timeout of watching, without a stall. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPeerJudge } from '../../../../engine/coordinator/peerJudge.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

describe('peer judge', () => {
  const DETECTION = 5_000;
  const HEARTBEAT = 1_000;

  it('judges only after a full detection timeout of regular heartbeats', async () => {
    const clock = createFakeClock({ wallMs: 1_700_000_000_000 });
    const judge = createPeerJudge(clock, DETECTION);
    for (let i = 0; i < 4; i++) {
      await clock.advance(HEARTBEAT);
      judge.tick();
      assert.equal(judge.mayJudge(), false, `after ${(i + 1) * HEARTBEAT} ms`);
    }
    await clock.advance(HEARTBEAT);
    assert.equal(judge.mayJudge(), true);
  });

  it('after a stall (a frozen process) watches afresh for a full timeout before judging again', async () => {
    const clock = createFakeClock({ wallMs: 1_700_000_000_000 });
    const judge = createPeerJudge(clock, DETECTION);
    for (let i = 0; i < 6; i++) {
      await clock.advance(HEARTBEAT);
      judge.tick();
    }
    assert.equal(judge.mayJudge(), true);
    await clock.advance(8_000); // SIGSTOP for 8 s: every peer's last heartbeat looks 8 s old
    assert.equal(judge.mayJudge(), false, 'not on waking');
    for (let i = 0; i < 4; i++) {
      await clock.advance(HEARTBEAT);
      judge.tick();
      assert.equal(judge.mayJudge(), false);
    }
    await clock.advance(HEARTBEAT);
    assert.equal(judge.mayJudge(), true, 'once it has watched for the full timeout again');
  });

  it('a stall inside one heartbeat (a round trip stuck for longer than half the timeout) counts too', async () => {
    const clock = createFakeClock({ wallMs: 1_700_000_000_000 });
    const judge = createPeerJudge(clock, DETECTION);
    for (let i = 0; i < 5; i++) {
      await clock.advance(HEARTBEAT);
      judge.tick();
    }
    judge.tick(); // a heartbeat starts
    await clock.advance(DETECTION / 2 - 1);
    assert.equal(judge.mayJudge(), true, 'a round trip of just under half the timeout is slow, not a stall');
    judge.tick(); // the next heartbeat starts
    await clock.advance(DETECTION / 2 + 1); // and its round trip hangs
    assert.equal(judge.mayJudge(), false);
  });
});
