/**
 * Retention (issue 5 §6): terminal jobs are compacted to one snapshot event, then removed by age
 * and/or count, per job type. Every process runs the same rule over the same stream, so every
 * projection drops the same jobs (memory stays flat on API-only processes too); only writers
 * (coordinator-role processes) touch the stream. Several writers may run: the compaction is a
 * CAS append (one wins), purges are idempotent.
 *
 * The parts: retentionRules.ts (each job type's rule), planPass.ts (which jobs a pass takes),
 * compaction.ts, removal.ts (purges and JobsRemoved notices), removeJobs.ts (the order of a removal:
 * notice, purges, notice, and what a writer that died midway left), removalReconciler.ts (removals
 * this process missed), retentionPass.ts (one pass); this file schedules the passes. A worker-only
 * process has no projection: its passes are slimViewRetention.ts.
 */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { Logger } from '../log.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { createCompaction } from './compaction.ts';
import { createPassLoop } from './passLoop.ts';
import { createRemoval } from './removal.ts';
import { createRemovalReconciler } from './removalReconciler.ts';
import { createRetentionPass, type RemovedJob, type RetentionPassResult } from './retentionPass.ts';
import { retentionRules } from './retentionRules.ts';

export { planPass } from './planPass.ts';
export type { RemovedJob, RetentionPassResult } from './retentionPass.ts';
export { retentionRules, type EffectiveRule } from './retentionRules.ts';

/** Jobs compacted or removed in one pass at most, so a pass stays short. */
export const DEFAULT_MAX_JOBS_PER_PASS = 5_000;
/** Stream requests (appends, purges) a writer keeps in flight during a pass. */
export const DEFAULT_CONCURRENCY = 16;

/** The settings retention reads (engine/config.ts documents them). */
export type RetentionConfig = Pick<Config, 'compactAfterMs' | 'retentionMaxAgeMs' | 'retentionMaxCount' | 'retentionByType' | 'retentionIntervalMs'>;

/** Options of {@link createRetention}. */
export interface RetentionOptions {
  eventLog: EventLog;
  projection: JobProjection;
  config: RetentionConfig;
  clock: Clock;
  logger: Logger;
  /** Appends compactions and purges subjects; false = only drop removed jobs from the projection. */
  writer: boolean;
  /** `meta.actor` of JobCompacted. @defaultValue 'retention' */
  actor?: string;
  /** @defaultValue {@link DEFAULT_MAX_JOBS_PER_PASS} */
  maxJobsPerPass?: number;
  /** @defaultValue {@link DEFAULT_CONCURRENCY} */
  concurrency?: number;
  /**
   * What a removed job leaves outside its subjects (its task output, documents its type keeps),
   * cleaned up by the writer once the job is purged; best effort (a failure is logged, not retried).
   */
  afterRemove?: (job: RemovedJob) => Promise<void>;
}


export interface Retention {
  /** Runs a pass every `retentionIntervalMs` (the first one after one interval). */
  start(): void;
  /** No new pass starts; a running one stops picking up jobs. */
  stop(): void;
  /** One pass now (joins the running one if any). */
  runOnce(): Promise<RetentionPassResult>;
  /** Called with what each finished pass did (metrics). */
  onPass(listener: (result: RetentionPassResult) => void): () => void;
}

/** Creates the retention loop of one process (see the module comment). */
export function createRetention(opts: RetentionOptions): Retention {
  const { eventLog, projection, clock, logger, writer } = opts;
  const ruleOf = retentionRules(opts.config);
  const intervalMs = opts.config.retentionIntervalMs;
  const actor = opts.actor ?? 'retention';
  /** Bumped by stop(): a pass started before it stops picking up jobs. */
  let generation = 0;
  const passListeners = new Set<(result: RetentionPassResult) => void>();
  const pass = createRetentionPass({
    projection,
    clock,
    logger,
    writer,
    ruleOf,
    limit: opts.maxJobsPerPass ?? DEFAULT_MAX_JOBS_PER_PASS,
    concurrency: Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY),
    compact: createCompaction({ eventLog, clock, actor }),
    removal: createRemoval({ eventLog, projection, clock, actor }),
    reconciler: createRemovalReconciler({ eventLog, projection, logger }),
    generation: () => generation,
    passListeners,
    ...(opts.afterRemove !== undefined ? { afterRemove: opts.afterRemove } : {}),
  });

  const loop = createPassLoop({ clock, logger, intervalMs, pass });

  return {
    runOnce: loop.runOnce,
    onPass(listener) {
      passListeners.add(listener);
      return () => void passListeners.delete(listener);
    },
    start: loop.start,
    stop() {
      loop.stop();
      generation++;
    },
  };
}
