import { TERMINAL_STATES } from '../../actors/events.ts';
import type { Clock } from '../clock.ts';
import { isAppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { planPass, type RetentionAction } from './planPass.ts';
import type { RemovalReconciler } from './removalReconciler.ts';
import type { Removal } from './removal.ts';
import { createRemover } from './removeJobs.ts';
import type { EffectiveRule } from './retentionRules.ts';

/** A job retention has just removed (what its cleanup needs). */
export interface RemovedJob {
  id: string;
  type: string;
  spec: Record<string, unknown>;
}

/** What one pass did. */
export interface RetentionPassResult {
  /** JobCompacted records this process appended. */
  compacted: number;
  /** Jobs dropped from this process's projection (also those another writer removed before this process could read it: removalReconciler.ts). */
  removed: number;
  /** Jobs whose `.task`/`.hook` records outlived their `.ev` (a crash between purges) and were purged now. */
  strays: number;
}

export interface RetentionPassDeps {
  projection: JobProjection;
  clock: Clock;
  logger: Logger;
  writer: boolean;
  ruleOf: (type: string) => EffectiveRule;
  limit: number;
  concurrency: number;
  compact: (e: JobEntry) => Promise<boolean>;
  removal: Removal;
  reconciler: RemovalReconciler;
  /** Bumped by stop(): a pass started before it stops picking up jobs. */
  generation: () => number;
  /** Told what each finished pass did. */
  passListeners: ReadonlySet<(result: RetentionPassResult) => void>;
  /** Cleans up what a purged job leaves outside the stream (RetentionOptions.afterRemove). */
  afterRemove?: (job: RemovedJob) => Promise<void>;
}

/**
 * One retention pass: the planned compactions (and the compactions removals need first) through a
 * pool of `concurrency` requests, then the removals (removeJobs.ts: notice, purges, notice), the
 * strays, then the reconcile of removals this process missed. An unavailable store cuts the pass
 * short; the next one picks up.
 */
export function createRetentionPass(deps: RetentionPassDeps): () => Promise<RetentionPassResult> {
  const { projection, clock, logger, writer, ruleOf, limit, concurrency, compact, removal, reconciler, passListeners } = deps;
  const { purgeStray } = removal;
  /** Stray ids taken from the projection and not yet settled (kept across passes while the store is away). */
  const strays = new Set<string>();
  const remover = createRemover({
    removal,
    logger,
    concurrency,
    afterPurge: async (entry) => {
      const c = entry.snapshot.context as { type: string; spec: Record<string, unknown> };
      await deps.afterRemove?.({ id: entry.id, type: c.type, spec: c.spec }).catch((err: unknown) => logger.warn({ err, jobId: entry.id }, 'retention removed a job but could not clean up what it left outside the stream (task output, documents)'));
    },
  });

  async function pass(): Promise<RetentionPassResult> {
    const t0 = clock.monotonic();
    const gen = deps.generation();
    const result: RetentionPassResult = { compacted: 0, removed: 0, strays: 0 };
    const actions = planPass(projection, ruleOf, clock.now(), { writer, limit });
    /** Jobs this writer removes once the compactions are done (removeJobs.ts). */
    const removable: JobEntry[] = [];
    let next = 0;
    let unavailable: unknown;
    let conflicts = 0;
    const failed = (err: unknown, what: Record<string, unknown>) => {
      if (isAppError(err, 'CONFLICT')) conflicts++; // another writer compacted it (or announced first), or it changed: next pass
      else if (isAppError(err, 'UNAVAILABLE')) unavailable ??= err; // the store is away: stop this pass
      else logger.error({ err, ...what }, 'retention failed on a job; retrying next pass');
    };
    const work = async () => {
      while (next < actions.length && unavailable === undefined && gen === deps.generation()) {
        const { kind, entry } = actions[next++] as RetentionAction;
        try {
          if (kind === 'compact') {
            if (await compact(entry)) result.compacted++;
          } else {
            // it may have changed while earlier actions ran (a recovered job is WAITING again)
            if (projection.get(entry.id) !== entry || !TERMINAL_STATES.has(entry.state)) continue;
            // A purge has no CAS. Compact first (a CAS on what we saw): a recover that landed
            // unseen fails it, and once compacted a job can no longer be recovered, so the purge
            // cannot delete a live run (found by test/sim with a lagging writer).
            if (writer && !(entry.snapshot.context as { compacted?: boolean }).compacted && !(await compact(entry))) continue;
            if (writer) removable.push(entry);
            else if (projection.remove(entry.id)) result.removed++;
          }
        } catch (err) {
          failed(err, { jobId: entry.id, kind });
        }
      }
    };
    // removals without a writer are synchronous: no need for a pool
    await Promise.all(Array.from({ length: writer ? Math.min(concurrency, actions.length) : 1 }, work));
    if (writer && unavailable === undefined && gen === deps.generation()) {
      try {
        const { purged } = await remover.remove(removable, () => gen !== deps.generation());
        // the notice has dropped them from the projection already, unless this process lags behind it
        for (const e of purged) if (projection.get(e.id) === e) projection.remove(e.id);
        result.removed += purged.length;
      } catch (err) {
        failed(err, { jobs: removable.length, kind: 'remove' });
      }
    }
    const taken = projection.takeStrays();
    if (writer) {
      for (const id of taken) strays.add(id);
      for (const id of [...strays]) {
        if (unavailable !== undefined || gen !== deps.generation()) break;
        try {
          if (await purgeStray(id)) result.strays++;
          strays.delete(id);
        } catch (err) {
          if (isAppError(err, 'UNAVAILABLE')) unavailable ??= err; // kept for the next pass
          else {
            strays.delete(id);
            logger.error({ err, jobId: id }, 'retention could not purge stray task/hook records');
          }
        }
      }
    }
    if (unavailable === undefined && gen === deps.generation()) {
      try {
        result.removed += await reconciler.check();
      } catch (err) {
        // a reset store is storeGuard's alarm, not ours to repeat every pass
        if (isAppError(err, 'UNAVAILABLE') || isAppError(err, 'STATE_STORE_RESET')) unavailable ??= err;
        else logger.error({ err }, 'retention could not reconcile the projection with the store; retrying next pass');
      }
    }
    const ms = Math.round(clock.monotonic() - t0);
    if (unavailable !== undefined) logger.warn({ err: unavailable, ...result, ms }, 'retention pass cut short: event store unavailable; retrying next pass');
    else if (result.compacted + result.removed + result.strays + conflicts > 0) logger.info({ ...result, conflicts, ms }, 'retention pass');
    for (const l of passListeners) l(result);
    return result;
  }

  return pass;
}
