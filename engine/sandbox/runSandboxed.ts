/**
 * Runs a command in its own process group, work dir and scrubbed environment, under wall-clock
 * and memory limits, keeping the tail of its output. The worker that calls it is never at risk:
 * the limits and kills apply to the child's group only, and every failure of the child is data in
 * the outcome. See README.md for the isolation rules and what they do not cover.
 */
import { spawn } from 'node:child_process';
import { lchown, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppError } from '../errors.ts';
import { checkMemoryLimit, createMemoryFailureWatch, limitedArgv } from './memoryLimit.ts';
import { createOutputTail, type StreamTail } from './outputTail.ts';
import { signalGroup } from './processGroup.ts';
import { resolveCommand } from './resolveCommand.ts';
import { buildSandboxEnv } from './sandboxEnv.ts';

/** Default of {@link SandboxOptions.killGraceMs}. */
export const DEFAULT_KILL_GRACE_MS = 2000;
/** How often {@link SandboxOptions.heartbeat} is called while the process runs. */
const HEARTBEAT_EVERY_MS = 1000;

export type SandboxStream = 'stdout' | 'stderr';

export interface SandboxOptions {
  /** A bare name (looked up in the sandbox's fixed PATH) or a path (relative to `workDir`). */
  command: string;
  args: string[];
  /**
   * An existing directory only this task uses (make it with `createWorkDir`, remove it with
   * `removeWorkDir`): the cwd and HOME; `<workDir>/tmp` is created as TMPDIR.
   */
  workDir: string;
  /** Extra variables the caller chooses (e.g. PAI_*); nothing else of the worker's env is passed. */
  env?: Record<string, string>;
  /** Wall-clock limit from the spawn; then the group is killed (reason `timeLimit`). */
  timeLimitMs: number;
  /** The address-space limit (RLIMIT_AS) of every process in the group; see memoryLimit.ts for minimums. */
  memoryLimitBytes: number;
  /** Bytes kept per stream: the tail; the total count is kept as well. */
  outputLimitBytes: number;
  /** Abort = stop: the group is killed (reason `aborted`). */
  signal: AbortSignal;
  /** Called every second while the process runs (errors it throws are ignored). */
  heartbeat?: () => void;
  /** SIGTERM to the group, SIGKILL this long after. @defaultValue {@link DEFAULT_KILL_GRACE_MS} */
  killGraceMs?: number;
  /** Every output chunk as it comes, for a live follow (errors it throws are ignored). */
  onOutput?: (stream: SandboxStream, chunk: Buffer) => void;
  /**
   * Run as this uid/gid (no supplementary groups, no capabilities) instead of the worker's own:
   * needs a root worker. The work dir and its `tmp` are given to that uid before the spawn. Keeps one
   * task from another's files when each task gets its own uid (uidLease.ts).
   */
  user?: { uid: number; gid: number };
  /**
   * No network: the process starts in a network namespace of its own (only a loopback that is down),
   * so it reaches neither the NATS server, nor the API, nor anything else. Needs `user` (a root
   * worker: the namespace is made as root, then `setpriv` drops to the uid with no-new-privs).
   */
  isolateNetwork?: boolean;
}

export type SandboxEndReason = 'exited' | 'timeLimit' | 'memoryLimit' | 'aborted' | 'spawnFailed';

export interface SandboxOutcome {
  /** The exit code, or null when a signal ended it (or it never ran). */
  exitCode: number | null;
  /** The signal that ended it (`SIGKILL`, …), or null. */
  signal: string | null;
  reason: SandboxEndReason;
  stdout: StreamTail;
  stderr: StreamTail;
  /** From the call to the end of the process and its output. */
  durationMs: number;
  /** Why it could not start (reason `spawnFailed`). */
  spawnError?: string;
}

/**
 * Runs `command args` sandboxed and resolves once the process has exited and its output is closed
 * (never rejects for anything the child does). Every timer and listener is gone when it resolves.
 * @throws AppError INVALID_SPEC for bad limits or env names (before anything runs); INTERNAL off Linux.
 */
