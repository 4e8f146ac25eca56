/**
 * Deleting below a root (`free`, and `move` removing its sources) without ever deleting outside
 * it: every unlink and rmdir is by name inside a directory handle checked to lie in the root
 * (`rootedDir.ts`), and neither ever follows a symlink in the last component, so a symlink swapped
 * in meanwhile is removed itself, never what it points to.
 */
import { readdir, rmdir, unlink } from 'node:fs/promises';
import { openDir, splitRel, type RootedDir } from './rootedDir.ts';

/** How often an entry that changes kind while it is removed (file ⇄ directory) is tried again. */
const RACE_RETRIES = 8;

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function isGone(e: unknown): boolean {
  const code = errCode(e);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Runs `fn` on the parent directory of `rel`; does nothing when that directory does not exist. */
async function inParent(root: RootedDir, rel: string, fn: (parent: RootedDir, name: string) => Promise<void>): Promise<void> {
  const { dir, name } = splitRel(rel);
  let parent: RootedDir;
  try {
    parent = await openDir(root, dir);
  } catch (e) {
    if (isGone(e)) return;
    throw e;
  }
  try {
    await fn(parent, name);
  } finally {
    await parent.close();
  }
}

/**
 * Removes `rel` below `root` recursively, like `rm -rf` without following symlinks. Missing is
 * fine. `rel` must not be `''` (the root itself is never removed).
 */
export async function removeTree(root: RootedDir, rel: string): Promise<void> {
  if (rel === '') throw new Error('removeTree: refusing to remove the root itself');
  await inParent(root, rel, removeEntry);
}

/** Removes the file or symlink `rel` below `root` (not a directory: EISDIR). Missing is fine. */
export async function removeFile(root: RootedDir, rel: string): Promise<void> {
  await inParent(root, rel, async (parent, name) => {
    await unlink(parent.at(name)).catch((e: unknown) => {
      if (errCode(e) !== 'ENOENT') throw e;
    });
  });
}

/** Removes the entry `name` of `dir`, and everything below it if it is a directory. */
async function removeEntry(dir: RootedDir, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await unlink(dir.at(name)); // files, symlinks, FIFOs: the link itself
      return;
    } catch (e) {
      if (errCode(e) === 'ENOENT') return;
      if (errCode(e) !== 'EISDIR') throw e; // Linux's answer for a directory
    }
    let sub: RootedDir;
    try {
      sub = await dir.openSubdir(name);
    } catch (e) {
      if (errCode(e) === 'ENOENT') return;
      if (errCode(e) === 'ENOTDIR' && attempt < RACE_RETRIES) continue; // swapped for a file or link
      throw e;
    }
    try {
      for (const child of await readdir(sub.self)) await removeEntry(sub, child);
    } finally {
      await sub.close();
    }
    try {
      await rmdir(dir.at(name));
      return;
    } catch (e) {
      if (errCode(e) === 'ENOENT') return;
      const changed = errCode(e) === 'ENOTEMPTY' || errCode(e) === 'EEXIST' || errCode(e) === 'ENOTDIR';
      if (!changed || attempt >= RACE_RETRIES) throw e;
    }
  }
}

/**
 * Removes the directory `rel` below `root` and every directory under it that is (or becomes)
 * empty; files are kept, symlinked directories are not entered. The root itself is never removed.
 */
export async function removeEmptyDirs(root: RootedDir, rel: string): Promise<void> {
  if (rel === '') {
    await removeEmptyBelow(root);
    return;
  }
  await inParent(root, rel, removeEmptyDir);
}

async function removeEmptyDir(parent: RootedDir, name: string): Promise<void> {
  let dir: RootedDir;
  try {
    dir = await parent.openSubdir(name);
  } catch (e) {
    if (isGone(e)) return;
    throw e;
  }
  try {
    await removeEmptyBelow(dir);
  } finally {
    await dir.close();
  }
  await rmdir(parent.at(name)).catch((e: unknown) => {
    const code = errCode(e);
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && !isGone(e)) throw e;
  });
}

async function removeEmptyBelow(dir: RootedDir): Promise<void> {
  for (const ent of await readdir(dir.self, { withFileTypes: true })) {
    if (ent.isDirectory()) await removeEmptyDir(dir, ent.name);
  }
}
