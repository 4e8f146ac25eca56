/**
 * Worker side of the file job types: copy the entries of one task from a source tree to a
 * destination tree, streaming through a fixed buffer.
 *
 * Whole files go to a temp file in the target directory and are renamed into place, so a reader
 * never sees half a file. Ranges of a partitioned file are written in place at their offset into
 * a target pre-sized to the full size; parts may run concurrently on several workers and need no
 * coordination, because each writes only its own range and every part sizes the file the same.
 * (So a partitioned file is visible while it loads; verification reports it if a part failed.)
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { TaskResult } from '../../actors/events.ts';
import { isAppError } from '../errors.ts';
import { TaskRunError, type RunContext } from './jobType.ts';
import { isPartition, type FileEntry } from './fileBatches.ts';
import { resolveInside } from './paths.ts';

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
const ITEM_LEVEL_CODES = new Set(['ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ENOTEMPTY', 'EEXIST', 'EINVAL']);

function aborted(): TaskRunError {
  return new TaskRunError('ABORTED', 'task aborted', false);
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? String(e);
}

/**
 * Copies every entry of one task. Per-file problems are reported in `failures`; an abort throws
 * TaskRunError ABORTED (not retryable); an unexpected destination I/O error throws TaskRunError
 * IO_ERROR (retryable). Calls `ctx.heartbeat()` between files and about once a second within one.
 */
export async function runFileBatch(entries: readonly FileEntry[], target: CopyTarget, ctx: RunContext): Promise<TaskResult> {
  const result: TaskResult = { itemsDone: 0, itemsFailed: 0, bytesDone: 0, failures: [] };
  let lastBeat = Date.now();
  const largest = entries.reduce((max, e) => Math.max(max, e.length), 1);
  const io: Io = {
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
  for (const entry of entries) {
    if (ctx.signal.aborted) throw aborted();
    ctx.heartbeat();
    const counts = entry.offset === 0 ? 1 : 0;
    try {
      const src = resolveSide(target.srcRoot, target.srcBase, entry.rel, 'source');
      const dst = resolveSide(target.dstRoot, target.dstBase, entry.rel, 'destination');
      result.bytesDone += isPartition(entry)
        ? await copyRange(src, dst, entry, io)
        : await copyWhole(src, dst, target.overwrite, io);
      result.itemsDone += counts;
    } catch (e) {
      if (ctx.signal.aborted) throw aborted();
      if (!(e instanceof ItemFailure)) throw e;
      result.itemsFailed += counts;
      const part = isPartition(entry) ? ` (bytes ${entry.offset}..${entry.offset + entry.length})` : '';
      result.failures.push({ item: itemName(target.srcBase, entry.rel), error: e.message + part });
    }
  }
  return result;
}

function resolveSide(root: string, base: string, rel: string, side: string): string {
  try {
    return resolveInside(root, path.posix.join(base, rel));
  } catch (e) {
    if (isAppError(e)) throw new ItemFailure(`${side}: ${e.message}`);
    throw e;
  }
}

/** Opens the source; any failure (ENOENT, EACCES, not a file) is the item's failure. */
async function openSource(src: string): Promise<FileHandle> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(src, 'r');
    if (!(await fh.stat()).isFile()) throw new ItemFailure('source: not a regular file');
    return fh;
  } catch (e) {
    await fh?.close();
    if (e instanceof ItemFailure) throw e;
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
  const code = errCode(e);
  if (ITEM_LEVEL_CODES.has(code)) return new ItemFailure(`destination: ${code}`);
  return new TaskRunError('IO_ERROR', `destination I/O error: ${code}`, true);
}

async function copyWhole(src: string, dst: string, overwrite: boolean, io: Io): Promise<number> {
  const from = await openSource(src);
  const dir = path.dirname(dst);
  // Same directory as the target, so the rename is atomic; a short random name avoids clashes
  // with a concurrent attempt of the same task.
  const tmp = path.join(dir, `.${path.basename(dst).slice(0, 100)}.${randomBytes(6).toString('hex')}.tmp`);
  let tmpCreated = false;
  try {
    await mkdir(dir, { recursive: true });
    const to = await open(tmp, 'wx', 0o644);
    tmpCreated = true;
    let bytes: number;
    try {
      bytes = await pump(from, to, 0, Number.POSITIVE_INFINITY, io);
    } finally {
      await to.close();
    }
    if (overwrite) await rename(tmp, dst);
    else {
      // link() fails with EEXIST instead of replacing: an atomic no-clobber publish.
      await link(tmp, dst).catch((e: unknown) => {
        throw errCode(e) === 'EEXIST' ? new ItemFailure('destination exists and overwrite is false') : e;
      });
      await rm(tmp, { force: true });
    }
    tmpCreated = false;
    return bytes;
  } catch (e) {
    if (tmpCreated) await rm(tmp, { force: true }).catch(() => undefined);
    throw classifyDestinationError(e);
  } finally {
    await from.close();
  }
}

async function copyRange(src: string, dst: string, entry: FileEntry, io: Io): Promise<number> {
  const from = await openSource(src);
  try {
    await mkdir(path.dirname(dst), { recursive: true });
    // Create if missing, never truncate: other parts of the same file may already be in it.
    const to = await open(dst, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      if ((await to.stat()).size !== entry.size) await to.truncate(entry.size);
      const bytes = await pump(from, to, entry.offset, entry.length, io);
      if (bytes < entry.length) throw new ItemFailure(`source: shorter than planned (${entry.size} bytes)`);
      return bytes;
    } finally {
      await to.close();
    }
  } catch (e) {
    throw classifyDestinationError(e);
  } finally {
    await from.close();
  }
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
