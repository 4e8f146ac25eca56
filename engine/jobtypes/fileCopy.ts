/**
 * Worker side of the file job types: copy the entries of one task from a source tree to a
 * destination tree.
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
 *
 * Speed: the per-file calls (open, readlink, fstat, create, rename, close) and the data of files
 * up to SYNC_COPY_MAX_BYTES are synchronous, paced by syncPacer.ts (an async fs call costs several
 * times the syscall it makes, and a small file needs a dozen); larger files and ranges stream
 * asynchronously through two buffers, reading the next chunk while the last one is written.
 * Nothing is fsynced (neither does `cp`): a file is durable once the kernel writes it back.
 * `fs.copyFile` (copy_file_range) is not used: libuv's copy loop spins forever when the source
 * shrinks while it copies (Node 20 and 24), and anyone who can write the source could do that.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, linkSync, openSync, read, readSync, renameSync, unlinkSync, write, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TaskResult } from '../../actors/events.ts';
import { isAppError } from '../errors.ts';
import { TaskRunError, type RunContext } from './jobType.ts';
import { isPartition, type FileEntry } from './fileBatches.ts';
import { rootRelativeUnder } from './paths.ts';
import { createDirCache, openRegularFileSync, openRoot, splitRel, type DirCache, type OpenedFile, type RootedDir } from './rootedDir.ts';
import { sharedSyncPacer, type SyncPacer } from './syncPacer.ts';

/** Files up to this size are read and written synchronously (in one call each, usually). */
export const SYNC_COPY_MAX_BYTES = 1024 * 1024;
/** Chunk of the asynchronous copy of larger files and ranges (two per running copy). */
const CHUNK_BYTES = 1024 * 1024;
const HEARTBEAT_EVERY_MS = 1000;
/** Random bytes in a temp file name. */
const TMP_RANDOM_BYTES = 6;

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
  signal: AbortSignal;
  pacer: SyncPacer;
  progress(): void;
  /** A fresh temp file name next to `name` (random, so a concurrent attempt of the task cannot clash). */
  tmpName(name: string): string;
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

/** The two roots a task works in, opened once per task, the destination directory in use, and where entries lie below each root. */
interface TaskRoots {
  src: RootedDir;
  dst: RootedDir;
  dstDirs: DirCache;
  srcRel: (rel: string) => string;
  dstRel: (rel: string) => string;
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
      await io.pacer.pace();
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
  // The random parts of every temp name of the task, drawn in one call instead of one per file.
  const random = randomBytes(TMP_RANDOM_BYTES * entries.length).toString('hex');
  let next = 0;
  return {
    signal: ctx.signal,
    pacer: sharedSyncPacer,
    progress() {
      if (Date.now() - lastBeat < HEARTBEAT_EVERY_MS) return;
      lastBeat = Date.now();
      ctx.heartbeat();
    },
    tmpName(name) {
      // More temp names than entries only when a directory vanished and the file is tried again.
      const hex = next < entries.length ? random.slice(2 * TMP_RANDOM_BYTES * next, 2 * TMP_RANDOM_BYTES * (next + 1)) : randomBytes(TMP_RANDOM_BYTES).toString('hex');
      next += 1;
      return `.${name.slice(0, 100)}.${hex}.tmp`;
    },
  };
}

