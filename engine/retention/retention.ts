/**
 * Retention (issue 5 §6): terminal jobs are compacted to one snapshot event, then removed by age
 * and/or count, per job type. Every process runs the same rule over the same stream, so every
 * projection drops the same jobs (memory stays flat on API-only processes too); only writers
 * (coordinator-role processes) touch the stream. Several writers may run: the compaction is a
 * CAS append (one wins), purges are idempotent.
 */
import { decide } from '../../actors/decide.ts';
import { EVENT_SCHEMA_VERSION, TERMINAL_STATES, type JobsRemoved } from '../../actors/events.ts';
import type { Clock } from '../clock.ts';
import { parseRetentionByType, type Config, type RetentionRule } from '../config.ts';
import { isAppError } from '../errors.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { Logger } from '../log.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { jobEvSubject, jobHookSubject, jobTaskSubject, RETENTION_REMOVED_SUBJECT } from '../subjects.ts';
import { createRemovalReconciler } from './removalReconciler.ts';

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

/** A job type's effective rule: the per-type override over the global settings. */
export interface EffectiveRule {
  compactAfterMs: number;
  /** 0 = never by age. */
  maxAgeMs: number;
  /** 0 = no count limit. */
  maxCount: number;
}

type Action = { kind: 'compact' | 'remove'; entry: JobEntry };

/** Resolves the rule of each job type (memoized; the overrides are parsed once). */
export function retentionRules(config: RetentionConfig): (type: string) => EffectiveRule {
  const overrides: Record<string, RetentionRule> = parseRetentionByType(config.retentionByType);
  const global: EffectiveRule = Object.freeze({
    compactAfterMs: config.compactAfterMs,
    maxAgeMs: config.retentionMaxAgeMs,
    maxCount: config.retentionMaxCount,
  });
  const cache = new Map<string, EffectiveRule>();
  return (type) => {
    let rule = cache.get(type);
    if (rule === undefined) {
      const o = Object.hasOwn(overrides, type) ? overrides[type] : undefined;
      rule = o === undefined ? global : Object.freeze({
        compactAfterMs: o.compactAfterMs ?? global.compactAfterMs,
        maxAgeMs: o.maxAgeMs ?? global.maxAgeMs,
        maxCount: o.maxCount ?? global.maxCount,
      });
      cache.set(type, rule);
    }
    return rule;
  };
}

interface TerminalFacts {
  type: string;
  finishedAtMs: number;
  compacted: boolean;
}

function factsOf(e: JobEntry): TerminalFacts {
  const c = e.snapshot.context as { type: string; finishedAt?: string; compacted?: boolean };
  const finishedAtMs = c.finishedAt === undefined ? NaN : Date.parse(c.finishedAt);
  return { type: c.type, finishedAtMs, compacted: c.compacted === true };
}

/**
 * Picks this pass's work from the projection, synchronously (the projection cannot change
 * meanwhile): removals by age or count, else compactions. "Newest" is submission order.
 */
