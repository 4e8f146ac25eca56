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
  progress: { tasksTotal: number; itemsTotal: number; bytesTotal: number; tasksSucceeded?: number; tasksFailed?: number; itemsDone?: number; itemsFailed?: number; bytesDone?: number };
  stopRequested: { graceMs: number; deadline: string } | null;
  owner?: string;
  priority?: number;
  virtualCluster?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  rerunOf?: string | null;
  labels?: Record<string, string>;
  recoveries?: number;
  planOpen?: boolean;
  /** `GET /jobs/:id?asOf=`: the moment the answer holds to. */
  asOf?: { requested: string; seq: number; time: string; exact: boolean; note: string | null };
}

/** `GET /jobs/:id/history` entry. */
export interface HistoryEntry {
  seq: number;
  time: string;
  subject: string;
  type: string;
  data: unknown;
  meta: Record<string, unknown>;
}

/** `GET /jobs/:id/tasks` entry. */
export interface TaskView {
  taskId: string;
  index: number;
  state: string;
  attempts: number;
  items: number;
  bytes: number;
}

/** `POST /jobs:plan`: a dry run of a submission. */
export interface SubmissionPlan {
  request: Record<string, unknown>;
  planOpen: boolean;
  tasksTotal: number;
  itemsTotal: number;
  bytesTotal: number;
  tasks: { taskId: string; items: number; bytes: number }[];
  truncated: boolean;
}

/** `GET /jobs/:id/explain` (the parts the table shows; `-o json` prints all of it). */
export interface Explanation {
  jobId: string;
  state: string;
  summary: string;
  reasons: { code: string; message: string }[];
  virtualCluster: string;
  queue: { position: number; waitingInVc: number; higherPriorityAhead: number; priority: number; claimRank: number | null } | null;
}

/** `GET /workers` entry. */
export interface WorkerView {
  id: string;
  pool: string;
  state: string;
  concurrency: number;
  host: string;
  pid: number;
  alive: boolean;
  registeredAt: string;
  tasks: { jobId: string; taskId: string }[];
}

/** `GET /virtual-clusters` entry. */
export interface VirtualClusterStatus {
  name: string;
  capacity: number;
  maxCapacity: number;
  usedCapacity: number;
  numJobs: number;
  numActiveJobs: number;
  numPendingJobs: number;
  slots: { guaranteed: number; max: number; used: number; total: number };
  description?: string;
}

/** `GET /users` entry, `GET /auth/me`. */
export interface UserView {
  name: string;
  role: string;
  virtualClusters: string[];
  createdAt: string | null;
  updatedAt: string | null;
}

/** `POST /auth/login`. */
export interface LoginAnswer {
  token: string;
  expiresAt: string;
  user: UserView;
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