export async function runSandboxed(opts: SandboxOptions): Promise<SandboxOutcome> {
  if (process.platform !== 'linux') throw new AppError('INTERNAL', 'sandboxed processes need Linux (process groups, RLIMIT_AS)');
  checkLimits(opts);
  const env = buildSandboxEnv(opts.workDir, opts.env);
  await checkWorkDir(opts.workDir, opts.user);
  const started = performance.now();
  const stdout = createOutputTail(opts.outputLimitBytes);
  const stderr = createOutputTail(opts.outputLimitBytes);
  const notStarted = (reason: SandboxEndReason, spawnError?: string): SandboxOutcome => ({
    exitCode: null, signal: null, reason, stdout: stdout.result(), stderr: stderr.result(),
    durationMs: performance.now() - started, ...(spawnError === undefined ? {} : { spawnError }),
  });
  if (opts.signal.aborted) return notStarted('aborted');
  const file = await resolveCommand(opts.command, opts.workDir);
  if (typeof file !== 'string') return notStarted('spawnFailed', file.error);
  checkMemoryLimit(file, opts.memoryLimitBytes);
  if (opts.signal.aborted) return notStarted('aborted');
  return await supervise(opts, env, file, started, stdout, stderr);
}

function supervise(
  opts: SandboxOptions,
  env: Record<string, string>,
  file: string,
  started: number,
  stdout: ReturnType<typeof createOutputTail>,
  stderr: ReturnType<typeof createOutputTail>,
): Promise<SandboxOutcome> {
  const killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const limited = limitedArgv(file, opts.args, opts.memoryLimitBytes);
  const argv = opts.isolateNetwork === true && opts.user !== undefined ? isolatedArgv(limited, opts.user) : limited;
  // with isolateNetwork, root makes the namespace and setpriv drops to the uid; else Node sets the uid
  const asUser = opts.user !== undefined && argv === limited ? { uid: opts.user.uid, gid: opts.user.gid } : {};
  const memoryWatch = createMemoryFailureWatch();
  return new Promise((resolve) => {
    const child = spawn(argv.file, argv.args, {
      cwd: opts.workDir,
      env,
      detached: true, // setsid(): the child leads a new process group (and session)
      stdio: ['ignore', 'pipe', 'pipe'],
      ...asUser,
    });
    const pid = child.pid;
    let stopReason: 'timeLimit' | 'aborted' | undefined;
    let spawnError: string | undefined;
    let exited = false;
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const kill = (signal: NodeJS.Signals): void => {
      if (pid !== undefined) signalGroup(pid, signal);
    };
    const stop = (reason: 'timeLimit' | 'aborted'): void => {
      // A leader that already exited ended on its own; its leftovers were killed with it.
      if (stopReason !== undefined || done || exited) return;
      stopReason = reason;
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), killGraceMs);
    };
    const onAbort = (): void => stop('aborted');
    const timeTimer = setTimeout(() => stop('timeLimit'), opts.timeLimitMs);
    const beat = setInterval(() => safely(() => opts.heartbeat?.()), HEARTBEAT_EVERY_MS);
    opts.signal.addEventListener('abort', onAbort, { once: true });

    const follow = (stream: SandboxStream, tail: ReturnType<typeof createOutputTail>) => (chunk: Buffer): void => {
      tail.push(chunk);
      if (stream === 'stderr') memoryWatch.push(chunk);
      if (opts.onOutput) safely(() => opts.onOutput?.(stream, chunk));
    };
    child.stdout.on('data', follow('stdout', stdout));
    child.stderr.on('data', follow('stderr', stderr));

    child.once('exit', () => {
      exited = true;
      // The task is over when its leader is: whatever it left running in the group goes too.
      kill('SIGKILL');
      // A process that escaped the group may still hold the pipes: stop waiting for them after the grace.
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, killGraceMs);
    });
    child.once('error', (e) => {
      spawnError = e.message;
      // A spawn that failed has no process to wait for ('close' may or may not follow).
      if (pid === undefined) finish(null, null);
    });
    child.once('close', (code, signal) => finish(code, signal));

    function finish(exitCode: number | null, signal: NodeJS.Signals | null): void {
      if (done) return;
      done = true;
      clearTimeout(timeTimer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      clearInterval(beat);
      opts.signal.removeEventListener('abort', onAbort);
      child.stdout.removeAllListeners('data');
      child.stderr.removeAllListeners('data');
      const abnormal = signal !== null || (exitCode !== null && exitCode !== 0);
      const reason: SandboxEndReason =
        spawnError !== undefined && !exited ? 'spawnFailed'
          : stopReason ?? (abnormal && memoryWatch.seen ? 'memoryLimit' : 'exited');
      resolve({
        exitCode,
        signal,
        reason,
        stdout: stdout.result(),
        stderr: stderr.result(),
        durationMs: performance.now() - started,
        ...(reason === 'spawnFailed' ? { spawnError: `cannot start ${opts.command}: ${spawnError}` } : {}),
      });
    }
  });
}

