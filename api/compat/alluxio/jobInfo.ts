/**
 * A native job as Alluxio's JobInfo (`get_status`): id = the job's submit sequence (an int64 that
 * is unique, never reused and the same on every API process), the plan's name, Alluxio's five
 * states, and the paths the job works on; its tasks as TaskInfo `children`. clients.md §4.1 has
 * the original's field lists.
 */
import type { JobView, TaskView } from '../../../engine/index.ts';
import { alluxioPath, planName } from './jobConfig.ts';

/** job/wire/Status.java. */
export type AlluxioState = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED';

/** Our states → Alluxio's: waiting is CREATED; paused and verifying still RUNNING; stopped is CANCELED. */
export const STATE_MAP: Readonly<Record<JobView['state'], AlluxioState>> = {
  WAITING: 'CREATED',
  RUNNING: 'RUNNING',
  PAUSED: 'RUNNING',
  VERIFYING: 'RUNNING',
  SUCCEEDED: 'COMPLETED',
  FAILED: 'FAILED',
  STOPPED: 'CANCELED',
};

/** The states each Alluxio state stands for (list's `status` filter). */
export function nativeStates(alluxio: string): JobView['state'][] | undefined {
  const states = (Object.keys(STATE_MAP) as JobView['state'][]).filter((s) => STATE_MAP[s] === alluxio);
  return states.length > 0 ? states : undefined;
}

export interface JobInfo {
  id: number;
  parentId: null;
  name: string;
  description: string;
  status: AlluxioState;
  lastUpdated: number;
  children: TaskInfo[];
  result: unknown;
  errorType: string;
  errorMessage: string;
  affectedPaths: string[];
}

/** One task of a job (Alluxio's TaskInfo, a JobInfo's `children`). */
export interface TaskInfo {
  /** = taskId: the task's position in the plan (Alluxio's task ids are numbers from 0; ours, `t00000`, are in `description`). */
  id: number;
  taskId: number;
  jobId: number;
  /** = jobId. */
  parentId: number;
  name: string;
  description: string;
  status: AlluxioState;
  lastUpdated: number;
  /** Host of the worker that reported the task's last outcome; '' before one, or for a worker no longer known. */
  workerHost: string;
  children: [];
  result: null;
  errorType: string;
  errorMessage: string;
  affectedPaths: [];
}

/** Our task states → Alluxio's; a task that never ran in a failed or stopped job was CANCELED. */
function taskStatus(job: JobView, task: TaskView): AlluxioState {
  switch (task.state) {
    case 'succeeded': return 'COMPLETED';
    case 'failed': return 'FAILED';
    case 'running': return 'RUNNING';
    case 'pending': return job.state === 'FAILED' || job.state === 'STOPPED' ? 'CANCELED' : 'CREATED';
  }
}

/** A task as Alluxio's TaskInfo; `hosts` maps worker ids to their hosts. */
export function toTaskInfo(job: JobView, task: TaskView, hosts: ReadonlyMap<string, string>): TaskInfo {
  const attempts = `${task.attempts} attempt${task.attempts === 1 ? '' : 's'}`;
  return {
    id: task.index,
    taskId: task.index,
    jobId: job.submitSeq,
    parentId: job.submitSeq,
    name: `Task ${task.index}`,
    description: `${task.taskId}: ${task.items} items, ${task.bytes} bytes, ${attempts}`,
    status: taskStatus(job, task),
    lastUpdated: ms(task.lastUpdated) ?? ms(job.startedAt) ?? ms(job.submittedAt) ?? 0,
    workerHost: (task.worker === null ? undefined : hosts.get(task.worker)) ?? '',
    children: [],
    result: null,
    errorType: task.error?.code ?? '',
    errorMessage: task.error?.message ?? '',
    affectedPaths: [],
  };
}

/** The Alluxio paths a job works on (`affectedPaths`). */
export function affectedPaths(job: JobView): string[] {
  const s = job.spec;
  if (job.type === 'copy' || job.type === 'move') return [alluxioPath(s['src']), alluxioPath(s['dst'])];
  if (typeof s['path'] === 'string') return [alluxioPath(s['path'])];
  return [];
}

/** A Java-ish toString of the config, as Alluxio's PlanInfo description shows it. */
function description(job: JobView): string {
  const s = job.spec;
  if (job.type === 'load') return `LoadConfig{filePath=${alluxioPath(s['path'])}, replication=1}`;
  if (job.type === 'persist') return `PersistConfig{filePath=${alluxioPath(s['path'])}, overwrite=${s['overwrite'] === true}}`;
  if (job.type === 'copy' || job.type === 'move') {
    return `MigrateConfig{source=${alluxioPath(s['src'])}, destination=${alluxioPath(s['dst'])}, overwrite=${s['overwrite'] !== false}, deleteSource=${job.type === 'move'}}`;
  }
  return `${planName(job.type)}Config${JSON.stringify(s)}`;
}

const ms = (iso: string | null) => (iso === null ? undefined : Date.parse(iso));

/** A job as Alluxio's JobInfo, with `children` its tasks as TaskInfo (none given: `[]`). */
export function toJobInfo(job: JobView, children: TaskInfo[] = []): JobInfo {
  return {
    id: job.submitSeq,
    parentId: null,
    name: planName(job.type),
    description: description(job),
    status: STATE_MAP[job.state],
    lastUpdated: ms(job.finishedAt) ?? ms(job.startedAt) ?? ms(job.submittedAt) ?? 0,
    children,
    result: job.state === 'SUCCEEDED' ? (job.summary ?? null) : null,
    errorType: job.error?.code ?? '',
    errorMessage: job.error?.message ?? '',
    affectedPaths: affectedPaths(job),
  };
}
