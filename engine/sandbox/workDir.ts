/**
 * A task's working directory: `<root>/<name>`, made fresh for one task and removed after it.
 * The caller makes it with `createWorkDir` before `runSandboxed` and removes it with
 * `removeWorkDir` once the outcome (and any files it wants from it) is taken.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';

const NAME = /^[A-Za-z0-9._-]{1,128}$/;
const DOTS_ONLY = /^\.+$/;

/** The path of `<root>/<name>`, after checking `name` is one plain path segment and `root` absolute. */
export function workDirPath(root: string, name: string): string {
  if (!path.isAbsolute(root)) throw new AppError('INTERNAL', `sandbox: the work dir root must be an absolute path, got ${JSON.stringify(root)}`);
  if (!NAME.test(name) || DOTS_ONLY.test(name)) {
    throw new AppError('INVALID_SPEC', `sandbox: work dir name ${JSON.stringify(name)} must be 1–128 of [A-Za-z0-9._-] and not dots only`);
  }
  return path.join(root, name);
}

/**
 * Creates `<root>/<name>` with mode 0700 (the root must exist) and returns its path. Fails with
 * EEXIST if it exists: a work dir belongs to one task only, never shared or reused.
 */
export async function createWorkDir(root: string, name: string): Promise<string> {
  const dir = workDirPath(root, name);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/**
 * Removes `<root>/<name>` and everything in it. `fs.rm` does not follow symlinks: a link the
 * script left inside (or put in the work dir's place) is unlinked, never what it points to. A
 * missing dir is fine.
 */
export async function removeWorkDir(root: string, name: string): Promise<void> {
  await rm(workDirPath(root, name), { recursive: true, force: true, maxRetries: 3 });
}
