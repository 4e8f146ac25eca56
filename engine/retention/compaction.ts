import { decide } from '../../actors/decide.ts';
import type { Clock } from '../clock.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { jobEvSubject, jobTaskSubject } from '../subjects.ts';

/**
 * Compaction of a terminal job to one snapshot event. Resolves false when there is nothing to
 * compact; a CAS loss (another writer compacted it, or it changed) throws CONFLICT.
 */
export function createCompaction(deps: { eventLog: EventLog; clock: Clock; actor: string }): (e: JobEntry) => Promise<boolean> {
  const { eventLog, clock, actor } = deps;

  /** Appends JobCompacted as a rollup of job.<id>.ev (CAS on what we folded), then drops the task outcomes. */
  async function compact(e: JobEntry): Promise<boolean> {
    const d = decide({ kind: 'compact', submitSeq: e.submitSeq }, e.snapshot, { actor, at: new Date(clock.now()).toISOString(), reason: 'retention' });
    if (!d.ok || d.events.length === 0) return false; // e.g. changed meanwhile (recovered): next pass decides again
    await eventLog.append(jobEvSubject(e.id), d.events, { rollup: true, expectedLastSubjectSeq: e.lastEvSeq });
    // After the rollup: a crash before this purge leaves task outcomes until the job is removed.
    await eventLog.purge(jobTaskSubject(e.id));
    return true;
  }

  return compact;
}
