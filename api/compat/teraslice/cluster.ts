/**
 * What Teraslice shows of its cluster, from ours: execution controller stats (`/controller`,
 * `/cluster/controllers`), the cluster-wide sums (`/cluster/stats`), and the nodes with their active
 * workers (`/cluster/state`: each of our workers is a node, its running slices are its active
 * workers). Counts are real: from the executions' tasks and the workers' heartbeats.
 */
import type { Caller, JobService, JobView, WorkerView } from '../../../engine/index.ts';
import { durationSeconds, executionStatus, isTerminal, JOB_LABEL, NATIVE_TYPE, TERASLICE_VERSION } from './executions.ts';

/** Executions a cluster-wide answer reads at most. */
const MAX_EXECUTIONS = 1000;

export interface ControllerStats {
  ex_id: string;
  job_id: string;
  name: string;
  workers_available: number;
  workers_active: number;
  workers_joined: number;
  workers_reconnected: number;
  workers_disconnected: number;
  job_duration: number;
  failed: number;
  subslices: number;
  queued: number;
  slice_range_expansion: number;
  processed: number;
  slicers: number;
  subslice_by_key: number;
  started: string | undefined;
  queuing_complete: string | undefined;
}

/** Slices of `exId` running now, per worker (from their heartbeats). */
function runningSlices(workers: readonly WorkerView[], exId: string): { worker: string; taskId: string }[] {
  return workers.flatMap((w) => (w.alive ? w.tasks.filter((t) => t.jobId === exId).map((t) => ({ worker: w.id, taskId: t.taskId })) : []));
}

/**
 * The execution controller's counters of one execution, from its progress and the workers'
 * heartbeats (no read of its task history: a dashboard polls this).
 */
export async function controllerStats(_service: JobService, _caller: Caller, ex: JobView, workers: readonly WorkerView[]): Promise<ControllerStats> {
  const active = runningSlices(workers, ex.id);
  const joined = new Set(active.map((a) => a.worker));
  const p = ex.progress;
  const waiting = Math.max(0, p.tasksTotal - p.tasksSucceeded - p.tasksFailed);
  const parallelism = ex.parallelism ?? active.length;
  return {
    ex_id: ex.id,
    job_id: ex.labels[JOB_LABEL] ?? '',
    name: String(ex.spec['name'] ?? ex.name),
    workers_available: Math.max(0, parallelism - active.length),
    workers_active: active.length,
    workers_joined: joined.size,
    workers_reconnected: 0,
    workers_disconnected: 0,
    job_duration: durationSeconds(ex),
    failed: p.tasksFailed,
    subslices: 0,
    queued: Math.max(0, waiting - active.length),
    slice_range_expansion: 0,
    processed: p.tasksSucceeded + p.tasksFailed,
    slicers: 1,
    subslice_by_key: 0,
    started: ex.startedAt ?? undefined,
    queuing_complete: ex.planOpen ? undefined : (ex.startedAt ?? undefined),
  };
}

/** Executions the caller sees that are not finished (those with an execution controller). */
export async function activeExecutions(service: JobService, caller: Caller): Promise<JobView[]> {
  const { jobs } = await service.list({ type: NATIVE_TYPE, state: ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING'], active: 'all', limit: MAX_EXECUTIONS }, caller);
  return jobs.filter((j) => j.labels[JOB_LABEL] !== undefined && !isTerminal(j));
}

/** Controller stats of every active execution, sorted as the original (by name, then start, reversed). */
export async function allControllers(service: JobService, caller: Caller): Promise<ControllerStats[]> {
  const workers = await service.workers(caller);
  const out: ControllerStats[] = [];
  for (const ex of await activeExecutions(service, caller)) out.push(await controllerStats(service, caller, ex, workers));
  return out.sort((a, b) => (a.name === b.name ? (a.started ?? '').localeCompare(b.started ?? '') : a.name.localeCompare(b.name))).reverse();
}

const STAT_KEYS = ['processed', 'failed', 'queued', 'job_duration', 'workers_joined', 'workers_disconnected', 'workers_reconnected'] as const;

/** `/cluster/stats`: sums over the executions the caller sees (finished ones too, up to MAX_EXECUTIONS). */
export async function clusterStats(service: JobService, caller: Caller): Promise<{ controllers: Record<string, number>; slicer: Record<string, number> }> {
  const { jobs } = await service.list({ type: NATIVE_TYPE, active: 'all', limit: MAX_EXECUTIONS }, caller);
  const sums: Record<string, number> = Object.fromEntries(STAT_KEYS.map((k) => [k, 0]));
  for (const ex of jobs) {
    const p = ex.progress;
    sums['processed']! += p.tasksSucceeded + p.tasksFailed;
    sums['failed']! += p.tasksFailed;
    if (!isTerminal(ex)) sums['queued']! += Math.max(0, p.tasksTotal - p.tasksSucceeded - p.tasksFailed);
    sums['job_duration']! += durationSeconds(ex);
  }
  return { controllers: { ...sums }, slicer: { ...sums } };
}

export interface NodeState {
  node_id: string;
  hostname: string;
  pid: number;
  node_version: string;
  teraslice_version: string;
  total: number;
  state: 'connected' | 'disconnected';
  available: number;
  active: { worker_id: number; assignment: 'worker'; pid: number; job_id?: string; ex_id?: string }[];
}

/** `/cluster/state`: each live worker as a node, each slice it runs as an active worker. */
export async function clusterState(service: JobService, caller: Caller): Promise<Record<string, NodeState>> {
  const workers = (await service.workers(caller)).filter((w) => w.alive && w.state !== 'LEFT');
  const jobOf = new Map<string, string | undefined>();
  for (const w of workers) {
    for (const t of w.tasks) {
      if (jobOf.has(t.jobId)) continue;
      try {
        const j = await service.get(t.jobId, caller);
        jobOf.set(t.jobId, j.type === NATIVE_TYPE ? j.labels[JOB_LABEL] : undefined);
      } catch {
        jobOf.set(t.jobId, undefined); // finished and removed meanwhile
      }
    }
  }
  const out: Record<string, NodeState> = {};
  for (const w of workers) {
    const active = w.tasks.map((t, i) => {
      const jobId = jobOf.get(t.jobId);
      return { worker_id: i + 1, assignment: 'worker' as const, pid: w.pid, ...(jobId !== undefined ? { job_id: jobId, ex_id: t.jobId } : {}) };
    });
    out[w.id] = {
      node_id: w.id, hostname: w.host, pid: w.pid, node_version: process.version, teraslice_version: TERASLICE_VERSION,
      total: w.concurrency, state: 'connected', available: Math.max(0, w.concurrency - active.length), active,
    };
  }
  return out;
}

export { executionStatus };
