/**
 * What a read or a follow answers, computed from a task's stored records: the same pure code for
 * both implementations. The per-task bound is applied here, on read, as well as by the store (the
 * LOGS stream can briefly hold more than the bound: see jetStreamTaskLogs.ts), so both answer alike.
 */
import { AppError } from '../errors.ts';
import { checkAttempt, type StoredChunk, type StoredEnd, type StoredRecord, type TaskLogLimits } from './taskLogRecords.ts';
import type { LogChunk, LogEnd, LogFollowOptions, LogReadOptions, LogReadResult, LogStream } from './taskLogs.ts';

const decoder = new TextDecoder('utf-8');

/** Largest `tailBytes` accepted (a read never holds more than the per-task bound anyway). */
export const MAX_TAIL_BYTES = 1024 * 1024 * 1024;

const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/** Checks read options (VALIDATION_FAILED). */
export function checkReadOptions(opts: LogReadOptions | LogFollowOptions): void {
  if (opts.attempt !== undefined) checkAttempt(opts.attempt);
  if (opts.stream !== undefined && !STREAMS.includes(opts.stream)) throw new AppError('VALIDATION_FAILED', 'stream must be stdout or stderr');
  const tail = opts.tailBytes;
  if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0 || tail > MAX_TAIL_BYTES)) {
    throw new AppError('VALIDATION_FAILED', `tailBytes must be an integer from 0 to ${MAX_TAIL_BYTES}`);
  }
  const after = (opts as Partial<LogFollowOptions>).afterSeq;
  if (after !== undefined && (!Number.isSafeInteger(after) || after < 0)) throw new AppError('VALIDATION_FAILED', 'afterSeq must be a non-negative integer');
}

/** The chunks the per-task bound keeps: the newest ones, as many as fit in bytes and in count. */
function keptChunks(records: readonly StoredRecord[], limits: TaskLogLimits): StoredChunk[] {
  const chunks = records.filter((r): r is StoredChunk => r.kind === 'chunk');
  let bytes = 0;
  let first = chunks.length;
  while (first > 0) {
    const c = chunks[first - 1]!;
    if (chunks.length - first + 1 > limits.maxChunksPerTask || bytes + c.bytes.byteLength > limits.maxBytesPerTask) break;
    bytes += c.bytes.byteLength;
    first--;
  }
  return chunks.slice(first);
}

/** Index of the first byte of a UTF-8 character at or after `i` (skips continuation bytes, at most 3). */
function charStart(bytes: Uint8Array, i: number): number {
  let j = i;
  while (j < bytes.length && j - i < 3 && (bytes[j]! & 0xc0) === 0x80) j++;
  return j;
}

export const toLogChunk = (c: StoredChunk, bytes: Uint8Array = c.bytes): LogChunk => ({
  seq: c.seq, attempt: c.attempt, stream: c.stream, text: decoder.decode(bytes), at: new Date(c.atMs).toISOString(),
});

export const toLogEnd = (e: StoredEnd): LogEnd => ({
  seq: e.seq, attempt: e.attempt, reason: e.reason, exitCode: e.exitCode, droppedBytes: e.droppedBytes, at: new Date(e.atMs).toISOString(),
});

/** What `read` answers for a task whose records (all of them, in store order) are `records`. */
export function selectLog(records: readonly StoredRecord[], opts: LogReadOptions, limits: TaskLogLimits): LogReadResult {
  const kept = keptChunks(records, limits);
  const ends = records.filter((r): r is StoredEnd => r.kind === 'end');
  let attempt = opts.attempt ?? null;
  if (attempt === null) {
    for (const r of kept) attempt = Math.max(attempt ?? 0, r.attempt);
    for (const r of ends) attempt = Math.max(attempt ?? 0, r.attempt);
  }
  if (attempt === null) return { chunks: [], end: null, truncated: false, attempt: null };
  const mine = kept.filter((c) => c.attempt === attempt);
  const end = ends.find((e) => e.attempt === attempt) ?? null;
  // chunks are numbered 0, 1, … per attempt: fewer kept than sent means the bound dropped some
  const sent = Math.max(end?.chunks ?? 0, ...mine.map((c) => c.index + 1));
  let truncated = mine.length < sent || (end?.droppedBytes ?? 0) > 0 || mine.some((c) => c.droppedBytes > 0);
  const selected = opts.stream === undefined ? mine : mine.filter((c) => c.stream === opts.stream);
  let chunks: LogChunk[];
  if (opts.tailBytes === undefined) {
    chunks = selected.map((c) => toLogChunk(c));
  } else {
    chunks = [];
    let left = opts.tailBytes;
    for (let i = selected.length - 1; i >= 0 && left > 0; i--) {
      const c = selected[i]!;
      if (c.bytes.byteLength <= left) {
        chunks.push(toLogChunk(c));
        left -= c.bytes.byteLength;
      } else {
        // the oldest chunk shown is cut to the tail's size, at a character boundary
        const bytes = c.bytes.subarray(charStart(c.bytes, c.bytes.byteLength - left));
        if (bytes.byteLength > 0) chunks.push(toLogChunk(c, bytes));
        left = 0;
      }
    }
    chunks.reverse();
    const shownBytes = opts.tailBytes - left;
    const allBytes = selected.reduce((n, c) => n + c.bytes.byteLength, 0);
    if (shownBytes < allBytes) truncated = true;
  }
  return { chunks, end: end === null ? null : toLogEnd(end), truncated, attempt };
}

/**
 * A follower's progress: `start` with the records stored when it began (answers what `read` would,
 * or what follows `afterSeq`), then `next` with each record stored after those. `done` once the
 * attempt's end record was given, or a newer attempt wrote (the followed one is over).
 */
export interface FollowState {
  start(records: readonly StoredRecord[]): (LogChunk | LogEnd)[];
  next(record: StoredRecord): (LogChunk | LogEnd)[];
  readonly done: boolean;
}

export function createFollowState(opts: LogReadOptions & { afterSeq?: number }, limits: TaskLogLimits): FollowState {
  let attempt: number | null = opts.attempt ?? null;
  let done = false;
  const state: FollowState = {
    get done() {
      return done;
    },
    start(records) {
      const after = opts.afterSeq;
      // resuming: everything after `afterSeq`, not a tail of it
      const r = selectLog(records, after === undefined ? opts : { ...opts, tailBytes: undefined }, limits);
      attempt = r.attempt;
      const out: (LogChunk | LogEnd)[] = after === undefined ? r.chunks : r.chunks.filter((c) => c.seq > after);
      if (r.end !== null) {
        if (after === undefined || r.end.seq > after) out.push(r.end);
        done = true;
      }
      return out;
    },
    next(rec) {
      if (done) return [];
      attempt ??= rec.attempt; // a task without output: the first attempt that writes
      if (rec.attempt < attempt) return [];
      if (rec.attempt > attempt) {
        done = true;
        return [];
      }
      if (rec.kind === 'end') {
        done = true;
        return [toLogEnd(rec)];
      }
      return opts.stream === undefined || rec.stream === opts.stream ? [toLogChunk(rec)] : [];
    },
  };
  return state;
}

