import { ctxOf, type JobEntry } from './jobEntry.ts';

/**
 * Jobs in submission order (by `submitSeq`), all of them, per owner and per label (`k=v`), so that a
 * user's listing reads only its own jobs and a lookup by label only the jobs that carry it. Removal is lazy: a removed entry stays in the lists (skipped on reading,
 * `isLive` false) until removed ones are most of them, then the lists are swept.
 */
export interface SubmissionOrder {
  add(e: JobEntry): void;
  /** Tells that an entry is no longer live (it may sweep). */
  removed(): void;
  /** Oldest first. */
  all(): Generator<JobEntry>;
  /** Newest first, starting below `beforeSubmitSeq`, of one owner, of one label (`k=v`) or of all. */
  newestFirst(beforeSubmitSeq?: number, among?: OrderIndex): Generator<JobEntry>;
}

/** Which jobs a listing walks: one owner's or those with one label (`key=value`). */
export type OrderIndex = { owner: string } | { label: string };

/** The index keys of a job: its owner and each of its labels. */
function indexKeys(e: JobEntry): string[] {
  const c = ctxOf(e);
  const keys = [`o:${c.owner}`];
  if (c.labels !== undefined) for (const [k, v] of Object.entries(c.labels)) keys.push(`l:${k}=${v}`);
  return keys;
}

const keyOf = (i: OrderIndex): string => ('owner' in i ? `o:${i.owner}` : `l:${i.label}`);

/** Removed entries kept at least before a sweep (keeps remove O(1) amortized). */
const SWEEP_AFTER_REMOVED = 1024;

export function createSubmissionOrder(isLive: (e: JobEntry) => boolean): SubmissionOrder {
  /** Entries by submitSeq; may hold removed entries until swept. */
  let order: JobEntry[] = [];
  let removedInOrder = 0;
  /** A job first seen as JobCompacted (replay) lands behind newer ones: sort before the next read. */
  let unsorted = false;
  /** Entries by index key (owner, label), by submitSeq (same lazy sort and sweep as `order`). */
  const byKey = new Map<string, JobEntry[]>();
  let keysUnsorted = false;

  function sorted(): JobEntry[] {
    if (unsorted) {
      order.sort((a, b) => a.submitSeq - b.submitSeq);
      unsorted = false;
    }
    return order;
  }

  function sortedIndex(key: string): JobEntry[] {
    if (keysUnsorted) {
      for (const list of byKey.values()) list.sort((a, b) => a.submitSeq - b.submitSeq);
      keysUnsorted = false;
    }
    return byKey.get(key) ?? [];
  }

  function* liveEntries(from: JobEntry[], reverse: boolean, start: number): Generator<JobEntry> {
    if (reverse) {
      for (let i = start; i >= 0; i--) if (isLive(from[i]!)) yield from[i]!;
    } else {
      for (let i = start; i < from.length; i++) if (isLive(from[i]!)) yield from[i]!;
    }
  }

  return {
    add(e) {
      for (const key of indexKeys(e)) {
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        if (list.length > 0 && list[list.length - 1]!.submitSeq > e.submitSeq) keysUnsorted = true;
        list.push(e);
      }
      if (order.length > 0 && order[order.length - 1]!.submitSeq > e.submitSeq) unsorted = true;
      order.push(e);
    },
    removed() {
      // Sweep removed entries once they are most of the order.
      if (++removedInOrder > SWEEP_AFTER_REMOVED && removedInOrder * 2 > order.length) {
        order = order.filter(isLive);
        for (const [key, list] of byKey) {
          const kept = list.filter(isLive);
          if (kept.length > 0) byKey.set(key, kept);
          else byKey.delete(key);
        }
        removedInOrder = 0;
      }
    },
    all: () => liveEntries(sorted(), false, 0),
    newestFirst(before, among) {
      const o = among === undefined ? sorted() : sortedIndex(keyOf(among));
      let hi = o.length - 1;
      if (before !== undefined) {
        // binary search: first index with submitSeq >= before, minus one
        let lo = 0, h = o.length;
        while (lo < h) {
          const mid = (lo + h) >> 1;
          if (o[mid]!.submitSeq < before) lo = mid + 1;
          else h = mid;
        }
        hi = lo - 1;
      }
      return liveEntries(o, true, hi);
    },
  };
}
