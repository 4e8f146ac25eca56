/**
 * Time travel (`GET /jobs/:id?asOf=`, `/history?asOf=`): a job as it was at a stream sequence or a
 * time, folded from its records up to that point with the fold every reader uses (`foldJob`, as
 * jobReader.ts `load`). A compacted job's history before its compaction is gone: only the snapshot
 * is known, and the answer says so.
 */
import type { JobCompacted, JobEvent } from '../../actors/events.ts';
import { foldJob, type JobSnapshot } from '../../actors/jobFold.ts';
import { AppError } from '../errors.ts';
import type { LogRecord } from '../eventlog/eventLog.ts';

/** A moment of the log: a stream sequence, or a time (compared with the records' server receive times). */
export type AsOf = { kind: 'seq'; seq: number; text: string } | { kind: 'time'; ms: number; text: string };

/** Longest `asOf` text accepted (an ISO time with nanoseconds and an offset is 35 characters). */
export const MAX_AS_OF_CHARS = 40;

const SEQ_RE = /^[1-9][0-9]{0,15}$/;
/** ISO-8601 date and time with seconds optional, fractions up to nanoseconds, and a zone (Z or ±hh:mm) required. */
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function invalid(text: string, why: string): AppError {
  return new AppError('VALIDATION_FAILED', `querystring/asOf ${JSON.stringify(text.slice(0, MAX_AS_OF_CHARS))} ${why}`);
}

/**
 * Parses `asOf`: a stream sequence (a positive integer) or an ISO-8601 time with a zone
 * (`2026-12-05T17:00:00Z`, `...T18:00:00.250+01:00`). Anything else is VALIDATION_FAILED, named.
 */
export function parseAsOf(text: string): AsOf {
  if (text.length > MAX_AS_OF_CHARS) throw invalid(text, `is longer than ${MAX_AS_OF_CHARS} characters`);
  if (SEQ_RE.test(text)) {
    const seq = Number(text);
    if (!Number.isSafeInteger(seq)) throw invalid(text, 'is past the largest stream sequence');
    return { kind: 'seq', seq, text };
  }
  const m = TIME_RE.exec(text);
  if (m === null) throw invalid(text, 'must be a stream sequence (a positive integer) or an ISO-8601 time with a zone, like 2026-12-05T17:00:00Z');
  const [y, mo, d, h, mi, s, oh, om] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as number[];
  const calendar = new Date(Date.UTC(y!, mo! - 1, d!));
  const dateOk = y! >= 1970 && calendar.getUTCFullYear() === y && calendar.getUTCMonth() === mo! - 1 && calendar.getUTCDate() === d;
  if (!dateOk || h! > 23 || mi! > 59 || s! > 59 || oh! > 23 || om! > 59) throw invalid(text, 'is not a valid date and time');
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw invalid(text, 'is not a valid date and time');
  return { kind: 'time', ms, text };
}

/** Whether a record was in the log at `asOf`. */
export function recordAt(r: LogRecord, asOf: AsOf): boolean {
  return asOf.kind === 'seq' ? r.seq <= asOf.seq : Date.parse(r.time) <= asOf.ms;
}

/** What an `asOf` answer holds to. */
export interface AsOfInfo {
  /** The `asOf` as given. */
  requested: string;
  /** The job's last record at that moment (its sequence and server time): what the answer is folded to. */
  seq: number;
  time: string;
  /** False when the job was compacted after that moment: the answer is its compacted snapshot, not its state then. */
  exact: boolean;
  /** The compaction record (sequence, time) before which the job's history is gone; null when not compacted. */
  compactedAt: { seq: number; time: string } | null;
  /** Plain words for a client to show when `exact` is false. */
  note: string | null;
}

/** A job folded to a moment. */
export interface JobAsOf {
  snapshot: JobSnapshot;
  /** The job's records at that moment, in stream order (empty for a compacted job asked about an earlier moment). */
  records: LogRecord[];
  info: AsOfInfo;
}

function notYet(id: string, asOf: AsOf, first: { seq: number; time: string }): AppError {
  return new AppError('JOB_NOT_FOUND', `job ${id} did not exist yet as of ${asOf.text}: it was submitted at seq ${first.seq} (${first.time})`);
}

/**
 * The job as of `asOf`, from its `.ev` and `.task` records (read as jobReader.ts `readJob` reads
 * them). JOB_NOT_FOUND when the job was not submitted yet at that moment.
 */
export function foldAsOf(id: string, ev: readonly LogRecord[], tasks: readonly LogRecord[], asOf: AsOf): JobAsOf {
  const first = ev[0];
  if (first === undefined) throw new AppError('JOB_NOT_FOUND', `no job ${id}`);
  const compaction = first.events.find((e): e is JobCompacted => e.type === 'JobCompacted');
  const compactedAt = compaction ? { seq: first.seq, time: first.time } : null;
  const records = [...ev, ...tasks].filter((r) => recordAt(r, asOf)).sort((a, b) => a.seq - b.seq);
  if (compaction && !recordAt(first, asOf)) {
    // Before the rollup: only the snapshot is known, and when the job was submitted.
    const submitSeq = compaction.data.submitSeq;
    const submittedAt = (compaction.data.context as { submittedAt?: unknown }).submittedAt;
    const before = asOf.kind === 'seq' ? submitSeq !== undefined && asOf.seq < submitSeq : typeof submittedAt === 'string' && asOf.ms < Date.parse(submittedAt);
    if (before) throw notYet(id, asOf, { seq: submitSeq ?? first.seq, time: typeof submittedAt === 'string' ? submittedAt : first.time });
    return {
      snapshot: foldJob(first.events as JobEvent[]),
      records: [],
      info: {
        requested: asOf.text, seq: first.seq, time: first.time, exact: false, compactedAt,
        note: `The job's history was compacted at seq ${first.seq} (${first.time}): its state before then is not known; this is its compacted snapshot.`,
      },
    };
  }
  const evAt = records.filter((r) => !r.subject.endsWith('.task'));
  if (evAt.length === 0) throw notYet(id, asOf, first);
  // Task outcomes before the job's first record cannot exist; any that do (a stray) would not fold.
  const from = records.indexOf(evAt[0]!);
  const kept = records.slice(from);
  const last = kept[kept.length - 1]!;
  return {
    snapshot: foldJob(kept.flatMap((r) => r.events) as JobEvent[]),
    records: kept,
    info: { requested: asOf.text, seq: last.seq, time: last.time, exact: true, compactedAt, note: null },
  };
}
