/**
 * Worker side of the file job types: copy the entries of one task from a source tree to a
 * destination tree, streaming through a fixed buffer.
 *
 * Whole files go to a temp file in the target directory and are renamed into place, so a reader
 * never sees half a file. Ranges of a partitioned file are written in place at their offset into
 * a target pre-sized to the full size; parts may run concurrently on several workers and need no
 * coordination, because each writes only its own range and every part sizes the file the same.
 * (So a partitioned file is visible while it loads; verification reports it if a part failed.)
 *
 * Every file is opened through `rootedDir.ts`: sources are checked after they are opened, and
 * destinations are created by name (never following a symlink) in a directory checked to lie in
 * the destination root, so another process swapping symlinks meanwhile cannot make a task read or
 * write outside its roots.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { TaskResult } from '../../actors/events.ts';
import { isAppError } from '../errors.ts';
import { TaskRunError, type RunContext } from './jobType.ts';
import { isPartition, type FileEntry } from './fileBatches.ts';
import { rootRelative } from './paths.ts';
import { createDirCache, openForReading, openRoot, splitRel, type DirCache, type RootedDir } from './rootedDir.ts';

const CHUNK_BYTES = 1024 * 1024;
const HEARTBEAT_EVERY_MS = 1000;

/** Where a file task reads from and writes to. Bases are user paths relative to their roots. */
export interface CopyTarget {
  srcRoot: string;
  srcBase: string;
  dstRoot: string;
  dstBase: string;
  /** Replace an existing destination file; when false an existing file is an item failure. */
  overwrite: boolean;
}

/** The failure name of an entry: its path relative to the source root. */
export function itemName(srcBase: string, rel: string): string {
  return path.posix.join(srcBase, rel) || '.';
}

/** Per-task copy state shared by every file of the task. */
interface Io {
  buf: Buffer;
  signal: AbortSignal;
  progress(): void;
}

/** A problem with one file that does not stop the task (missing source, unusable destination). */
class ItemFailure extends Error {}

/** Destination errors that concern one file only; anything else (ENOSPC, EACCES, EIO…) may pass on retry. */
const ITEM_LEVEL_CODES = new Set(['ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ENOTEMPTY', 'EEXIST', 'EINVAL', 'ELOOP']);
/** Creates a new file, failing on anything already there (a symlink included). */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Opens or creates a file without truncating it or following a symlink in its place. */
const OPEN_IN_PLACE = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;

function aborted(): TaskRunError {
  return new TaskRunError('ABORTED', 'task aborted', false);
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? String(e);
}

/** The two roots a task works in, opened once per task, and the destination directory in use. */
interface TaskRoots {
  src: RootedDir;
  dst: RootedDir;
  dstDirs: DirCache;
}

/**
 * Copies every entry of one task. Per-file problems are reported in `failures`; an abort throws
 * TaskRunError ABORTED (not retryable); an unexpected destination I/O error throws TaskRunError
 * IO_ERROR (retryable). Calls `ctx.heartbeat()` between files and about once a second within one.
 */
export async function runFileBatch(entries: readonly FileEntry[], target: CopyTarget, ctx: RunContext): Promise<TaskResult> {
  const result: TaskResult = { itemsDone: 0, itemsFailed: 0, bytesDone: 0, failures: [] };
  const io = taskIo(entries, ctx);
  const roots = await openTaskRoots(target);
  try {
    for (const entry of entries) {
      if (ctx.signal.aborted) throw aborted();
      ctx.heartbeat();
      const counts = entry.offset === 0 ? 1 : 0;
      try {
        result.bytesDone += await copyEntry(entry, target, roots, io);
        result.itemsDone += counts;
      } catch (e) {
        if (ctx.signal.aborted) throw aborted();
        if (!(e instanceof ItemFailure)) throw e;
        result.itemsFailed += counts;
        const part = isPartition(entry) ? ` (bytes ${entry.offset}..${entry.offset + entry.length})` : '';
        result.failures.push({ item: itemName(target.srcBase, entry.rel), error: e.message + part });
      }
    }
  } finally {
    await roots.dstDirs.close();
    await Promise.all([roots.src.close(), roots.dst.close()]);
  }
  return result;
}

