import { createClaimPass } from './claimPass.ts';
import { createCoordinatorContext } from './context.ts';
import { drive } from './drive.ts';
import { createFencedWriter } from './fencedWriter.ts';
import { handOff } from './handoff.ts';
import { createHeartbeat } from './heartbeat.ts';
import { recoverOrphans } from './orphanRecovery.ts';
import { createOwnership } from './ownership.ts';
import { createPeerJudge } from './peerJudge.ts';
import type { Coordinator, CoordinatorDeps } from './types.ts';

export type { Coordinator, CoordinatorConfig, CoordinatorDeps, CoordinatorStats } from './types.ts';

/**
 * Claims WAITING jobs, plans them, dispatches their tasks in a bounded window, verifies and
 * records the outcome. All state comes from the projection; local maps only track what is in
 * flight. Every write is a CAS on the job's subject, so a deposed owner cannot write.
 *
 * The parts: claimPass.ts (which jobs to claim), fencedWriter.ts (every write), ownership.ts (which
 * jobs are ours), nextStep.ts and drive.ts (what to do for a job, and doing it: dispatcher.ts,
 * stopJob.ts, verification.ts), heartbeat.ts and orphanRecovery.ts (peers), handoff.ts (on stop).
 */
export function createCoordinator(deps: CoordinatorDeps): Coordinator {
  const cx = createCoordinatorContext(deps, {
    drive: (jobId) => drive(cx, writer, claims, jobId),
    claimPass: () => claims.pass(),
  });
  const { id, config, projection, liveness, clock, log } = cx;
  const writer = createFencedWriter(cx);
  const claims = createClaimPass(cx, writer);
  const ownership = createOwnership(cx, writer, claims);
  const judge = createPeerJudge(clock, config.failureDetectionTimeoutMs);
  const heartbeat = createHeartbeat(cx, judge, () => recoverOrphans(cx, judge, writer));
  let unsubscribe: (() => void) | undefined;

  return {
    id,
    async start() {
      cx.running = true;
      judge.restart();
      unsubscribe = projection.onChange(ownership.onChange);
      await heartbeat.beat();
      cx.wake.scheduleClaims();
      log.info({ capacity: config.runningJobCapacity }, 'coordinator started');
    },
    async stop(opts = {}) {
      if (!cx.running) return;
      cx.running = false;
      cx.lifetime.abort('coordinator stopping');
      heartbeat.stop();
      cx.wake.cancel();
      unsubscribe?.();
      const handoff = opts.handoff ?? true;
      const jobs = [...cx.owned.keys()];
      for (const jobId of jobs) ownership.release(jobId, 'stopping');
      if (handoff) await handOff(cx, jobs);
      await liveness.leave('coord', id).catch(() => undefined);
      log.info({ handedOff: handoff ? jobs.length : 0 }, 'coordinator stopped');
    },
    owned: () => [...cx.owned.keys()],
    stats: () => ({ owned: cx.owned.size, inflightTasks: cx.tasks.total, inflightTasksPerVc: cx.tasks.perVc(), claimPasses: claims.passes }),
  };
}
