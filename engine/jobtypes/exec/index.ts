/**
 * `exec`: OpenPAI's jobs. Task roles, each a list of shell commands run as `taskNumber` instances;
 * every instance is a task, a sandboxed process (sandboxTask.ts: own work dir, uid, no network,
 * scrubbed environment plus the OpenPAI variables, limits, output in the task logs). A non-zero
 * exit (or a limit) is retried `taskRetryCount` times (the role's, else the job's), then recorded
 * as the instance's outcome with its exit code, so that every instance's exit code reaches `verify`,
 * which applies each role's completion policy (minFailedInstances / minSucceededInstances) once all
 * instances ended, or `settle` while they run. A job that would fail runs again as a whole
 * `jobRetryCount` times (JobType.jobRetries: the coordinator appends JobRetried and every instance
 * runs again). A spec with `sealed` runs the commands of its sealed document instead of its own
 * (sealed.ts: commands holding secrets), hiding the document's secret values in the task logs, the
 * `stderrTail` and the messages (redactor.ts).
 */
import type { TaskPlan, TaskResult } from '../../../actors/events.ts';
import type { DocumentStore } from '../../documents/documentStore.ts';
import { createOutputTail } from '../../sandbox/outputTail.ts';
import type { JobType, RunContext, VerifyOutcome } from '../jobType.ts';
import { TaskRunError } from '../jobType.ts';
import { withSandboxTask, type OutputFilter, type SandboxTaskDeps } from '../sandboxTask.ts';
import { formatTaskId } from '../taskId.ts';
import { createRedactor, type Redactor } from './redactor.ts';
import { admitSealed, DEFAULT_SEALED_WAIT_MS, EXEC_SEALED_NAMESPACE, readSealed } from './sealed.ts';
import { checkExecSpec, EXEC_SPEC_SCHEMA, type ExecResources, type ExecRole, type ExecSpec } from './spec.ts';

export interface ExecDeps extends SandboxTaskDeps {
  limits: { timeLimitMs: number; memoryLimitMb: number };
  /** Where a spec's sealed commands are (`sealed`, sealed.ts). */
  documents: DocumentStore;
  /** How long an instance waits for a sealed document this process does not hold yet. @defaultValue {@link DEFAULT_SEALED_WAIT_MS} */
  sealedWaitMs?: number;
}

/** One instance's outcome (`TaskResult.output`). */
export interface ExecInstanceOutput {
  role: string;
  index: number;
  exitCode: number | null;
  signal: string | null;
  /** exited, timeLimit, memoryLimit. */
  end: string;
  durationMs: number;
  /** The last bytes of stderr when it failed (the whole output is in the task logs). */
  stderrTail?: string;
}

/** `verify`'s per-role account, in the summary or the failure's details. */
export interface ExecRoleOutcome {
  name: string;
  instances: number;
  succeeded: number;
  failed: number;
  /** Exit codes of the failed instances by index (null: killed at a limit or by a signal). */
  failures: { index: number; exitCode: number | null; end: string }[];
  /** The role's own image, when it has one (recorded, like the job's `image`). */
  image?: string;
  /** What the role asked for per instance, when it did (recorded). */
  resources?: ExecResources;
}

const MIB = 1024 * 1024;
const STDERR_TAIL = 2048;
const OUTPUT_TAIL_BYTES = 16 * 1024;
const SHELL = '/bin/sh';
/**
 * How sealed commands are run: the script comes in the environment (`/proc/<pid>/environ` is
 * readable by the instance's own uid only) rather than in the command line (`/proc/<pid>/cmdline`,
 * which every local user can read), and is gone from the environment before any command runs.
 */
const SEALED_SCRIPT_ENV = 'JETJOBS_COMMANDS';
const SEALED_RUNNER = `__jetjobs_script=$${SEALED_SCRIPT_ENV}; unset ${SEALED_SCRIPT_ENV}; eval "unset __jetjobs_script; $__jetjobs_script"`;

