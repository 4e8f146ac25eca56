/**
 * Which virtual cluster (VC) a coordinator claims its next job from. Pure: the coordinator feeds it
 * the cluster-wide counts from the projection and its own claims in flight.
 */
import { DEFAULT_VIRTUAL_CLUSTER, type VcSlots } from './shares.ts';

/** What {@link claimQueue} decides from: the same facts for a claim pass and for an explanation of a waiting job. */
export interface ClaimQueueInput<E> {
  /** Slots per VC out of a total (`cachedSlots` of the VC definitions). */
  slotsFor: (totalSlots: number) => ReadonlyMap<string, VcSlots>;
  runningJobCapacity: number;
  /** Coordinators the cluster's slots are counted for (a claim pass: `provenCoordinators`). */
  coordinators: number;
  /** Per VC: WAITING and active jobs cluster-wide (the projection's `virtualClusterCounts`). */
  counts: ReadonlyMap<string, { waiting: number; active: number }>;
  /** Per VC: claims in flight that the projection does not show yet (none for a reader that claims nothing). */
  claiming: ReadonlyMap<string, number>;
  /** WAITING jobs of one VC, highest priority first (the projection's `waiting`). */
  waiting: (vc: string) => Iterator<E>;
  priorityOf: (e: E) => number;
  /** Jobs left out of the order (being claimed or written). */
  skip: (e: E) => boolean;
}

/** The cluster's claim queue at one moment: its total slots, the buckets, and the order jobs would be claimed in. */
export interface ClaimQueue<E> {
  /** runningJobCapacity × coordinators. */
  totalSlots: number;
  /** One per VC, `used` as the projection and claims in flight show it (the order counts up a copy). */
  buckets: readonly QuotaBucket[];
  /** {@link claimOrder} over copies of `buckets`: lazy, stop when out of room. */
  order: Generator<ClaimPick<E>>;
}

/**
 * The claim decision of the whole cluster, shared by the coordinator's claim pass (which takes
 * jobs from `order` while it has room) and by `GET /jobs/:id/explain` (which walks `order` to its
 * job): one function, so the explanation cannot drift from what a claim pass does.
 */
export function claimQueue<E extends { id: string; submitSeq: number }>(input: ClaimQueueInput<E>): ClaimQueue<E> {
  const totalSlots = input.runningJobCapacity * input.coordinators;
  const buckets = quotaBuckets(input.slotsFor(totalSlots), input.counts, input.claiming);
  const working = buckets.map((b) => ({ ...b, sources: [...b.sources] }));
  return { totalSlots, buckets, order: claimOrder(working, input.waiting, input.priorityOf, input.skip) };
}

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

/** A job the claim order yields, and the VC whose share it counts against. */
export interface ClaimPick<E> {
  entry: E;
  vc: string;
}

/**
 * The order to claim waiting jobs in: each step picks a bucket ({@link pickBucket}) and takes its
 * next job (its sources' waiting queues merged by priority, then submission); `used` is counted up
 * as jobs are taken, so a VC never goes past its max. `skip` leaves out jobs already being claimed
 * or written. The caller stops when it has no room left.
 */
export function* claimOrder<E extends { id: string; submitSeq: number }>(
  buckets: readonly QuotaBucket[],
  waiting: (vc: string) => Iterator<E>,
  priorityOf: (e: E) => number,
  skip: (e: E) => boolean,
): Generator<ClaimPick<E>> {
  const cursors = new Map<QuotaBucket, { take: () => E | undefined; peeked: E | undefined }>();
  const cursor = (b: QuotaBucket) => {
    let c = cursors.get(b);
    if (!c) {
      const take = mergedWaiting(b.sources.map(waiting), priorityOf, skip);
      c = { take, peeked: take() };
      cursors.set(b, c);
    }
    return c;
  };
  for (;;) {
    const b = pickBucket(buckets, (x) => x.sources.length > 0 && cursor(x).peeked !== undefined);
    if (!b) return;
    const c = cursor(b);
    const entry = c.peeked!;
    c.peeked = c.take();
    b.used++;
    yield { entry, vc: b.name };
  }
}

/** Several waiting queues as one: highest priority first, then lowest submission sequence. */
function mergedWaiting<E extends { submitSeq: number }>(its: Iterator<E>[], priorityOf: (e: E) => number, skip: (e: E) => boolean): () => E | undefined {
  const advance = (i: number): E | undefined => {
    for (;;) {
      const r = its[i]!.next();
      if (r.done) return undefined;
      if (!skip(r.value)) return r.value;
    }
  };
  const heads = its.map((_, i) => advance(i));
  return () => {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h) continue;
      const cur = best === -1 ? undefined : heads[best]!;
      if (!cur || priorityOf(h) > priorityOf(cur) || (priorityOf(h) === priorityOf(cur) && h.submitSeq < cur.submitSeq)) best = i;
    }
    if (best === -1) return undefined;
    const e = heads[best]!;
    heads[best] = advance(best);
    return e;
  };
}
