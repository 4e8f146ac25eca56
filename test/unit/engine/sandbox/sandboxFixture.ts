/** Shared bits of the sandbox tests: a temp root of work dirs, default options, liveness of a pid. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWorkDir, runSandboxed, type SandboxOptions, type SandboxOutcome } from '../../../../engine/sandbox/index.ts';

const MIB = 1024 * 1024;

/** A temp root for one test file's work dirs; `cleanup` removes it. */
export async function createSandboxRoot(): Promise<{ root: string; workDir(name: string): Promise<string>; cleanup(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'jetjobs-sandbox-'));
  let n = 0;
  return {
    root,
    workDir: (name) => createWorkDir(root, `${name}-${++n}`),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** runSandboxed with test defaults (10 s, 256 MiB, 64 KiB of output, never aborted). */
export function run(workDir: string, command: string, args: string[], more: Partial<SandboxOptions> = {}): Promise<SandboxOutcome> {
  return runSandboxed({
    command,
    args,
    workDir,
    timeLimitMs: 10_000,
    memoryLimitBytes: 256 * MIB,
    outputLimitBytes: 64 * 1024,
    signal: new AbortController().signal,
    ...more,
  });
}

/**
 * Whether `pid` is gone: kill(pid, 0) says ESRCH, or it is a zombie (dead, waiting for init,
 * which in some containers reaps orphans late).
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw e;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Collects the output a run follows, to wait on what it printed. */
export function follower(): { onOutput: SandboxOptions['onOutput']; text(): string } {
  let out = '';
  return { onOutput: (_s, chunk) => { out += chunk.toString('utf8'); }, text: () => out };
}

export { MIB };
