/** What the dashboard reads from the native API (docs/api.md): declared here, as a client would. */

export type JobState = 'WAITING' | 'RUNNING' | 'PAUSED' | 'VERIFYING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';
export const JOB_STATES: readonly JobState[] = ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING', 'SUCCEEDED', 'FAILED', 'STOPPED'];
export const TERMINAL: ReadonlySet<JobState> = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
export type Role = 'viewer' | 'operator' | 'admin';

export interface Progress {
  tasksTotal: number; tasksSucceeded: number; tasksFailed: number;
  itemsTotal: number; itemsDone: number; itemsFailed: number;
  bytesTotal: number; bytesDone: number;
}

export interface Job {
  id: string; submitSeq: number; type: string; name: string; state: JobState; priority: number; owner: string;
  spec: Record<string, unknown>; epoch: number; coordinatorId: string | null;
  submittedAt: string; startedAt: string | null; finishedAt: string | null;
  progress: Progress; error: { code: string; message: string; details?: unknown } | null; summary: unknown;
  reclaims: number; virtualCluster: string; active: boolean;
  stopRequested: { graceMs: number; deadline: string } | null; rerunOf: string | null;
  labels: Record<string, string>; parallelism: number | null; planOpen: boolean; recoveries: number; retries: number;
  compacted: boolean; origin: string | null; pauseRequested: boolean;
}

export interface AsOfInfo { requested: string; seq: number; time: string; exact: boolean; compactedAt: { seq: number; time: string } | null; note: string | null }

export interface HistoryEntry { seq: number; time: string; subject: 'ev' | 'task'; type: string; data: unknown; meta: Record<string, unknown> }

export interface Task {
  taskId: string; index: number; state: 'pending' | 'running' | 'succeeded' | 'failed'; attempts: number; firstAttempt: number;
  lastUpdated: string | null; worker: string | null; error: { code: string; message: string; retryable: boolean } | null;
  items: number; bytes: number;
}

export interface Failures {
  jobId: string; state: JobState; itemsFailed: number; tasksFailed: number;
  items: { taskId: string; item: string; error: string }[]; truncated: boolean;
  tasks: { taskId: string; attempts: number[]; error: { code: string; message: string } | null }[];
}

export interface Explanation {
  jobId: string; state: JobState; at: string; summary: string; reasons: { code: string; message: string }[];
  queue: { position: number; waitingInVc: number; higherPriorityAhead: number; priority: number; claimRank: number | null } | null;
  quota: { name: string; guaranteed: number; max: number; used: number } | null;
  capacity: { runningJobCapacity: number; liveCoordinators: number; totalSlots: number; activeJobs: number; freeSlots: number } | null;
  coordinators: { live: number; owner: string | null; ownerAlive: boolean | null };
  workers: { live: number };
  tasks: { total: number; succeeded: number; failed: number; inFlight: number | null; retrying: number | null; nextRetryAt: string | null } | null;
}

export interface Worker {
  id: string; pool: string; state: 'ACTIVE' | 'DRAINING' | 'LEFT'; concurrency: number; host: string; pid: number;
  alive: boolean; registeredAt: string; tasks: { jobId: string; taskId: string }[];
}

export interface VirtualCluster {
  name: string; capacity: number; maxCapacity: number; usedCapacity: number;
  numJobs: number; numActiveJobs: number; numPendingJobs: number;
  slots: { guaranteed: number; max: number; used: number; total: number };
}

export interface Sample { at: string; waiting: number | null; active: number | null; succeeded: number; failed: number; stopped: number; tasksSucceeded: number; tasksFailed: number }

export interface Overview {
  at: string; bucketMs: number; windowMs: number; counts: Record<JobState, number>; series: Sample[];
  waits: { count: number; meanMs: number; p50Ms: number; p95Ms: number; maxMs: number } | null;
  oldestWaitingMs: number;
  coordinators: { id: string; alive: boolean; lastSeenMs: number }[];
  workers: { registered: number; alive: number };
  virtualClusters: VirtualCluster[];
}

/** A message of a live stream (`GET /events`, `GET /jobs/:id/events`). */
export type LiveMessage =
  | { kind: 'snapshot'; seq: number; jobs: Job[]; truncated: boolean }
  | { kind: 'removed'; jobId: string }
  | { kind: 'event'; seq: number; jobId: string; subject: 'ev' | 'task' | 'hook'; type: string; data: unknown; meta: Record<string, unknown>; job: Job | null; lastInRecord: boolean };
