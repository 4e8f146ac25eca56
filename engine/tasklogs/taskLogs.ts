/**
 * Per-task output (stdout/stderr of `script` and `exec` tasks): written by the worker while the
 * process runs, kept bounded, read back as a tail or followed live from any process of the
 * cluster. Production: the JetStream stream `LOGS` (engine/nats/jetStreamTaskLogs.ts), replicated
 * like the others; tests and simulation: `createMemoryTaskLogs()`. Both are held to
 * test/contract/taskLogs.contract.ts.
 *
 * Guarantees of every implementation:
 * - Bounded: per task (all attempts, both streams together) at most `maxBytesPerTask` bytes of text
 *   are kept, in at most `maxBytesPerTask / 128` chunks (8192 for 1 MiB: what a program that
 *   alternates stdout and stderr line by line keeps); older chunks go first. End records are kept
 *   apart and outlive their attempt's output. The whole store has a byte and age bound as well
 *   (oldest output goes first). A reader learns that output was dropped (`truncated`).
 * - A chunk is never split across streams or attempts; order within one (task, attempt) is the
 *   order written.
 * - `end` marks an attempt finished (with its exit code or end reason): a follower stops there.
 * - Writing never throws into the task and never blocks it for long: a writer that cannot keep up
 *   (the store is slow or down) drops output and counts the dropped bytes, which the end record
 *   reports.
 */

export type LogStream = 'stdout' | 'stderr';

/** One piece of output as stored. */
export interface LogChunk {
  /** Position in the store (strictly increasing within a task; LOGS: the stream sequence); a follower resumes after it. */
  seq: number;
  attempt: number;
  stream: LogStream;
  /**
   * The output decoded as UTF-8. Chunks are cut between characters; a character is split across
   * chunks only when its bytes came more than one flush (~200 ms) apart or around a write to the
   * other stream. Bytes that are not UTF-8 read as U+FFFD.
   */
  text: string;
  /** ISO 8601, the writer's clock. */
  at: string;
}

/** The record that closes an attempt. */
export interface LogEnd {
  seq: number;
  attempt: number;
  /** e.g. `exited`, `timeLimit`, `memoryLimit`, `aborted`, `spawnFailed`. */
  reason: string;
  exitCode: number | null;
  /** Bytes the writer dropped because the store could not keep up. */
  droppedBytes: number;
  at: string;
}

export interface TaskLogWriter {
  /**
   * Queues output; never throws, never waits. Writes of one stream are coalesced into a chunk that
   * goes after ~200 ms or at 16 KiB (cut between UTF-8 characters); a write to the other stream
   * closes the chunk. More than 1 MiB unsent: the write is dropped and counted. Ignored after `end`.
   */
  write(stream: LogStream, chunk: Uint8Array): void;
  /**
   * Sends what is queued (waiting at most 5 s; what is still unsent then counts as dropped), then
   * writes the end record (`reason` cut to 64 characters). Never throws; a second call returns the
   * first one's promise.
   */
  end(info: { reason: string; exitCode: number | null }): Promise<void>;
}

export interface LogReadOptions {
  /** Only this attempt (default: the newest attempt that has output or an end record). */
  attempt?: number;
  /** Only this stream (default both, interleaved in written order). */
  stream?: LogStream;
  /** At most this many bytes of text, from the end (default: everything kept). */
  tailBytes?: number;
}

export interface LogReadResult {
  chunks: LogChunk[];
  /** The end record of that attempt, or null while it runs (or if its writer died). */
  end: LogEnd | null;
  /**
   * Output of the attempt was dropped: by the per-task bound, by a writer that could not keep up,
   * or left out by `tailBytes` (of the stream read). The bound and the writer's drops count for the
   * attempt as a whole, even when only one stream is read.
   */
  truncated: boolean;
  /** The attempt read (null when the task has no output at all). */
  attempt: number | null;
}

export interface LogFollowOptions extends LogReadOptions {
  /**
   * Resume after this seq (a reconnecting follower): every kept chunk after it, `tailBytes` not
   * applied; nothing (and the follow ends) when the attempt's end record is at or before it.
   * Default: from the start of what `tailBytes` selects.
   */
  afterSeq?: number;
  signal: AbortSignal;
}

/**
 * Ids and options are checked first: a `jobId` that is not a lowercase UUID, a `taskId` that is not
 * a planner's task id (`t00000`…, teraslice `s000000`…/`r000000`…: TASK_ID_RE in engine/subjects.ts),
 * an attempt that is not a positive integer or a bad option is AppError VALIDATION_FAILED (thrown by
 * `writer` and `follow`, a rejection from `read` and `purgeJob`). A store that cannot be reached, or
 * is closed, is UNAVAILABLE.
 */
export interface TaskLogs {
  /** A writer for one attempt (from 1) of one task. */
  writer(jobId: string, taskId: string, attempt: number): TaskLogWriter;
  read(jobId: string, taskId: string, opts?: LogReadOptions): Promise<LogReadResult>;
  /**
   * What `read` gives, then new chunks as they are written, until the attempt's end record (yielded
   * last), a newer attempt's first record (the followed one is over: it ends without an end
   * record), the signal, or `close()`. Waits for the first output of a task that has none yet, and
   * then follows that attempt. Outlives reconnects; fails (UNAVAILABLE) only if the stored output
   * cannot be read at the start or the connection is closed.
   */
  follow(jobId: string, taskId: string, opts: LogFollowOptions): AsyncIterable<LogChunk | LogEnd>;
  /** Removes every chunk and end record of the job (retention, job deletion). */
  purgeJob(jobId: string): Promise<void>;
  /** Ends the follows; writers drop from then on. Does not close a connection it was given. */
  close(): Promise<void>;
}
