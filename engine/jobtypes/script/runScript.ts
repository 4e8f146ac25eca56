/**
 * One `script` task on a worker: fetch the binary into a fresh work dir, start the runtime's
 * runner in the sandbox (its own process group, uid when leased, scrubbed environment, time and
 * memory limits), stream its output to the task logs, read `result.json`, clean up. What the
 * script did (a result, a refusal, a throw, a limit) is the task's `output`; only what the
 * script cannot be blamed for (binary gone, no runtime, no free uid, store down) throws.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { TaskResult } from '../../../actors/events.ts';
import type { BinaryStore } from '../../binaries/binaryStore.ts';
import { isAppError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { createWorkDir, removeWorkDir, runSandboxed, minimumMemoryLimitBytes, type SandboxOutcome } from '../../sandbox/index.ts';
import type { UidLease, UidPool } from '../../sandbox/uidLease.ts';
import type { TaskLogs } from '../../tasklogs/taskLogs.ts';
import { TaskRunError, type RunContext } from '../jobType.ts';
import { readResultFile } from './resultFile.ts';
import { runnerCommand, JAVA_MIN_MEMORY_BYTES, NODE_RUNNER_PATH } from './runners/index.ts';
import { baseContentType, BINARY_TYPES, type Runtime, type RuntimeCommands } from './runtimes.ts';
import type { ScriptSpec } from './spec.ts';

export interface ScriptDeps {
  binaries: BinaryStore;
  runtimes: RuntimeCommands;
  /** Absolute; each task's work dir is made inside it. */
  workRoot: string;
  /** Per-task uids (a root worker), or null: tasks run as the worker's own user. */
  uids: UidPool | null;
  /** `none`: each task in a network namespace of its own (with uids only); `host`: the worker's network. */
  network: 'none' | 'host';
  taskLogs?: TaskLogs;
  limits: { timeLimitMs: number; memoryLimitMb: number; resultMaxBytes: number };
  logger: Logger;
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

  let lease: UidLease | undefined;
  if (deps.uids !== null && deps.network === 'none') {
    const problem = await networkNamespaceProblem();
    if (problem !== undefined) throw new TaskRunError('RUNTIME_UNAVAILABLE', problem, false);
  }
  if (deps.uids !== null) {
    await mkdir(deps.workRoot, { recursive: true, mode: 0o711 });
    const blocked = await unsearchableAncestor(deps.workRoot);
    if (blocked !== undefined) {
      throw new TaskRunError('RUNTIME_UNAVAILABLE', `script tasks run as their own uids, which cannot reach ${deps.workRoot}: ${blocked} is not searchable by other users (chmod o+x it, or set scriptWorkDir elsewhere)`, false);
    }
    lease = await deps.uids.acquire().catch((e: unknown) => {
      // every uid taken passes; anything else (no flock, a uid the kernel refuses) will not
      if (isAppError(e, 'UNAVAILABLE')) throw new TaskRunError('SANDBOX_BUSY', e.message, true);
      throw new TaskRunError('RUNTIME_UNAVAILABLE', `cannot lease a sandbox uid: ${e instanceof Error ? e.message : String(e)}`, false);
    });
  }
  // the pid names the process that owns the dir: a sibling worker on the same work root sweeps only dead owners' dirs
  const dirName = `${ctx.jobId}-${ctx.taskId}-${ctx.attempt}-p${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(deps.workRoot, { recursive: true, mode: 0o711 });
    await sweepLeftovers(deps.workRoot, deps.logger);
    const workDir = await createWorkDir(deps.workRoot, dirName);
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
    const writer = deps.taskLogs?.writer(ctx.jobId, ctx.taskId, ctx.attempt);
    const out = await runSandboxed({
      command: cmd.command,
      args: cmd.args,
      workDir,
      env: { JETJOBS_JOB_ID: ctx.jobId, JETJOBS_TASK_ID: ctx.taskId, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      timeLimitMs: spec.timeLimitMs ?? deps.limits.timeLimitMs,
      memoryLimitBytes,
      outputLimitBytes: OUTPUT_TAIL_BYTES,
      signal: ctx.signal,
      heartbeat: ctx.heartbeat,
      ...(writer === undefined ? {} : { onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => writer.write(stream, chunk) }),
      ...(lease === undefined ? {} : { user: { uid: lease.uid, gid: lease.gid }, isolateNetwork: deps.network === 'none' }),
    });
    await writer?.end({ reason: out.reason, exitCode: out.exitCode });
    if (out.reason === 'aborted') throw new TaskRunError('ABORTED', 'the task was stopped', false);
    if (out.reason === 'spawnFailed') throw new TaskRunError('RUNTIME_UNAVAILABLE', out.spawnError ?? `cannot start ${runtime}`, false);
    const realDir = await realpath(workDir).catch(() => workDir);
    return outcome(runtime, info, out, redacted(await failureOrResult(out, workDir, spec, deps), [workDir, realDir]));
  } finally {
    await lease?.release();
    await removeWorkDir(deps.workRoot, dirName).catch((err: unknown) => deps.logger.warn({ err, dir: dirName }, 'could not remove a script work dir'));
  }
}

/** The first directory from `/` to `dir` that others may not enter (no `o+x`); checked once per dir while it passes. */
const searchable = new Set<string>();
async function unsearchableAncestor(dir: string): Promise<string | undefined> {
  if (searchable.has(dir)) return undefined;
  for (let d = dir; ; d = path.dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0) return d;
    if (d === path.dirname(d)) break;
  }
  searchable.add(dir);
  return undefined;
}

const RUNNERS_DIR = path.dirname(NODE_RUNNER_PATH);
const PROCESS_STARTED_MS = Date.now() - process.uptime() * 1000;
let swept: Promise<void> | undefined;

/**
 * Work dirs a worker process left when it died mid-task: their owner (the pid in the name) is gone,
 * or it is this pid but the dir is older than this process (a pid reused after a reboot). A sibling
 * worker's dirs on a shared work root stay. Once per process, on the first task.
 */
function sweepLeftovers(root: string, logger: Logger): Promise<void> {
  return (swept ??= (async () => {
    for (const name of await readdir(root).catch(() => [] as string[])) {
      const m = /^[0-9a-f-]{36}-.*-p(\d+)-[0-9a-f]{8}$/.exec(name);
      if (m === null) continue;
      const dir = path.join(root, name);
      const owner = Number(m[1]);
      const leftover = owner === process.pid ? ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Infinity) < PROCESS_STARTED_MS : !processAlive(owner);
      if (leftover) await rm(dir, { recursive: true, force: true }).catch((err: unknown) => logger.warn({ err, dir }, 'could not remove a left-over script work dir'));
    }
  })());
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let namespaces: Promise<string | undefined> | undefined;
/** Whether this host lets us make a network namespace (a container without CAP_SYS_ADMIN does not): undefined if so, else why not. Probed once. */
function networkNamespaceProblem(): Promise<string | undefined> {
  return (namespaces ??= new Promise((resolve) => {
    execFile('/usr/bin/unshare', ['--net', '--', '/bin/true'], { timeout: 10_000 }, (err, _out, stderr) =>
      resolve(err === null ? undefined : `network namespaces are not available here (${String(stderr).trim() || err.message}): grant CAP_SYS_ADMIN or set scriptNetwork=host`));
  }));
}

/** A failure's texts without the server's paths (the work dir, the runners' dir): clients see them. */
function redacted(r: ScriptFailure | { result: unknown }, workDirs: readonly string[]): ScriptFailure | { result: unknown } {
  if ('result' in r) return r;
  const clean = (t: string) => {
    for (const d of workDirs) t = t.split(`file://${d}/`).join('').split(`${d}/`).join('');
    return t.split(`file://${RUNNERS_DIR}/`).join('<runner>/').split(`${RUNNERS_DIR}/`).join('<runner>/');
  };
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
