/**
 * The parts of the native API's answers (docs/api.md) the command line reads. Declared here, not
 * imported from the engine: the CLI is an HTTP client and knows only the wire.
 */

/** A job as `GET /native/v1/jobs` and `GET /jobs/:id` answer it. */
export interface JobView {
  id: string;
  /** The job's number; it orders a path's jobs in their idempotency keys (cli/alluxioIdentity.ts). */
  submitSeq: number;
  type: string;
  name: string;
  state: string;
  spec: Record<string, unknown>;
  coordinatorId: string | null;
  submittedAt: string;
  error: { code: string; message: string } | null;
  progress: { tasksTotal: number; itemsTotal: number; bytesTotal: number };
  stopRequested: { graceMs: number; deadline: string } | null;
}

/** `GET /jobs/:id/progress`. */
export interface ProgressView {
  jobId: string;
  state: string;
  tasksTotal: number;
  itemsTotal: number;
  itemsDone: number;
  itemsFailed: number;
  bytesTotal: number;
  bytesDone: number;
  throughputBytesPerSec: number;
  elapsedMs: number;
}

/** `GET /jobs/:id/failures`. */
export interface FailuresView {
  items: { taskId: string; item: string; error: string }[];
  truncated: boolean;
  tasks: { taskId: string; attempts: number[]; error: { code: string; message: string } | null }[];
}

/** `GET /jobs`. */
export interface JobList {
  jobs: JobView[];
  nextCursor: string | null;
}

/** The error body every native route answers with. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
}

/** States after which a job changes no more (until a recover). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
