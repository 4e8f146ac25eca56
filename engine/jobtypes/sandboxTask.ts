/**
 * What every job type that runs user code in the sandbox (`script`, `exec`) does around the run:
 * check the host can isolate (network namespaces, a work root the task uids can reach), lease a
 * uid, make a fresh work dir (sweeping the ones dead workers left), run with the task's signal,
 * heartbeat and output streamed to the task logs, then release the uid and remove the dir. Errors
 * the user's code cannot be blamed for are TaskRunErrors (RUNTIME_UNAVAILABLE, SANDBOX_BUSY);
 * what the process did is the SandboxOutcome.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createWorkDir, removeWorkDir, runSandboxed, type SandboxOptions, type SandboxOutcome } from '../sandbox/index.ts';
import type { UidLease, UidPool } from '../sandbox/uidLease.ts';
import type { TaskLogs } from '../tasklogs/taskLogs.ts';
import { TaskRunError, type RunContext } from './jobType.ts';

export interface SandboxTaskDeps {
  /** Absolute; each task's work dir is made inside it. */
  workRoot: string;
  /** Per-task uids (a root worker), or null: tasks run as the worker's own user. */
  uids: UidPool | null;
  /** `none`: each task in a network namespace of its own (with uids only); `host`: the worker's network. */
  network: 'none' | 'host';
  taskLogs?: TaskLogs;
  logger: Logger;
}

/** Rewrites one output stream on its way to the task logs (an `exec` instance's secrets hidden). */
export interface OutputFilter {
  /** What to pass on for `chunk`; it may hold bytes back until the next chunk. */
  push(chunk: Buffer): Buffer;
  /** What it still holds, once the stream ended. */
  end(): Buffer;
}

/** A task's sandbox while `withSandboxTask`'s callback runs. */
export interface SandboxTask {
  /** The fresh work dir (cwd and HOME of the process); files the worker puts here must be world-readable. */
  workDir: string;
  /**
   * Runs the command in the work dir with the task's signal, heartbeat, uid, network and logs; with
   * `filters`, every chunk of output goes through its stream's filter before the task logs (the
   * outcome's tails keep the raw output).
   */
  run(opts: Omit<SandboxOptions, 'workDir' | 'signal' | 'heartbeat' | 'onOutput' | 'user' | 'isolateNetwork'>, filters?: Record<'stdout' | 'stderr', OutputFilter>): Promise<SandboxOutcome>;
  /** `text` without the work dir's path (as configured and as resolved): what clients see. */
  redact(text: string): string;
}

/** Sets up, runs `fn`, cleans up (always). `what` names the task kind in messages (`script`, `exec`). */
export async function withSandboxTask<T>(deps: SandboxTaskDeps, ctx: RunContext, what: string, fn: (task: SandboxTask) => Promise<T>): Promise<T> {
  await mkdir(deps.workRoot, { recursive: true, mode: 0o711 });
  let lease: UidLease | undefined;
  if (deps.uids !== null) {
    if (deps.network === 'none') {
      const problem = await networkNamespaceProblem();
      if (problem !== undefined) throw new TaskRunError('RUNTIME_UNAVAILABLE', problem, false);
    }
    const blocked = await unsearchableAncestor(deps.workRoot);
    if (blocked !== undefined) {
      throw new TaskRunError('RUNTIME_UNAVAILABLE', `${what} tasks run as their own uids, which cannot reach their work dirs: ${blocked} is not searchable by other users (chmod o+x it, or set scriptWorkDir elsewhere)`, false);
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
    await sweepLeftovers(deps.workRoot, deps.logger);
    const workDir = await createWorkDir(deps.workRoot, dirName);
    const realDir = await realpath(workDir).catch(() => workDir);
    const task: SandboxTask = {
      workDir,
      async run(opts, filters) {
        const writer = deps.taskLogs?.writer(ctx.jobId, ctx.taskId, ctx.attempt);
        const pass = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
          if (chunk.length > 0) writer?.write(stream, chunk);
        };
        const onOutput = filters !== undefined ? (stream: 'stdout' | 'stderr', chunk: Buffer) => pass(stream, filters[stream].push(chunk))
          : writer !== undefined ? (stream: 'stdout' | 'stderr', chunk: Buffer) => writer.write(stream, chunk)
          : undefined;
        const out = await runSandboxed({
          ...opts,
          workDir,
          signal: ctx.signal,
          heartbeat: ctx.heartbeat,
          ...(onOutput === undefined ? {} : { onOutput }),
          ...(lease === undefined ? {} : { user: { uid: lease.uid, gid: lease.gid }, isolateNetwork: deps.network === 'none' }),
        });
        if (filters !== undefined) for (const stream of ['stdout', 'stderr'] as const) pass(stream, filters[stream].end());
        await writer?.end({ reason: out.reason, exitCode: out.exitCode });
        if (out.reason === 'aborted') throw new TaskRunError('ABORTED', 'the task was stopped', false);
        if (out.reason === 'spawnFailed') throw new TaskRunError('RUNTIME_UNAVAILABLE', out.spawnError ?? `cannot start ${opts.command}`, false);
        return out;
      },
      redact(text) {
        // the longer path first: one may contain the other (a symlinked root)
        for (const d of [...new Set([workDir, realDir])].sort((a, b) => b.length - a.length)) text = text.split(`file://${d}/`).join('').split(`${d}/`).join('').split(d).join('.');
        return text;
      },
    };
    return await fn(task);
  } finally {
    await lease?.release();
    await removeWorkDir(deps.workRoot, dirName).catch((err: unknown) => deps.logger.warn({ err, dir: dirName }, `could not remove a ${what} work dir`));
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

const PROCESS_STARTED_MS = Date.now() - process.uptime() * 1000;
const sweeps = new Map<string, Promise<void>>();

/**
 * Work dirs a worker process left when it died mid-task: their owner (the pid in the name) is gone,
 * or it is this pid but the dir is older than this process (a pid reused after a reboot). A sibling
 * worker's dirs on a shared work root stay. Once per process and root, on the first task.
 */
function sweepLeftovers(root: string, logger: Logger): Promise<void> {
  let p = sweeps.get(root);
  if (p === undefined) {
    p = (async () => {
      for (const name of await readdir(root).catch(() => [] as string[])) {
        const m = /^[0-9a-f-]{36}-.*-p(\d+)-[0-9a-f]{8}$/.exec(name);
        if (m === null) continue;
        const dir = path.join(root, name);
        const owner = Number(m[1]);
        const leftover = owner === process.pid ? ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Infinity) < PROCESS_STARTED_MS : !processAlive(owner);
        if (leftover) await rm(dir, { recursive: true, force: true }).catch((err: unknown) => logger.warn({ err, dir }, 'could not remove a left-over work dir'));
      }
    })();
    sweeps.set(root, p);
  }
  return p;
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
