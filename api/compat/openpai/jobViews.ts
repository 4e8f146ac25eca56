/**
 * OpenPAI's views of our `exec` jobs (docs/research/openpai-facade-plan.md §3.2, §3.4): pure
 * functions from a JobView (and its plan's tasks) to the v1 list item and details, the v2
 * JobSummary, JobDetail, JobAttempt and TaskStatus of the SDK's swagger, and the v2 list query.
 * Times are epoch milliseconds (the CLI prints `new Date(ms)`), null when not known.
 */
import type { JobView, PlanView } from '../../../engine/index.ts';

/** OpenPAI's job states (v2; v1 has no STOPPING). UNKNOWN is never produced. */
export const PAI_STATES = ['WAITING', 'RUNNING', 'STOPPING', 'SUCCEEDED', 'FAILED', 'STOPPED', 'UNKNOWN'] as const;
export type PaiState = (typeof PAI_STATES)[number];
export type ExecutionType = 'START' | 'STOP';
export type NativeState = JobView['state'];

/** One planned task with its payload (`{role, index}` for an exec instance). */
export type PlanTask = PlanView['tasks'][number];

/** The label that holds the OpenPAI job name (§3.1). */
export const OPENPAI_NAME_LABEL = 'openpai/name';

/** The parts of an ExecSpec these views read (engine/jobtypes/exec/spec.ts; not exported by the engine). */
interface ExecRoleView {
  name: string;
  taskNumber: number;
  resources?: { gpu?: number };
}

/** `JobFailed.error.details` of an exec job (EXEC_FAILED). */
interface ExecFailureDetails {
  exitCode?: number | null;
  role?: string;
  roles?: { name: string; failures?: { index: number; exitCode: number | null }[] }[];
}

/** `TaskView.output` of a final exec instance. */
interface ExecInstanceOutput {
  exitCode?: number | null;
  durationMs?: number;
  stderrTail?: string;
}

const TERMINAL: ReadonlySet<NativeState> = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