interface InstancePayload {
  role: number;
  index: number;
}

export function createExecJobType(deps: ExecDeps): JobType<ExecSpec> {
  return {
    name: 'exec',
    instantVerify: true,
    specSchema: EXEC_SPEC_SCHEMA,
    checkSpec: (spec) => checkExecSpec(spec, deps.limits),
    admitSpec: (spec, caller) => admitSealed(deps.documents, spec, caller),
    // the sealed commands (secrets) go with the job
    removed: async (spec) => {
      if (spec.sealed !== undefined) await deps.documents.delete(EXEC_SEALED_NAMESPACE, spec.sealed.id);
    },

    async plan(spec) {
      const tasks: TaskPlan[] = [];
      spec.taskRoles.forEach((r, role) => {
        for (let index = 0; index < r.taskNumber; index++) tasks.push({ taskId: formatTaskId(tasks.length), payload: { role, index } satisfies InstancePayload, items: 1, bytes: 0 });
      });
      return tasks;
    },

    run: (spec, payload, ctx) => runInstance(spec, payload as InstancePayload, ctx, deps),

    // the recorded submission text is for the API only: it does not travel with every instance
    taskSpec: ({ source: _source, ...rest }) => rest,

    jobRetries: (spec) => spec.jobRetryCount ?? 0,

    async verify(spec, ctx) {
      // every task is final: an instance without an outcome failed for good (its retries ran out)
      return decide(spec, ctx.results.map((r) => r.output as ExecInstanceOutput | undefined), true) ?? { ok: true, summary: { exitCode: 0, ...where(spec), roles: countRoles(spec, ctx.results.map((r) => r.output as ExecInstanceOutput | undefined), true) } };
    },

    /** OpenPAI's rules while instances still run: a role at its failure count fails the job now; one at its minSucceededInstances ends it. */
    settle(spec, view) {
      const outputs = view.tasks.map((t, i) => {
        const out = view.results[i]?.output as ExecInstanceOutput | undefined;
        if (out !== undefined || view.states[i] !== 'failed') return out;
        // failed for good without an outcome of its own (no runtime, deliveries ran out): a failed instance
        const p = t.payload as InstancePayload;
        return { role: spec.taskRoles[p.role]?.name ?? '', index: p.index, exitCode: null, signal: null, end: 'failed', durationMs: 0 } satisfies ExecInstanceOutput;
      });
      return decide(spec, outputs, false);
    },
  };
}

/**
 * Where the commands ran: on the worker host. `image` is recorded and shown, not used: no container
 * runtime is wired yet (a configured one would run each instance in its image). A role's own image
 * is in its entry of `roles`.
 */
function where(spec: ExecSpec): { runsOn: 'host'; image: string | null } {
  return { runsOn: 'host', image: spec.image ?? null };
}

/** Per role: instances, succeeded, failed (with `missingFailed`, an instance without an outcome counts as failed). */
function countRoles(spec: ExecSpec, outputs: readonly (ExecInstanceOutput | undefined)[], missingFailed: boolean): ExecRoleOutcome[] {
  const outs = outputs.filter((o): o is ExecInstanceOutput => o !== undefined);
  return spec.taskRoles.map((r) => {
    const mine = outs.filter((o) => o.role === r.name);
    const failures = mine.filter((o) => o.exitCode !== 0).map((o) => ({ index: o.index, exitCode: o.exitCode, end: o.end }));
    const missing = missingFailed ? r.taskNumber - mine.length : 0;
    return {
      name: r.name, instances: r.taskNumber, succeeded: mine.length - failures.length, failed: failures.length + missing, failures,
      ...(r.image !== undefined ? { image: r.image } : {}),
      ...(r.resources !== undefined ? { resources: r.resources } : {}),
    };
  });
}