const UNSHARE = '/usr/bin/unshare';
const SETPRIV = '/usr/bin/setpriv';

/** `unshare --net` (same pid: no fork) → `setpriv` to the uid, no groups, no new privileges → the limited command. */
function isolatedArgv(limited: { file: string; args: string[] }, user: { uid: number; gid: number }): { file: string; args: string[] } {
  return {
    file: UNSHARE,
    args: ['--net', '--', SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--no-new-privs', '--', limited.file, ...limited.args],
  };
}

/** Runs a caller's callback so that its error cannot become an uncaught exception in the worker. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // The caller's heartbeat or follower failing must not take the worker or the run down.
  }
}

function checkLimits(opts: SandboxOptions): void {
  const positive = (name: string, v: number | undefined, allowZero: boolean): void => {
    if (v === undefined) return;
    if (!Number.isSafeInteger(v) || v < 0 || (!allowZero && v === 0)) {
      throw new AppError('INVALID_SPEC', `sandbox: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`);
    }
  };
  positive('timeLimitMs', opts.timeLimitMs, false);
  positive('outputLimitBytes', opts.outputLimitBytes, true);
  positive('killGraceMs', opts.killGraceMs, true);
  // Node's timers hold at most 2^31-1 ms; a longer limit would fire at once.
  if (opts.timeLimitMs > 2 ** 31 - 1) throw new AppError('INVALID_SPEC', `sandbox: timeLimitMs must be at most ${2 ** 31 - 1}`);
  if ((opts.killGraceMs ?? 0) > 2 ** 31 - 1) throw new AppError('INVALID_SPEC', `sandbox: killGraceMs must be at most ${2 ** 31 - 1}`);
}

/** The work dir must be an absolute path to a real directory (not a symlink); `tmp` is made in it (both owned by `user` when given). */
async function checkWorkDir(workDir: string, user: SandboxOptions['user']): Promise<void> {
  if (!path.isAbsolute(workDir)) throw new AppError('INTERNAL', `sandbox: workDir must be absolute, got ${JSON.stringify(workDir)}`);
  const st = await lstat(workDir);
  if (!st.isDirectory()) throw new AppError('INTERNAL', `sandbox: workDir ${workDir} is not a directory`);
  try {
    await mkdir(path.join(workDir, 'tmp'), { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (user !== undefined) {
    if (!Number.isSafeInteger(user.uid) || !Number.isSafeInteger(user.gid) || user.uid <= 0 || user.gid <= 0) {
      throw new AppError('INTERNAL', `sandbox: user must be positive uid/gid, got ${JSON.stringify(user)}`);
    }
    // lchown: a link placed in the dir is never followed
    await lchown(workDir, user.uid, user.gid);
    await lchown(path.join(workDir, 'tmp'), user.uid, user.gid);
  }
}