function taskIo(entries: readonly FileEntry[], ctx: RunContext): Io {
  let lastBeat = Date.now();
  const largest = entries.reduce((max, e) => Math.max(max, e.length), 1);
  return {
    // One buffer per task (files are copied one after another): small for small files, but not
    // tiny, in case a file grew since planning.
    buf: Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(64 * 1024, largest))),
    signal: ctx.signal,
    progress() {
      if (Date.now() - lastBeat < HEARTBEAT_EVERY_MS) return;
      lastBeat = Date.now();
      ctx.heartbeat();
    },
  };
}

/** Opens both roots; a root that cannot be opened fails the task (retryable unless it never can). */
async function openTaskRoots(target: CopyTarget): Promise<TaskRoots> {
  const src = await openTaskRoot(target.srcRoot, 'source');
  try {
    const dst = await openTaskRoot(target.dstRoot, 'destination');
    return { src, dst, dstDirs: createDirCache(dst, { create: true }) };
  } catch (e) {
    await src.close();
    throw e;
  }
}

async function openTaskRoot(root: string, side: 'source' | 'destination'): Promise<RootedDir> {
  try {
    return await openRoot(root).catch(async (e: unknown) => {
      if (side === 'source' || errCode(e) !== 'ENOENT') throw e;
      // A root is configuration, not user input: make a missing destination root (a wiped cache).
      await mkdir(root, { recursive: true });
      return await openRoot(root);
    });
  } catch (e) {
    if (isAppError(e)) throw new TaskRunError(e.code, e.message, e.retryable);
    throw new TaskRunError('IO_ERROR', `cannot open the ${side} root: ${errCode(e)}`, true);
  }
}

async function copyEntry(entry: FileEntry, target: CopyTarget, roots: TaskRoots, io: Io): Promise<number> {
  const srcRel = sideRel(target.srcRoot, target.srcBase, entry.rel, 'source');
  const dstRel = sideRel(target.dstRoot, target.dstBase, entry.rel, 'destination');
  const from = await openSource(roots.src, srcRel);
  try {
    return isPartition(entry)
      ? await copyRange(from, roots.dstDirs, dstRel, entry, io)
      : await copyWhole(from, roots.dstDirs, dstRel, target.overwrite, io);
  } finally {
    await from.close();
  }
}

/** The entry's path below its root, checked by name (symlinks are checked when it is opened). */
function sideRel(root: string, base: string, rel: string, side: string): string {
  try {
    return rootRelative(root, path.posix.join(base, rel));
  } catch (e) {
    if (isAppError(e)) throw new ItemFailure(`${side}: ${e.message}`);
    throw e;
  }
}

/** Opens the source; any failure (ENOENT, EACCES, outside the root, not a file) is the item's failure. */
async function openSource(root: RootedDir, rel: string): Promise<FileHandle> {
  let fh: FileHandle | undefined;
  try {
    fh = await openForReading(root, rel);
    if (!(await fh.stat()).isFile()) throw new ItemFailure('source: not a regular file');
    return fh;
  } catch (e) {
    await fh?.close();
    if (e instanceof ItemFailure) throw e;
    if (isAppError(e)) throw new ItemFailure(`source: ${e.message}`);
    throw new ItemFailure(`source: ${errCode(e)}`);
  }
}

/**
 * Maps a destination-side error to an item failure (a plain Error for this one file) or, for
 * anything that may pass on retry (ENOSPC, EACCES, EIO, …), a retryable TaskRunError IO_ERROR.
 * Exported for tests: those errors cannot be provoked reliably on a test machine.
 */
export function classifyDestinationError(e: unknown): Error {
  if (e instanceof ItemFailure || e instanceof TaskRunError) return e;
  if (isAppError(e)) return new ItemFailure(`destination: ${e.message}`); // e.g. PATH_OUTSIDE_ROOT
  const code = errCode(e);
  if (ITEM_LEVEL_CODES.has(code)) return new ItemFailure(`destination: ${code}`);
  return new TaskRunError('IO_ERROR', `destination I/O error: ${code}`, true);
}

