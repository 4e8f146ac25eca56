import { ctxOf, type JobEntry } from './jobEntry.ts';

export interface WaitingQueue {
  /** Adds (on) or takes away (off) a WAITING job. */
  set(e: JobEntry, on: boolean): void;
  /** Highest priority first, FIFO within a priority. */
  entries(): Generator<JobEntry>;
}

/** WAITING jobs by priority; each bucket keeps the order jobs became WAITING (FIFO). */
export function createWaitingQueue(): WaitingQueue {
  const byPriority = new Map<number, Map<string, JobEntry>>();
  return {
    set(e, on) {
      const p = ctxOf(e).priority;
      let bucket = byPriority.get(p);
      if (on) {
        if (!bucket) byPriority.set(p, (bucket = new Map()));
        bucket.set(e.id, e);
      } else if (bucket) {
        bucket.delete(e.id);
        if (bucket.size === 0) byPriority.delete(p);
      }
    },
    *entries() {
      const priorities = [...byPriority.keys()].sort((a, b) => b - a);
      for (const p of priorities) {
        const bucket = byPriority.get(p);
        if (bucket) yield* bucket.values();
      }
    },
  };
}
