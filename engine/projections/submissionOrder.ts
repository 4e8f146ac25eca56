import { ctxOf, type JobEntry } from './jobEntry.ts';

/**
 * Jobs in submission order (by `submitSeq`), all of them and per owner, so that a user's listing
 * reads only its own jobs. Removal is lazy: a removed entry stays in the lists (skipped on reading,
 * `isLive` false) until removed ones are most of them, then the lists are swept.
 */
export interface SubmissionOrder {
  add(e: JobEntry): void;
  /** Tells that an entry is no longer live (it may sweep). */
  removed(): void;
  /** Oldest first. */
  all(): Generator<JobEntry>;
  /** Newest first, starting below `beforeSubmitSeq`, of one owner or of all. */
  newestFirst(beforeSubmitSeq?: number, owner?: string): Generator<JobEntry>;
}

/** Removed entries kept at least before a sweep (keeps remove O(1) amortized). */
const SWEEP_AFTER_REMOVED = 1024;

export function createSubmissionOrder(isLive: (e: JobEntry) => boolean): SubmissionOrder {
  /** Entries by submitSeq; may hold removed entries until swept. */
  let order: JobEntry[] = [];
  let removedInOrder = 0;
  /** A job first seen as JobCompacted (replay) lands behind newer ones: sort before the next read. */
  let unsorted = false;
  /** Entries by owner, by submitSeq (same lazy sort and sweep as `order`). */
  const byOwner = new Map<string, JobEntry[]>();
  let ownersUnsorted = false;

  function sorted(): JobEntry[] {
    if (unsorted) {
      order.sort((a, b) => a.submitSeq - b.submitSeq);
      unsorted = false;
    }
    return order;
  }

  function sortedOwner(owner: string): JobEntry[] {
    if (ownersUnsorted) {
      for (const list of byOwner.values()) list.sort((a, b) => a.submitSeq - b.submitSeq);
      ownersUnsorted = false;
    }
    return byOwner.get(owner) ?? [];
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
      const owner = ctxOf(e).owner;
      let mine = byOwner.get(owner);
      if (!mine) byOwner.set(owner, (mine = []));
      if (mine.length > 0 && mine[mine.length - 1]!.submitSeq > e.submitSeq) ownersUnsorted = true;
      mine.push(e);
      if (order.length > 0 && order[order.length - 1]!.submitSeq > e.submitSeq) unsorted = true;
      order.push(e);
    },
    removed() {
      // Sweep removed entries once they are most of the order.
      if (++removedInOrder > SWEEP_AFTER_REMOVED && removedInOrder * 2 > order.length) {
        order = order.filter(isLive);
        for (const [owner, list] of byOwner) {
          const kept = list.filter(isLive);
          if (kept.length > 0) byOwner.set(owner, kept);
          else byOwner.delete(owner);
        }
        removedInOrder = 0;
      }
    },
    all: () => liveEntries(sorted(), false, 0),
    newestFirst(before, owner) {
      const o = owner === undefined ? sorted() : sortedOwner(owner);
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
