/**
 * What both TaskLogs implementations store (a task's records in store order) and the limits they
 * share, declared once: the memory twin keeps exactly what the LOGS stream keeps, so one contract
 * suite holds for both.
 */
import { AppError } from '../errors.ts';
import type { LogStream } from './taskLogs.ts';

/** Largest chunk a writer sends (text of one stream, one attempt). */
export const MAX_CHUNK_BYTES = 16 * 1024;
/** A writer sends what it holds at least this often. */
export const FLUSH_INTERVAL_MS = 200;
/** A writer holds at most this much unsent (queued and in flight); more is dropped and counted. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** `end()` waits at most this long for queued output to be stored before writing the end record. */
export const END_FLUSH_WAIT_MS = 5_000;

/** Default of `maxBytesPerTask`: text kept per task, all attempts and both streams together. */
export const DEFAULT_MAX_BYTES_PER_TASK = 1024 * 1024;
/** Default bound of the whole store (stream LOGS `max_bytes`). */
export const DEFAULT_LOGS_MAX_BYTES = 1024 * 1024 * 1024;
/** Default age bound of the whole store (stream LOGS `max_age`): 7 days. */
export const DEFAULT_LOGS_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Average chunk size the per-task chunk count bound assumes (see {@link maxChunksPerTask}). */
const BYTES_PER_CHUNK_BOUND = 128;
/** Fewest chunks (and end records) kept per task whatever `maxBytesPerTask` says. */
const MIN_CHUNKS_PER_TASK = 128;

/**
 * Chunks (and, separately, end records) kept per task: the LOGS stream's `max_msgs_per_subject`.
 * The byte bound is what a reader sees; this count bounds what a flood of tiny chunks (a program
 * alternating stdout and stderr line by line) costs the server: 8192 for 1 MiB.
 */
export function maxChunksPerTask(maxBytesPerTask: number): number {
  return Math.max(MIN_CHUNKS_PER_TASK, Math.ceil(maxBytesPerTask / BYTES_PER_CHUNK_BOUND));
}

/** The per-task bounds a reader applies. */
export interface TaskLogLimits {
  maxBytesPerTask: number;
  maxChunksPerTask: number;
}

/** Checks `maxBytesPerTask` (at least one full chunk, at most 1 GiB) and derives the chunk bound. */
export function taskLogLimits(maxBytesPerTask = DEFAULT_MAX_BYTES_PER_TASK): TaskLogLimits {
  if (!Number.isSafeInteger(maxBytesPerTask) || maxBytesPerTask < MAX_CHUNK_BYTES || maxBytesPerTask > DEFAULT_LOGS_MAX_BYTES) {
    throw new TypeError(`maxBytesPerTask must be an integer from ${MAX_CHUNK_BYTES} to ${DEFAULT_LOGS_MAX_BYTES}, got ${maxBytesPerTask}`);
  }
  return Object.freeze({ maxBytesPerTask, maxChunksPerTask: maxChunksPerTask(maxBytesPerTask) });
}

/** One chunk as stored. */
export interface StoredChunk {
  kind: 'chunk';
  seq: number;
  attempt: number;
  stream: LogStream;
  /** 0, 1, … within the attempt: a gap at the start shows that older chunks were dropped by the bound. */
  index: number;
  bytes: Uint8Array;
  /** Writer's wall clock (ms) when the chunk's first bytes were written. */
  atMs: number;
  /** Bytes the writer had dropped before this chunk (cumulative). */
  droppedBytes: number;
}

/** An attempt's end record as stored. */
export interface StoredEnd {
  kind: 'end';
  seq: number;
  attempt: number;
  reason: string;
  exitCode: number | null;
  droppedBytes: number;
  /** Chunks the writer sent for this attempt (indexes 0 … chunks−1). */
  chunks: number;
  atMs: number;
}

export type StoredRecord = StoredChunk | StoredEnd;

/** A record as the writer hands it to a store, before the store gives it a seq. */
export type ChunkFrame = Omit<StoredChunk, 'seq' | 'kind'>;
export type EndFrame = Omit<StoredEnd, 'seq' | 'kind'>;

/** Longest end reason kept (the sandbox's are short words). */
export const MAX_REASON_CHARS = 64;

/** Attempts are numbered from 1. */
export function checkAttempt(attempt: unknown, what = 'attempt'): number {
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) {
    throw new AppError('VALIDATION_FAILED', `${what} must be a positive integer`);
  }
  return attempt;
}
