/**
 * Directory handles that keep file access inside a root whatever another process does to the
 * tree meanwhile (symlinks swapped, directories renamed).
 *
 * Node has no `openat`, so a handle reaches its entries through Linux's `/proc/self/fd/<fd>/<name>`:
 * the kernel starts that lookup at the very directory the descriptor holds, not at a path that
 * could have been re-pointed since. And every descriptor is checked after it is opened, by reading
 * its real path back from `/proc/self/fd/<fd>`: what was opened is what is checked. Creating,
 * renaming and deleting happen by name in such a checked directory and never follow a symlink in
 * the last component, so a swapped link cannot redirect them.
 *
 * Linux only (we found no maintained npm package that offers `openat` or `RESOLVE_BENEATH` without a
 * native addon): on other platforms, or without `/proc`, `openRoot` fails closed.
 */
import { constants as C } from 'node:fs';
import { lstat, mkdir, open, readlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { O_PATH, outsideRoot } from './paths.ts';

const DIR_FLAGS = O_PATH | C.O_DIRECTORY;
/** How often creating a directory is tried again when another task creates or deletes it meanwhile. */
const RACE_RETRIES = 8;
const SLASH = 0x2f;
/** A `.` or `..` segment, an empty segment or a leading slash. */
const DOT_SEGMENT = /(^|\/)(\.\.?)?(\/|$)/;

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** A directory opened beneath a root and checked to lie inside it. Close it when done. */
export class RootedDir {
  readonly #handle: FileHandle;
  readonly #rootReal: Buffer;
  /** The path below the root it was opened as (for messages; never where a symlink led). */
  readonly shown: string;

  private constructor(handle: FileHandle, rootReal: Buffer, shown: string) {
    this.#handle = handle;
    this.#rootReal = rootReal;
    this.shown = shown;
  }

  /** Takes over `handle` (closing it on failure) once its real path is checked to lie inside. Module use only. */
  static async adopt(handle: FileHandle, rootReal: Buffer, shown: string): Promise<RootedDir> {
    try {
      await checkInside(handle.fd, rootReal, shown);
    } catch (e) {
      await handle.close();
      throw e;
    }
    return new RootedDir(handle, rootReal, shown);
  }

  /** The real path every descriptor opened through this handle must lie under. */
  get rootReal(): Buffer {
    return this.#rootReal;
  }

  /** The directory itself, for `readdir` only (`lstat` of it would see the /proc link). */
  get self(): string {
    return `/proc/self/fd/${this.#handle.fd}`;
  }

  /**
   * A path that reaches `rel` (relative, `/`-separated, no `..`) starting from this very
   * directory, however the tree is renamed meanwhile. Intermediate symlinks are followed by the
   * kernel, so check what is opened through a multi-part `rel` (as `openDir` does).
   */
  at(rel: string): string {
    if (rel === '') return this.self;
    // `..` would climb out of this directory by name, past every check.
    if (DOT_SEGMENT.test(rel)) throw outsideRoot(rel, 'is not a plain relative path');
    return `${this.self}/${rel}`;
  }

  /** Opens the subdirectory `name` without following a symlink (ENOTDIR for anything else). */
  async openSubdir(name: string): Promise<RootedDir> {
    const handle = await open(this.at(name), DIR_FLAGS | C.O_NOFOLLOW);
    return await RootedDir.adopt(handle, this.#rootReal, path.posix.join(this.shown, name));
  }

  /** Throws PATH_OUTSIDE_ROOT if the directory no longer lies inside its root (check before publishing). */
  async recheck(): Promise<void> {
    await checkInside(this.#handle.fd, this.#rootReal, this.shown);
  }

  /** fstat of the directory itself. */
  async stat(): Promise<Stats> {
    return await this.#handle.stat();
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** Whether `real` is `root` or lies below it, compared as raw bytes (no UTF-8 decoding can blur two names). */
function isBelow(root: Buffer, real: Buffer): boolean {
  if (real.equals(root)) return true;
  const prefix = root.at(-1) === SLASH ? root : Buffer.concat([root, Buffer.of(SLASH)]);
  return real.length > prefix.length && real.subarray(0, prefix.length).equals(prefix);
}

async function checkInside(fd: number, rootReal: Buffer, shown: string): Promise<void> {
  const real = await readlink(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
  if (!isBelow(rootReal, real)) throw outsideRoot(shown, 'leaves its root through a symlink');
}

function unsupported(): AppError {
  return new AppError('INTERNAL', 'file jobs need Linux with /proc mounted to keep file access inside their roots');
}

/**
 * Opens a configured root (trusted: symlinks in its own path are followed) as the reference every
 * later check compares with. Fails closed with INTERNAL off Linux or without `/proc`.
 */
export async function openRoot(root: string): Promise<RootedDir> {
  if (process.platform !== 'linux') throw unsupported();
  const handle = await open(root, DIR_FLAGS);
  let real: Buffer;
  try {
    real = await readlink(`/proc/self/fd/${handle.fd}`, { encoding: 'buffer' });
  } catch {
    await handle.close();
    throw unsupported();
  }
  return await RootedDir.adopt(handle, real, '');
}

/** `openRoot`, or undefined when the root does not exist (nothing below it exists either). */
export async function openRootIfExists(root: string): Promise<RootedDir | undefined> {
  try {
    return await openRoot(root);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Opens directory `rel` below `root` (symlinks inside the root are followed; the result is
 * checked). With `create`, missing directories are made one at a time, each by name inside a
 * checked parent, so a swapped symlink cannot make one outside; a directory another task creates
 * or deletes at the same moment is taken in stride.
 * @throws PATH_OUTSIDE_ROOT (it leads outside, or through a dangling symlink), or an fs error
 *   (ENOENT without `create`, ENOTDIR when a file is in the way).
 */
export async function openDir(root: RootedDir, rel: string, opts: { create?: boolean } = {}): Promise<RootedDir> {
  try {
    return await RootedDir.adopt(await open(root.at(rel), DIR_FLAGS), root.rootReal, rel);
  } catch (e) {
    if (opts.create !== true || errCode(e) !== 'ENOENT') throw e;
  }
  let dir = root;
  try {
    for (const name of rel.split('/')) {
      const next = await childDir(dir, name);
      if (dir !== root) await dir.close();
      dir = next;
    }
    return dir;
  } catch (e) {
    if (dir !== root) await dir.close();
    throw e;
  }
}

/** Opens (creating if missing) the directory `name` in `dir`. */
async function childDir(dir: RootedDir, name: string): Promise<RootedDir> {
  const shown = path.posix.join(dir.shown, name);
  for (let attempt = 1; ; attempt++) {
    try {
      return await RootedDir.adopt(await open(dir.at(name), DIR_FLAGS), dir.rootReal, shown);
    } catch (e) {
      if (errCode(e) !== 'ENOENT' || attempt >= RACE_RETRIES) throw e;
    }
    try {
      await mkdir(dir.at(name)); // never follows a symlink named `name`: EEXIST instead
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
      // Exists but cannot be opened: a symlink to nowhere, or deleted again by someone else.
      if ((await lstat(dir.at(name)).catch(() => undefined))?.isSymbolicLink() === true) {
        throw outsideRoot(shown, 'goes through a dangling symlink');
      }
    }
  }
}

/**
 * Opens the regular file (or whatever is there) at `rel` below `root` for reading, following
 * symlinks only as far as the root: it is first opened as a bare `O_PATH` name and checked, and
 * only then reopened for reading through that very descriptor.
 * @throws PATH_OUTSIDE_ROOT, or an fs error (ENOENT, ELOOP, …).
 */
export async function openForReading(root: RootedDir, rel: string): Promise<FileHandle> {
  const probe = await probeFile(root, rel);
  try {
    return await open(`/proc/self/fd/${probe.fd}`, C.O_RDONLY | C.O_NONBLOCK);
  } finally {
    await probe.close();
  }
}

/** fstat of whatever `rel` below `root` leads to (following symlinks inside the root). */
export async function statFollowing(root: RootedDir, rel: string): Promise<Stats> {
  const probe = await probeFile(root, rel);
  try {
    return await probe.stat();
  } finally {
    await probe.close();
  }
}

async function probeFile(root: RootedDir, rel: string): Promise<FileHandle> {
  const probe = await open(root.at(rel), O_PATH);
  try {
    await checkInside(probe.fd, root.rootReal, rel);
    return probe;
  } catch (e) {
    await probe.close();
    throw e;
  }
}

/** `rel` split into its directory (`''` for the root) and last name. */
export function splitRel(rel: string): { dir: string; name: string } {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? { dir: '', name: rel } : { dir: rel.slice(0, slash), name: rel.slice(slash + 1) };
}

/**
 * lstat of the entry `rel` below `root` (a symlink in the last component is not followed; the
 * directories on the way are checked). `''` stats the root itself.
 */
export async function lstatEntry(root: RootedDir, rel: string): Promise<Stats> {
  if (rel === '') return await root.stat();
  const { dir, name } = splitRel(rel);
  const parent = await openDir(root, dir);
  try {
    return await lstat(parent.at(name));
  } finally {
    await parent.close();
  }
}

/**
 * The last directory opened below a root, kept for the next file: plans are sorted, so the files
 * of one directory come one after another.
 */
export interface DirCache {
  /**
   * Opens `rel` (see `openDir`), or hands back the directory opened last if it is the same and
   * still checks out. The cache owns it: do not close it.
   */
  get(rel: string): Promise<RootedDir>;
  /** Closes the kept directory (also to open it afresh, e.g. after it was deleted). */
  close(): Promise<void>;
}

/**
 * A one-entry cache over `openDir`. A kept directory is re-checked every time it is handed back
 * (one readlink instead of an open, a readlink and a close), so it is always checked just now.
 */
export function createDirCache(root: RootedDir, opts: { create?: boolean } = {}): DirCache {
  let last: { rel: string; dir: RootedDir } | undefined;
  const close = async (): Promise<void> => {
    const kept = last;
    last = undefined;
    await kept?.dir.close();
  };
  return {
    async get(rel) {
      if (last?.rel === rel) {
        const kept = last.dir;
        if (await kept.recheck().then(() => true, () => false)) return kept;
      }
      await close(); // another directory, or the kept one was moved out: open by name again
      const dir = await openDir(root, rel, opts);
      last = { rel, dir };
      return dir;
    },
    close,
  };
}
