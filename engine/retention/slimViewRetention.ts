/**
 * Retention in a worker-only process (decision 0012 F2). It writes nothing and keeps no projection:
 * its slim job view (engine/projections/slimJobView.ts) forgets removed jobs on their `JobsRemoved`
 * notices. A pass makes up for the notices the view missed. The notice subject is rolled up, so a
 * view that lagged behind the notices of two removals never read the first one's, and the second
 * does not name its jobs; the view follows only some subjects, so it sees no gap in sequences either
 * (the full projection's trigger, removalReconciler.ts). It sees the miss in the notice it did read
 * (its `sinceSeq` is above the last notice it read), and a pass then lists the `.ev` subjects the
 * store holds and forgets each held job, submitted before the missed notices, whose subject is gone.
 * Before this, a worker kept such jobs until it restarted (~140 B each; found by
 * test/sim/skewedClocks.test.ts, seed 539230714: two writers removed jobs a few records apart, and a
 * worker a few records behind read only the second removal's notices). A pass with nothing missed
 * does no I/O; nor does one whose view holds no job submitted before the missed notices. A process
 * that starts replays only the newest notice, so after any earlier removal its first pass lists the
 * subjects once (it cannot tell whether a removal raced its replay), as a full projection's first
 * pass does on the gaps its replay saw; a listing is one name per stored job, less than the replay.
 */
import type { Clock } from '../clock.ts';
import { isAppError } from '../errors.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { Logger } from '../log.ts';
import type { SlimJobView } from '../projections/slimJobView.ts';
import { jobEvSubject } from '../subjects.ts';
import { createPassLoop } from './passLoop.ts';
import type { Retention, RetentionPassResult } from './retention.ts';

/** Every job's event subject. */
const JOB_EV_FILTER = 'job.*.ev';

/** Options of {@link createSlimViewRetention}. */
export interface SlimViewRetentionOptions {
  view: SlimJobView;
  eventLog: EventLog;
  clock: Clock;
  logger: Logger;
  /** Time between passes (`retentionIntervalMs`). */
  intervalMs: number;
}

/** Forgets the jobs of notices the view missed; resolves with how many (0 at once when none was missed). */
export function createSlimViewReconciler(opts: Pick<SlimViewRetentionOptions, 'view' | 'eventLog' | 'logger'>): { check(): Promise<number> } {
  const { view, eventLog, logger } = opts;
  /** Missed notices already reconciled. */
  let handled = 0;

  async function check(): Promise<number> {
    const { notices, belowSeq } = view.missedRemovals();
    if (notices === handled) return 0;
    const upTo = view.lastSeq();
    // a missed notice named only jobs submitted before it: later ones are not suspects
    const suspects = view.held().filter(([, job]) => job.submitSeq < belowSeq);
    if (suspects.length === 0) {
      handled = notices;
      return 0;
    }
    const present = await eventLog.listSubjects(JOB_EV_FILTER);
    // A store that went backwards was reset: not a removal (storeGuard reports it). Retried next pass.
    if ((await eventLog.lastSeq()) < upTo) return 0;
    let dropped = 0;
    for (const [id, job] of suspects) {
      if (present.has(jobEvSubject(id))) continue;
      // A listing of many subjects comes in pages, each sorted anew: a purge between two pages can
      // shift live subjects out of it. Ask for each suspect itself before forgetting it.
      if ((await eventLog.readSubject(jobEvSubject(id))).length > 0) continue;
      // forget() leaves a newer run of the id that the view read meanwhile
      if (view.forget(id, job)) dropped++;
    }
    if (dropped > 0) logger.info({ dropped, upToSeq: upTo }, 'slim job view reconciled: forgot jobs removed by retention whose notice was rolled up before this process read it');
    handled = notices;
    return dropped;
  }

  return { check };
}

/** The retention of a worker-only process: a pass every `intervalMs` that runs the reconcile above. */
export function createSlimViewRetention(opts: SlimViewRetentionOptions): Retention {
  const { clock, logger, intervalMs } = opts;
  const reconciler = createSlimViewReconciler(opts);
  const passListeners = new Set<(result: RetentionPassResult) => void>();

  async function pass(): Promise<RetentionPassResult> {
    const result: RetentionPassResult = { compacted: 0, removed: 0, strays: 0 };
    try {
      result.removed = await reconciler.check();
    } catch (err) {
      if (isAppError(err, 'UNAVAILABLE') || isAppError(err, 'STATE_STORE_RESET')) logger.warn({ err }, 'retention pass cut short: event store unavailable; retrying next pass');
      else logger.error({ err }, 'retention could not reconcile the slim job view with the store; retrying next pass');
    }
    for (const l of passListeners) l(result);
    return result;
  }

  const loop = createPassLoop({ clock, logger, intervalMs, pass });

  return {
    ...loop,
    onPass(listener) {
      passListeners.add(listener);
      return () => void passListeners.delete(listener);
    },
  };
}