/**
 * Runs `fn` in the directory that holds `rel` (opened, creating it, through the task's cache),
 * once more in a freshly opened one if the kept directory was deleted meanwhile (ENOENT).
 * Destination errors come out classified (see `classifyDestinationError`).
 */
async function inDestination<T>(dirs: DirCache, rel: string, fn: (dir: RootedDir, name: string) => Promise<T>): Promise<T> {
  const { dir, name } = splitRel(rel);
  try {
    if (name === '') throw new ItemFailure('destination: EISDIR'); // the root itself
    try {
      return await fn(await dirs.get(dir), name);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
      await dirs.close();
      return await fn(await dirs.get(dir), name);
    }
  } catch (e) {
    throw classifyDestinationError(e);
  }
}

async function copyWhole(from: FileHandle, dirs: DirCache, rel: string, overwrite: boolean, io: Io): Promise<number> {
  return await inDestination(dirs, rel, async (dir, name) => {
    // Same directory as the target, so the rename is atomic; a short random name avoids clashes
    // with a concurrent attempt of the same task.
    const tmp = `.${name.slice(0, 100)}.${randomBytes(6).toString('hex')}.tmp`;
    const to = await open(dir.at(tmp), CREATE_NEW, 0o644);
    try {
      let bytes: number;
      try {
        bytes = await pump(from, to, 0, Number.POSITIVE_INFINITY, io);
      } finally {
        await to.close();
      }
      await dir.recheck(); // the directory may have been moved since it was checked
      await publish(dir, tmp, name, overwrite);
      return bytes;
    } catch (e) {
      await unlink(dir.at(tmp)).catch(() => undefined);
      throw e;
    }
  });
}

/** Moves the finished temp file to its name, both in `dir` (a symlink at `name` is replaced, not followed). */
async function publish(dir: RootedDir, tmpName: string, name: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(dir.at(tmpName), dir.at(name));
    return;
  }
  // link() fails with EEXIST instead of replacing: an atomic no-clobber publish.
  await link(dir.at(tmpName), dir.at(name)).catch((e: unknown) => {
    throw errCode(e) === 'EEXIST' ? new ItemFailure('destination exists and overwrite is false') : e;
  });
  await unlink(dir.at(tmpName));
}

async function copyRange(from: FileHandle, dirs: DirCache, rel: string, entry: FileEntry, io: Io): Promise<number> {
  return await inDestination(dirs, rel, async (dir, name) => {
    // Create if missing, never truncate: other parts of the same file may already be in it.
    const to = await open(dir.at(name), OPEN_IN_PLACE, 0o644);
    try {
      const st = await to.stat();
      if (!st.isFile()) throw new ItemFailure('destination: not a regular file');
      if (st.size !== entry.size) await to.truncate(entry.size);
      const bytes = await pump(from, to, entry.offset, entry.length, io);
      if (bytes < entry.length) throw new ItemFailure(`source: shorter than planned (${entry.size} bytes)`);
      return bytes;
    } finally {
      await to.close();
    }
  });
}

/**
 * Copies up to `length` bytes from `offset` of `from` to the same offset of `to`, one chunk at a
 * time (never the whole file in memory). Read errors are the item's failure; write errors are
 * left to the caller. Stops early at end of file.
 */
async function pump(from: FileHandle, to: FileHandle, offset: number, length: number, io: Io): Promise<number> {
  const { buf, signal, progress } = io;
  let done = 0;
  while (done < length) {
    if (signal.aborted) throw aborted();
    let n: number;
    try {
      ({ bytesRead: n } = await from.read(buf, 0, Math.min(buf.length, length - done), offset + done));
    } catch (e) {
      throw new ItemFailure(`source: read failed: ${errCode(e)}`);
    }
    if (n === 0) break;
    for (let w = 0; w < n; ) {
      w += (await to.write(buf, w, n - w, offset + done + w)).bytesWritten;
    }
    done += n;
    progress();
  }
  return done;
}
