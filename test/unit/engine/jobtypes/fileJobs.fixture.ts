/** Temp roots and contexts for job type tests (real directories; nothing is mocked). */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TaskPlan, TaskResult } from '../../../../actors/events.ts';
import type { FileRoots, JobType, RunContext, VerifyContext } from '../../../../engine/jobtypes/jobType.ts';

/** A temp dir holding `data/`, `cache/` and `outside/` (a sibling of the roots, for escapes). */
export interface TempRoots extends FileRoots {
  base: string;
  outside: string;
  cleanup(): Promise<void>;
}

/** Fresh temp roots; call `cleanup()` in `after`/`afterEach`. */
export async function makeRoots(): Promise<TempRoots> {
  const base = await mkdtemp(path.join(tmpdir(), 'jobtypes-'));
  const roots = { dataDir: path.join(base, 'data'), cacheDir: path.join(base, 'cache'), outside: path.join(base, 'outside') };
  await Promise.all(Object.values(roots).map((d) => mkdir(d)));
  return { base, ...roots, cleanup: () => rm(base, { recursive: true, force: true }) };
}

/** Writes `files` (relative path → content) under `dir`, creating directories. */
export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
}

/** Every entry under `dir` (files and dirs), relative and sorted; dot-files included. Follows symlinked directories. */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((e) => e.split(path.sep).join('/')).sort();
}

/** Like `listTree`, but a symlink is listed as itself, never entered. */
export async function listEntries(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const rel = path.posix.join(prefix, ent.name);
    out.push(rel);
    if (ent.isDirectory()) out.push(...(await listEntries(path.join(dir, ent.name), rel)));
  }
  return out.sort();
}

/** Deterministic bytes of the given length (so partitions are distinguishable). */
export function pattern(length: number, seed = 7): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  return buf;
}

/** A RunContext with a live signal and a no-op heartbeat, overridable per test. */
export function runCtx(roots: FileRoots, over: Partial<RunContext> = {}): RunContext {
  return { jobId: 'j1', taskId: 't00000', attempt: 1, roots, signal: new AbortController().signal, heartbeat: () => undefined, ...over };
}

/** A VerifyContext over the given plan and results. */
export function verifyCtx(roots: FileRoots, tasks: readonly TaskPlan[], results: readonly TaskResult[]): VerifyContext {
  return { jobId: 'j1', roots, tasks, results, tasksFailed: 0, signal: new AbortController().signal };
}

/** Plans `spec` and runs every task in order, as a coordinator and one worker would. */
export async function planAndRun<S extends Record<string, unknown>>(
  type: JobType<S>,
  spec: S,
  roots: FileRoots,
): Promise<{ tasks: TaskPlan[]; results: TaskResult[] }> {
  const tasks = await type.plan(spec, { jobId: 'j1', roots, signal: new AbortController().signal });
  const results: TaskResult[] = [];
  for (const t of tasks) results.push(await type.run(spec, t.payload, runCtx(roots, { taskId: t.taskId })));
  return { tasks, results };
}

export const MIB = 1024 * 1024;

/** The context `plan` gets, over these roots. */
export const planCtx = (r: FileRoots) => ({ jobId: 'j1', roots: r, signal: new AbortController().signal });

/** Five files under `ds/`, one empty, one in a subdirectory, one binary of 5,000 bytes. */
export const FIVE_FILES: Readonly<Record<string, string | Buffer>> = Object.freeze({
  'ds/a.txt': 'alpha', 'ds/b.txt': 'bravo!', 'ds/sub/c.txt': 'c', 'ds/sub/d.txt': '', 'ds/e.bin': pattern(5000),
});
