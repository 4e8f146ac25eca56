import { AppError } from '../errors.ts';
import type { AppendOptions, AppendResult, BatchItem, EventLog } from './eventLog.ts';
import type { Envelope } from '../../actors/events.ts';

/** Options of {@link groupCommitted}. */
export interface GroupCommitOptions {
  /** Most appends sent in one batch. @defaultValue 100 */
  maxBatch?: number;
  /** Batches (or single appends) in flight at once; appends made meanwhile wait and go together. @defaultValue 16 */
  maxInFlight?: number;
}

interface Pending {
  item: BatchItem;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for every `append` of a process (decision 0012, M1): the appends made in one turn of
 * the event loop go as one `appendBatch` when the turn ends; while `maxInFlight` round trips are out,
 * new appends queue and go together when one comes back. No append waits for a timer; a loaded
 * process sends fewer, larger requests. Each append keeps its own semantics and result (appendBatch decides every
 * item alone). A rollup is never queued (it goes alone, as before).
 */
export function groupCommitted<L extends EventLog>(log: L, o: GroupCommitOptions = {}): L {
  const maxBatch = o.maxBatch ?? 100;
  const maxInFlight = o.maxInFlight ?? 16;
  const queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || inFlight >= maxInFlight || queue.length === 0) return;
    scheduled = true;
    // after this turn of the event loop: every append its callbacks and their promises make goes together
    setImmediate(pump);
  }

  function pump(): void {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) send(queue.splice(0, maxBatch));
  }

  function send(batch: Pending[]): void {
    inFlight++;
    const done = () => {
      inFlight--;
      schedule();
    };
    if (batch.length === 1) {
      const { item, resolve, reject } = batch[0]!;
      log.append(item.subject, item.events, item.opts).then(resolve, reject).finally(done);
      return;
    }
    log.appendBatch(batch.map((p) => p.item)).then(
      (results) => results.forEach((r, i) => (r.ok ? batch[i]!.resolve(r.result) : batch[i]!.reject(r.error))),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    ).finally(done);
  }

  function append(subject: string, events: readonly Envelope[], opts?: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) return Promise.reject(new AppError('INTERNAL', 'append needs at least one event'));
    if (opts?.rollup === true) return log.append(subject, events, opts);
    return new Promise<AppendResult>((resolve, reject) => {
      queue.push({ item: { subject, events, ...(opts !== undefined ? { opts } : {}) }, resolve, reject });
      schedule();
    });
  }

  return { ...log, append };
}

/** `log` with group commit of `maxInFlight` round trips (0: every append alone, as without it). */
export function withGroupCommit<L extends EventLog>(log: L, maxInFlight: number): L {
  return maxInFlight === 0 ? log : groupCommitted(log, { maxInFlight });
}
