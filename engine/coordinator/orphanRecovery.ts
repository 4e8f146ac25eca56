/** Requeueing the jobs of coordinators that stopped heartbeating, so that a live one claims them. */
import { ctxOf, type CoordinatorContext } from './context.ts';
import type { FencedWriter } from './fencedWriter.ts';
import type { PeerJudge } from './peerJudge.ts';

/** Requeues every active job whose owner is not alive in our view (peerJudge.ts says when we may judge). */
export function recoverOrphans(cx: CoordinatorContext, judge: PeerJudge, writer: FencedWriter): void {
  const { id, config, liveness, projection, log } = cx;
  // Judge peers only after watching them for a full detection timeout ourselves, without a stall.
  if (!judge.mayJudge()) return;
  const alive = new Set(liveness.alive('coord', config.failureDetectionTimeoutMs).map((x) => x.id));
  alive.add(id);
  for (const e of projection.active()) {
    const owner = ctxOf(e).coordinatorId;
    if (owner && !alive.has(owner) && !writer.busy(e.id)) {
      log.info({ jobId: e.id, from: owner }, 'requeueing job of a dead coordinator');
      void writer.write(e, [{ kind: 'requeue', fromCoordinator: owner }], `coordinator ${owner} missed heartbeats for ${config.failureDetectionTimeoutMs} ms`);
    }
  }
}
