/**
 * One `script` task on a worker: fetch the binary into a fresh work dir, start the runtime's
 * runner in the sandbox (its own process group, uid when leased, scrubbed environment, time and
 * memory limits), stream its output to the task logs, read `result.json`, clean up. What the
 * script did (a result, a refusal, a throw, a limit) is the task's `output`; only what the
 * script cannot be blamed for (binary gone, no runtime, no free uid, store down) throws.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskResult } from '../../../actors/events.ts';
import type { BinaryStore } from '../../binaries/binaryStore.ts';
import { isAppError } from '../../errors.ts';
import { minimumMemoryLimitBytes, type SandboxOutcome } from '../../sandbox/index.ts';
import { TaskRunError, type RunContext } from '../jobType.ts';
import { withSandboxTask, type SandboxTaskDeps } from '../sandboxTask.ts';
import { readResultFile } from './resultFile.ts';
import { runnerCommand, JAVA_MIN_MEMORY_BYTES, NODE_RUNNER_PATH } from './runners/index.ts';
import { baseContentType, BINARY_TYPES, type Runtime, type RuntimeCommands } from './runtimes.ts';
import type { ScriptSpec } from './spec.ts';

export interface ScriptDeps extends SandboxTaskDeps {
  binaries: BinaryStore;
  runtimes: RuntimeCommands;
  limits: { timeLimitMs: number; memoryLimitMb: number; resultMaxBytes: number };
  /** The compiled Java runner's dir, if there is one (javaRunnerClasses.ts). */
  javaClassDir?: () => Promise<string | undefined>;
}

/** Why a script job fails: the job failure code, a message and the runner's detail. */
export interface ScriptFailure {
  code: 'SCRIPT_ERROR' | 'SCRIPT_VALIDATION' | 'TIME_LIMIT' | 'MEMORY_LIMIT' | 'RESULT_TOO_LARGE';
  message: string;
  details: { message: string; errorClass: string; stack: string; problems?: string[] };
}

/** A script task's `output` (TaskResult.output). */
export interface ScriptOutput {
  runtime: Runtime;
  binary: { name: string; sha256: string; size: number };
  exitCode: number | null;
  signal: string | null;
  /** How the process ended: exited, timeLimit, memoryLimit. */
  end: string;
  durationMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  result?: unknown;
  failure?: ScriptFailure;
}

/** Output of the sandbox kept in memory per stream (for an error's `stack` when there is no result). */
const OUTPUT_TAIL_BYTES = 64 * 1024;
const STDERR_IN_STACK = 4096;
/** What the runners report for an allocation that failed (most likely at the address-space limit). */
const MEMORY_ERROR_CLASSES: ReadonlySet<string> = new Set(['java.lang.OutOfMemoryError', 'MemoryError']);
const isMemoryError = (errorClass: string, message: string): boolean =>
  MEMORY_ERROR_CLASSES.has(errorClass) || (errorClass === 'RangeError' && /allocat/i.test(message));
const MIB = 1024 * 1024;