export function planPass(
  projection: JobProjection,
  ruleOf: (type: string) => EffectiveRule,
  nowMs: number,
  opts: { writer: boolean; limit: number },
): Action[] {
  // terminal jobs per type, for count limits (only counted when some rule has one)
  const totals = new Map<string, number>();
  for (const e of projection.terminal()) {
    const type = (e.snapshot.context as { type: string }).type;
    if (ruleOf(type).maxCount > 0) totals.set(type, (totals.get(type) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  const out: Action[] = [];
  for (const e of projection.terminal()) {
    if (out.length >= opts.limit) break;
    const f = factsOf(e);
    const rule = ruleOf(f.type);
    let overCount = false;
    if (rule.maxCount > 0) {
      const i = (seen.get(f.type) ?? 0) + 1; // 1-based position, oldest first
      seen.set(f.type, i);
      overCount = (totals.get(f.type) ?? 0) - i >= rule.maxCount;
    }
    const age = nowMs - f.finishedAtMs; // NaN (no finishedAt) matches no time rule
    if (overCount || (rule.maxAgeMs > 0 && age >= rule.maxAgeMs)) out.push({ kind: 'remove', entry: e });
    else if (opts.writer && !f.compacted && age >= rule.compactAfterMs) out.push({ kind: 'compact', entry: e });
  }
  return out;
}

/** Creates the retention loop of one process (see the module comment). */
export function createRetention(opts: RetentionOptions): Retention {
  const { eventLog, projection, clock, logger, writer } = opts;
  const ruleOf = retentionRules(opts.config);
  const intervalMs = opts.config.retentionIntervalMs;
  const limit = opts.maxJobsPerPass ?? DEFAULT_MAX_JOBS_PER_PASS;
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  const actor = opts.actor ?? 'retention';
  let running: Promise<RetentionPassResult> | undefined;
  let timer: unknown;
  let started = false;
  /** Bumped by stop(): a pass started before it stops picking up jobs. */
  let generation = 0;

  /** Appends JobCompacted as a rollup of job.<id>.ev (CAS on what we folded), then drops the task outcomes. */
  async function compact(e: JobEntry): Promise<boolean> {
    const d = decide({ kind: 'compact', submitSeq: e.submitSeq }, e.snapshot, { actor, at: new Date(clock.now()).toISOString(), reason: 'retention' });
    if (!d.ok || d.events.length === 0) return false; // e.g. changed meanwhile (recovered): next pass decides again
    await eventLog.append(jobEvSubject(e.id), d.events, { rollup: true, expectedLastSubjectSeq: e.lastEvSeq });
    // After the rollup: a crash before this purge leaves task outcomes until the job is removed.
    await eventLog.purge(jobTaskSubject(e.id));
    return true;
  }

  /**
   * Purges the job's subjects, `.ev` first: a reader between two purges then finds no job (404),
   * never a history without its task outcomes (which folds to an illegal sequence; found by
   * test/sim). A crash between the purges leaves the job's `.task`/`.hook` messages: replay ignores
   * them (their job is unknown) and notes them as strays, which the next pass purges (purgeStray).
   */
  async function purgeJob(id: string): Promise<void> {
    await eventLog.purge(jobEvSubject(id));
    await eventLog.purge(jobTaskSubject(id));
    await eventLog.purge(jobHookSubject(id));
  }

  /**
   * Tells every projection which jobs were removed (JobsRemoved), so that none keeps one until its
   * own clock agrees they are old enough. Rolled up: the stream keeps only the newest notice.
   */
  async function announce(jobs: JobsRemoved['data']['jobs']): Promise<void> {
    const ev: JobsRemoved = { type: 'JobsRemoved', data: { jobs }, meta: { jobId: '', epoch: 0, actor, at: new Date(clock.now()).toISOString(), v: EVENT_SCHEMA_VERSION } };
    await eventLog.append(RETENTION_REMOVED_SUBJECT, [ev], { rollup: true });
  }

  const reconciler = createRemovalReconciler({ eventLog, projection, logger });
  const passListeners = new Set<(result: RetentionPassResult) => void>();
  /** Stray ids taken from the projection and not yet settled (kept across passes while the store is away). */
  const strays = new Set<string>();

  /**
   * Purges the `.task`/`.hook` records of a job the projection does not know, if its `.ev` is empty
   * in the stream: the job was removed and a crash cut purgeJob short. A job with `.ev` records is
   * alive (e.g. this process replayed its task outcomes before the JobCompacted that replaced its
   * history) and is left alone; so is one the projection knows again.
   */
  async function purgeStray(id: string): Promise<boolean> {
    if (projection.get(id) !== undefined) return false;
    if ((await eventLog.readSubject(jobEvSubject(id))).length > 0) return false;
    await eventLog.purge(jobTaskSubject(id));
    await eventLog.purge(jobHookSubject(id));
    return true;
  }

  async function pass(): Promise<RetentionPassResult> {
    const t0 = clock.monotonic();
    const gen = generation;
    const result: RetentionPassResult = { compacted: 0, removed: 0, strays: 0 };
    const actions = planPass(projection, ruleOf, clock.now(), { writer, limit });
    /** Jobs this writer purged: announced to every projection at the end of the pass. */
    const purged: JobsRemoved['data']['jobs'] = [];
    let next = 0;
    let unavailable: unknown;
    let conflicts = 0;
    const work = async () => {
      while (next < actions.length && unavailable === undefined && gen === generation) {
        const { kind, entry } = actions[next++] as Action;
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
            if (writer) {
              await purgeJob(entry.id);
              purged.push({ jobId: entry.id, submitSeq: entry.submitSeq });
            }
            if (projection.remove(entry.id)) result.removed++;
          }
        } catch (err) {
          if (isAppError(err, 'CONFLICT')) conflicts++; // another writer compacted it, or it changed: next pass
          else if (isAppError(err, 'UNAVAILABLE')) unavailable ??= err; // the store is away: stop this pass
          else logger.error({ err, jobId: entry.id, kind }, 'retention failed on a job; retrying next pass');
        }
      }
    };
    // removals without a writer are synchronous: no need for a pool
    await Promise.all(Array.from({ length: writer ? Math.min(concurrency, actions.length) : 1 }, work));
    if (purged.length > 0) await announce(purged).catch((err: unknown) => logger.warn({ err, jobs: purged.length }, 'retention could not announce the jobs it removed; other processes drop them by their own rules'));
    const taken = projection.takeStrays();
    if (writer) {
      for (const id of taken) strays.add(id);
      for (const id of [...strays]) {
        if (unavailable !== undefined || gen !== generation) break;
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
    if (unavailable === undefined && gen === generation) {
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

  function runOnce(): Promise<RetentionPassResult> {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (!started) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      runOnce()
        .catch((err: unknown) => logger.error({ err }, 'retention pass failed'))
        .finally(schedule);
    }, intervalMs);
  }

  return {
    runOnce,
    onPass(listener) {
      passListeners.add(listener);
      return () => void passListeners.delete(listener);
    },
    start() {
      if (started) return;
      started = true;
      schedule();
    },
    stop() {
      started = false;
      generation++;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