/** Opens both roots; a root that cannot be opened fails the task (retryable unless it never can). */
async function openTaskRoots(target: CopyTarget): Promise<TaskRoots> {
  const src = await openTaskRoot(target.srcRoot, 'source');
  try {
    const dst = await openTaskRoot(target.dstRoot, 'destination');
    const srcRel = rootRelativeUnder(target.srcRoot, target.srcBase);
    const dstRel = rootRelativeUnder(target.dstRoot, target.dstBase);
    return { src, dst, dstDirs: createDirCache(dst, { create: true }), srcRel, dstRel };
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
  const srcRel = sideRel(roots.srcRel, entry.rel, 'source');
  const dstRel = sideRel(roots.dstRel, entry.rel, 'destination');
  const from = openSource(roots.src, srcRel);
  try {
    return isPartition(entry)
      ? await copyRange(from, roots.dstDirs, dstRel, entry, io)
      : await copyWhole(from, roots.dstDirs, dstRel, target.overwrite, io);
  } finally {
    closeSync(from.fd);
  }
}

/** The entry's path below its root, checked by name (symlinks are checked when it is opened). */
function sideRel(below: (rel: string) => string, rel: string, side: string): string {
  try {
    return below(rel);
  } catch (e) {
    if (isAppError(e)) throw new ItemFailure(`${side}: ${e.message}`);
    throw e;
  }
}

/** Opens the source; any failure (ENOENT, EACCES, outside the root, not a file) is the item's failure. */
function openSource(root: RootedDir, rel: string): OpenedFile {
  let from: OpenedFile | undefined;
  try {
    from = openRegularFileSync(root, rel);
  } catch (e) {
    if (isAppError(e)) throw new ItemFailure(`source: ${e.message}`);
    throw new ItemFailure(`source: ${errCode(e)}`);
  }
  if (from === undefined) throw new ItemFailure('source: not a regular file');
  return from;
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

async function copyWhole(from: OpenedFile, dirs: DirCache, rel: string, overwrite: boolean, io: Io): Promise<number> {
  return await inDestination(dirs, rel, async (dir, name) => {
    // Same directory as the target, so the rename is atomic.
    const tmp = io.tmpName(name);
    const to = openSync(dir.at(tmp), CREATE_NEW, 0o644);
    try {
      let bytes: number;
      try {
        bytes = await copyData(from, to, io);
      } finally {
        closeSync(to);
      }
      dir.recheckSync(); // the directory may have been moved since it was checked
      publish(dir, tmp, name, overwrite);
      return bytes;
    } catch (e) {
      try {
        unlinkSync(dir.at(tmp));
      } catch {
        // gone already (or its directory is): nothing to clean up
      }
      throw e;
    }
  });
}

/** Moves the finished temp file to its name, both in `dir` (a symlink at `name` is replaced, not followed). */
function publish(dir: RootedDir, tmpName: string, name: string, overwrite: boolean): void {
  if (overwrite) {
    renameSync(dir.at(tmpName), dir.at(name));
    return;
  }
  // link() fails with EEXIST instead of replacing: an atomic no-clobber publish.
  try {
    linkSync(dir.at(tmpName), dir.at(name));
  } catch (e) {
    throw errCode(e) === 'EEXIST' ? new ItemFailure('destination exists and overwrite is false') : e;
  }
  unlinkSync(dir.at(tmpName));
}

async function copyRange(from: OpenedFile, dirs: DirCache, rel: string, entry: FileEntry, io: Io): Promise<number> {
  return await inDestination(dirs, rel, async (dir, name) => {
    // Create if missing, never truncate: other parts of the same file may already be in it.
    const to = openSync(dir.at(name), OPEN_IN_PLACE, 0o644);
    try {
      const st = fstatSync(to);
      if (!st.isFile()) throw new ItemFailure('destination: not a regular file');
      if (st.size !== entry.size) ftruncateSync(to, entry.size);
      const bytes = await pump(from.fd, to, entry.offset, entry.length, io);
      if (bytes < entry.length) throw new ItemFailure(`source: shorter than planned (${entry.size} bytes)`);
      return bytes;
    } finally {
      closeSync(to);
    }
  });
}

/** The one buffer of every synchronous copy of the process (they never interleave). */
let syncBuffer: Buffer | undefined;

/**
 * Copies the whole of `from` (to its end of file, which may lie past the size it was opened
 * with) to the start of `to`. A file of up to SYNC_COPY_MAX_BYTES is copied synchronously, in one
 * read and one write when it has not grown; past that (a larger file, or one that grew) the rest
 * streams asynchronously, so the event loop is never held for more than that many bytes.
 */
async function copyData(from: OpenedFile, to: number, io: Io): Promise<number> {
  if (from.size > SYNC_COPY_MAX_BYTES) return await pump(from.fd, to, 0, Number.POSITIVE_INFINITY, io);
  syncBuffer ??= Buffer.allocUnsafe(SYNC_COPY_MAX_BYTES);
  const buf = syncBuffer;
  let done = 0;
  while (done < SYNC_COPY_MAX_BYTES) {
    if (io.signal.aborted) throw aborted();
    const want = buf.length - done;
    const n = readSource(() => readSync(from.fd, buf, done, want, done));
    if (n === 0) return done;
    for (let w = 0; w < n; ) w += writeSync(to, buf, done + w, n - w, done + w);
    done += n;
    // A short read at or past the size seen at open is the end of the file: no read of 0 needed.
    if (n < want && done >= from.size) return done;
  }
  return done + (await pump(from.fd, to, done, Number.POSITIVE_INFINITY, io));
}

/** Runs a read of the source; its failure is the item's failure. */
function readSource(fn: () => number): number {
  try {
    return fn();
  } catch (e) {
    throw new ItemFailure(`source: read failed: ${errCode(e)}`);
  }
}

function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, length, position, (err, n) => (err ? reject(new ItemFailure(`source: read failed: ${errCode(err)}`)) : resolve(n)));
  });
}

/** Writes all of `buf[0, length)` at `position`; resolves with the error instead of rejecting. */
async function writeAllAt(fd: number, buf: Buffer, length: number, position: number): Promise<unknown> {
  try {
    for (let w = 0; w < length; ) {
      w += await new Promise<number>((resolve, reject) => {
        write(fd, buf, w, length - w, position + w, (err, n) => (err ? reject(err) : resolve(n)));
      });
    }
    return undefined;
  } catch (e) {
    return e ?? new Error('write failed');
  }
}

/**
 * Copies up to `length` bytes from `offset` of `from` to the same offset of `to`, CHUNK_BYTES at
 * a time through two buffers: the next chunk is read while the last one is written (never the
 * whole file in memory). Read errors are the item's failure; write errors are left to the caller.
 * Stops early at end of file. Returns only once no call on either descriptor is in flight.
 */
async function pump(from: number, to: number, offset: number, length: number, io: Io): Promise<number> {
  // `filling` is being read into; `spare` is being written from (or free).
  let filling = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, length));
  let spare = Buffer.allocUnsafe(filling.length);
  let reading: Promise<number> | undefined = readAt(from, filling, filling.length, offset);
  let writing: Promise<unknown> | undefined;
  let done = 0;
  try {
    while (reading !== undefined) {
      const n = await reading;
      reading = undefined;
      const failed = await writing; // `spare` is free again
      if (failed !== undefined) throw failed;
      if (n === 0) break;
      if (io.signal.aborted) throw aborted();
      writing = writeAllAt(to, filling, n, offset + done);
      done += n;
      io.progress();
      [filling, spare] = [spare, filling];
      if (done < length) reading = readAt(from, filling, Math.min(filling.length, length - done), offset + done);
    }
    const failed = await writing;
    writing = undefined;
    if (failed !== undefined) throw failed;
    return done;
  } finally {
    // Never let a caller close a descriptor under a call still in flight (its number could be reused).
    await Promise.allSettled([reading, writing]);
  }
}
