/**
 * A coordinator's dispatch window: how many tasks it may have in flight (`maxTasksPerWorker` × live
 * workers), how many it has, in total and per virtual cluster, and whether one more task of a VC
 * fits that VC's share of the workers (engine/quota/taskShares.ts).
 */
import { cachedSlots, type VirtualClusterDef } from '../quota/shares.ts';
import { mayDispatch } from '../quota/taskShares.ts';

/** Options of {@link createTaskWindow}. */
export interface TaskWindowOptions {
  maxTasksPerWorker: number;
  /** Workers alive now (at least one is assumed). */
  liveWorkers: () => number;
  /** The effective virtual clusters (`default` included). */
  virtualClusters: () => readonly VirtualClusterDef[];
}

export interface TaskWindow {
  /** Tasks in flight, over all VCs. */
  readonly total: number;
  /** Counts `n` tasks (negative: answered or dropped) in or out of flight for a job of `vc`. */
  count(vc: string, n: number): void;
  /**
   * A check for one dispatch pass (the window and the shares are read once): may one more task of
   * `vc` go, given the VCs of other jobs waiting for a slot (`wanting`, read only when needed)?
   */
  pass(): (vc: string, wanting: () => Iterable<string>) => boolean;
  /** Tasks in flight per VC (a copy); VCs with none are absent. */
  perVc(): Map<string, number>;
}

export function createTaskWindow(opts: TaskWindowOptions): TaskWindow {
  let total = 0;
  const inflight = new Map<string, number>();
  const slotsFor = cachedSlots(opts.virtualClusters);
  return {
    get total() {
      return total;
    },
    count(vc, n) {
      total += n;
      const k = (inflight.get(vc) ?? 0) + n;
      if (k > 0) inflight.set(vc, k);
      else inflight.delete(vc);
    },
    pass() {
      const limit = opts.maxTasksPerWorker * Math.max(1, opts.liveWorkers());
      const slots = slotsFor(limit);
      return (vc, wanting) => mayDispatch(vc, { limit, total, inflight, slots, wanting: wanting() });
    },
    perVc: () => new Map(inflight),
  };
}
