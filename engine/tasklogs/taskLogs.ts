/**
 * Per-task output (stdout/stderr of `script` and `exec` tasks): written by the worker while the
 * process runs, kept bounded, read back as a tail or followed live from any process of the
 * cluster. Production: the JetStream stream `LOGS` (engine/nats/jetStreamTaskLogs.ts), replicated
 * like the others; tests and simulation: `createMemoryTaskLogs()`. Both are held to
 * test/contract/taskLogs.contract.ts.
 *
 * Guarantees of every implementation:
 * - Bounded: per task (all attempts, both streams together) at most `maxBytesPerTask` are kept;
 *   older chunks go first. The whole store has a byte and age bound as well (oldest tasks' output
 *   goes first). A reader learns that output was dropped (`truncated`).
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
  /** Position in the store (strictly increasing within a task); a follower resumes after it. */
  seq: number;
  attempt: number;
  stream: LogStream;
  /** UTF-8 text as written (a multi-byte character split across writes may be split across chunks). */
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
  /** Queues output; never throws. Chunks are coalesced and sent at most every ~200 ms or 16 KiB. */
  write(stream: LogStream, chunk: Uint8Array): void;
  /** Flushes what is queued (bounded wait), then writes the end record. Never throws. */
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
  /** Output of the attempt was dropped (by the bound, `tailBytes`, or a writer that could not keep up). */
  truncated: boolean;
  /** The attempt read (null when the task has no output at all). */
  attempt: number | null;
}

export interface LogFollowOptions extends LogReadOptions {
  /** Resume after this seq (a reconnecting follower); default: from the start of what `tailBytes` selects. */
  afterSeq?: number;
  signal: AbortSignal;
}

export interface TaskLogs {
  /** A writer for one attempt of one task. `jobId` is a UUID; `taskId` a task id (`t00000`, …). */
  writer(jobId: string, taskId: string, attempt: number): TaskLogWriter;
  read(jobId: string, taskId: string, opts?: LogReadOptions): Promise<LogReadResult>;
  /**
   * What `read` gives, then new chunks as they are written, until the attempt's end record (yielded
   * last) or the signal. Waits for the first output of a task that has none yet.
   */
  follow(jobId: string, taskId: string, opts: LogFollowOptions): AsyncIterable<LogChunk | LogEnd>;
  /** Removes every chunk of the job (retention, job deletion). */
  purgeJob(jobId: string): Promise<void>;
  close(): Promise<void>;
}