function ms(iso: string | null | undefined): number | null {
  if (iso == null) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

function rolesOf(job: JobView): readonly ExecRoleView[] {
  const roles = (job.spec as { taskRoles?: unknown }).taskRoles;
  return Array.isArray(roles) ? (roles as ExecRoleView[]) : [];
}

function failureDetails(job: JobView): ExecFailureDetails {
  const d = job.error?.details;
  return d !== null && typeof d === 'object' ? (d as ExecFailureDetails) : {};
}

/** The OpenPAI job name: the `openpai/name` label, else the spec's `jobName`, else the native name. */
export function paiJobName(job: JobView): string {
  const jobName = (job.spec as { jobName?: unknown }).jobName;
  return job.labels[OPENPAI_NAME_LABEL] ?? (typeof jobName === 'string' && jobName !== '' ? jobName : job.name);
}

/** Job retries done (`JobView.retries` once the engine has job retries; 0 until then). */
export function jobRetries(job: JobView): number {
  return (job as { retries?: number }).retries ?? 0;
}

/** True while a stop is under way (§3.2: v2 STOPPING). */
function stopping(job: JobView): boolean {
  return job.stopRequested !== null && !TERMINAL.has(job.state);
}

/** The v2 state, FrameworkController subState (swagger enum) and executionType of a job (§3.2). */
export function paiState(job: JobView): { state: Exclude<PaiState, 'UNKNOWN'>; subState: string; executionType: ExecutionType } {
  if (stopping(job)) return { state: 'STOPPING', subState: 'AttemptDeletionRequested', executionType: 'STOP' };
  switch (job.state) {
    case 'WAITING':
      return { state: 'WAITING', subState: 'AttemptCreationPending', executionType: 'START' };
    case 'RUNNING':
    case 'PAUSED':
      return { state: 'RUNNING', subState: 'AttemptRunning', executionType: 'START' };
    case 'VERIFYING':
      return { state: 'RUNNING', subState: 'AttemptDeletionPending', executionType: 'START' };
    case 'STOPPED':
      return { state: 'STOPPED', subState: 'Completed', executionType: 'STOP' };
    default: // SUCCEEDED, FAILED
      return { state: job.state, subState: 'Completed', executionType: 'START' };
  }
}

/** The v1 state (STOPPING shows as RUNNING) with the native state's name as subState (clients.md §1.6). */
export function v1State(job: JobView): { state: Exclude<PaiState, 'UNKNOWN' | 'STOPPING'>; subState: string; executionType: ExecutionType } {
  const { state, executionType } = paiState(job);
  return { state: state === 'STOPPING' ? 'RUNNING' : state, subState: job.state, executionType };
}

/** `summary.exitCode` (0) of a succeeded job, the first failed instance's exit code of a failed one; else null. */
export function appExitCode(job: JobView): number | null {
  if (job.state === 'SUCCEEDED') {
    const code = (job.summary as { exitCode?: unknown } | null)?.exitCode;
    return typeof code === 'number' ? code : 0;
  }
  if (job.state !== 'FAILED') return null;
  const code = failureDetails(job).exitCode;
  return typeof code === 'number' ? code : null;
}

/** FrameworkController's completion type name: Succeeded, Failed (a stop too), null while unfinished. */
function exitType(job: JobView): string | null {
  if (job.state === 'SUCCEEDED') return 'Succeeded';
  return job.state === 'FAILED' || job.state === 'STOPPED' ? 'Failed' : null;
}

/** The role and instance that failed the job (EXEC_FAILED details), with the failure message. */
function exitTrigger(job: JobView): { appExitTriggerMessage: string | null; appExitTriggerTaskRoleName: string | null; appExitTriggerTaskIndex: number | null } {
  if (job.state !== 'FAILED' || job.error === null) return { appExitTriggerMessage: null, appExitTriggerTaskRoleName: null, appExitTriggerTaskIndex: null };
  const d = failureDetails(job);
  const role = typeof d.role === 'string' ? d.role : null;
  const index = d.roles?.find((r) => r.name === role)?.failures?.[0]?.index;
  return { appExitTriggerMessage: job.error.message, appExitTriggerTaskRoleName: role, appExitTriggerTaskIndex: typeof index === 'number' ? index : null };
}

/** Task roles, instances and GPUs (recorded `gpu × taskNumber`) of the spec. */
function totals(job: JobView): { totalGpuNumber: number; totalTaskNumber: number; totalTaskRoleNumber: number } {
  const roles = rolesOf(job);
  return {
    totalGpuNumber: roles.reduce((n, r) => n + (r.resources?.gpu ?? 0) * r.taskNumber, 0),
    totalTaskNumber: roles.reduce((n, r) => n + r.taskNumber, 0),
    totalTaskRoleNumber: roles.length,
  };
}

/** `{user, platform, resource}`: our only platform retries are reclaims. */
function retryDetails(job: JobView): { user: number; platform: number; resource: number } {
  return { user: 0, platform: job.reclaims, resource: 0 };
}

/** One instance's state: an instance that did not finish in a finished job was stopped (a stop, or an early end). */
function taskState(job: JobView, task: PlanTask): PaiState {
  if (task.state === 'succeeded') return 'SUCCEEDED';
  if (task.state === 'failed') return 'FAILED';
  if (TERMINAL.has(job.state)) return 'STOPPED';
  if (stopping(job)) return 'STOPPING';
  return task.state === 'running' ? 'RUNNING' : 'WAITING';
}

/** The task status of one instance as in JobDetail (and v1 detail) `taskRoles.<role>.taskStatuses[]`. */
export function taskStatus(job: JobView, task: PlanTask): Record<string, unknown> {
  const out = (task.output ?? null) as ExecInstanceOutput | null;
  const final = task.state === 'succeeded' || task.state === 'failed';
  const completedTime = final ? ms(task.lastUpdated) : null;
  const launchedTime = completedTime !== null && typeof out?.durationMs === 'number' ? completedTime - out.durationMs : null;
  // attempt numbers go on across recoveries and job retries: count within the task's current run
  const retries = Math.max(0, task.attempts - (task.firstAttempt ?? 1));
  const state = taskState(job, task);
  const inst = instanceOf(task);
  const role = inst === null ? undefined : rolesOf(job)[inst.role];
  return {
    taskIndex: instanceOf(task)?.index ?? task.index,
    // JobDetail's swagger types taskUid as an integer: the task's position in the plan (its id is containerId)
    taskUid: task.index,
    taskState: state,
    retries,
    accountableRetries: retries,
    createdTime: ms(job.startedAt), // every instance is planned when the job starts
    launchedTime,
    completedTime,
    attemptId: retries,
    attemptState: state,
    containerId: task.taskId,
    containerIp: null,
    containerNodeName: task.worker,
    hostname: task.worker,
    containerPorts: {},
    containerGpus: null,
    // the log list of this attempt (GET …/logs: its stdout, stderr and both, served by the facade)
    containerLog: role === undefined ? '' : `/api/v2/jobs/${job.owner}~${paiJobName(job)}/attempts/${jobRetries(job)}/taskRoles/${role.name}/taskIndex/${inst!.index}/attempts/${retries}/logs`,
    containerExitCode: typeof out?.exitCode === 'number' ? out.exitCode : null,
    containerExitDiagnostics: out?.stderrTail ?? null,
  };
}

function instanceOf(task: PlanTask): { role: number; index: number } | null {
  const p = task.payload as { role?: unknown; index?: unknown } | null;
  return p !== null && typeof p === 'object' && Number.isSafeInteger(p.role) && Number.isSafeInteger(p.index) ? { role: p.role as number, index: p.index as number } : null;
}

/** `{<role>: {taskRoleStatus: {name}, taskStatuses}}`: every role in spec order, its instances in index order. */
function taskRoles(job: JobView, tasks: readonly PlanTask[]): Record<string, { taskRoleStatus: { name: string }; taskStatuses: Record<string, unknown>[] }> {
  const roles = rolesOf(job);
  const byRole = roles.map(() => [] as { index: number; task: PlanTask }[]);
  for (const task of tasks) {
    const inst = instanceOf(task);
    if (inst !== null) byRole[inst.role]?.push({ index: inst.index, task });
  }
  const out: Record<string, { taskRoleStatus: { name: string }; taskStatuses: Record<string, unknown>[] }> = {};
  roles.forEach((r, i) => {
    const mine = byRole[i]!.sort((a, b) => a.index - b.index);
    out[r.name] = { taskRoleStatus: { name: r.name }, taskStatuses: mine.map((m) => taskStatus(job, m.task)) };
  });
  return out;
}

/** "<finished instances>/<instances>" (v1's appProgress). */
function appProgress(job: JobView): string {
  return `${job.progress.tasksSucceeded + job.progress.tasksFailed}/${totals(job).totalTaskNumber}`;
}

/** The v1 list item (clients.md §1.6). */
export function v1ListItem(job: JobView) {
  return {
    name: paiJobName(job),
    username: job.owner,
    ...v1State(job),
    retries: jobRetries(job),
    createdTime: ms(job.submittedAt),
    completedTime: ms(job.finishedAt),
    appExitCode: appExitCode(job),
    virtualCluster: job.virtualCluster,
  };
}

/** The v1 `app*` fields both v1 details share. */
function v1App(job: JobView) {
  return {
    appId: job.id,
    appProgress: appProgress(job),
    appTrackingUrl: '',
    appLaunchedTime: ms(job.startedAt),
    appCompletedTime: ms(job.finishedAt),
    appExitCode: appExitCode(job),
    appExitDiagnostics: job.error?.message ?? '',
  };
}

/** The seed's flat v1 detail (`GET /api/v1/jobs/:jobName`). */
export function v1SeedDetail(job: JobView) {
  return {
    name: paiJobName(job),
    state: v1State(job).state,
    createdTime: ms(job.submittedAt),
    completedTime: ms(job.finishedAt),
    ...v1App(job),
    virtualCluster: job.virtualCluster,
  };
}

/** The user-scoped v1 detail (`GET /api/v1/user/:u/jobs/:j`): `{jobStatus, taskRoles}`. */
export function v1UserDetail(job: JobView, tasks: readonly PlanTask[]) {
  return {
    jobStatus: {
      ...v1ListItem(job),
      ...v1App(job),
      appExitType: exitType(job),
      virtualCluster: job.virtualCluster,
    },
    taskRoles: taskRoles(job, tasks),
  };
}

/** The v2 JobSummary (one item of `GET /api/v2/jobs`). */
export function v2Summary(job: JobView, tags: readonly string[]) {
  return {
    debugId: job.id,
    name: paiJobName(job),
    username: job.owner,
    ...paiState(job),
    tags: [...tags],
    retries: jobRetries(job),
    retryDetails: retryDetails(job),
    retryDelayTime: null,
    submissionTime: ms(job.submittedAt) ?? 0,
    createdTime: ms(job.submittedAt),
    launchedTime: ms(job.startedAt),
    completedTime: ms(job.finishedAt),
    appExitCode: appExitCode(job),
    virtualCluster: job.virtualCluster,
    ...totals(job),
  };
}
export type PaiJobSummary = ReturnType<typeof v2Summary>;

/** The v2 JobDetail (`GET /api/v2/jobs/:user~:job`) of the current attempt. */
export function v2Detail(job: JobView, tasks: readonly PlanTask[], tags: readonly string[]) {
  const { state, subState, executionType } = paiState(job);
  const retries = jobRetries(job);
  return {
    name: paiJobName(job),
    tags: [...tags],
    debugId: job.id,
    jobStatus: {
      username: job.owner,
      state,
      subState,
      executionType,
      retries,
      retryDetails: retryDetails(job),
      retryDelayTime: null,
      submissionTime: ms(job.submittedAt) ?? 0,
      createdTime: ms(job.submittedAt),
      launchedTime: ms(job.startedAt),
      completedTime: ms(job.finishedAt),
      attemptId: retries,
      attemptState: state,
      appId: job.id,
      appCreatedTime: ms(job.submittedAt),
      appLaunchedTime: ms(job.startedAt),
      appCompletedTime: ms(job.finishedAt),
      appExitCode: appExitCode(job),
      appExitSpec: null,
      appExitDiagnostics: job.error?.message ?? null,
      appExitMessages: null,
      ...exitTrigger(job),
      appExitType: exitType(job),
      virtualCluster: job.virtualCluster,
      debugId: job.id,
    },
    taskRoles: taskRoles(job, tasks),
  };
}

/** The v2 JobAttempt (`GET …/job-attempts[/:i]`): the current attempt, the only one we keep. */
export function v2JobAttempt(job: JobView, tasks: readonly PlanTask[]) {
  const t = totals(job);
  const code = appExitCode(job);
  const diagnostics = job.error?.message ?? null;
  return {
    jobName: paiJobName(job),
    frameworkName: `${job.owner}~${paiJobName(job)}`,
    uid: job.id,
    userName: job.owner,
    state: paiState(job).state,
    originState: job.state,
    attemptIndex: jobRetries(job),
    jobStartedTime: ms(job.submittedAt),
    attemptStartedTime: ms(job.startedAt),
    attemptCompletedTime: ms(job.finishedAt),
    exitCode: code,
    exitPhrase: job.state === 'FAILED' ? (job.error?.code ?? null) : job.state === 'SUCCEEDED' ? 'Succeeded' : job.state === 'STOPPED' ? 'Stopped' : null,
    exitType: exitType(job),
    exitDiagnostics: diagnostics === null ? null : { diagnosticsSummary: diagnostics, runtime: null, launcher: diagnostics },
    ...exitTrigger(job),
    appExitSpec: null,
    appExitDiagnostics: diagnostics,
    appExitMessages: null,
    ...t,
    totalTasknumber: t.totalTaskNumber, // the swagger's spelling (the server sends totalTaskNumber)
    taskRoles: taskRoles(job, tasks),
    isLatest: true,
  };
}

/**
 * The swagger's TaskStatus (`GET …/taskRoles/:r/taskIndex/:i/attempts`): the instance with its
 * current attempt (earlier attempts are not kept apart). Undefined when `task` is not an instance of the job.
 */
export function v2TaskDetail(job: JobView, task: PlanTask) {
  const role = rolesOf(job)[instanceOf(task)?.role ?? -1];
  if (role === undefined) return undefined;
  const s = taskStatus(job, task);
  return {
    taskIndex: s.taskIndex,
    taskUid: task.taskId,
    taskState: s.taskState,
    retries: s.retries,
    accountableRetries: s.accountableRetries,
    createdTime: s.createdTime,
    launchedTime: s.launchedTime,
    completedTime: s.completedTime,
    username: job.owner,
    jobName: paiJobName(job),
    jobAttemptId: jobRetries(job),
    taskRoleName: role.name,
    attempts: [{
      attemptId: s.attemptId,
      attemptState: s.attemptState,
      currentAttemptCreatedTime: s.createdTime,
      currentAttemptLaunchedTime: s.launchedTime,
      currentAttemptCompletedTime: s.completedTime,
      containerId: s.containerId,
      containerIp: s.containerIp,
      containerNodeName: s.containerNodeName,
      containerPorts: s.containerPorts,
      containerGpus: s.containerGpus,
      containerLog: s.containerLog,
      containerExitCode: s.containerExitCode,
      containerExitSpec: null,
      containerExitDiagnostics: s.containerExitDiagnostics,
    }],
  };
}
