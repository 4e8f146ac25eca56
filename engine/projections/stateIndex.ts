import type { JobState } from '../../actors/events.ts';
import { ctxOf, type JobEntry } from './jobEntry.ts';
import { createWaitingQueue, type WaitingQueue } from './waitingQueue.ts';

export interface VirtualClusterCounts {
  waiting: number;
  active: number;
  total: number;
}

/**
 * Jobs by their current state: counts per state and per virtual cluster, the WAITING queues (all,
 * and per virtual cluster) and the active jobs. The projection takes a job out under its old state
 * and puts it back under the new one each time the state changes.
 */
export interface StateIndex {
  /** Adds (on) or takes away (off) the entry's current state. */
  set(e: JobEntry, on: boolean): void;
  countByState(state: JobState): number;
  /** Live: the same map, kept up to date. */
  virtualClusterCounts(): ReadonlyMap<string, VirtualClusterCounts>;
  waiting(virtualCluster?: string): Generator<JobEntry>;
  active(): IterableIterator<JobEntry>;
}

/** RUNNING, PAUSED and VERIFYING jobs have an owner (a coordinator). */
const isActive = (st: JobState) => st === 'RUNNING' || st === 'PAUSED' || st === 'VERIFYING';

/**
 * `virtualClusters`: the order in which {@link StateIndex.virtualClusterCounts} lists them, when the
 * index is rebuilt from a checkpoint (each must then get at least one job).
 */
export function createStateIndex(virtualClusters: readonly string[] = []): StateIndex {
  const counts = new Map<JobState, number>();
  const vcCounts = new Map<string, VirtualClusterCounts>(virtualClusters.map((vc) => [vc, { waiting: 0, active: 0, total: 0 }]));
  const waitingAll = createWaitingQueue();
  const waitingByVc = new Map<string, WaitingQueue>();
  const active = new Map<string, JobEntry>();

  return {
    set(e, on) {
      const d = on ? 1 : -1;
      counts.set(e.state, (counts.get(e.state) ?? 0) + d);
      const vc = ctxOf(e).virtualCluster;
      let c = vcCounts.get(vc);
      if (!c) vcCounts.set(vc, (c = { waiting: 0, active: 0, total: 0 }));
      c.total += d;
      if (e.state === 'WAITING') {
        c.waiting += d;
        waitingAll.set(e, on);
        let w = waitingByVc.get(vc);
        if (!w) waitingByVc.set(vc, (w = createWaitingQueue()));
        w.set(e, on);
      }
      if (isActive(e.state)) {
        c.active += d;
        if (on) active.set(e.id, e);
        else active.delete(e.id);
      }
      if (c.total === 0) vcCounts.delete(vc);
    },
    countByState: (s) => counts.get(s) ?? 0,
    virtualClusterCounts: () => vcCounts,
    waiting(vc) {
      if (vc === undefined) return waitingAll.entries();
      const w = waitingByVc.get(vc);
      return w ? w.entries() : none();
    },
    active: () => active.values(),
  };
}

function* none(): Generator<JobEntry> {}
