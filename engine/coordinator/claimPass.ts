/**
 * Claiming WAITING jobs: which ones fit this coordinator's room and the cluster's VC shares, and the
 * claim itself (plan the tasks if the job has none yet, then claim, or fail it when it cannot be
 * planned). A job being claimed stays counted against its VC until the projection shows it as ours.
 */
import type { TaskPlan } from '../../actors/events.ts';
import type { JobCommand } from '../../actors/decide.ts';
import { isAppError } from '../errors.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { claimQueue } from '../quota/claimQuota.ts';
import { provenCoordinators } from '../quota/provenCoordinators.ts';
import { cachedSlots } from '../quota/shares.ts';
import { ctxOf, type CoordinatorContext } from './context.ts';
import type { FencedWriter } from './fencedWriter.ts';
import { countLiveCoordinators } from './heartbeat.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';

export interface ClaimPass {
  /** Claims what fits now (see {@link createClaimPass}). */
  pass(): void;
  /** Forgets a claim in flight (it succeeded and the job is ours, or it is moot). */
  unclaim(jobId: string): void;
  isClaiming(jobId: string): boolean;
  /** Claim passes run since start (each may claim several jobs, or none). */
  readonly passes: number;
}

/**
 * Claims WAITING jobs within this coordinator's room (runningJobCapacity − owned − claiming) and
 * within the VC shares of the whole cluster (total slots = runningJobCapacity × live
 * coordinators, counting only peers seen to heartbeat since we started: {@link provenCoordinators}):
 * first VCs below their guaranteed share, then VCs borrowing up to their max.
 * Shares are judged on the projection plus our own claims in flight; peers claiming at the same
 * moment do not see each other's claims, so concurrent coordinators may overshoot a VC's max
 * by at most their concurrent claims (it settles as those jobs finish: nobody claims above max).
 */
export function createClaimPass(cx: CoordinatorContext, writer: FencedWriter): ClaimPass {
  const { id, config, projection, registry, roots, log } = cx;
  /** Jobs being claimed (planning or appending) → the VC whose share the claim counts against. */
  const claiming = new Map<string, string>();
  /** VC → our claims in flight, so one pass (or the next, before the projection has them) does not overshoot. */
  const claimingPerVc = new Map<string, number>();
  const slotsFor = cachedSlots(cx.virtualClusters);
  let passes = 0;
  /** Revision of our own heartbeat when our liveness view first showed it (lowered if the bucket's sequence went back). */
  let firstBeatRevision: number | undefined;
  const priorityOf = (e: JobEntry) => ctxOf(e).priority;
  const planDefaults = { batchSize: config.defaultBatchSize, partitionSizeBytes: config.defaultPartitionSizeBytes };

  function unclaim(jobId: string) {
    const vc = claiming.get(jobId);
    if (vc === undefined) return;
    claiming.delete(jobId);
    const n = (claimingPerVc.get(vc) ?? 1) - 1;
    if (n > 0) claimingPerVc.set(vc, n);
    else claimingPerVc.delete(vc);
  }

  function pass() {
    if (!cx.running) return;
    let room = config.runningJobCapacity - cx.owned.size - claiming.size;
    if (room <= 0) return;
    passes++;
    // Counted now, not at the last heartbeat: a heartbeat stuck in an outage would keep a dead peer's
    // slots in the total (found by test/sim: one coordinator took a VC to three times its max).
    cx.liveCoordinators = countLiveCoordinators(cx);
    const alive = cx.liveness.alive('coord', config.failureDetectionTimeoutMs);
    const own = alive.find((x) => x.id === id)?.revision;
    if (own !== undefined && (firstBeatRevision === undefined || own < firstBeatRevision)) firstBeatRevision = own;
    // Dead peers' keys left in the bucket do not count (found by test/sim seed 325039403: two
    // coordinators started after two crashed counted four, and took a VC to twice its max share).
    const coordinators = provenCoordinators(alive, id, firstBeatRevision);
    // Peers that may be alive but have not beaten since we started: count again once they have.
    if (coordinators < cx.liveCoordinators) cx.wake.retryClaimsLater();
    const { order } = claimQueue({
      slotsFor, runningJobCapacity: config.runningJobCapacity, coordinators, counts: projection.virtualClusterCounts(), claiming: claimingPerVc,
      waiting: (name) => projection.waiting(name), priorityOf, skip: (e) => claiming.has(e.id) || writer.busy(e.id),
    });
    for (const { entry: e, vc } of order) {
      claiming.set(e.id, vc);
      claimingPerVc.set(vc, (claimingPerVc.get(vc) ?? 0) + 1);
      void claim(e.id);
      if (--room <= 0) break;
    }
  }

  async function claim(jobId: string) {
    let keep = false;
    try {
      const e0 = projection.get(jobId);
      if (!e0 || e0.state !== 'WAITING') return;
      const ctx0 = ctxOf(e0);
      const type = registry.get(ctx0.type);
      let tasks: TaskPlan[] | undefined;
      let cursor: unknown;
      let failure: { code: string; message: string } | undefined;
      if (!type) failure = { code: 'UNKNOWN_JOB_TYPE' satisfies JobFailureCode, message: `no job type ${ctx0.type} on coordinator ${id}` };
      else if (ctx0.tasks === null) {
        try {
          const planCx = { jobId, roots, signal: cx.lifetime.signal, defaults: planDefaults };
          if (type.openPlan !== undefined) ({ tasks, cursor } = await type.openPlan(ctx0.spec, planCx));
          else tasks = await type.plan(ctx0.spec, planCx);
        } catch (err) {
          failure = { code: isAppError(err) ? err.code : 'PLAN_FAILED' satisfies JobFailureCode, message: err instanceof Error ? err.message : String(err) };
        }
      }
      const e = projection.get(jobId);
      if (!e || e.state !== 'WAITING' || !cx.running) return;
      const cmds: JobCommand[] = [{ kind: 'claim', coordinatorId: id, ...(tasks ? { tasks } : {}), ...(cursor !== undefined ? { cursor } : {}) }];
      if (failure) cmds.push({ kind: 'finish', outcome: 'failed', error: failure });
      keep = (await writer.write(e, cmds)) && !failure;
      if (keep) log.debug({ jobId, tasks: tasks?.length }, 'claimed');
    } finally {
      // On success the job stays in `claiming` until the projection shows it as ours.
      if (!keep) {
        unclaim(jobId);
        cx.wake.retryClaimsLater();
      }
    }
  }

  return {
    pass,
    unclaim,
    isClaiming: (jobId) => claiming.has(jobId),
    get passes() {
      return passes;
    },
  };
}
