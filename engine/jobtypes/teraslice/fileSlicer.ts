/**
 * file_reader's slicer (file-assets' file-slicer): each file under `path` is cut into byte ranges of
 * `size` bytes, `{path, offset, length, total}`; a json file, a gzip file or `file_per_slice` gives
 * one slice per whole file. Ranges do not overlap: a slice owns the lines that start inside its
 * range (fileReader.ts), so file-assets' overlap by the delimiter's length is not needed.
 */
import type { TaskPlan } from '../../../actors/events.ts';
import { AppError } from '../../errors.ts';
import type { PlanContext } from '../jobType.ts';
import { openRootIfExists } from '../rootedDir.ts';
import { walkFiles } from './fileWalk.ts';
import type { FileReaderConfig } from './opTypes.ts';
import type { FileCursor, FileSlice } from './payloads.ts';
import { sliceTaskId } from './taskIds.ts';

/** Whether the reader reads each file whole (one slice per file). */
export function readsWholeFiles(op: FileReaderConfig): boolean {
  return op.file_per_slice || op.format === 'json' || op.compression === 'gzip';
}

/** Up to `want` more slices from `cursor`; the cursor is absent once every file is cut. */
export async function cutFileSlices(op: FileReaderConfig, cursor: FileCursor, want: number, ctx: PlanContext): Promise<{ tasks: TaskPlan[]; cursor?: FileCursor }> {
  const root = await openRootIfExists(ctx.roots.dataDir);
  if (root === undefined) throw new AppError('INVALID_SPEC', `file_reader path "${op.path || '.'}" does not exist`);
  const limit = Math.max(1, want);
  const tasks: TaskPlan[] = [];
  let { slices, at } = cursor;
  const step = readsWholeFiles(op) ? Number.POSITIVE_INFINITY : op.size;
  /** Cuts `at` from its offset until the file is done or enough slices are made. */
  const cut = (file: { path: string; offset: number; total: number }): void => {
    do {
      const length = Math.min(step, file.total - file.offset);
      tasks.push({ taskId: sliceTaskId(slices++), payload: { path: file.path, offset: file.offset, length, total: file.total } satisfies FileSlice, items: 1, bytes: length });
      file.offset += length;
    } while (file.offset < file.total && tasks.length < limit);
    if (file.total === 0) file.offset = 1; // an empty file still gets its one (empty) slice, once
  };
  try {
    if (at !== null && at.offset < at.total) {
      at = { ...at };
      cut(at);
      if (tasks.length >= limit) return { tasks, cursor: { slices, at } };
    }
    for await (const f of walkFiles(root, op.path, at?.path, ctx.signal)) {
      at = { path: f.rel, offset: 0, total: f.size };
      cut(at);
      if (tasks.length >= limit) return { tasks, cursor: { slices, at } };
    }
    return { tasks };
  } finally {
    await root.close();
  }
}
