/**
 * How a writer removes jobs so that every process forgets them, even if the writer dies midway.
 *
 * The notice comes first: `JobsRemoved{pending}` (CAS on the newest notice), then the purges, then
 * `JobsRemoved` again without `pending`. Announcing after the purges (as it once did) left a hole: a
 * writer that died between its purges and its notice left no trace of the removal to a process that
 * had already read the job's last records (no gap in its sequences), which kept showing the removed
 * job until its own clock judged it old enough, 30 s later with a writer 30 s ahead (found by
 * test/sim/skewedClocks.test.ts, seed 593629379). The jobs are compacted before the notice, so no
 * recover can re-open them: forgetting them before their purge is safe, and a fresh read in between
 * still finds them in the store.
 *
 * The notice subject is rolled up, so a pending notice must not be replaced by one that drops its
 * jobs: the next writer carries them into its own notice and purges them too (purges are
 * idempotent), and a pending notice no writer replaced within a pass is finished by the next writer
 * that sees it (its writer died, or lost the store).
 */
import { isAppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import type { Removal, RemovedRun } from './removal.ts';

/** Appends of the pending notice that may lose their CAS to another writer's before the pass gives up. */
const NOTICE_ATTEMPTS = 3;

/** What one call did. */
export interface RemovalRound {
  /** This pass's own jobs, purged. */
  purged: JobEntry[];
  /** Jobs of an earlier writer's pending notice this pass purged (or found purged). */
  finished: number;
}

export interface Remover {
  /**
   * Removes `jobs` (terminal and compacted) from the stream, and finishes the removals a pending notice
   * left. Resolves once the notice and the purges are done; rejects with the store's error (what was
   * purged before it is left to the next pass, which finds the notice pending).
   */
  remove(jobs: readonly JobEntry[], stopped: () => boolean): Promise<RemovalRound>;
}

export interface RemoverDeps {
  removal: Removal;
  logger: Logger;
  concurrency: number;
  /** Cleanup after each of `jobs` is purged (best effort: a failure is the callee's to log). */
  afterPurge: (e: JobEntry) => Promise<void>;
}

const key = (r: RemovedRun) => `${r.jobId}@${r.submitSeq}`;

export function createRemover(deps: RemoverDeps): Remover {
  const { removal, logger, concurrency, afterPurge } = deps;
  /** A pending notice seen at a pass that did not finish it: if it is still the newest at the next pass, its writer is gone. */
  let pendingSeen: number | undefined;

  /**
   * Appends the pending notice of `own` plus what the newest pending notice still owes; resolves with
   * its seq, the carried runs, and the `sinceSeq` of the closing notice (which names the same runs).
   */
  async function announcePending(own: RemovedRun[]): Promise<{ seq: number; carried: RemovedRun[]; sinceSeq: number } | undefined> {
    const mine = new Set(own.map(key));
    for (let attempt = 1; ; attempt++) {
      const newest = await removal.readNotice();
      const carried = newest?.pending ? newest.jobs.filter((r) => !mine.has(key(r))) : [];
      // A notice that carries a pending one names all its runs: it makes up for what that one did. A
      // closed one's runs are not carried: a reader that missed it missed them.
      const sinceSeq = newest === undefined ? 0 : newest.pending ? newest.sinceSeq : newest.seq;
      if (own.length === 0) {
        // nothing of our own: finish a pending notice only once it stood for a whole pass (its writer may be at work)
        if (newest === undefined || carried.length === 0 || newest.seq !== pendingSeen) {
          pendingSeen = carried.length > 0 ? newest?.seq : undefined;
          return undefined;
        }
        return { seq: newest.seq, carried, sinceSeq };
      }
      try {
        return { seq: await removal.announce([...own, ...carried], true, newest?.seq ?? 0, sinceSeq), carried, sinceSeq };
      } catch (err) {
        if (!isAppError(err, 'CONFLICT') || attempt >= NOTICE_ATTEMPTS) throw err; // another writer's notice came: read it again
      }
    }
  }

  /** `stopped`: true once the pass must stop picking up work (retention stopped). */
  async function remove(jobs: readonly JobEntry[], stopped: () => boolean): Promise<RemovalRound> {
    const own: RemovedRun[] = jobs.map((e) => ({ jobId: e.id, submitSeq: e.submitSeq }));
    const round: RemovalRound = { purged: [], finished: 0 };
    const notice = await announcePending(own);
    if (notice === undefined) return round;
    pendingSeen = notice.seq; // until the notice that closes it is stored
    const work: (() => Promise<void>)[] = [
      ...jobs.map((e) => async () => {
        await removal.purgeJob(e.id);
        round.purged.push(e);
        await afterPurge(e);
      }),
      ...notice.carried.map((r) => async () => {
        if (await removal.purgeRun(r)) round.finished++;
      }),
    ];
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (next < work.length && failure === undefined && !stopped()) {
        await work[next++]!().catch((err: unknown) => {
          failure ??= err;
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
    if (failure !== undefined) throw failure; // the notice stays pending: the next pass finishes it
    if (next < work.length) return round; // stopped: likewise
    try {
      await removal.announce([...own, ...notice.carried], false, notice.seq, notice.sinceSeq);
    } catch (err) {
      // a newer notice carries our jobs (it was written while ours was pending): nothing more to say
      if (!isAppError(err, 'CONFLICT')) throw err;
    }
    pendingSeen = undefined;
    if (round.finished > 0) logger.info({ jobs: round.finished }, 'retention finished the removals a writer announced and did not complete (it died or lost the store midway)');
    return round;
  }

  return { remove };
}
