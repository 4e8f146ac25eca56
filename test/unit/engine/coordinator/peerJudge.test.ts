/** When a coordinator may judge peers dead: after a full detection timeout of watching, without a stall. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPeerJudge } from '../../../../engine/coordinator/peerJudge.ts';
import type { Clock } from '../../../../engine/clock.ts';

function manualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return {
    now: () => 1_700_000_000_000 + t,
    monotonic: () => t,
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
    advance(ms) {
      t += ms;
    },
  } as Clock & { advance(ms: number): void };
}

describe('peer judge', () => {
  const DETECTION = 5_000;
  const HEARTBEAT = 1_000;

  it('judges only after a full detection timeout of regular heartbeats', () => {
    const clock = manualClock();
    const judge = createPeerJudge(clock, DETECTION);
    for (let i = 0; i < 4; i++) {
      clock.advance(HEARTBEAT);
      judge.tick();
      assert.equal(judge.mayJudge(), false, `after ${(i + 1) * HEARTBEAT} ms`);
    }
    clock.advance(HEARTBEAT);
    assert.equal(judge.mayJudge(), true);
  });

  it('after a stall (a frozen process) watches afresh for a full timeout before judging again', () => {
    const clock = manualClock();
    const judge = createPeerJudge(clock, DETECTION);
    for (let i = 0; i < 6; i++) {
      clock.advance(HEARTBEAT);
      judge.tick();
    }
    assert.equal(judge.mayJudge(), true);
    clock.advance(8_000); // SIGSTOP for 8 s: every peer's last heartbeat looks 8 s old
    assert.equal(judge.mayJudge(), false, 'not on waking');
    for (let i = 0; i < 4; i++) {
      clock.advance(HEARTBEAT);
      judge.tick();
      assert.equal(judge.mayJudge(), false);
    }
    clock.advance(HEARTBEAT);
    assert.equal(judge.mayJudge(), true, 'once it has watched for the full timeout again');
  });

  it('a stall inside one heartbeat (a round trip stuck for longer than half the timeout) counts too', () => {
    const clock = manualClock();
    const judge = createPeerJudge(clock, DETECTION);
    for (let i = 0; i < 5; i++) {
      clock.advance(HEARTBEAT);
      judge.tick();
    }
    judge.tick(); // a heartbeat starts
    clock.advance(DETECTION / 2 - 1);
    assert.equal(judge.mayJudge(), true, 'a round trip of just under half the timeout is slow, not a stall');
    judge.tick(); // the next heartbeat starts
    clock.advance(DETECTION / 2 + 1); // and its round trip hangs
    assert.equal(judge.mayJudge(), false);
  });
});