/**
 * The job's outcome by the roles' policies, or undefined when none decides it: a role with
 * `minFailedInstances` (default 1) failed instances fails the job; a role with
 * `minSucceededInstances` succeeded instances ends it as succeeded. With `final`, every instance
 * ended; without, instances still running count as neither.
 */
function decide(spec: ExecSpec, outputs: readonly (ExecInstanceOutput | undefined)[], final: boolean): VerifyOutcome | undefined {
  const roles = countRoles(spec, outputs, final);
  const failedRole = spec.taskRoles.findIndex((r, i) => {
    const minFailed = r.minFailedInstances === undefined ? 1 : r.minFailedInstances;
    return minFailed !== null && roles[i]!.failed >= minFailed;
  });
  if (failedRole !== -1) {
    const r = roles[failedRole]!;
    const first = r.failures[0];
    const exitCode = first?.exitCode ?? null;
    const message = `task role ${r.name}: ${r.failed} of ${r.instances} instances failed${first ? ` (first: ${r.name}[${first.index}] ${first.end === 'exited' ? `exit code ${first.exitCode}` : first.end})` : ''}`;
    return { ok: false, code: 'EXEC_FAILED', message, details: { exitCode, ...where(spec), role: r.name, roles } };
  }
  const done = spec.taskRoles.findIndex((r, i) => r.minSucceededInstances != null && roles[i]!.succeeded >= r.minSucceededInstances);
  if (done !== -1) return { ok: true, summary: { exitCode: 0, ...where(spec), roles, settledBy: spec.taskRoles[done]!.name } };
  return undefined;
}

async function runInstance(spec: ExecSpec, payload: InstancePayload, ctx: RunContext, deps: ExecDeps): Promise<TaskResult> {
  const role: ExecRole | undefined = spec.taskRoles[payload?.role];
  if (role === undefined || !Number.isSafeInteger(payload.index) || payload.index < 0 || payload.index >= role.taskNumber) {
    throw new TaskRunError('BAD_PAYLOAD', `exec: task ${ctx.taskId} has no instance ${JSON.stringify(payload)}`, false);
  }
  if (spec.sealed === undefined) return runCommands(spec, role, role.commands, payload, ctx, deps, false, undefined);
  const sealed = await readSealed(deps.documents, { ...spec, sealed: spec.sealed }, { waitMs: deps.sealedWaitMs ?? DEFAULT_SEALED_WAIT_MS, signal: ctx.signal });
  const redactor = createRedactor(sealed.redact);
  try {
    return await runCommands(spec, role, sealed.commands[payload.role]!, payload, ctx, deps, true, redactor);
  } catch (err) {
    // what goes into TaskFailed: a message naming a command or echoing output must not carry a secret
    if (redactor !== undefined && err instanceof Error) err.message = redactor.text(err.message);
    throw err;
  }
}