export async function runScript(spec: ScriptSpec, ctx: RunContext, deps: ScriptDeps): Promise<TaskResult> {
  const info = await deps.binaries.info(spec.binary).catch(unavailable('reading the binary store'));
  if (info === undefined) throw new TaskRunError('BINARY_NOT_FOUND', `no binary named ${spec.binary} (deleted after the job was submitted?)`, false);
  const type = BINARY_TYPES[baseContentType(info.contentType)];
  if (type === undefined) throw new TaskRunError('BAD_BINARY', `binary ${spec.binary} has content type ${info.contentType}, which no runtime runs`, false);
  if (spec.runtime !== undefined && spec.runtime !== type.runtime) {
    throw new TaskRunError('BAD_BINARY', `binary ${spec.binary} (${info.contentType}) runs on ${type.runtime}, not on ${spec.runtime}`, false);
  }
  const runtime = type.runtime;
  const exe = deps.runtimes[runtime];
  if ('missing' in exe) throw new TaskRunError('RUNTIME_UNAVAILABLE', exe.missing, false);

  const memoryLimitBytes = (spec.memoryLimitMb ?? deps.limits.memoryLimitMb) * MIB;
  const minimum = runtime === 'java' ? JAVA_MIN_MEMORY_BYTES : minimumMemoryLimitBytes(exe.path);
  if (memoryLimitBytes < minimum) {
    const msg = `memoryLimitMb ${memoryLimitBytes / MIB} is below the ${Math.ceil(minimum / MIB)} MiB ${runtime} needs to start`;
    return outcome(runtime, info, null, { code: 'MEMORY_LIMIT', message: msg, details: { message: msg, errorClass: 'MemoryLimitTooLow', stack: '' } });
  }

  return withSandboxTask(deps, ctx, 'script', async (task) => {
    const { workDir } = task;
    const appDir = path.join(workDir, 'app');
    await mkdir(appDir, { mode: 0o755 });
    const binaryPath = path.join(appDir, type.file);
    const got = await deps.binaries.getToFile(spec.binary, binaryPath).catch((e: unknown) => {
      if (isAppError(e) && e.code === 'NOT_FOUND') throw new TaskRunError('BINARY_NOT_FOUND', `no binary named ${spec.binary}`, false);
      throw new TaskRunError('IO_ERROR', `cannot fetch binary ${spec.binary}: ${e instanceof Error ? e.message : String(e)}`, true);
    });
    if (BINARY_TYPES[baseContentType(got.contentType)]?.runtime !== runtime) {
      throw new TaskRunError('IO_ERROR', `binary ${spec.binary} was replaced by one of another type while starting; retrying`, true);
    }
    await writeFile(path.join(workDir, 'job.json'), JSON.stringify({
      classPath: spec.classPath, config: spec.config ?? {}, jobId: ctx.jobId, taskId: ctx.taskId, context: spec.context ?? null,
    }), { mode: 0o644 });

    const javaClassDir = runtime === 'java' ? await deps.javaClassDir?.() : undefined;
    const cmd = runnerCommand(runtime, {
      binaryPath, memoryLimitBytes,
      nodePath: pathOf(deps.runtimes.node), pythonPath: pathOf(deps.runtimes.python), javaPath: pathOf(deps.runtimes.java),
      ...(javaClassDir !== undefined ? { javaClassDir } : {}),
    });
    const out = await task.run({
      command: cmd.command,
      args: cmd.args,
      env: { JETJOBS_JOB_ID: ctx.jobId, JETJOBS_TASK_ID: ctx.taskId, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      timeLimitMs: spec.timeLimitMs ?? deps.limits.timeLimitMs,
      memoryLimitBytes,
      outputLimitBytes: OUTPUT_TAIL_BYTES,
    });
    return outcome(runtime, info, out, redacted(await failureOrResult(out, workDir, spec, deps), task.redact));
  });
}

const RUNNERS_DIR = path.dirname(NODE_RUNNER_PATH);
/** A failure's texts without the server's paths (the work dir, the runners' dir): clients see them. */
function redacted(r: ScriptFailure | { result: unknown }, redactWorkDir: (t: string) => string): ScriptFailure | { result: unknown } {
  if ('result' in r) return r;
  const clean = (t: string) => redactWorkDir(t).split(`file://${RUNNERS_DIR}/`).join('<runner>/').split(`${RUNNERS_DIR}/`).join('<runner>/');
  return { ...r, message: clean(r.message), details: { ...r.details, message: clean(r.details.message), stack: clean(r.details.stack) } };
}

const pathOf = (r: { path: string } | { missing: string }): string => ('path' in r ? r.path : '');

function unavailable(what: string) {
  return (e: unknown): never => {
    throw new TaskRunError('IO_ERROR', `${what}: ${e instanceof Error ? e.message : String(e)}`, true);
  };
}

async function failureOrResult(out: SandboxOutcome, workDir: string, spec: ScriptSpec, deps: ScriptDeps): Promise<ScriptFailure | { result: unknown }> {
  const stderr = out.stderr.tail.slice(-STDERR_IN_STACK);
  if (out.reason === 'timeLimit') {
    const s = Math.round((spec.timeLimitMs ?? deps.limits.timeLimitMs) / 1000);
    const msg = `the job ran past its time limit of ${s} s and was killed`;
    return { code: 'TIME_LIMIT', message: msg, details: { message: msg, errorClass: 'TimeLimitExceeded', stack: stderr } };
  }
  if (out.reason === 'memoryLimit') {
    const msg = `the job ran out of its memory limit of ${spec.memoryLimitMb ?? deps.limits.memoryLimitMb} MiB`;
    return { code: 'MEMORY_LIMIT', message: msg, details: { message: msg, errorClass: 'MemoryLimitExceeded', stack: stderr } };
  }
  const read = out.exitCode === 0 ? await readResultFile(workDir, deps.limits.resultMaxBytes) : undefined;
  if (read?.kind === 'read') {
    const v = read.value;
    if (v.ok) return { result: v.result };
    if (v.kind === 'validation') {
      return { code: 'SCRIPT_VALIDATION', message: v.message, details: { message: v.message, errorClass: 'ValidationError', stack: '', problems: v.problems } };
    }
    // a runtime that reports its own out-of-memory as an exception (the JVM, Python) hit the limit all the same
    const code = isMemoryError(v.errorClass, v.message) ? 'MEMORY_LIMIT' : 'SCRIPT_ERROR';
    return { code, message: `${v.errorClass}: ${v.message}`, details: { message: v.message, errorClass: v.errorClass, stack: v.stack } };
  }
  if (read?.kind === 'tooLarge') {
    const msg = `the job's result is ${read.bytes} bytes, more than the ${deps.limits.resultMaxBytes} allowed (scriptResultMaxBytes)`;
    return { code: 'RESULT_TOO_LARGE', message: msg, details: { message: msg, errorClass: 'ResultTooLarge', stack: '' } };
  }
  const how = out.signal !== null ? `was killed by ${out.signal}` : `exited with code ${out.exitCode}`;
  const why = read?.kind === 'invalid' ? ` (${read.why})` : '';
  const msg = `the job's process ${how} without a result${why}`;
  return { code: 'SCRIPT_ERROR', message: msg, details: { message: msg, errorClass: 'ProcessExited', stack: stderr } };
}

function outcome(runtime: Runtime, info: { name: string; sha256: string; size: number }, out: SandboxOutcome | null, r: ScriptFailure | { result: unknown }): TaskResult {
  const output: ScriptOutput = {
    runtime,
    binary: { name: info.name, sha256: info.sha256, size: info.size },
    exitCode: out?.exitCode ?? null,
    signal: out?.signal ?? null,
    end: out?.reason ?? 'notStarted',
    durationMs: Math.round(out?.durationMs ?? 0),
    stdoutBytes: out?.stdout.bytes ?? 0,
    stderrBytes: out?.stderr.bytes ?? 0,
    ...('result' in r ? { result: r.result } : { failure: r }),
  };
  return { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [], output };
}
