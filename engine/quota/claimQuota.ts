/**
 * Which virtual cluster (VC) a coordinator claims its next job from. Pure: the coordinator feeds it
 * the cluster-wide counts from the projection and its own claims in flight.
 */
import { DEFAULT_VIRTUAL_CLUSTER, type VcSlots } from './shares.ts';

/** One VC as the claim pass sees it. */
export interface QuotaBucket {
  name: string;
  guaranteed: number;
  max: number;
  /** Jobs running under this VC's share: active cluster-wide plus our claims in flight. */
  used: number;
  /** VCs whose waiting jobs run under this share: itself, plus undefined VCs for `default`. */
  sources: string[];
}

/**
 * One bucket per defined VC. Jobs of a VC that is no longer defined run (and count) under
 * `default`'s share; if `default` is missing from `slots` they get no bucket (never claimed).
 */
export function quotaBuckets(
  slots: ReadonlyMap<string, VcSlots>,
  counts: ReadonlyMap<string, { waiting: number; active: number }>,
  claiming: ReadonlyMap<string, number>,
): QuotaBucket[] {
  const byName = new Map<string, QuotaBucket>();
  for (const [name, s] of slots) byName.set(name, { name, guaranteed: s.guaranteed, max: s.max, used: 0, sources: [] });
  const bucketOf = (vc: string) => byName.get(vc) ?? byName.get(DEFAULT_VIRTUAL_CLUSTER);
  for (const [vc, c] of counts) {
    const b = bucketOf(vc);
    if (!b) continue;
    b.used += c.active;
    if (c.waiting > 0) b.sources.push(vc);
  }
  for (const [vc, n] of claiming) {
    const b = bucketOf(vc);
    if (b) b.used += n;
  }
  return [...byName.values()];
}

/**
 * The bucket to claim from next: first the VC furthest below its guaranteed share (lowest
 * used/guaranteed), then, borrowing idle slots, the VC furthest below its max share (lowest
 * used/max); never one at or above its max. `hasWaiting` says whether a bucket still has a
 * claimable job. Undefined when nothing may be claimed.
 */
export function pickBucket(buckets: readonly QuotaBucket[], hasWaiting: (b: QuotaBucket) => boolean): QuotaBucket | undefined {
  let best: QuotaBucket | undefined;
  let bestRatio = Infinity;
  for (const b of buckets) {
    if (b.used >= b.guaranteed) continue;
    const r = b.used / b.guaranteed;
    if (r < bestRatio && hasWaiting(b)) {
      best = b;
      bestRatio = r;
    }
  }
  if (best) return best;
  for (const b of buckets) {
    if (b.used >= b.max) continue;
    const r = b.used / b.max;
    if (r < bestRatio && hasWaiting(b)) {
      best = b;
      bestRatio = r;
    }
  }
  return best;
}
