/**
 * Many submissions in one call (`POST /jobs:batch`): each item goes through the steps `submit` uses
 * (submission.ts), and the JobSubmitted records of all valid items go to the store in ONE
 * `appendBatch` (group commit), each still with its own CAS on its job's empty subject and msg id.
 * The projection is waited for once, for the highest stored sequence. Every item is answered as
 * `submit` would answer it alone.
 */
import { AppError, isAppError } from '../errors.ts';
import type { BatchItemResult } from '../eventlog/eventLog.ts';
import type { JobSnapshot } from '../../actors/jobFold.ts';
import { entryView } from '../projections/jobEntry.ts';
import type { By, JobService, JobView, SubmitManyResult } from '../serviceTypes.ts';
import { commandMeta } from './commandHandler.ts';
import { READ_YOUR_WRITES_MS, toView, type JobReader } from './jobReader.ts';
import { idempotencyKeyReused, type DecidedSubmission, type PreparedSubmission, type SubmissionDeps, type SubmissionSteps } from './submission.ts';

/** An item on its way: answered already, answered like an earlier item with its key, or to be written. */
type Planned =
  | { kind: 'done'; result: SubmitManyResult }
  | { kind: 'sameKey'; first: number; sameBody: boolean }
  | { kind: 'write'; p: PreparedSubmission; decided: DecidedSubmission };

type Write = Extract<Planned, { kind: 'write' }>;

/** A stored record: its job and sequence, and whether it is new (not a duplicate of an earlier append). */
interface Stored {
  jobId: string;
  seq: number;
  created: boolean;
  /** The job as this call folded it (shown when the projection and the store cannot be read after the write). */
  state: JobSnapshot;
}

/** The error an item fails with: AppErrors as they are, anything else INTERNAL (its cause kept for the log). */
function asAppError(err: unknown): AppError {
  return isAppError(err) ? err : new AppError('INTERNAL', undefined, { cause: err });
}

const failed = (err: unknown): SubmitManyResult => ({ ok: false, error: asAppError(err) });

export function createBulkSubmission(
  deps: Pick<SubmissionDeps, 'eventLog' | 'projection' | 'clock'>,
  reader: JobReader,
  steps: SubmissionSteps,
): JobService['submitMany'] {
  const { eventLog, projection, clock } = deps;

  /**
   * Each item as `submit` takes it (validate, queue room, build, decide), in item order, so the
   * items past the queue's room are the last ones. One caller, so one key means one job id: an item
   * with a key an earlier item used is answered from that item, and takes no room.
   */
  function plan(items: Parameters<JobService['submitMany']>[0], by: By): Planned[] {
    const meta = commandMeta(by, clock);
    let room = steps.queueRoom();
    const firstByKey = new Map<string, { index: number; requestHash: string }>();
    return items.map((item, index): Planned => {
      try {
        const v = steps.validate(item.req, by.caller);
        const key = item.idempotencyKey;
        if (key !== undefined) {
          const first = firstByKey.get(key);
          if (first !== undefined) return { kind: 'sameKey', first: first.index, sameBody: first.requestHash === v.requestHash };
          firstByKey.set(key, { index, requestHash: v.requestHash });
        }
        if (room < 1) return { kind: 'done', result: failed(steps.queueFull()) };
        room--;
        const p = steps.build(v, key, by.origin);
        return { kind: 'write', p, decided: steps.decide(p, meta) };
      } catch (err) {
        return { kind: 'done', result: failed(err) };
      }
    });
  }

  /** One appendBatch for all; then each item's answer, waiting for the projection once. */
  async function writeAll(writes: readonly Write[]): Promise<SubmitManyResult[]> {
    if (writes.length === 0) return [];
    const appended = await eventLog.appendBatch(writes.map((w) => w.decided.item)).catch((err: unknown) => {
      // the whole batch refused (a reset store): every item has that answer
      const error = asAppError(err);
      return writes.map((): BatchItemResult => ({ ok: false, error }));
    });
    // handed to the projection before anything is awaited, as `submit` does
    const stored = writes.map((w, i): Stored | undefined => {
      const r = appended[i]!;
      return r.ok ? { jobId: w.p.data.jobId, seq: r.result.seq, created: steps.stored(w.p, r.result, w.decided.state), state: w.decided.state } : undefined;
    });
    const [views, others] = await Promise.all([
      viewsAfter(stored),
      Promise.all(writes.map(async (w, i) => {
        const r = appended[i]!;
        // a CAS loss on a key's job id: the key's job (a replay) or IDEMPOTENCY_KEY_REUSED; else the store's error
        return r.ok ? undefined : steps.existing(w.p, r.error).then((x): SubmitManyResult => ({ ok: true, ...x }), failed);
      })),
    ]);
    return writes.map((_, i) => {
      const s = stored[i];
      return s ? { ok: true, job: views[i]!, created: s.created } : others[i]!;
    });
  }

  /** The views of the stored jobs (aligned with `stored`), after waiting once for the projection to apply the highest of their records. */
  async function viewsAfter(stored: readonly (Stored | undefined)[]): Promise<(JobView | undefined)[]> {
    const highest = stored.reduce((max, s) => Math.max(max, s?.seq ?? 0), 0);
    if (highest > 0) await projection.waitFor(highest, READ_YOUR_WRITES_MS);
    return Promise.all(
      stored.map(async (s) => {
        if (s === undefined) return undefined;
        const e = projection.get(s.jobId);
        if (e && e.lastEvSeq >= s.seq) return entryView(e);
        // the projection lags: the job as the log has it (reader.viewAfter's fallback)
        try {
          const j = await reader.load(s.jobId, true);
          return toView(j.snapshot, j.submitSeq);
        } catch (err) {
          // written and acked: the job as written, never an error after the write (as `submit` does)
          if (!s.created || !isAppError(err, 'UNAVAILABLE')) throw err;
          return toView(s.state, s.seq);
        }
      }),
    );
  }

  return async (items, by) => {
    const planned = plan(items, by);
    const writes = planned.filter((x): x is Write => x.kind === 'write');
    const written = await writeAll(writes);
    const results: SubmitManyResult[] = [];
    let w = 0;
    planned.forEach((x, index) => {
      if (x.kind === 'done') results[index] = x.result;
      else if (x.kind === 'write') results[index] = written[w++]!;
      else {
        const first = results[x.first]!;
        if (!x.sameBody) results[index] = failed(idempotencyKeyReused());
        else results[index] = first.ok ? { ok: true, job: first.job, created: false } : first;
      }
    });
    return results;
  };
}
