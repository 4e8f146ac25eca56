/**
 * The coordinator's heartbeat: tells its peers it is alive, recounts the live coordinators (their
 * number sets the cluster's slots), and looks for jobs of dead peers, every `heartbeatMs`.
 */
import type { CoordinatorContext } from './context.ts';
import type { PeerJudge } from './peerJudge.ts';

export interface Heartbeat {
  /** Beats now, then every `heartbeatMs` while running. */
  beat(): Promise<void>;
  /** Clears the next beat's timer. */
  stop(): void;
}

/** Coordinators alive in our view (heartbeat seen within the detection timeout), ourselves included. */
export function countLiveCoordinators(cx: Pick<CoordinatorContext, 'id' | 'liveness' | 'config'>): number {
  return new Set(cx.liveness.alive('coord', cx.config.failureDetectionTimeoutMs).map((x) => x.id)).add(cx.id).size;
}

export function createHeartbeat(cx: CoordinatorContext, judge: PeerJudge, recoverOrphans: () => void): Heartbeat {
  const { id, liveness, clock, config, log } = cx;
  let timer: unknown;

  async function beat() {
    judge.tick();
    try {
      await liveness.beat('coord', id, { owned: cx.owned.size });
    } catch (err) {
      log.warn({ err }, 'heartbeat failed');
    }
    const coordinators = countLiveCoordinators(cx);
    if (coordinators !== cx.liveCoordinators) {
      // The number of live coordinators sets the cluster's slots: a change may make room for claims.
      cx.liveCoordinators = coordinators;
      cx.wake.scheduleClaims();
    }
    recoverOrphans();
    if (cx.running) timer = clock.setTimeout(() => void beat(), config.heartbeatMs);
  }

  return { beat, stop: () => clock.clearTimeout(timer) };
}
