/**
 * Walking a source tree for planning (`load`, `copy`, `move`, and `free`'s counts). Every
 * directory is read through a handle checked to lie inside the root (`rootedDir.ts`), so a
 * directory swapped for a symlink mid-walk cannot list, or size, anything outside it.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError } from '../errors.ts';
import type { SourceFile } from './fileBatches.ts';
import { relativeInside } from './paths.ts';
import { RootedDir, openDir, openRootIfExists, statFollowing } from './rootedDir.ts';

function toRel(base: string, abs: string): string {
  return path.relative(base, abs).split(path.sep).join('/');
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** What a walk collects, and where its rels are relative to. */
interface Walk {
  baseAbs: string;
  signal: AbortSignal;
  out: SourceFile[];
}

/**
 * Lists the regular files at `startAbs` (a file or a directory, walked recursively), sorted by
 * `rel` (relative to `baseAbs`) in code-unit order so the plan is deterministic.
 * Symlinked files are followed only when their target is inside `rootAbs`; symlinked directories
 * are never followed (no cycles, no double counting); sockets, FIFOs and devices are skipped.
 * @throws AppError INVALID_SPEC when `startAbs` does not exist or is not a file or directory;
 *   PATH_OUTSIDE_ROOT when it leads outside `rootAbs`.
 */
export async function listFiles(rootAbs: string, startAbs: string, baseAbs: string, signal: AbortSignal): Promise<SourceFile[]> {
  const startRel = relativeInside(rootAbs, startAbs);
  const shown = startRel || '.';
  const root = await openRootIfExists(rootAbs);
  if (root === undefined) throw new AppError('INVALID_SPEC', `path "${shown}" does not exist`);
  try {
    const walk: Walk = { baseAbs, signal, out: [] };
    const start = await openStart(root, startRel, shown);
    if (!(start instanceof RootedDir)) return [{ rel: toRel(baseAbs, startAbs), size: start.size }];
    try {
      await walkDir(start, startAbs, walk);
    } finally {
      await start.close();
    }
    return walk.out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  } finally {
    await root.close();
  }
}

/** The start directory (checked), or the stats of the regular file the start is. */
async function openStart(root: RootedDir, rel: string, shown: string): Promise<RootedDir | Stats> {
  try {
    return await openDir(root, rel);
  } catch (e) {
    if (isAppError(e)) throw e;
    const code = errCode(e);
    if (code === 'ENOENT') throw new AppError('INVALID_SPEC', `path "${shown}" does not exist`);
    if (code !== 'ENOTDIR') throw e;
  }
  // ENOTDIR: the start itself is not a directory, or something on the way is a file.
  const st = await statFollowing(root, rel).catch((e: unknown) => {
    if (isAppError(e)) throw e;
    if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') throw new AppError('INVALID_SPEC', `path "${shown}" does not exist`);
    throw e;
  });
  if (!st.isFile()) throw new AppError('INVALID_SPEC', `path "${shown}" is neither a file nor a directory`);
  return st;
}

async function walkDir(dir: RootedDir, abs: string, walk: Walk): Promise<void> {
  walk.signal.throwIfAborted();
  for (const ent of await readdir(dir.self, { withFileTypes: true })) {
    const childAbs = path.join(abs, ent.name);
    if (ent.isDirectory()) await walkSubdir(dir, ent.name, childAbs, walk);
    else if (ent.isFile() || ent.isSymbolicLink()) {
      const size = await fileSize(dir, ent.name);
      if (size !== undefined) walk.out.push({ rel: toRel(walk.baseAbs, childAbs), size });
    }
  }
}

/** Walks the subdirectory `name`; skips it if it has been swapped for something else meanwhile. */
async function walkSubdir(dir: RootedDir, name: string, abs: string, walk: Walk): Promise<void> {
  let sub: RootedDir;
  try {
    sub = await dir.openSubdir(name);
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return;
    throw e;
  }
  try {
    await walkDir(sub, abs, walk);
  } finally {
    await sub.close();
  }
}

/**
 * Size of the regular file `name` in `dir`, or undefined to skip it: gone, special, a directory,
 * or a symlink that is dangling or leads outside the root.
 */
export async function fileSize(dir: RootedDir, name: string): Promise<number | undefined> {
  try {
    const st = await lstat(dir.at(name));
    if (st.isFile()) return st.size;
    if (!st.isSymbolicLink()) return undefined;
    const target = await statFollowing(dir, name);
    return target.isFile() ? target.size : undefined;
  } catch {
    return undefined;
  }
}
