import type { JobSnapshot } from '../../actors/jobFold.ts';

/**
 * States that a writer in this process folded for the records it appended (see
 * `JobProjection.prefolded`), by record seq; each is taken or dropped when its seq is applied.
 */
export interface PrefoldHints {
  add(seq: number, jobId: string, base: JobSnapshot | undefined, next: JobSnapshot): void;
  /** Takes the hint for record `seq`: its state if it is for `jobId` and `current` is its base, else undefined (fold instead). */
  take(seq: number, jobId: string, current: JobSnapshot | undefined): JobSnapshot | undefined;
  drop(seq: number): void;
  readonly size: number;
  /** Hints taken (records applied without folding them again). */
  readonly hits: number;
}

/** Most hints held; past it they are all dropped (hints whose records never came: only an optimization). */
const MAX_HINTS = 10_000;

export function createPrefoldHints(): PrefoldHints {
  const hints = new Map<number, { jobId: string; base: JobSnapshot | undefined; next: JobSnapshot }>();
  let hits = 0;
  return {
    add(seq, jobId, base, next) {
      if (hints.size >= MAX_HINTS) hints.clear();
      hints.set(seq, { jobId, base, next });
    },
    take(seq, jobId, current) {
      const h = hints.get(seq);
      if (h === undefined) return undefined;
      hints.delete(seq);
      if (h.jobId !== jobId || current !== h.base) return undefined;
      hits++;
      return h.next;
    },
    drop: (seq) => void hints.delete(seq),
    get size() {
      return hints.size;
    },
    get hits() {
      return hits;
    },
  };
}
