import type { Clock } from '../clock.ts';

/** When a coordinator may judge a peer dead (see {@link createPeerJudge}). */
export interface PeerJudge {
  /** Notes that this process is running now; call it at least once per heartbeat. */
  tick(): void;
  /** Starts watching afresh (on start). */
  restart(): void;
  /** True once heartbeats were watched for a full detection timeout without a gap. */
  mayJudge(): boolean;
}

/**
 * A coordinator may requeue a peer's jobs only after it has itself watched the heartbeats for a full
 * detection timeout without a gap. A gap longer than half that timeout (this process was stalled:
 * SIGSTOP, a long GC or VM pause, a heartbeat stuck behind a NATS outage) leaves its view of the
 * peers as old as the gap, so live peers would look dead; the watch then starts over. Found by
 * test/fault/coordinatorZombie.test.ts: a woken zombie's first heartbeat ran before the heartbeats
 * that arrived meanwhile were read, and it requeued a live peer's job.
 */
export function createPeerJudge(clock: Clock, detectionTimeoutMs: number): PeerJudge {
  const maxGapMs = detectionTimeoutMs / 2;
  let watchingSince = clock.monotonic();
  let last = watchingSince;
  const tick = () => {
    const now = clock.monotonic();
    if (now - last > maxGapMs) watchingSince = now;
    last = now;
  };
  return {
    tick,
    restart() {
      watchingSince = last = clock.monotonic();
    },
    mayJudge() {
      tick();
      return clock.monotonic() - watchingSince >= detectionTimeoutMs;
    },
  };
}
