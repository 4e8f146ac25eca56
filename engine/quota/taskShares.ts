/**
 * Virtual-cluster shares of the workers. Claims share running-job slots (`claimQuota.ts`); this
 * shares the task slots a coordinator dispatches into (its window: maxTasksPerWorker × live
 * workers), so one large job cannot take every worker from the other VCs. Pure: the coordinator
 * keeps the counts and asks before each dispatch.
 */
import { DEFAULT_VIRTUAL_CLUSTER, type VcSlots } from './shares.ts';

/** The share a VC's tasks count against: its own when defined, else `default`'s. */
export function shareOf(vc: string, slots: ReadonlyMap<string, VcSlots>): string {
  return slots.has(vc) ? vc : DEFAULT_VIRTUAL_CLUSTER;
}

/** Tasks in flight under `share`: those of the VC itself plus, for `default`, of undefined VCs. */
function usedBy(share: string, inflight: ReadonlyMap<string, number>, slots: ReadonlyMap<string, VcSlots>): number {
  let n = 0;
  for (const [vc, k] of inflight) if (shareOf(vc, slots) === share) n += k;
  return n;
}

/** What {@link mayDispatch} looks at. */
export interface DispatchRoom {
  /** Task slots of the window (`vcSlots` of it gives `slots`). */
  limit: number;
  /** Tasks in flight now, over all VCs. */
  total: number;
  /** Tasks in flight per VC (as the jobs name it). */
  inflight: ReadonlyMap<string, number>;
  /** Guaranteed and max task slots per VC, out of `limit`. */
  slots: ReadonlyMap<string, VcSlots>;
  /** VCs (as jobs name them) with tasks that are ready but could not be dispatched. */
  wanting: Iterable<string>;
}

/**
 * Whether one more task of `vc` may be dispatched: the window has room, the VC is below its max
 * share, and it is either below its guaranteed share or leaves room for the guarantees of the
 * other VCs that are waiting for slots. Nothing is preempted: tasks in flight run to the end, so a
 * VC that borrowed idle slots gives them back as its tasks finish. A VC with no share at all
 * (neither defined nor `default`) is bounded by the window only: its job was claimed already.
 */
export function mayDispatch(vc: string, room: DispatchRoom): boolean {
  const { limit, total, inflight, slots } = room;
  if (total >= limit) return false;
  const share = shareOf(vc, slots);
  const s = slots.get(share);
  if (s === undefined) return true;
  const used = usedBy(share, inflight, slots);
  // A VC set to 0 % is being retired: nothing more is claimed from it, but the jobs it has running
  // must still finish, so they keep one task in flight.
  if (used >= Math.max(1, s.max)) return false;
  if (used < s.guaranteed) return true;
  let reserved = 0;
  const counted = new Set([share]);
  for (const w of room.wanting) {
    const ws = shareOf(w, slots);
    if (counted.has(ws)) continue;
    counted.add(ws);
    reserved += Math.max(0, (slots.get(ws)?.guaranteed ?? 0) - usedBy(ws, inflight, slots));
  }
  return total + reserved < limit;
}