/** Runs one instance's commands; `sealed` ones out of its command line, and with a redactor its task logs, stderrTail and messages hide the secrets. */
async function runCommands(spec: ExecSpec, role: ExecRole, commands: readonly string[], payload: InstancePayload, ctx: RunContext, deps: ExecDeps, sealed: boolean, redactor: Redactor | undefined): Promise<TaskResult> {
  const env: Record<string, string> = {
    ...spec.env,
    ...role.env,
    ...paiEnv(spec, role, payload.index),
    JETJOBS_JOB_ID: ctx.jobId,
    JETJOBS_TASK_ID: ctx.taskId,
  };
  // the stderr tail is kept after redaction, so no secret cut at the tail's start can show a part of itself
  const redacted = redactor === undefined ? undefined : { redactor, stderr: createOutputTail(OUTPUT_TAIL_BYTES) };
  const filters = redacted && { stdout: redacted.redactor.stream(), stderr: teeTo(redacted.redactor.stream(), (b) => redacted.stderr.push(b)) };
  const script = `set -e\n${commands.join('\n')}`;
  const how = !sealed ? { args: ['-c', script], env } : { args: ['-c', SEALED_RUNNER], env: { ...env, [SEALED_SCRIPT_ENV]: script } };
  return withSandboxTask(deps, ctx, 'exec', async (task) => {
    const out = await task.run({
      command: SHELL,
      ...how,
      timeLimitMs: spec.timeLimitMs ?? deps.limits.timeLimitMs,
      memoryLimitBytes: (role.memoryLimitMb ?? spec.memoryLimitMb ?? deps.limits.memoryLimitMb) * MIB,
      outputLimitBytes: OUTPUT_TAIL_BYTES,
    }, filters);
    const ok = out.reason === 'exited' && out.exitCode === 0;
    const stderrTail = (): string => {
      if (redacted === undefined) return task.redact(out.stderr.tail.slice(-STDERR_TAIL));
      // again after the work dir's path is cut out: that could join two halves of a value
      return redacted.redactor.text(task.redact(redacted.stderr.result().tail)).slice(-STDERR_TAIL);
    };
    const output: ExecInstanceOutput = {
      role: role.name,
      index: payload.index,
      exitCode: out.reason === 'exited' ? out.exitCode : null,
      signal: out.signal,
      end: out.reason,
      durationMs: Math.round(out.durationMs),
      ...(ok ? {} : { stderrTail: stderrTail() }),
    };
    if (ok) return { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [], output };
    // a failed instance is a failed task (a recovery runs it again), its exit code kept with it
    const what = out.reason === 'exited' ? `exit code ${out.exitCode}` : out.reason;
    const result: TaskResult = { itemsDone: 0, itemsFailed: 1, bytesDone: 0, failures: [], output };
    // counted within the instance's current run: a job retry (or a recovery) gives it its retries again
    const retries = role.taskRetryCount ?? spec.taskRetryCount ?? 0;
    const attempt = ctx.runAttempt ?? ctx.attempt;
    if (attempt <= retries) {
      throw new TaskRunError('EXEC_RETRY', `${role.name}[${payload.index}] attempt ${attempt} ended with ${what}; retrying (taskRetryCount ${retries})`, true, { result });
    }
    throw new TaskRunError('EXEC_EXIT', `${role.name}[${payload.index}] ended with ${what}`, false, { result });
  });
}

/** `filter`, with what it passes on also given to `sink`. */
function teeTo(filter: OutputFilter, sink: (chunk: Buffer) => void): OutputFilter {
  return {
    push(chunk) {
      const out = filter.push(chunk);
      if (out.length > 0) sink(out);
      return out;
    },
    end() {
      const out = filter.end();
      if (out.length > 0) sink(out);
      return out;
    },
  };
}

/** OpenPAI's variables for one instance (protocol v2 names, plus the per-role counts). */
export function paiEnv(spec: ExecSpec, role: ExecRole, index: number): Record<string, string> {
  const env: Record<string, string> = {
    PAI_JOB_NAME: spec.jobName ?? '',
    PAI_USER_NAME: spec.userName ?? '',
    PAI_CURRENT_TASK_ROLE_NAME: role.name,
    PAI_CURRENT_TASK_ROLE_CURRENT_TASK_INDEX: String(index),
    PAI_TASK_INDEX: String(index),
    PAI_TASK_ROLE_COUNT: String(spec.taskRoles.length),
    PAI_TASK_ROLE_LIST: spec.taskRoles.map((r) => r.name).join(','),
  };
  for (const r of spec.taskRoles) env[`PAI_TASK_ROLE_TASK_COUNT_${r.name}`] = String(r.taskNumber);
  return env;
}

export { EXEC_SPEC_SCHEMA, MAX_SOURCE_CHARS, SOURCE_FORMATS, type ExecSpec, type ExecRole, type ExecResources, type ExecSource } from './spec.ts';
export { EXEC_SEALED_NAMESPACE, type ExecSealedDocument } from './sealed.ts';
export { MIN_REDACT_CHARS, REDACTED } from './redactor.ts';
