/**
 * A follower never hears of a removal it was too late to read. Retention removes a job by purging
 * its subjects; a projection that had not yet read the job's last records (a lagging API process, a
 * coordinator replaying) skips them, since deleted records are never delivered, and keeps the job
 * as it last saw it: STOPPED but not compacted, or even RUNNING, holding a running slot and showing
 * in lists, for as long as the process lives (found by test/sim: seeds 210895484 and 1062622884).
 *
 * Such a miss always leaves a trace: a gap in the sequences the projection applied (records after
 * the deleted ones arrived), or a stream head the projection never reaches (the deleted records
 * were the newest). When either shows, the reconciler lists the `.ev` subjects the store still
 * holds and forgets every job whose subject is gone. Purging `.ev` is what removal does and nothing
 * else does (a rollup keeps its record), so a missing subject means a removed job.
 */
import type { EventLog } from '../eventlog/eventLog.ts';
import type { Logger } from '../log.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { jobEvSubject } from '../subjects.ts';

/** Every job's event subject. */
const JOB_EV_FILTER = 'job.*.ev';

export interface RemovalReconciler {
  /**
   * Called once per retention pass: reconciles if a gap was seen since the last time, or if the
   * stream head seen by the previous call was never reached; then notes the head. Resolves with the
   * number of jobs forgotten.
   */
  check(): Promise<number>;
}

export function createRemovalReconciler(opts: { eventLog: EventLog; projection: JobProjection; logger: Logger }): RemovalReconciler {
  const { eventLog, projection, logger } = opts;
  let reconciledGaps = 0;
  /** A stream head the projection had not reached at the last check (the tail may have been deleted). */
  let suspectHead: number | undefined;
  /** The head when we last reconciled: a tail deleted before it is settled. */
  let reconciledHead = 0;

  /** Forgets the removed jobs; resolves with how many, and the stream head it read. */
  async function reconcile(): Promise<{ dropped: number; head: number }> {
    const upTo = projection.lastSeq();
    const gaps = projection.gapsSeen;
    const present = await eventLog.listSubjects(JOB_EV_FILTER);
    const head = await eventLog.lastSeq();
    // A store that went backwards was reset: not a removal (storeGuard reports it).
    if (head < upTo) return { dropped: 0, head };
    // Only jobs last seen before the listing: a record applied meanwhile may be newer than it.
    const candidates: JobEntry[] = [];
    for (const e of projection.all()) if (e.lastEvSeq <= upTo && !present.has(jobEvSubject(e.id))) candidates.push(e);
    let dropped = 0;
    for (const e of candidates) {
      // A listing of many subjects comes in pages, each sorted anew: a purge between two pages can
      // shift live subjects out of it. Ask for each candidate itself before forgetting it.
      if ((await eventLog.readSubject(jobEvSubject(e.id))).length > 0) continue;
      if (projection.get(e.id) === e && projection.remove(e.id)) dropped++;
    }
    reconciledGaps = gaps;
    reconciledHead = head;
    if (dropped > 0) logger.info({ dropped, upToSeq: upTo }, 'projection reconciled: forgot jobs removed by retention before this process could read it');
    return { dropped, head };
  }

  return {
    async check() {
      const tailLost = suspectHead !== undefined && projection.lastSeq() < suspectHead;
      // one stream-head read per pass: the reconcile's, when it ran
      const { dropped, head } = projection.gapsSeen !== reconciledGaps || tailLost ? await reconcile() : { dropped: 0, head: await eventLog.lastSeq() };
      suspectHead = head > projection.lastSeq() && head > reconciledHead ? head : undefined;
      return dropped;
    },
  };
}
